"""``maas plan``: preview a stack and its policy verdicts offline (:mod:`infra.engine.preview`), then show the
result as a terminal report, a pull-request comment or a JSON document (:mod:`infra.cli.render.plan`)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from rich.console import Console

from infra import catalog
from infra.cli import options
from infra.cli.command import Command
from infra.cli.output import progress, warn_if_stale
from infra.cli.render import plan as render
from infra.engine.preview import run_preview


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(parser, "the stack whose Pulumi.<stack>.yaml to plan (default: dev)")
    options.add_format(parser, ("text", "json", "markdown"))
    parser.add_argument(
        "--policy-pack-config", type=Path, metavar="FILE", help="policy config, as for pulumi --policy-pack-config"
    )
    options.add_cwd(parser)
    options.add_today(parser)


def execute(args: argparse.Namespace, out: Console, errors: Console) -> int:
    warn_if_stale(catalog.load(), args.today or dt.date.today(), "plan", errors)
    with progress(errors) as step:
        result = run_preview(args.cwd, args.stack, policy_config=args.policy_pack_config, today=args.today, step=step)
    if args.format == "json":
        sys.stdout.write(render.to_json(result) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.to_markdown(result))
    else:
        render.print_text(result, out)
    return result.exit_code


COMMAND = Command(
    name="plan",
    help="preview a stack and its policy verdicts offline",
    description="Run the program on the stack's config under a capturing engine, then the policy pack; "
    "no Pulumi CLI, cloud login or secrets. Exit codes: 0 clean, 1 mandatory violations, 2 invalid config, "
    "3 internal failure.",
    add_arguments=add_arguments,
    execute=execute,
)
