"""Read a project's ``Pulumi.yaml`` and its ``Pulumi.<stack>.yaml`` files into the flat key/value map the Pulumi
engine hands a program, as the engine builds it.

What the engine does and this module does too (pulumi/pulumi ``sdk/go/common/workspace/project.go`` and
``config.go`` ``mergeConfig``, read 2026-11-24):

- keys without a namespace belong to the project;
- the project's ``config:`` block: a plain value under a project key is its default, under another namespace
  its value; a declaration may give ``type`` (string, integer, boolean, array with ``items``, object),
  ``default`` or ``value``, ``secret`` and ``description``; a stack value wins over both, a project key with
  neither is required ("Stack 'dev' is missing configuration value 'x'"), and typed keys are checked;
- ``stackConfigDir`` (or the older ``config: <directory>``) says where the stack files are;
- a stack file holds ``config``, ``environment`` (Pulumi ESC), ``secretsprovider``, ``encryptedkey`` and
  ``encryptionsalt``; anything else is refused with a did-you-mean.

What it cannot do offline: decrypt ``secure:`` values (replaced by :data:`SECURE_PLACEHOLDER`, and not
type-checked) and open ESC environments (:attr:`StackFile.environments` names them so the caller can say so).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.engine.documents import DocumentError, load_mapping
from infra.errors import UserError
from infra.suggest import did_you_mean


class StackFileError(UserError):
    """The project file or a stack file cannot be read as Pulumi reads it."""


PROJECT_FILE = "Pulumi.yaml"
STACK_FILE = "Pulumi.{stack}.yaml"
POLICY_CONFIG_FILE = "Pulumi.{stack}.policy.json"
"""The stack's policy config (as ``pulumi preview``/``up --policy-pack-config`` take it), beside its stack file.
``maas plan`` reads it when it exists and the pipelines pass it to every Pulumi command and to ``maas plan``."""
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")
"""The top-level keys of a stack settings file (Pulumi docs, "Stack settings file reference")."""
DECLARATION_KEYS = ("default", "description", "items", "secret", "type", "value")
CONFIG_TYPES = ("array", "boolean", "integer", "object", "string")
SECURE_PLACEHOLDER = "[secret]"
"""What a program run offline sees for a ``secure:`` value: its ciphertext cannot be decrypted without the
stack's secrets provider, and is never passed on or printed."""
MAX_ITEMS_DEPTH = 8
"""Arrays of arrays nested deeper than this are no config azure-maas reads."""
_INTEGER = re.compile(r"^[+-]?[0-9]+$")  # what Go's strconv.Atoi accepts


@dataclass(frozen=True)
class Declaration:
    """One key of the project's ``config:`` block, after Pulumi's shorthand rewrite."""

    key: str
    """As written in ``Pulumi.yaml`` (``location`` or ``azure-native:location``)."""
    full_key: str
    """With its namespace (``azure-maas:location``)."""
    type: str | None
    items: dict[str, Any] | None
    fallback: tuple[Any] | None
    """``(default,)`` or ``(value,)``; None when the project gives neither."""
    secret: bool


@dataclass(frozen=True)
class ProjectFile:
    path: Path
    name: str
    declarations: tuple[Declaration, ...]
    stack_config_dir: Path
    """Where the ``Pulumi.<stack>.yaml`` files are (the project directory unless ``stackConfigDir`` says)."""

    def stack_file(self, stack: str) -> Path:
        """``Pulumi.<stack>.yaml`` of a stack (``stack`` is the short name, without org/project)."""
        return self.stack_config_dir / STACK_FILE.format(stack=stack)

    def policy_config(self, stack: str) -> Path:
        """The stack's policy config file (see :data:`POLICY_CONFIG_FILE`), whether or not it exists."""
        return self.stack_config_dir / POLICY_CONFIG_FILE.format(stack=stack)

    def stacks(self) -> list[str]:
        """The stacks that have a stack file, sorted."""
        return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in self.stack_config_dir.glob("Pulumi.*.yaml"))


@dataclass(frozen=True)
class StackFile:
    config: dict[str, str]
    """Fully qualified key to the value the engine would pass (secure values replaced by the placeholder)."""
    secure_keys: frozenset[str]
    """Keys whose value is, or contains, a ``secure:`` value."""
    environments: tuple[str, ...] = ()
    """The ESC environments the stack file imports (``environment:``), which offline reading cannot open; an
    inline environment definition is named ``(inline definition)``."""
    from_project: frozenset[str] = frozenset()
    """Keys whose value is the project's default or value (``Pulumi.yaml``), not the stack file's."""


def _location(path: Path, key: str) -> str:
    return f"{path.name}: {key}"


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return True
    return isinstance(value, str) and bool(_INTEGER.fullmatch(value))


_SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "boolean": lambda value: isinstance(value, bool) or value in ("true", "false"),
    "object": lambda value: isinstance(value, dict),
}


def _check_type(type_: str, items: dict[str, Any] | None, value: Any) -> bool:
    """Pulumi's ``ValidateConfigValue``: whether a value (a string as the engine holds it, or the parsed JSON of an
    object value) is of a declared type."""
    check = _SCALAR_CHECKS.get(type_)
    if check is not None:
        return bool(check(value))
    if not isinstance(value, list) or items is None:
        return False
    return all(_check_type(str(items.get("type")), items.get("items"), item) for item in value)


def _type_name(type_: str, items: dict[str, Any] | None) -> str:
    if items is not None:
        return f"array<{_type_name(str(items.get('type')), items.get('items'))}>"
    return type_


ITEM_TYPES = ("array", "boolean", "integer", "string")
"""What an array's ``items`` may be (Pulumi's project schema)."""


def _items(path: Path, key: str, items: Any, depth: int = 0) -> dict[str, Any] | None:
    if items is None:
        return None
    where = _location(path, f"config.{key}.items")
    valid = isinstance(items, dict) and not set(items) - {"type", "items"} and items.get("type") in ITEM_TYPES
    if not valid or depth > MAX_ITEMS_DEPTH:
        raise StackFileError(f"{where}: must be {{type: {'|'.join(ITEM_TYPES)}}}, an array's with its own 'items'")
    if items.get("type") == "array":
        if items.get("items") is None:
            raise StackFileError(f"{where}: an array of arrays needs 'items' for the inner type")
        _items(path, key, items["items"], depth + 1)
    return dict(items)


def _declaration(path: Path, project: str, key: Any, raw: Any) -> Declaration:
    if not isinstance(key, str) or not key:
        raise StackFileError(f"{path.name}: config: {key!r} is not a config key")
    ours = ":" not in key or key.startswith(f"{project}:")
    full = key if ":" in key else f"{project}:{key}"
    if isinstance(raw, str | int | bool | list) and not isinstance(raw, float):
        # Pulumi's shorthand: a plain value is the default of a project key, the value of any other key.
        return Declaration(key, full, None, None, (raw,), secret=False)
    if not isinstance(raw, dict):
        raise StackFileError(
            f"{_location(path, 'config.' + key)}: must be a value or a declaration "
            f"({', '.join(DECLARATION_KEYS)}); a number with a fraction goes in quotes"
        )
    for attribute in raw:
        if attribute not in DECLARATION_KEYS:
            guess = did_you_mean(str(attribute), DECLARATION_KEYS)
            raise StackFileError(
                f"{_location(path, 'config.' + key)}: '{attribute}' is not an attribute of a config declaration; "
                f"{guess}valid: {', '.join(DECLARATION_KEYS)} (an object value goes under 'value' or 'default')"
            )
    where = _location(path, "config." + key)
    raw = {attribute: value for attribute, value in raw.items() if value is not None}  # null is unset, as in Go
    type_ = raw.get("type")
    if type_ is not None and type_ not in CONFIG_TYPES:
        raise StackFileError(f"{where}.type: {type_!r} is not a config type; valid: {', '.join(CONFIG_TYPES)}")
    secret = raw.get("secret", False)
    if not isinstance(secret, bool):
        raise StackFileError(f"{where}.secret: must be true or false")
    if "default" in raw and "value" in raw:
        raise StackFileError(f"{where}: project config '{key}' cannot have both a 'default' and 'value' attribute")
    items = _items(path, key, raw.get("items"))
    if ours:
        if type_ == "array" and items is None:
            raise StackFileError(
                f"{where}: the configuration key '{key}' declares an array but does not specify the underlying "
                "type via the 'items' attribute"
            )
        if type_ is not None and "default" in raw and not _check_type(type_, items, raw["default"]):
            raise StackFileError(
                f"{where}: the default value specified for configuration key '{key}' is not of the expected type "
                f"'{_type_name(type_, items)}'"
            )
        fallback = (raw["default"],) if "default" in raw else (raw["value"],) if "value" in raw else None
    else:
        if type_ is not None:
            raise StackFileError(
                f"{where}: configuration key '{key}' is not namespaced by the project and should not define a type"
            )
        if "default" in raw:
            raise StackFileError(
                f"{where}: configuration key '{key}' is not namespaced by the project and should not define a "
                "default value; did you mean to use the 'value' attribute instead of 'default'?"
            )
        if "value" not in raw:
            raise StackFileError(
                f"{where}: configuration key '{key}' is namespaced and must provide an attribute 'value'"
            )
        fallback = (raw["value"],)
    return Declaration(key, full, type_, items, fallback, secret)


def read_project(directory: Path) -> ProjectFile:
    """``Pulumi.yaml`` in ``directory``: the project name, its ``config:`` declarations and where the stack files
    are. Raises :class:`StackFileError` naming the file and the key for anything the Pulumi CLI would refuse."""
    path = directory / PROJECT_FILE
    if not path.is_file():
        raise StackFileError(f"no {PROJECT_FILE} in {directory}; run maas in the project directory (or pass --cwd)")
    try:
        document = load_mapping(path, "project file")
    except DocumentError as error:
        raise StackFileError(str(error)) from None
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise StackFileError(f"{path} has no project name ('name')")
    config = document.get("config")
    stack_dir = document.get("stackConfigDir")
    if isinstance(config, str):  # the older spelling of stackConfigDir
        if stack_dir is not None:
            raise StackFileError(
                f"{path.name}: should not use both config and stackConfigDir to define the stack directory; "
                "use only stackConfigDir"
            )
        stack_dir, config = config, None
    if stack_dir is not None and not isinstance(stack_dir, str):
        raise StackFileError(f"{path.name}: stackConfigDir: must be a directory path")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: config: must be a mapping of config keys to values or declarations")
    declarations = tuple(_declaration(path, name, key, raw) for key, raw in config.items())
    return ProjectFile(path, name, declarations, directory / stack_dir if stack_dir else directory)


def policy_config_path(directory: Path, stack: str) -> Path:
    """The policy config file of ``stack`` in the project in ``directory``, whether or not it exists."""
    return read_project(directory).policy_config(stack)


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
    # The engine passes strings as they are, and every other value as JSON text (true, 5, [...], {...}).
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _environments(path: Path, raw: Any) -> tuple[str, ...]:
    """The names of the ESC environments ``environment:`` imports (a list, or a definition with ``imports``)."""
    if raw is None:
        return ()
    problem = (
        f"{path.name}: environment: must be a list of ESC environment names or an environment definition "
        "(imports, values)"
    )
    if isinstance(raw, list):
        imports: Any = raw
        inline = False
    elif isinstance(raw, dict):
        imports, inline = raw.get("imports") or [], "values" in raw
    else:
        raise StackFileError(problem)
    if not isinstance(imports, list):
        raise StackFileError(problem)
    names: list[str] = []
    for entry in imports:
        # An import is a name, or a one-key mapping of the name to options such as {merge: false}.
        name = (
            entry
            if isinstance(entry, str)
            else next(iter(entry))
            if isinstance(entry, dict) and len(entry) == 1
            else None
        )
        if not isinstance(name, str) or not name:
            raise StackFileError(problem)
        names.append(name)
    return (*names, *(["(inline definition)"] if inline else []))


def esc_warning(stack_file_name: str, environments: tuple[str, ...]) -> str:
    """The warning for a stack file that imports ESC environments, which offline reading cannot open."""
    plural = "s" if len(environments) > 1 else ""
    return (
        f"{stack_file_name} imports the ESC environment{plural} {', '.join(environments)}; maas plan cannot open "
        "ESC offline, so config the environment sets (pulumiConfig) is missing from this plan: pulumi preview "
        "sees it"
    )


def esc_missing(stack_file_name: str, environments: tuple[str, ...]) -> str:
    """The hint under a key that is missing from a stack file that imports ESC environments."""
    plural = "s" if len(environments) > 1 else ""
    return (
        f"{stack_file_name} imports the ESC environment{plural} {', '.join(environments)}, which maas plan cannot "
        "open offline: if it sets a missing key, also set the key in the stack file to plan offline"
    )


def read_stack_file(path: Path, project: str | ProjectFile | None = None) -> StackFile:
    """The config the engine would pass for the stack file at ``path``: its own values over the project's (when
    ``project`` is a :class:`ProjectFile`, or None and ``Pulumi.yaml`` is beside it). Keys without a namespace
    belong to the project (``project``'s name); ``secure:`` values are replaced by :data:`SECURE_PLACEHOLDER`."""
    try:
        document = load_mapping(path, "stack file")
    except DocumentError as error:
        raise StackFileError(str(error)) from None
    if project is None and (path.parent / PROJECT_FILE).exists():
        project = read_project(path.parent)
    name = project.name if isinstance(project, ProjectFile) else project
    for key in document:
        if key not in STACK_FILE_KEYS:
            guess = did_you_mean(str(key), STACK_FILE_KEYS)
            raise StackFileError(
                f"{path.name}: '{key}' is not a stack file key; {guess}valid: {', '.join(STACK_FILE_KEYS)}"
            )
    environments = _environments(path, document.get("environment"))
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: config: must be a mapping of keys to values")
    values: dict[str, str] = {}
    plain_values: dict[str, Any] = {}
    secure: set[str] = set()
    for key, value in config.items():
        if not isinstance(key, str) or not key:
            raise StackFileError(f"{path.name}: config: {key!r} is not a config key")
        full = key if ":" in key or name is None else f"{name}:{key}"
        plain, is_secure = _without_secrets(value)
        values[full] = _as_config_value(plain)
        plain_values[full] = plain
        if is_secure:
            secure.add(full)
    from_project: set[str] = set()
    if isinstance(project, ProjectFile):
        _merge_project(path, project, environments, values, plain_values, secure, from_project)
    return StackFile(values, frozenset(secure), environments, frozenset(from_project))


def _merge_project(
    path: Path,
    project: ProjectFile,
    environments: tuple[str, ...],
    values: dict[str, str],
    plain_values: dict[str, Any],
    secure: set[str],
    from_project: set[str],
) -> None:
    """Pulumi's ``mergeConfig``: the project's defaults and values under the stack's, required keys, types."""
    stack = path.name[len("Pulumi.") : -len(".yaml")]
    missing: list[str] = []
    for declaration in sorted(project.declarations, key=lambda d: d.key):
        full = declaration.full_key
        if full in values:
            continue
        if declaration.fallback is not None:
            values[full] = _as_config_value(declaration.fallback[0])
            plain_values[full] = declaration.fallback[0]
            from_project.add(full)
        elif full.startswith(f"{project.name}:"):
            missing.append(declaration.key)
    if missing:
        quoted = [f"'{key}'" for key in missing]
        listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
        why = (
            f"; {esc_missing(path.name, environments)}"
            if environments
            else f" ({project.path.name} declares {'them' if len(missing) > 1 else 'it'} without a default)"
        )
        raise StackFileError(
            f"{path.name}: Stack '{stack}' is missing configuration value{'s' if len(missing) > 1 else ''} "
            f"{listed}{why}"
        )
    for declaration in sorted(project.declarations, key=lambda d: d.key):
        if declaration.type is None:
            continue
        full = declaration.full_key
        if declaration.secret and full not in secure:
            raise StackFileError(
                f"{path.name}: Stack '{stack}' with configuration key '{declaration.key}' must be encrypted as it's "
                "secret (pulumi config set --secret)"
            )
        if full in secure or full not in plain_values:
            continue  # a secure value cannot be decrypted offline to be checked
        plain = plain_values[full]
        content = plain if isinstance(plain, list | dict) else values[full]
        if not _check_type(declaration.type, declaration.items, content):
            raise StackFileError(
                f"{path.name}: Stack '{stack}' with configuration key '{declaration.key}' must be of type "
                f"'{_type_name(declaration.type, declaration.items)}'"
            )


def read_stack_config(path: Path) -> dict[str, str]:
    """``{"azure-maas:location": "eastus2", "azure-maas:workspaces": "[...]", ...}`` from a stack file (and the
    ``Pulumi.yaml`` beside it)."""
    return read_stack_file(path).config
