"""The ``maas`` command: the parser built from the one command table (:mod:`infra.cli.commands`), stop signals,
and one way to fail: a line ``maas <command>: <cause>`` on stderr and an :class:`~infra.errors.ExitCode`.

Commands and their exit codes are documented in ``docs/cli.md``, generated from this table.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from infra.cli.command import Command
from infra.cli.commands import COMMANDS, GROUPS
from infra.errors import ExitCode, InternalError, UserError

DESCRIPTION = "Partner models on Azure: serverless APIs and Microsoft Foundry deployments."
DISTRIBUTION = "azure-maas"
"""The package whose installed metadata gives ``maas --version`` (its version is written once, in pyproject.toml)."""
LIBRARY_LOGGERS = ("azure", "msal", "urllib3", "requests", "httpx", "httpcore")
"""Loggers of the libraries maas calls. azure-identity's DefaultAzureCredential, for one, logs a dozen lines when no
credential works; maas reports every failure itself, on one line."""


class _VersionAction(argparse.Action):
    """``--version``: ``maas <version>`` on stdout, exit 0; the metadata is read only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        import importlib.metadata

        try:
            installed = importlib.metadata.version(DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            parser.exit(
                ExitCode.INTERNAL,
                f"maas: internal error: the {DISTRIBUTION} package is not installed, so it has no version; "
                "`uv sync` installs it\n",
            )
        sys.stdout.write(f"maas {installed}\n")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    """``maas`` and every command of :data:`COMMANDS`, a two-word command under its group."""
    root = argparse.ArgumentParser(prog="maas", description=DESCRIPTION)
    root.add_argument("--version", action=_VersionAction, help="print maas's version and exit")
    top = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in COMMANDS:
        group, _, word = command.name.rpartition(" ")
        if group and group not in groups:
            help_, description = GROUPS[group]
            group_parser = top.add_parser(group, help=help_, description=description)
            groups[group] = group_parser.add_subparsers(dest=f"{group}_command", required=True, metavar="COMMAND")
        where = groups[group] if group else top
        command_parser = where.add_parser(word, help=command.help, description=command.description)
        command_parser.set_defaults(selected=command)
        command.add_arguments(command_parser)
    return root


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: raised in the main thread so that every ``finally`` runs (the policy pack is
    stopped); not an Exception, so no command turns it into a result. A KeyboardInterrupt, because asyncio lets
    only those (and SystemExit) out of a task or callback it runs: any other BaseException raised there is kept in
    the task or logged, and ``maas plan``'s event loop would wait forever for what that task never finished."""

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


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """While a command runs, records of :data:`LIBRARY_LOGGERS` are dropped, and any other record that reaches the
    root logger ends in a :class:`logging.NullHandler` rather than in :data:`logging.lastResort` (which would print
    a warning on stderr): a command's stderr holds its own lines only. Everything is put back afterwards (``main``
    runs in-process in tests); no ``basicConfig``."""
    quiet = logging.NullHandler()
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved = [(logger, logger.level) for logger in loggers]
    root.addHandler(quiet)
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)
        root.removeHandler(quiet)


def _closed_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command: Command = args.selected
    from infra.cli.output import consoles  # rich, once a command runs: `maas --help` never needs it

    out, errors = consoles()
    name = f"maas {command.name}"
    stopped: Interrupted | None = None
    try:
        with _stop_signals_raise(), _quiet_libraries():
            code = command.execute(args, out, errors)
            sys.stdout.flush()  # a closed stdout shows here, not in the interpreter's last flush
            return code
    except Interrupted as stop:
        stopped = stop  # handled below, once the handler has let go of it
    except BrokenPipeError:
        _closed_stdout()
        errors.print(f"{name}: the output was closed before everything was written", markup=False, emoji=False)
        return ExitCode.OUTPUT_CLOSED
    except UserError as error:
        errors.print(f"{name}: {error}", markup=False, emoji=False)
        return error.exit_code
    except InternalError as error:
        errors.print(f"{name}: internal error: {error}", markup=False, emoji=False)
        return ExitCode.INTERNAL
    except Exception as error:
        errors.print(f"{name}: internal error: {type(error).__name__}: {error}", markup=False, emoji=False)
        return ExitCode.INTERNAL
    # A stop signal. Its exception holds the frames it unwound, and what they held: objects the signal left
    # half-made or half-used, which Python complains about when they are freed (a coroutine the Pulumi SDK made and
    # never awaited: a warning; an event loop whose constructor it cut short: "Exception ignored in ..."). The
    # command stopped half-way on purpose, and its one line is all it prints: they are freed here, quietly.
    signum = stopped.signum
    errors.print(f"{name}: stopped by {signal.Signals(signum).name}", markup=False, emoji=False)
    with warnings.catch_warnings(), _unraisable_ignored():
        warnings.simplefilter("ignore")
        del stopped
    return ExitCode.STOPPED + signum


@contextmanager
def _unraisable_ignored() -> Iterator[None]:
    """While the block runs, exceptions Python cannot raise (in ``__del__``, say) are dropped, not printed."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        yield
    finally:
        sys.unraisablehook = hook


def run() -> None:
    """Console-script entry point (also ``python -m infra.cli``): the command runs without the cyclic garbage
    collector, then the process ends (:func:`_leave`).

    Every command is short-lived and frees what it no longer uses by reference counting; what the collector would
    find is mostly the Pulumi SDK's objects after a plan (about 750,000 in reference cycles per thousand
    deployments), which it would walk again and again while the plan runs and renders, for memory the process
    gives back a moment later when it ends. While the program runs, the capture still collects young objects past
    a bound (:data:`infra.engine.capture.YOUNG_LIMIT`), so a very large plan cannot exhaust memory. (``main``, which
    the tests call in-process, leaves the collector as it finds it.)"""
    gc.disable()
    _leave(main())


def _leave(code: int) -> NoReturn:
    """End the process with ``code`` once the command is done, without the interpreter's teardown.

    A plan leaves hundreds of thousands of objects behind (the Pulumi SDK's outputs and futures, azure-native's
    classes); freeing them one by one and unloading every module took a third of a second for the dev stack and
    more than that at 1,000 deployments, for nothing. Everything a command opens is closed by then (files, the
    policy pack's process, HTTP clients: each in a ``with``), and no thread of ours is left running. What the
    interpreter would still do is done here: the ``atexit`` callbacks run (logging's flush, a library's own) and
    stdout and stderr are flushed; if stdout was closed meanwhile, the exit code says so
    (:attr:`ExitCode.OUTPUT_CLOSED`) rather than success."""
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        code = code or ExitCode.OUTPUT_CLOSED
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
