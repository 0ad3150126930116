"""The error vocabulary every zone shares: one exit-code enum and one base class for the user's mistakes.

The program raises :class:`UserError` subclasses for config it refuses; the engine stand-ins for files they
cannot read; the commands for arguments and input. ``maas`` prints any of them as one line,
``maas <command>: <cause>``, and exits with the error's :attr:`UserError.exit_code`. Anything else that escapes
a command is an internal error (:attr:`ExitCode.INTERNAL`).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``maas`` command's exit status means; the same for every command. Each member carries its meaning
    (``ExitCode.USAGE.meaning``), which ``docs/cli.md`` shows."""

    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    OK = 0, "The command did what was asked and everything it checked passed."
    FAILED = (
        1,
        "The command ran and what it checked failed: mandatory policy violations (plan), a failed check (smoke), a "
        "deprecated or retired model (catalog check), a location that could not be swept (catalog sync).",
    )
    USAGE = (
        2,
        "The input is wrong (stack or project file, config key, policy config, argument, credentials); the one-line "
        "cause names it. Nothing was changed.",
    )
    INTERNAL = 3, "A failure the command did not foresee (a bug), or a policy pack that would not start or answer."
    STOPPED = 128, "Stopped by a signal: 128 + its number (130 SIGINT, 129 SIGHUP, 143 SIGTERM), as shells report it."
    OUTPUT_CLOSED = 141, "The reader closed stdout before everything was written (`maas plan | head`), as for SIGPIPE."


class UserError(Exception):
    """A mistake the user can fix, told in one line that names what is wrong and what would be valid."""

    exit_code: ExitCode = ExitCode.USAGE


class InternalError(Exception):
    """A failure with a known cause that no change of input fixes (the program or the policy pack failed):
    printed as ``internal error: <cause>``, exit code :attr:`ExitCode.INTERNAL`."""
