"""Option types and options shared by several commands, each with the message argparse prints for a bad value."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

MAX_SECONDS = 600.0
"""The longest per-check timeout ``maas smoke --timeout`` accepts."""
MAX_DAYS = 3650
MAX_COUNT = 10


def date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def seconds(value: str) -> float:
    try:
        given = float(value)
    except ValueError:
        given = 0.0
    if not 0 < given <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds between 0 and {MAX_SECONDS:g}")
    return given


def days(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days from 0 to {MAX_DAYS}")
    return int(value)


def count(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 0 to {MAX_COUNT}")
    return int(value)


def add_today(parser: argparse.ArgumentParser, what: str = "model lifecycle") -> None:
    parser.add_argument("--today", type=date, metavar="YYYY-MM-DD", help=f"judge {what} on this day (default: today)")


def add_cwd(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cwd",
        "-C",
        type=Path,
        metavar="DIR",
        help="run as if started in this directory: the project is the nearest Pulumi.yaml from there upward "
        "(default: .)",
    )


def add_stack(parser: argparse.ArgumentParser, help: str) -> None:
    """``--stack``: a name (``dev``, ``org/dev``, ``org/project/dev``) read by :mod:`infra.cli.stacks`; when it is
    left out, the stack ``pulumi stack select`` chose."""
    parser.add_argument("--stack", "-s", metavar="STACK", help=help)


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...], help: str = "output format") -> None:
    parser.add_argument("--format", "-f", choices=list(choices), default=choices[0], help=help)
