"""What a ``maas`` command is: a name, its help, its options and what it does. Every command module defines
one :class:`Command` as ``COMMAND``; :data:`infra.cli.commands.COMMANDS` is the one table of them.

Building the parser imports every command module, so a command module imports at its top only what its options
need; what running it needs (the Pulumi SDK, the Azure SDKs, httpx...) is imported when ``execute`` runs, and
``maas --help`` and ``maas models`` start fast. tests/test_startup.py holds them to that."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

Execute = Callable[[argparse.Namespace, "Console", "Console"], int]
"""Run the command on parsed arguments, writing results to ``out`` and diagnostics to ``errors``; return the
exit code (an :class:`~infra.errors.ExitCode`). A :class:`~infra.errors.UserError` it raises is printed as one
line and exits with the error's code."""


@dataclass(frozen=True)
class Command:
    name: str
    """The words after ``maas``: ``plan``, ``catalog sync``. A command of two words belongs to the group named
    by its first word (see :data:`infra.cli.commands.GROUPS`)."""
    help: str
    """One line, shown in ``maas --help``."""
    description: str
    """A paragraph, shown in ``maas <command> --help``; it ends with the command's exit codes."""
    add_arguments: Callable[[argparse.ArgumentParser], None]
    execute: Execute
