"""The ``maas`` command.

- ``maas plan [--stack dev] [--format text|json|markdown] [--policy-pack-config FILE]`` previews a stack and
  its policy verdicts offline. Exit codes: 0 clean, 1 mandatory policy violations, 2 invalid config (stack
  file, stack config or policy config; the cause names the key), 3 internal failure.
- ``maas models [--region R] [--all] [--format text|json]`` lists the model catalog. Exit codes: 0, 2 for a
  region that is not a serverless region.
- ``maas smoke [--stack dev] [--endpoint NAME] [--route inference|native] [--stream]`` sends one tiny chat
  completion to each deployed endpoint. Exit codes: 0 every check passed, 1 a check failed, 2 the outputs
  cannot be read or the selection is invalid, 3 internal failure.

Every failure prints ``maas <command>: <cause>`` on one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.status import Status

from azure_maas_policy import facts
from infra import catalog, render, smoke
from infra.plan import PlanConfigError, PlanInternalError, run_plan
from infra.stack_outputs import OutputsError
from infra.stack_outputs import read as read_outputs

EXIT_OK, EXIT_VIOLATIONS, EXIT_CONFIG, EXIT_INTERNAL = 0, 1, 2, 3
NON_TERMINAL_WIDTH = 160
WIDE_NON_TERMINAL_WIDTH = 200
"""``maas models`` in logs and files: wide enough for the catalog table on one line per model."""
PROGRESS_DELAY = 1.0
"""Seconds of work before a progress indicator appears (on a terminal only)."""


@contextmanager
def progress(
    console: Console, delay: float = PROGRESS_DELAY, text: str = "planning"
) -> Iterator[Callable[[str], None]]:
    """A spinner on ``console`` (stderr) for work longer than ``delay``; silent when it is not a terminal."""
    if not console.is_terminal:
        yield lambda _: None
        return
    status = Status(text, console=console, spinner="dots")
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


def _today_option(parser: argparse.ArgumentParser, what: str = "model lifecycle") -> None:
    parser.add_argument("--today", type=_date, metavar="YYYY-MM-DD", help=f"judge {what} on this day (default: today)")


def _cwd_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cwd", "-C", type=Path, default=Path(), help="the project directory (default: .)")


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
    _cwd_option(plan)
    _today_option(plan)
    models = commands.add_parser(
        "models",
        help="list the model catalog: lifecycle, replacements, regions",
        description="The models azure-maas knows by name. Retired and managed-compute-only models are hidden "
        "unless --all. Exit codes: 0, 2 for an invalid --region.",
    )
    models.add_argument("--region", "-r", help="only models offered as serverless APIs in this region")
    models.add_argument("--all", "-a", action="store_true", help="include retired and managed-compute-only models")
    models.add_argument("--format", "-f", choices=["text", "json"], default="text", help="output format")
    _today_option(models, "lifecycle")

    check = commands.add_parser(
        "smoke",
        help="send one tiny chat completion to each deployed endpoint",
        description="Read the stack outputs (pulumi stack output --json --show-secrets, or --outputs FILE), "
        "send each endpoint a tiny chat completion and check the answer against the documented schema. "
        "Exit codes: 0 every check passed, 1 a check failed, 2 unreadable outputs or invalid selection, "
        "3 internal failure.",
    )
    check.add_argument("--stack", "-s", default="dev", help="the deployed stack (default: dev)")
    check.add_argument(
        "--endpoint", "-e", action="append", default=[], metavar="NAME", help="only this endpoint (repeatable)"
    )
    check.add_argument(
        "--route",
        action="append",
        choices=smoke.ROUTES,
        help="inference: {uri}/chat/completions (default); native: {uri}/v1/chat/completions (repeatable)",
    )
    check.add_argument("--stream", action="store_true", help="stream the answer (server-sent events)")
    check.add_argument(
        "--auth",
        choices=["auto", "key", "entra"],
        default="auto",
        help="auto (default): the key for Key and KeyAndAAD endpoints, an Entra ID token for AAD endpoints",
    )
    check.add_argument(
        "--outputs", type=Path, metavar="FILE", help="saved `pulumi stack output --json --show-secrets` (- for stdin)"
    )
    check.add_argument("--timeout", type=_seconds, default=smoke.RetryPolicy.timeout, help="seconds per request")
    check.add_argument(
        "--retries",
        type=_count,
        default=smoke.RetryPolicy.attempts - 1,
        help="retries of a 429 or 5xx answer (default: %(default)s)",
    )
    check.add_argument("--token-scope", default=smoke.TOKEN_SCOPE, help="Entra ID scope (default: %(default)s)")
    check.add_argument("--format", "-f", choices=["text", "json"], default="text", help="output format")
    _cwd_option(check)
    _today_option(check)
    return parser


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds between 0 and 600")
    return seconds


def _count(value: str) -> int:
    if not value.isdigit() or int(value) > 10:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 0 to 10")
    return int(value)


def _consoles(command: str) -> tuple[Console, Console]:
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False)
    if not out.is_terminal:  # logs and files: wider than rich's 80
        out = Console(highlight=False, width=WIDE_NON_TERMINAL_WIDTH if command == "models" else NON_TERMINAL_WIDTH)
    return out, errors


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, errors = _consoles(args.command)
    command = {"plan": _plan, "models": _models, "smoke": _smoke}[args.command]
    try:
        return command(args, out, errors)
    except Exception as error:
        errors.print(f"maas {args.command}: internal error: {type(error).__name__}: {error}", markup=False)
        return EXIT_INTERNAL


def _plan(args: argparse.Namespace, out: Console, errors: Console) -> int:
    try:
        with progress(errors) as step:
            result = run_plan(args.cwd, args.stack, policy_config=args.policy_pack_config, today=args.today, step=step)
    except PlanConfigError as error:
        errors.print(f"maas plan: {error}", markup=False)
        return EXIT_CONFIG
    except PlanInternalError as error:
        errors.print(f"maas plan: internal error: {error}", markup=False)
        return EXIT_INTERNAL
    if args.format == "json":
        sys.stdout.write(render.to_json(result) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.to_markdown(result))
    else:
        render.print_text(result, out)
    return result.exit_code


def _models(args: argparse.Namespace, out: Console, errors: Console) -> int:
    known = catalog.load()
    today = args.today or dt.date.today()
    region = None
    if args.region is not None:
        region = facts.normalize_region(args.region)
        if region not in known.serverless.regions:
            valid = ", ".join(known.serverless.regions)
            errors.print(
                f"maas models: --region {args.region!r} is not a serverless region; valid: {valid}", markup=False
            )
            return EXIT_CONFIG
    rows = catalog.listing(known, today, region=region, everything=args.all)
    if args.format == "json":
        sys.stdout.write(render.models_json(rows, known, today) + "\n")
    else:
        render.print_models(rows, known, today, out, everything=args.all)
    return EXIT_OK


def _smoke(args: argparse.Namespace, out: Console, errors: Console) -> int:
    try:
        outputs = read_outputs(args.stack, args.cwd, args.outputs)
        checks = smoke.targets(outputs, args.endpoint, args.route or ["inference"], args.auth)
    except (OutputsError, smoke.SmokeInputError) as error:
        errors.print(f"maas smoke: {error}", markup=False)
        return EXIT_CONFIG
    policy = smoke.RetryPolicy(attempts=args.retries + 1, timeout=args.timeout)
    with httpx.Client(follow_redirects=False) as client, progress(errors, text="smoke testing"):
        runner = smoke.Smoke(
            client,
            credential=smoke.default_credential,
            token_scope=args.token_scope,
            policy=policy,
            today=args.today,
        )
        results = runner.run(checks, stream=args.stream)
    if args.format == "json":
        sys.stdout.write(render.smoke_json(results, args.stack) + "\n")
    else:
        render.print_smoke(results, out)
    return EXIT_OK if all(r.ok for r in results) else EXIT_VIOLATIONS


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
