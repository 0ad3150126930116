"""Read a ``Pulumi.<stack>.yaml`` file into the flat key/value map the Pulumi engine hands a program."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.engine.documents import DocumentError, load_mapping
from infra.errors import UserError


class StackFileError(UserError):
    """The stack file cannot be read as Pulumi stack config."""


SECURE_PLACEHOLDER = "[secret]"
"""What a program run offline sees for a ``secure:`` value: its ciphertext cannot be decrypted without the
stack's secrets provider, and is never passed on or printed."""


@dataclass(frozen=True)
class StackFile:
    config: dict[str, str]
    """Fully qualified key to the value the engine would pass (secure values replaced by the placeholder)."""
    secure_keys: frozenset[str]
    """Keys whose value is, or contains, a ``secure:`` value."""


def _without_secrets(value: Any) -> tuple[Any, bool]:
    """``value`` with each ``{secure: <ciphertext>}`` replaced by the placeholder, and whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECURE_PLACEHOLDER, True
        pairs = {k: _without_secrets(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(found for _, found in pairs.values())
    if isinstance(value, list):
        items = [_without_secrets(v) for v in value]
        return [v for v, _ in items], any(found for _, found in items)
    return value, False


def _as_config_value(value: Any) -> str:
    # The engine passes strings as they are, and every other value as JSON text.
    if isinstance(value, str):
        return value
    return json.dumps(value)


def read_stack_config(path: Path) -> dict[str, str]:
    """``{"azure-maas:location": "eastus2", "azure-maas:workspaces": "[...]", ...}`` from a stack file."""
    return read_stack_file(path).config


def read_stack_file(path: Path, project: str | None = None) -> StackFile:
    """The config of a stack file. Keys without a namespace belong to the project (``project``, else the
    ``name`` in the ``Pulumi.yaml`` beside it), as in the Pulumi CLI; ``secure:`` values are replaced by
    :data:`SECURE_PLACEHOLDER`."""
    try:
        document = load_mapping(path, "stack file")
        project_file = path.with_name("Pulumi.yaml")
        if project is None and project_file.exists():
            name = load_mapping(project_file, "project file").get("name")
            project = name if isinstance(name, str) else None
    except DocumentError as error:
        raise StackFileError(str(error)) from None
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping of keys to values")
    values: dict[str, str] = {}
    secure: set[str] = set()
    for key, value in config.items():
        full = key if ":" in key or project is None else f"{project}:{key}"
        plain, is_secure = _without_secrets(value)
        values[full] = _as_config_value(plain)
        if is_secure:
            secure.add(full)
    return StackFile(values, frozenset(secure))
