"""The user's files: every top-level ``Pulumi.<stack>.yaml`` and the top-level ``Pulumi.yaml``.

They are the user's to edit (real principal IDs, an existing resource group, other names, more stacks), so the
tests here assert only what holds for any valid edit: each stack file validates, runs under mocks, plans with no
mandatory policy violation and deploys living models; the project file is a Pulumi Python project. Tests that
depend on the dev stack's content read the tests' own copy (tests/data/project); no other test module reads the
top-level stack files (checked below), and a copy of the repository with the edits the docs' laptop steps ask
for passes this module (the proof, below).
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pulumi.runtime
import pytest
import yaml

from infra.cli import app as cli
from infra.engine.documents import load_mapping
from infra.engine.stack_files import read_project, read_stack_config
from infra.settings import ConfigError, load_settings
from tests.conftest import DEV_STACK, ROOT
from tests.harness import SECRET_SIG, SIG_KEY, TODAY, execute

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
STACKS = [p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACK_FILES]
ENDPOINT = "azure-native:machinelearningservices:ServerlessEndpoint"


def stack_file(stack: str) -> Path:
    return ROOT / f"Pulumi.{stack}.yaml"


# --- every stack file, whatever it holds ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_stack_file_validates(stack: str) -> None:
    pulumi.runtime.set_all_config(read_stack_config(stack_file(stack)))
    try:
        load_settings(TODAY)
    except ConfigError as error:
        pytest.fail(f"Pulumi.{stack}.yaml: {error}")
    finally:
        pulumi.runtime.set_all_config({})


@pytest.mark.parametrize("stack", STACKS)
def test_stack_deploys_under_mocks(stack: str) -> None:
    """The program runs the stack as `pulumi up` would (Azure answering through the mocks); the outputs describe
    every endpoint it creates, and keys appear only in the secret output."""
    run, error = execute(read_stack_config(stack_file(stack)), stack=stack)

    assert error is None, f"Pulumi.{stack}.yaml: {error}"
    assert set(run.outputs["endpoints"]) == {r.inputs["name"] for r in run.of_type(ENDPOINT)}
    assert run.outputs["endpointKeys"][SIG_KEY] == SECRET_SIG
    plain = {k: v for k, v in run.outputs.items() if k != "endpointKeys"}
    assert not any(f"pk-{name}" in repr(plain) for name in run.outputs["endpoints"])


@pytest.mark.parametrize("stack", STACKS)
def test_stack_plans_with_no_mandatory_violation(capsys: pytest.CaptureFixture[str], stack: str) -> None:
    """`maas plan --stack <stack>` in the repository, as the docs run it; advisory findings are allowed."""
    code = cli.main(["plan", "--stack", stack, "--cwd", str(ROOT), "--format", "json", "--today", TODAY.isoformat()])
    out, err = capsys.readouterr()

    assert (code, err) == (0, ""), err
    document = json.loads(out)
    assert document["stack"] == stack
    assert [d for d in document["diagnostics"] if d["enforcementLevel"] == "mandatory"] == []
    assert document["summary"]["mandatory"] == 0


def test_every_stack_deploys_living_models(capsys: pytest.CaptureFixture[str]) -> None:
    """`maas catalog check` over the repository's stacks, on the tests' fixed day."""
    code = cli.main(["catalog", "check", "--cwd", str(ROOT), "--format", "json", "--today", TODAY.isoformat()])
    out, err = capsys.readouterr()

    if not STACKS:  # nothing to judge: the check says so
        assert (code, err) == (2, f"maas catalog check: no Pulumi.<stack>.yaml in {ROOT}\n")
        return
    assert (code, err) == (0, ""), out
    report = json.loads(out)
    assert report["ok"] is True
    assert {d["stack"] for d in report["deployments"]} <= set(STACKS)


def test_list_stacks_finds_every_stack_file() -> None:
    """The workflows' stack discovery (scripts/list-stacks.sh) lists exactly the repository's stack files."""
    result = subprocess.run([str(ROOT / "scripts" / "list-stacks.sh")], capture_output=True, text=True, check=False)

    if not STACKS:
        assert (result.returncode, result.stdout) == (1, "")
        return
    assert (result.returncode, result.stderr) == (0, "")
    assert sorted(json.loads(result.stdout.removeprefix("stacks="))) == sorted(STACKS)


def test_the_project_file_is_a_pulumi_python_project() -> None:
    name = read_project(ROOT).name
    document = load_mapping(ROOT / "Pulumi.yaml", "project file")
    runtime = document.get("runtime")

    assert re.fullmatch(r"[A-Za-z0-9_.-]+", name), f"Pulumi.yaml: {name!r} is not a Pulumi project name"
    assert (runtime.get("name") if isinstance(runtime, dict) else runtime) == "python"
    main = ROOT / str(document.get("main", "."))
    assert (main / "__main__.py").is_file(), f"Pulumi.yaml: main {main} has no __main__.py"


# --- no other test reads the user's files ---------------------------------------------------------------------

USER_FILE = re.compile(r"Pulumi(\.[^/]*)?\.ya?ml")


def _is_root(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "ROOT"


def _is_root_text(node: ast.AST) -> bool:
    """``ROOT`` or ``str(ROOT)``."""
    return _is_root(node) or (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "str"
        and len(node.args) == 1
        and _is_root(node.args[0])
    )


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_cwd_root(node: ast.JoinedStr) -> bool:
    """``f"--cwd={ROOT}"``."""
    parts = node.values
    return (
        len(parts) >= 2
        and (_text(parts[0]) or "").endswith("--cwd=")
        and isinstance(parts[1], ast.FormattedValue)
        and _is_root(parts[1].value)
    )


def user_file_reads(source: str) -> list[str]:
    """Where ``source`` reaches the top-level stack or project files: ``ROOT / "Pulumi.dev.yaml"``,
    ``ROOT.glob("Pulumi.*.yaml")``, or ``maas --cwd ROOT`` (``"--cwd", str(ROOT)`` or ``f"--cwd={ROOT}"``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _is_root(node.left):
            name = _text(node.right)
            if name is not None and USER_FILE.fullmatch(name):
                found.append(f"line {line}: ROOT / {name!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_root(node.func.value):
            pattern = next((t for t in map(_text, node.args) if t is not None), "")
            if "Pulumi" in pattern:
                found.append(f"line {line}: ROOT.{node.func.attr}({pattern!r})")
        elif isinstance(node, ast.JoinedStr) and _is_cwd_root(node):
            found.append(f"line {line}: --cwd={{ROOT}}")
        if isinstance(node, (ast.List, ast.Tuple, ast.Call)):
            items = node.args if isinstance(node, ast.Call) else node.elts
            for option, value in itertools.pairwise(items):
                if _text(option) == "--cwd" and _is_root_text(value):
                    found.append(f"line {line}: --cwd ROOT")
    return sorted(found, key=lambda f: int(f.split()[1].rstrip(":")))


def test_the_check_finds_each_way_of_reading_the_user_files() -> None:
    source = """
config = read_stack_config(ROOT / "Pulumi.dev.yaml")
project = (ROOT / "Pulumi.yaml").read_text()
files = sorted(ROOT.glob("Pulumi.*.yaml"))
code = cli.main(["plan", "--cwd", str(ROOT)])
code = main("plan", "--cwd", ROOT)
args = ("--cwd", str(ROOT))
flag = f"--cwd={ROOT}"
"""
    assert user_file_reads(source) == [
        "line 2: ROOT / 'Pulumi.dev.yaml'",
        "line 3: ROOT / 'Pulumi.yaml'",
        "line 4: ROOT.glob('Pulumi.*.yaml')",
        "line 5: --cwd ROOT",
        "line 6: --cwd ROOT",
        "line 7: --cwd ROOT",
        "line 8: --cwd={ROOT}",
    ]
    fine = """
config = read_stack_config(PROJECT / "Pulumi.dev.yaml")
(tmp_path / "Pulumi.dev.yaml").write_text("config: {}")
data = ROOT / "tests" / "data" / "stack-output-dev.json"
code = cli.main(["plan", "--cwd", str(PROJECT)])
subprocess.run([str(ROOT / "scripts" / "list-stacks.sh")], cwd=ROOT)
"""
    assert user_file_reads(fine) == []


def test_no_other_test_module_reads_the_user_files() -> None:
    """Only this module may read the top-level Pulumi.*.yaml files or run `maas` on the repository root; every
    other test reads tests/data/project (conftest.PROJECT, conftest.DEV_STACK)."""
    here = Path(__file__).resolve()
    found = {
        str(path.relative_to(ROOT)): reads
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.resolve() != here and (reads := user_file_reads(path.read_text(encoding="utf-8")))
    }

    assert found == {}


# --- the proof: the docs' edits keep this module green --------------------------------------------------------

IN_A_COPY = "MAAS_TESTS_IN_A_COPY"
"""Set in the copy's environment: the copy runs this module, and this test must not run it again from there."""


def repository_files() -> list[str]:
    """The repository's files as git sees them: tracked, plus untracked ones that are not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return sorted({name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()})


def _key(config: dict[str, Any], name: str) -> str:
    """The key ``config`` uses for the azure-maas key ``name`` (namespaced, or bare as the project's own)."""
    return name if name in config else f"azure-maas:{name}"


def edited_as_the_docs_say(text: str) -> dict[str, Any]:
    """The laptop steps' edits (docs/getting-started.md, step 6) of a stack file: real principal IDs (fresh
    GUIDs) and an existing resource group (``resourceGroup.create: false``)."""
    document: dict[str, Any] = yaml.safe_load(text)
    config = document["config"]
    access = config.get(_key(config, "access")) or []
    for entry in access:
        entry["principalId"] = str(uuid.uuid4())
    group = config.get(_key(config, "resourceGroup")) or {}
    config[_key(config, "resourceGroup")] = {**group, "create": False}
    return document


def a_prod_stack() -> dict[str, Any]:
    """Another stack (docs/getting-started.md, "Add another stack"): the dev stack's shape with names and tags
    of its own."""
    return {
        "config": {
            "azure-native:location": "eastus2",
            "azure-maas:location": "eastus2",
            "azure-maas:resourceGroup": {"name": "rg-maas-prod", "create": True},
            "azure-maas:hub": {"name": "hub-maas-prod"},
            "azure-maas:workspaces": [
                {
                    "name": "proj-chat-prod",
                    "kind": "project",
                    "deployments": [
                        {"name": "prod-chat-mistral-medium", "model": "mistral-medium-2505"},
                        {"name": "prod-chat-ministral", "model": "ministral-3b", "authMode": "KeyAndAAD"},
                    ],
                },
            ],
            "azure-maas:access": [
                {"principalId": str(uuid.uuid4()), "principalType": "Group", "role": "developer"},
                {"principalId": str(uuid.uuid4()), "principalType": "ServicePrincipal", "role": "deployer"},
                {
                    "principalId": str(uuid.uuid4()),
                    "principalType": "User",
                    "role": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                    "scope": "proj-chat-prod",
                },
            ],
            "azure-maas:tags": {"environment": "prod", "cost-center": "ai-platform"},
        }
    }


def junit_results(path: Path) -> dict[str, str]:
    """Test name (``test_x[dev]``) to outcome (passed, failed, error, skipped) from a JUnit XML report."""
    outcomes = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        outcome = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
        outcomes[str(case.get("name"))] = {"failure": "failed"}.get(outcome, outcome)
    return outcomes


PER_STACK = (
    "test_stack_file_validates",
    "test_stack_deploys_under_mocks",
    "test_stack_plans_with_no_mandatory_violation",
)


def test_the_docs_edits_keep_this_module_green(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A copy of the repository where Pulumi.dev.yaml has fresh principal IDs and `resourceGroup.create: false`,
    and a new stack file, passes this module, which then plans one stack more."""
    if os.environ.get(IN_A_COPY):
        pytest.skip("running inside the copy this test made")
    copy = tmp_path / "repo"
    for name in repository_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    dev = copy / "Pulumi.dev.yaml"
    edited = edited_as_the_docs_say((dev if dev.exists() else DEV_STACK).read_text(encoding="utf-8"))
    dev.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")
    extra = next(s for s in ("prod", *(f"prod-{i}" for i in range(2, 100))) if not (copy / f"Pulumi.{s}.yaml").exists())
    (copy / f"Pulumi.{extra}.yaml").write_text(yaml.safe_dump(a_prod_stack(), sort_keys=False), encoding="utf-8")
    report = tmp_path / "report.xml"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "PYTHONPATH"},
        IN_A_COPY: "1",
    }

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "tests/test_shipped.py",
        ],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    there = junit_results(report)
    here = {item.name for item in request.session.items if item.path == Path(__file__)}
    assert {name for name, outcome in there.items() if outcome != "passed"} == {request.node.name}
    assert {f"{test}[{extra}]" for test in PER_STACK} <= set(there)
    assert here <= set(there)
    assert len(there) > len(here)
