"""``maas models``: the model catalog, listed or one model in full (:mod:`infra.cli.render.models`)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

from azure_maas_policy import facts
from infra.cli import options
from infra.cli.command import Command
from infra.errors import ExitCode, UserError

if TYPE_CHECKING:
    from rich.console import Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", nargs="?", metavar="KEY", help="show this model in full (IDs, skus, regions, sources)")
    parser.add_argument("--channel", "-c", choices=list(facts.CHANNEL_KEYS), help="only models offered on this channel")
    parser.add_argument("--region", "-r", help="only models offered in this region (on --channel, if given)")
    parser.add_argument("--all", "-a", action="store_true", help="include retired and managed-compute-only models")
    options.add_format(parser, ("text", "json", "markdown"), "output format (markdown: a table)")
    options.add_today(parser, "lifecycle")


def execute(args: argparse.Namespace, out: Console, errors: Console) -> int:
    from infra import catalog  # pydantic: parsing the command line needs none of it
    from infra.cli.output import warn_if_stale
    from infra.cli.render import models as render

    known = catalog.load()
    today = args.today or dt.date.today()
    warn_if_stale(known, today, "models", errors)
    if args.key is not None:
        model = known.get(args.key)
        if model is None:
            close = known.close_matches(args.key)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            raise UserError(f"{args.key!r} is not a catalog key; {hint}`maas models --all` lists them")
        if args.format == "json":
            sys.stdout.write(json.dumps(render.model_json(model, known, today), indent=2) + "\n")
        elif args.format == "markdown":
            row = catalog.Listed(model, model.lifecycle.stage_on(today))
            sys.stdout.write(render.models_markdown([row], known, today))
        else:
            render.print_model(model, known, today, out)
        return ExitCode.OK
    region = None
    if args.region is not None:
        region = facts.normalize_region(args.region)
        valid = catalog.known_regions(known, args.channel)
        if region not in valid:
            on = f" on channel {args.channel!r}" if args.channel else ""
            raise UserError(
                f"--region {args.region!r} is not a region the catalog knows{on}; valid: {', '.join(valid)}"
            )
    rows = catalog.listing(known, today, region=region, channel=args.channel, everything=args.all)
    if args.format == "json":
        sys.stdout.write(render.models_json(rows, known, today) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.models_markdown(rows, known, today))
    else:
        render.print_models(rows, known, today, out, everything=args.all)
    return ExitCode.OK


COMMAND = Command(
    name="models",
    help="list the model catalog: lifecycle, replacements, channels",
    description="The models azure-maas knows by name, with their stage on the day, the channels they are "
    "offered on (serverless API, Foundry resource) and, for one KEY, every fact with its source. Retired and "
    "managed-compute-only models are hidden unless --all. Exit codes: 0, 2 for an unknown KEY or an invalid "
    "--region.",
    add_arguments=add_arguments,
    execute=execute,
)
