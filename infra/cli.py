"""The ``maas`` command.

``maas plan [--stack dev] [--format text|json|markdown] [--policy-pack-config FILE]`` previews a stack and
its policy verdicts offline. Exit codes: 0 clean, 1 mandatory policy violations, 2 invalid config (stack
file, stack config or policy config; the cause names the key), 3 internal failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.status import Status

from infra import render
from infra.plan import PlanConfigError, PlanInternalError, run_plan

EXIT_OK, EXIT_VIOLATIONS, EXIT_CONFIG, EXIT_INTERNAL = 0, 1, 2, 3
NON_TERMINAL_WIDTH = 160
PROGRESS_DELAY = 1.0
"""Seconds of work before a progress indicator appears (on a terminal only)."""


@contextmanager
def progress(console: Console, delay: float = PROGRESS_DELAY) -> Iterator[Callable[[str], None]]:
    """A spinner on ``console`` (stderr) for work longer than ``delay``; silent when it is not a terminal."""
    if not console.is_terminal:
        yield lambda _: None
        return
    status = Status("planning", console=console, spinner="dots")
    timer = threading.Timer(delay, status.start)
    timer.daemon = True
    timer.start()
    try:
        yield lambda text: status.update(f"{text}…")
    finally:
        timer.cancel()
        status.stop()


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maas", description="Partner models on Azure as serverless APIs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    plan = commands.add_parser(
        "plan",
        help="preview a stack and its policy verdicts offline",
        description="Run the program on the stack's config under a capturing engine, then the policy pack; "
        "no Pulumi CLI, cloud login or secrets. Exit codes: 0 clean, 1 mandatory violations, 2 invalid config, "
        "3 internal failure.",
    )
    plan.add_argument("--stack", "-s", default="dev", help="the stack whose Pulumi.<stack>.yaml to plan (default: dev)")
    plan.add_argument("--format", "-f", choices=["text", "json", "markdown"], default="text", help="output format")
    plan.add_argument(
        "--policy-pack-config", type=Path, metavar="FILE", help="policy config, as for pulumi --policy-pack-config"
    )
    plan.add_argument("--cwd", "-C", type=Path, default=Path(), help="the project directory (default: .)")
    plan.add_argument(
        "--today", type=_date, metavar="YYYY-MM-DD", help="judge model lifecycle on this day (default: today)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=NON_TERMINAL_WIDTH)  # logs and files: wider than rich's 80
    try:
        with progress(errors) as step:
            result = run_plan(args.cwd, args.stack, policy_config=args.policy_pack_config, today=args.today, step=step)
    except PlanConfigError as error:
        errors.print(f"maas plan: {error}", markup=False)
        return EXIT_CONFIG
    except PlanInternalError as error:
        errors.print(f"maas plan: internal error: {error}", markup=False)
        return EXIT_INTERNAL
    except Exception as error:
        errors.print(f"maas plan: internal error: {type(error).__name__}: {error}", markup=False)
        return EXIT_INTERNAL
    if args.format == "json":
        sys.stdout.write(render.to_json(result) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.to_markdown(result))
    else:
        render.print_text(result, out)
    return result.exit_code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
