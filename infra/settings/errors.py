"""Config problems that name their key: :class:`Issue` (a key path and what is wrong and valid) and
:class:`ConfigError`, which lists every issue of a stack config at once."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from azure_maas_policy.facts import shown
from infra.errors import UserError
from infra.settings.model import Settings, nested_model
from infra.settings.sources import NAMESPACE

Path = tuple[str | int, ...]

MISSING = "required key is missing"
"""What an issue says about a key that must be set and is not."""


@dataclass(frozen=True, order=True)
class Issue:
    """One config problem: the key path it is at and what is wrong and valid."""

    path: Path
    message: str
    missing: bool = field(default=False, compare=False)
    """The problem is a key that is not set (an ESC environment the offline preview cannot open may set it)."""

    def render(self, env_paths: Mapping[Path, str] | None = None) -> str:
        if not self.path:  # a problem outside the config file, e.g. an environment variable
            return self.message
        variable = (env_paths or {}).get(self.path)
        origin = f" (set by {variable})" if variable else ""
        return f"{key_path(self.path)}{origin}: {self.message}"


def key_path(path: Path) -> str:
    """``("workspaces", 1, "deployments", 0, "name")`` -> ``azure-maas:workspaces[1].deployments[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"{NAMESPACE}:{text}" if text else NAMESPACE


class ConfigError(UserError, pulumi.RunError):
    """The stack config is invalid; ``issues`` lists every problem, each with its key path.

    A :class:`pulumi.RunError`, so a program that lets it escape ends with the message and no traceback."""

    def __init__(self, issues: list[Issue], env_paths: Mapping[Path, str] | None = None) -> None:
        self.issues = sorted(issues, key=_issue_order)
        self.lines = [issue.render(env_paths) for issue in self.issues]
        count = len(self.lines)
        head = f"invalid stack config ({count} problem{'s' if count != 1 else ''}); nothing was created"
        super().__init__("\n".join([head, *(f"  {line}" for line in self.lines)]))


def _issue_order(issue: Issue) -> tuple[tuple[tuple[int, str], ...], str]:
    return tuple((0, f"{p:09d}") if isinstance(p, int) else (1, p) for p in issue.path), issue.message


def _model_at(path: Path) -> type[BaseModel] | None:
    """The config model that owns the keys at ``path`` (for listing the valid keys)."""
    model: type[BaseModel] = Settings
    for part in path:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return None
        inner = nested_model(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _valid_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _issue_from_pydantic(error: Mapping[str, Any]) -> Issue | None:
    loc: Path = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        valid = _valid_keys(owner) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean {close[0]!r}? Valid" if close else "valid"
        return Issue(loc, f"unknown key; {hint} keys here: {', '.join(valid)}")
    if kind == "missing":
        return Issue(loc, MISSING, missing=True)
    if kind in ("invalid_name", "invalid_model_id", "invalid_role", "invalid_choice"):
        return Issue(loc, str(error["msg"]))
    if kind == "too_short":
        # pydantic also reports a list whose items all failed as too short: those items say why.
        return Issue(loc, "must list at least one entry") if not value else None
    return Issue(loc, f"got {shown(value)}: {error['msg']}")


def validation_issues(error: ValidationError) -> list[Issue]:
    """The shape problems pydantic found in the config, each at its key path with the message of its rule."""
    return [issue for item in error.errors(include_url=False) if (issue := _issue_from_pydantic(item))]
