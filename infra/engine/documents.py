"""Reading the files a user hands azure-maas (stack files, ``Pulumi.yaml``, policy config, stack outputs) so that
no file, however broken or hostile, becomes anything but a one-line error naming it.

Bounded on every axis: the file's size, its nesting, and what YAML aliases expand to (a few lines of aliases
can stand for billions of values once a program walks them: the "billion laughs" file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from infra.errors import UserError

MAX_BYTES = 4 * 1024 * 1024
"""A stack file or a config file is a few KiB; anything past this is not one."""
MAX_DEPTH = 64
"""Nesting deeper than this is no config azure-maas reads."""
MAX_VALUES = 200_000
"""Values a document may hold once its YAML aliases are expanded."""


class DocumentError(UserError):
    """The file cannot be read as the document it should be; the message names it and says why, on one line."""


def first_line(error: BaseException) -> str:
    """An error's first non-blank line (its class name when it has none): causes are shown on one line."""
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


def _measure(value: Any, path: Path) -> None:
    """Walk ``value`` as a program would (aliases expanded), within :data:`MAX_DEPTH` and :data:`MAX_VALUES`."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise DocumentError(
                f"{path}: holds more than {MAX_VALUES:,} values once its YAML aliases are expanded; "
                "write the values out instead of aliasing them"
            )
        if isinstance(node, Mapping):
            children: list[Any] = [*node.keys(), *node.values()]
        elif isinstance(node, list | tuple):
            children = list(node)
        else:
            continue
        if depth >= MAX_DEPTH:
            raise DocumentError(f"{path}: nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def read_text(path: Path, what: str = "file") -> str:
    """The file's text: at most :data:`MAX_BYTES`, UTF-8."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise DocumentError(f"{path}: cannot read the {what}: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise DocumentError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; not a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); save it as UTF-8"
        ) from None


def load(path: Path, what: str = "file", *, json_only: bool = False) -> Any:
    """The YAML (or, with ``json_only``, JSON) document in ``path``, bounded as the module says; ``None`` for an
    empty file."""
    text = read_text(path, what)
    try:
        document = json.loads(text) if json_only else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        kind = "JSON" if json_only else "YAML"
        raise DocumentError(f"{path}: not valid {kind}: {first_line(error)}") from None
    except RecursionError:
        raise DocumentError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    _measure(document, path)
    return document


def load_mapping(path: Path, what: str = "file", *, json_only: bool = False) -> dict[Any, Any]:
    """Like :func:`load`, for documents whose top level is a mapping (an empty file is an empty mapping)."""
    document = load(path, what, json_only=json_only)
    if document is None:
        return {}
    if not isinstance(document, dict):
        kind = type(document).__name__ if not isinstance(document, list) else "list"
        raise DocumentError(f"{path}: the top level must be a mapping of keys to values, not a {kind}")
    return document
