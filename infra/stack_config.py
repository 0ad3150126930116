"""Read a ``Pulumi.<stack>.yaml`` file into the flat key/value map the Pulumi engine hands a program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class StackConfigError(Exception):
    """The stack file cannot be read as Pulumi stack config."""


def _as_config_value(value: Any) -> str:
    # The engine passes strings as they are, and every other value as JSON text.
    if isinstance(value, str):
        return value
    return json.dumps(value)


def read_stack_config(path: Path) -> dict[str, str]:
    """``{"azure-maas:location": "eastus2", "azure-maas:workspaces": "[...]", ...}`` from a stack file.

    Keys without a namespace belong to the project (``Pulumi.yaml``'s ``name``), as in the Pulumi CLI.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise StackConfigError(f"{path}: {error}") from None
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{path}: 'config' must be a mapping of keys to values")
    project_file = path.with_name("Pulumi.yaml")
    project = (
        (yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}).get("name") if project_file.exists() else None
    )
    values: dict[str, str] = {}
    for key, value in config.items():
        full = key if ":" in key or project is None else f"{project}:{key}"
        values[full] = _as_config_value(value)
    return values
