"""``maas`` starts fast: building the parser, ``maas <command> --help`` and ``maas models`` import none of the
heavy libraries the other commands run on (the Pulumi SDK and provider, the policy pack's gRPC protocol, the Azure
SDKs, httpx). Each case runs ``python -m infra.cli`` in a fresh interpreter, so nothing this test process has
imported hides an import; no timing is asserted (benchmarks/ measures the time). And the set-up compiles the
bytecode of everything ``maas`` imports, in the docs and in .ci/run alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra import catalog
from infra.cli.commands import COMMANDS, GROUPS
from tests.conftest import ROOT
from tests.docs import blocks, page, section

HEAVY = (
    "pulumi",
    "pulumi_azure_native",
    "pulumi_policy",
    "grpc",
    "google.protobuf",
    "azure.identity",
    "azure.mgmt",
    "httpx",
)
"""What a command imports only when it runs (``execute``), never to parse its command line."""

RUN = """
import atexit, json, runpy, sys
report, sys.argv = sys.argv[1], ["maas", *sys.argv[2:]]

def write_report():
    with open(report, "w", encoding="utf-8") as file:
        json.dump(sorted(sys.modules), file)

atexit.register(write_report)
runpy.run_module("infra.cli", run_name="__main__", alter_sys=True)
"""
"""``python -m infra.cli ARGS``; every module imported is written to the file ``argv[1]`` when the process exits
(``atexit``: the ``maas`` process ends with ``os._exit`` after running the ``atexit`` callbacks)."""


def started(tmp_path: Path, *args: str, prelude: str = "") -> tuple[int, str, list[str]]:
    """The exit code, stdout and imported modules of ``maas ARGS`` in a fresh interpreter."""
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", prelude + RUN, str(report), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.exists(), done.stderr
    return done.returncode, done.stdout, json.loads(report.read_text(encoding="utf-8"))


def heavy(modules: list[str]) -> list[str]:
    """The packages of :data:`HEAVY` that ``modules`` holds (the package, or a module in it)."""
    return [pkg for pkg in HEAVY if any(name == pkg or name.startswith(f"{pkg}.") for name in modules)]


HELP = [
    ("--help",),
    *((*group.split(), "--help") for group in GROUPS),
    *((*command.name.split(), "--help") for command in COMMANDS),
]
MODELS = [("models",), ("models", "--format", "json"), ("models", "--format", "markdown"), ("models", "--all")]
"""``maas models`` in every format (judged on the catalog's own day, so that the listing does not change)."""


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_imports_nothing_heavy(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, stdout, modules = started(tmp_path, *args)
    assert (code, stdout.startswith("usage: maas")) == (0, True)
    assert heavy(modules) == []


@pytest.mark.parametrize("args", MODELS, ids=" ".join)
def test_models_imports_nothing_heavy(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, stdout, modules = started(tmp_path, *args, "--today", catalog.load().as_of.isoformat())
    assert (code, "mistral-small-2503" in stdout) == (0, True)
    assert heavy(modules) == []
    assert "infra.catalog" in modules


def test_the_check_sees_a_heavy_import(tmp_path: Path) -> None:
    """The same run with ``import pulumi`` first: the check names it, so it can fail."""
    _, _, modules = started(tmp_path, "--help", prelude="import pulumi\n")
    assert "pulumi" in heavy(modules)


COMPILE_CLONE = "python -m compileall -q infra policies/azure_maas_policy"
"""The clone's own packages (the editable install imports them from the clone, where ``uv sync --compile-bytecode``
does not reach)."""


def test_the_set_up_compiles_the_bytecode_and_ci_runs_the_same() -> None:
    laptop = section(page("getting-started.md"), "## Deploy from a laptop")
    [setup] = [block for block in blocks(laptop, "bash") if "uv sync" in block]
    assert setup.splitlines() == ["pip install uv", "uv sync --compile-bytecode", f"uv run {COMPILE_CLONE}"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci if line.startswith(("uv sync", f"uv run --locked {COMPILE_CLONE}"))] == [
        "uv sync --locked --quiet --compile-bytecode",
        f"uv run --locked {COMPILE_CLONE}",
    ]
