"""The house rules of the code layout: who may import whom, one table of commands, one exit-code vocabulary."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

from infra.cli import commands
from infra.cli.commands import COMMANDS
from infra.errors import ExitCode
from tests.conftest import ROOT

INFRA = ROOT / "infra"
ZONES = {
    "program": "the Pulumi program and its domain",
    "engine": "the engine stand-ins (infra.engine)",
    "cli": "the maas CLI (infra.cli)",
}
MAY_IMPORT = {"program": {"program"}, "engine": {"program", "engine"}, "cli": {"program", "engine", "cli"}}
"""The program never imports the stand-ins or the CLI; the stand-ins never import the CLI."""


def zone_of_module(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "infra":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ("engine", "cli") else "program"


def zone_of_file(path: Path) -> str:
    relative = path.relative_to(INFRA).parts
    return relative[0] if relative[0] in ("engine", "cli") else "program"


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at any depth (function-level imports included), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


SOURCES = sorted(INFRA.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_imports_flow_one_way(path: Path) -> None:
    zone = zone_of_file(path)
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name} ({ZONES[target]})"
        for line, name in imported(path)
        if (target := zone_of_module(name)) is not None and target not in MAY_IMPORT[zone]
    ]
    assert wrong == []


def test_the_layering_check_sees_a_wrong_import(tmp_path: Path) -> None:
    wrong = tmp_path / "x.py"
    wrong.write_text("def f() -> None:\n    from infra.cli.commands import smoke\n", encoding="utf-8")
    assert [zone_of_module(name) for _, name in imported(wrong)] == ["cli", "cli"]


def test_the_policy_pack_imports_nothing_of_infra() -> None:
    pack = ROOT / "policies"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted(pack.rglob("*.py"))
        for line, name in imported(path)
        if name.split(".")[0] == "infra"
    ]
    assert wrong == []


def test_every_command_module_is_in_the_one_table() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    in_table = sorted(c.execute.__module__.rsplit(".", 1)[1] for c in COMMANDS)
    assert modules == in_table
    assert [c.name for c in COMMANDS] == ["plan", "models", "catalog sync", "catalog check", "smoke"]


def test_no_command_returns_a_bare_exit_code() -> None:
    """Exit codes are ExitCode members: no ``return 2`` or ``sys.exit(1)`` in the CLI."""
    bare = []
    for path in sorted((INFRA / "cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Return) else None
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "exit" and node.args:
                value = node.args[0]
            if isinstance(value, ast.Constant) and isinstance(value.value, int) and not isinstance(value.value, bool):
                bare.append(f"{path.relative_to(ROOT)}:{value.lineno}")
    assert bare == []


def test_exit_codes_are_the_documented_numbers() -> None:
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "FAILED": 1,
        "USAGE": 2,
        "INTERNAL": 3,
        "STOPPED": 128,
        "OUTPUT_CLOSED": 141,
    }
