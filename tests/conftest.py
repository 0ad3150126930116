from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from infra.engine.stack_files import read_stack_config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "data" / "project"
"""The tests' own project: copies of the shipped ``Pulumi.yaml`` and ``Pulumi.dev.yaml``. Every test that depends on
the dev stack's content reads it here; the top-level stack files are the user's (tests/test_shipped.py)."""
DEV_STACK = PROJECT / "Pulumi.dev.yaml"


TERMINAL_VARIABLES = ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TERM")
"""What rich reads of the terminal it runs in: tests' output never depends on it (a captured stdout is not a
terminal, so results are 160 columns wide, plain, whatever the machine or CI sets)."""


@pytest.fixture(autouse=True)
def _no_ambient_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests see only the AZURE_MAAS_* variables they set themselves, and no terminal settings. PULUMI_HOME is a
    directory that does not exist, so no test reads the stack the user selected (``pulumi stack select``, under
    ~/.pulumi/workspaces) for a project here; a test that selects one sets its own PULUMI_HOME."""
    for name in list(os.environ):
        if name.startswith(("AZURE_MAAS_", "PULUMI_CONFIG")) or name in TERMINAL_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path_factory.getbasetemp() / "no-pulumi-home"))


@pytest.fixture
def dev_config() -> dict[str, str]:
    return read_stack_config(DEV_STACK)


def stack(**keys: Any) -> dict[str, str]:
    """A stack config map from camelCase keys of the azure-maas namespace (structured values as JSON)."""
    return {f"azure-maas:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in keys.items()}


def minimal(**overrides: Any) -> dict[str, str]:
    """A valid one-workspace stack; keyword arguments replace or add keys."""
    keys: dict[str, Any] = {
        "location": "eastus2",
        "workspaces": [
            {"name": "ws-main", "kind": "workspace", "deployments": [{"name": "small", "model": "mistral-small-2503"}]}
        ],
    }
    keys.update(overrides)
    return stack(**keys)


def cli_options(*command: str) -> set[str]:
    """The long options of ``maas <command...>`` (``--help`` aside), from the parser itself."""
    import argparse

    from infra.cli import app

    parser: argparse.ArgumentParser = app.parser()
    for name in command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}
