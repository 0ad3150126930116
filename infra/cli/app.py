"""The ``maas`` command.

- ``maas plan [--stack dev] [--format text|json|markdown] [--policy-pack-config FILE]`` previews a stack and
  its policy verdicts offline. Exit codes: 0 clean, 1 mandatory policy violations, 2 invalid config (stack
  file, stack config or policy config; the cause names the key), 3 internal failure.
- ``maas models [KEY] [--channel C] [--region R] [--all] [--format text|json|markdown]`` lists the model
  catalog, or shows one model in full. Exit codes: 0, 2 for an unknown key or region.
- ``maas smoke [--stack dev] [--endpoint NAME] [--route inference|native] [--stream]`` sends one tiny chat
  completion to each deployed endpoint. Exit codes: 0 every check passed, 1 a check failed, 2 the outputs
  cannot be read or the selection is invalid, 3 internal failure.
- ``maas catalog sync [--subscription ID] [--location L]... [--write]`` refreshes the catalog from Azure's
  Models API. Exit codes: 0 every location swept, 1 partial, 2 invalid arguments or credentials, 3 internal.
- ``maas catalog check [--within DAYS]`` judges every stack's models on the day. Exit codes: 0 all living,
  1 a model died (or will within the window), 2 a stack file cannot be read.

Every failure prints ``maas <command>: <cause>`` on one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.status import Status

from azure_maas_policy import facts
from infra import catalog
from infra.cli.commands import catalog_check, catalog_sync, smoke
from infra.cli.render import models as render_catalog
from infra.cli.render import plan as render
from infra.cli.stack_outputs import OutputsError
from infra.cli.stack_outputs import read as read_outputs
from infra.engine.preview import PlanConfigError, PlanInternalError, run_plan

EXIT_OK, EXIT_VIOLATIONS, EXIT_CONFIG, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_SIGNAL_BASE = 128
"""Stopped by a signal: 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), as shells report it."""
EXIT_BROKEN_PIPE = EXIT_SIGNAL_BASE + 13
"""The reader closed stdout (``maas plan | head``): 141, as for SIGPIPE."""
NON_TERMINAL_WIDTH = 160
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
        help="list the model catalog: lifecycle, replacements, channels",
        description="The models azure-maas knows by name, with their stage on the day, the channels they are "
        "offered on (serverless API, Foundry resource) and, for one KEY, every fact with its source. Retired and "
        "managed-compute-only models are hidden unless --all. Exit codes: 0, 2 for an unknown KEY or an invalid "
        "--region.",
    )
    models.add_argument("key", nargs="?", metavar="KEY", help="show this model in full (IDs, skus, regions, sources)")
    models.add_argument("--channel", "-c", choices=list(catalog.CHANNELS), help="only models offered on this channel")
    models.add_argument("--region", "-r", help="only models offered in this region (on --channel, if given)")
    models.add_argument("--all", "-a", action="store_true", help="include retired and managed-compute-only models")
    models.add_argument(
        "--format", "-f", choices=["text", "json", "markdown"], default="text", help="output format (markdown: a table)"
    )
    _today_option(models, "lifecycle")

    catalog_command = commands.add_parser(
        "catalog",
        help="keep the model catalog true: sync it from Azure, check stacks against it",
        description="Commands that maintain the model catalog (policies/azure_maas_policy/catalog.yaml).",
    )
    catalog_commands = catalog_command.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    sync = catalog_commands.add_parser(
        "sync",
        help="refresh lifecycle, versions, skus and regions from Azure's Models API",
        description="Read Azure's Models API (Microsoft.CognitiveServices/locations/{location}/models) for a "
        "subscription and a set of locations, and update the catalog's Foundry facts and lifecycle. Prints the "
        "change as a diff; writes only with --write; never deletes a row. Exit codes: 0 every location swept, "
        "1 the sync was partial (the failed locations are named; their facts are left as they were), 2 invalid "
        "arguments, catalog or credentials, 3 internal failure.",
    )
    catalog_sync.add_arguments(sync)
    _today_option(sync, "the sync (the asOf date it records)")
    stacks = catalog_commands.add_parser(
        "check",
        help="check every stack's models against today's lifecycle",
        description="Read every Pulumi.<stack>.yaml of the project and judge each deployment's catalog model on "
        "the day: exit 1 naming the deployments whose model is deprecated or retired (or retires within "
        "--within days). Needs no login. Exit codes: 0 all models living, 1 a model died or will die soon, "
        "2 a stack file cannot be read.",
    )
    stacks.add_argument(
        "--within",
        type=_days,
        default=0,
        metavar="DAYS",
        help="also fail for models deprecated or retired within this many days (default: 0)",
    )
    stacks.add_argument("--format", "-f", choices=["text", "json"], default="text", help="output format")
    _cwd_option(stacks)
    _today_option(stacks)

    check = commands.add_parser(
        "smoke",
        help="send one tiny chat completion to each deployed endpoint",
        description="Read the stack outputs (pulumi stack output --json --show-secrets, or --outputs FILE), "
        "send each endpoint a tiny chat completion and check the answer against the documented schema. "
        "Keys and tokens go only over https to the endpoint's own inferenceUri, an Azure inference host unless "
        "--allow-host names it. Exit codes: 0 every check passed, 1 a check failed, 2 unreadable outputs, an "
        "invalid selection or a credential that would go elsewhere, 3 internal failure.",
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
    check.add_argument(
        "--timeout",
        type=_seconds,
        default=smoke.RetryPolicy.timeout,
        help="seconds per check, every attempt and wait included (default: %(default)g)",
    )
    check.add_argument(
        "--allow-host",
        action="append",
        default=[],
        type=smoke.allowed_host,
        metavar="HOST",
        help="also send keys and tokens to this host (repeatable): over https, or plain http to a loopback address",
    )
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


def _days(value: str) -> int:
    if not value.isdigit() or int(value) > 3650:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days from 0 to 3650")
    return int(value)


def _count(value: str) -> int:
    if not value.isdigit() or int(value) > 10:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 0 to 10")
    return int(value)


class _Output(Console):
    """stdout: a reader that went away is reported by :func:`main` (exit 141), not by rich's ``exit(1)``,
    which would read as "policy violations"."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError("stdout was closed")


def _consoles(command: str) -> tuple[Console, Console]:
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    out: Console = _Output(highlight=False)
    if not out.is_terminal:  # logs and files: wider than rich's 80
        out = _Output(highlight=False, width=NON_TERMINAL_WIDTH)
    return out, errors


class Interrupted(BaseException):
    """A stop signal arrived: raised in the main thread so that every ``finally`` runs (the policy pack is
    stopped), like KeyboardInterrupt; not an Exception, so no command turns it into a result."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _closed_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, errors = _consoles(args.command)
    command = {"plan": _plan, "models": _models, "smoke": _smoke, "catalog": _catalog}[args.command]
    name = f"maas {args.command}" + (f" {args.catalog_command}" if args.command == "catalog" else "")
    try:
        with _stop_signals_raise():
            code = command(args, out, errors)
            sys.stdout.flush()  # a closed stdout shows here, not in the interpreter's last flush
            return code
    except Interrupted as stop:
        errors.print(f"{name}: stopped by {signal.Signals(stop.signum).name}", markup=False)
        return EXIT_SIGNAL_BASE + stop.signum
    except BrokenPipeError:
        _closed_stdout()
        errors.print(f"{name}: the output was closed before everything was written", markup=False)
        return EXIT_BROKEN_PIPE
    except Exception as error:
        errors.print(f"{name}: internal error: {type(error).__name__}: {error}", markup=False)
        return EXIT_INTERNAL


def _plan(args: argparse.Namespace, out: Console, errors: Console) -> int:
    warn_if_stale(catalog.load(), args.today or dt.date.today(), "plan", errors)
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


def warn_if_stale(known: catalog.Catalog, today: dt.date, command: str, errors: Console) -> None:
    """One line on stderr when the catalog's facts are older than :data:`catalog.STALE_AFTER_DAYS`."""
    warning = catalog.staleness(known, today)
    if warning:
        errors.print(f"maas {command}: warning: {warning}", markup=False)


def _models(args: argparse.Namespace, out: Console, errors: Console) -> int:
    known = catalog.load()
    today = args.today or dt.date.today()
    warn_if_stale(known, today, "models", errors)
    if args.key is not None:
        model = known.get(args.key)
        if model is None:
            close = known.close_matches(args.key)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            errors.print(
                f"maas models: {args.key!r} is not a catalog key; {hint}`maas models --all` lists them", markup=False
            )
            return EXIT_CONFIG
        if args.format == "json":
            sys.stdout.write(json.dumps(render_catalog.model_json(model, known, today), indent=2) + "\n")
        elif args.format == "markdown":
            row = catalog.Listed(model, model.lifecycle.stage_on(today))
            sys.stdout.write(render_catalog.models_markdown([row], known, today))
        else:
            render_catalog.print_model(model, known, today, out)
        return EXIT_OK
    region = None
    if args.region is not None:
        region = facts.normalize_region(args.region)
        valid = catalog.known_regions(known, args.channel)
        if region not in valid:
            on = f" on channel {args.channel!r}" if args.channel else ""
            errors.print(
                f"maas models: --region {args.region!r} is not a region the catalog knows{on}; valid: "
                f"{', '.join(valid)}",
                markup=False,
            )
            return EXIT_CONFIG
    rows = catalog.listing(known, today, region=region, channel=args.channel, everything=args.all)
    if args.format == "json":
        sys.stdout.write(render_catalog.models_json(rows, known, today) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_catalog.models_markdown(rows, known, today))
    else:
        render_catalog.print_models(rows, known, today, out, everything=args.all)
    return EXIT_OK


def _catalog(args: argparse.Namespace, out: Console, errors: Console) -> int:
    if args.catalog_command == "sync":
        return catalog_sync.run(args, out, errors)
    return _catalog_check(args, out, errors)


def _catalog_check(args: argparse.Namespace, out: Console, errors: Console) -> int:
    known = catalog.load()
    today = args.today or dt.date.today()
    warn_if_stale(known, today, "catalog check", errors)
    if not catalog_check.stack_files(args.cwd):
        errors.print(f"maas catalog check: no Pulumi.<stack>.yaml in {args.cwd.resolve()}", markup=False)
        return EXIT_CONFIG
    try:
        judged = catalog_check.check(args.cwd, known, today, args.within)
    except catalog_check.CheckInputError as error:
        errors.print(f"maas catalog check: {error}", markup=False)
        return EXIT_CONFIG
    if args.format == "json":
        sys.stdout.write(catalog_check.to_json(judged, known, today, args.within) + "\n")
    else:
        for line in catalog_check.lines(judged, known, today, args.within):
            out.print(line, markup=False, highlight=False, soft_wrap=True)
    return EXIT_VIOLATIONS if catalog_check.failing(judged) else EXIT_OK


def _smoke(args: argparse.Namespace, out: Console, errors: Console) -> int:
    try:
        outputs = read_outputs(args.stack, args.cwd, args.outputs)
        checks = smoke.targets(outputs, args.endpoint, args.route or ["inference"], args.auth, args.allow_host)
    except (OutputsError, smoke.SmokeInputError) as error:
        errors.print(f"maas smoke: {error}", markup=False)
        return EXIT_CONFIG
    for name, why in ({} if args.endpoint else smoke.non_chat(outputs)).items():
        errors.print(f"maas smoke: skipped endpoint {name!r}: {why}", markup=False)
    policy = smoke.RetryPolicy(attempts=args.retries + 1, timeout=args.timeout)
    with smoke.http_client(args.allow_host) as client, progress(errors, text="smoke testing"):
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
