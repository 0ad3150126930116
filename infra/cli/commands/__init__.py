"""The one table of ``maas`` commands: every command is a module here that defines ``COMMAND``, listed in
:data:`COMMANDS` in the order ``maas --help`` shows them. Adding a command means adding a module and a row."""

from __future__ import annotations

from infra.cli.command import Command
from infra.cli.commands import catalog_check, catalog_sync, models, plan, smoke

COMMANDS: tuple[Command, ...] = (
    plan.COMMAND,
    models.COMMAND,
    catalog_sync.COMMAND,
    catalog_check.COMMAND,
    smoke.COMMAND,
)

GROUPS: dict[str, tuple[str, str]] = {
    "catalog": (
        "keep the model catalog true: sync it from Azure, check stacks against it",
        "Commands that maintain the model catalog (policies/azure_maas_policy/catalog.yaml).",
    ),
}
"""Commands of two words: the group's help and description, by its word."""
