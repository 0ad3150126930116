"""``maas plan``: preview a stack and its policy verdicts offline (:mod:`infra.engine.preview`), then show the
result as a terminal report, a pull-request comment or a JSON document (:mod:`infra.cli.render.plan`)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from infra.cli import options
from infra.cli.command import Command

if TYPE_CHECKING:
    from rich.console import Console

    from infra.engine.pack_process import PackProcess
    from infra.engine.preview import PreviewResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(
        parser,
        "the stack whose Pulumi.<stack>.yaml to plan: dev, org/dev or org/project/dev (default: the stack "
        "pulumi stack select chose)",
    )
    options.add_format(parser, ("text", "json", "markdown"))
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        metavar="FILE",
        help="policy config, as for pulumi --policy-pack-config (default: the stack's Pulumi.<stack>.policy.json "
        "when there is one, else the pack's defaults)",
    )
    options.add_cwd(parser)
    options.add_today(parser)


def run_preview(
    directory: Path,
    stack: str,
    *,
    policy_config: Path | None,
    today: dt.date | None,
    step: Callable[[str], None],
    pack: PackProcess | None = None,
) -> PreviewResult:
    """:func:`infra.engine.preview.run_preview`, imported when a plan runs: it loads the Pulumi SDK, the provider
    and the policy pack's protocol, which parsing the command line does not need."""
    from infra.engine import preview

    return preview.run_preview(directory, stack, policy_config=policy_config, today=today, step=step, pack=pack)


def execute(args: argparse.Namespace, out: Console, errors: Console) -> int:
    from infra import catalog
    from infra.cli import stacks
    from infra.cli.output import progress, warn_if_stale
    from infra.cli.render import plan as render
    from infra.engine import pack_process

    given = stacks.parse(args.stack) if args.stack is not None else None
    project = stacks.find_project(args.cwd)
    stack = stacks.resolve(given, project)
    # The pack starts now, before the Pulumi SDK and the program are imported: its half second of start-up
    # overlaps theirs. (As run_preview would start it: see infra.engine.preview.)
    with pack_process.preview_pack(project.name, stack.short) as pack:
        warn_if_stale(catalog.load(), args.today or dt.date.today(), "plan", errors)
        with progress(errors) as step:
            result = run_preview(
                project.directory,
                stack.short,
                policy_config=args.policy_pack_config,
                today=args.today,
                step=step,
                pack=pack,
            )
    for warning in result.warnings:
        errors.print(f"maas plan: warning: {warning}", markup=False)
    view = render.PlanView(result, stack.given, project.directory)
    if args.format == "json":
        sys.stdout.write(render.to_json(view) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.to_markdown(view))
    else:
        render.print_text(view, out)
    return result.exit_code


COMMAND = Command(
    name="plan",
    help="preview a stack and its policy verdicts offline",
    description="Run the program on the stack's config under a capturing engine, then the policy pack; "
    "no Pulumi CLI, cloud login or secrets. The project is the nearest Pulumi.yaml upward; the stack is --stack, "
    "else the one pulumi stack select chose. Exit codes: 0 clean, 1 mandatory violations, 2 invalid config, "
    "3 internal failure.",
    add_arguments=add_arguments,
    execute=execute,
)
