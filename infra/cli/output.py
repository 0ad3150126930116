"""Where commands write: stdout for results (wide and plain when it is not a terminal), stderr for diagnostics
and progress (a spinner only on a terminal, only for work longer than a second)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from infra import catalog

# rich is imported when a command writes (consoles, progress), not when the parser is built: the commands import
# this module for plural and one_line.

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
    from rich.status import Status

    status = Status(text, console=console, spinner="dots")
    timer = threading.Timer(delay, status.start)
    timer.daemon = True
    timer.start()
    try:
        yield lambda text: status.update(f"{text}…")
    finally:
        timer.cancel()
        status.stop()


@cache
def _output_console() -> type[Console]:
    from rich.console import Console

    class Output(Console):
        """stdout: a reader that went away is reported by :func:`main` (exit 141), not by rich's ``exit(1)``,
        which would read as "policy violations"."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError("stdout was closed")

    return Output


def consoles() -> tuple[Console, Console]:
    from rich.console import Console

    output = _output_console()
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    out: Console = output(highlight=False)
    if not out.is_terminal:  # logs and files: wider than rich's 80
        out = output(highlight=False, width=NON_TERMINAL_WIDTH)
    return out, errors


def warn_if_stale(known: catalog.Catalog, today: dt.date, command: str, errors: Console) -> None:
    """One line on stderr when the catalog's facts are older than :data:`catalog.STALE_AFTER_DAYS`."""
    from infra import catalog

    warning = catalog.staleness(known, today)
    if warning:
        errors.print(f"maas {command}: warning: {warning}", markup=False)


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """``count`` and the noun that agrees with it: ``1 endpoint``, ``0 endpoints``, ``2 entries`` (with
    ``plural_word`` for a plural that is not ``word`` + ``s``). Every summary line counts through this."""
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
