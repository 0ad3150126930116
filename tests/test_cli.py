"""``maas plan`` end to end on the tests' own project (tests/data/project): the three formats, the four exit
codes, secure config, and the console script itself. (Every shipped stack file plans clean: tests/test_shipped.py.)"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import hashlib
import importlib.metadata
import io
import json
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from infra.cli import app as cli
from infra.cli import output
from infra.cli.commands import COMMANDS
from infra.cli.commands import plan as plan_command
from infra.cli.render import plan as render
from infra.engine import pack_process
from infra.engine.analyzer import Diagnostic, EnforcementLevel, Report, Severity
from infra.engine.capture import Capture
from infra.engine.preview import DEPLOYMENT_TYPE, ENDPOINT_TYPE, Identity, PreviewResult, run_preview
from infra.engine.resource import Resource
from infra.engine.stack_files import esc_warning
from tests import harness
from tests.conftest import DEV_STACK, PROJECT
from tests.docs import blocks, page, readme, section
from tests.harness import run_program

TODAY = harness.TODAY.isoformat()
CIPHERTEXT = "v1:Zm9yZWlnbi1jaXBoZXJ0ZXh0LW5ldmVyLXByaW50ZWQ="


def plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["plan", "--today", TODAY, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def project(tmp_path: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    """A project directory with the fixture project's Pulumi.yaml and the given stack files."""
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for name, config in stacks.items():
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return tmp_path


def dev_with(**changes: Any) -> dict[str, Any]:
    config = yaml.safe_load(DEV_STACK.read_text(encoding="utf-8"))["config"]
    config.update(changes)
    return dict(config)


def test_json_document(capsys: pytest.CaptureFixture[str], dev_config: dict[str, str]) -> None:
    code, out, _ = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT), "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert list(document) == [
        "schemaVersion",
        "project",
        "stack",
        "identity",
        "secureConfigKeys",
        "resources",
        "modelSlots",
        "foundryDeployments",
        "policyPack",
        "policyConfig",
        "warnings",
        "diagnostics",
        "summary",
    ]
    assert (document["schemaVersion"], document["project"], document["stack"]) == (1, "azure-maas", "dev")
    assert document["identity"] == {
        "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "tenantId": "00000000-0000-0000-0000-000000000000",
        "source": "placeholder",
    }
    assert document["summary"] == {
        "resources": 27,
        "endpoints": 3,
        "workspaces": 2,
        "foundryDeployments": 0,
        "mandatory": 0,
        "advisory": 0,
        "exitCode": 0,
    }
    assert document["policyPack"] == {"name": "azure-maas", "version": "0.1.0"}
    assert (document["policyConfig"], document["warnings"]) == (None, [])
    assert document["modelSlots"] == [
        {
            "workspace": "proj-chat",
            "endpoint": "chat-ministral",
            "modelId": "azureml://registries/azureml-mistral/models/Ministral-3B",
            "authMode": "KeyAndAAD",
            "contentSafety": "Enabled",
            "marketplaceSubscription": True,
        },
        {
            "workspace": "proj-chat",
            "endpoint": "chat-mistral-medium",
            "modelId": "azureml://registries/azureml-mistral/models/mistral-medium-2505",
            "authMode": "Key",
            "contentSafety": "Enabled",
            "marketplaceSubscription": True,
        },
        {
            "workspace": "proj-eval",
            "endpoint": "eval-phi4",
            "modelId": "azureml://registries/azureml/models/Phi-4",
            "authMode": "AAD",
            "contentSafety": "Enabled",
            "marketplaceSubscription": False,
        },
    ]
    # The same resources the program registers under the test harness, with what the engine sees of them.
    program_urns = sorted(r.urn for r in run_program(dev_config, preview=True).resources)
    assert sorted(r["urn"] for r in document["resources"]) == program_urns
    endpoint = next(r for r in document["resources"] if r["name"] == "chat-mistral-medium-endpoint")
    assert endpoint["operation"] == "create"
    assert endpoint["options"] == {"deleteBeforeReplace": True, "protect": False}
    assert endpoint["inputs"]["workspaceName"] == "proj-chat"  # the config's name, known at preview
    assert endpoint["propertyDependencies"]["workspaceName"] == [
        "urn:pulumi:dev::azure-maas::azure-maas:index:Workspace$azure-native:machinelearningservices:Workspace::proj-chat-workspace"
    ]
    assert sorted(endpoint["dependencies"]) == [
        "urn:pulumi:dev::azure-maas::azure-maas:index:ModelDeployment$"
        "azure-native:machinelearningservices:MarketplaceSubscription::chat-mistral-medium-subscription",
        "urn:pulumi:dev::azure-maas::azure-maas:index:Workspace$azure-native:machinelearningservices:Workspace::proj-chat-workspace",
        "urn:pulumi:dev::azure-maas::pulumi:pulumi:Stack$azure-native:resources:ResourceGroup::rg-maas-dev",
    ]


def test_subscription_from_the_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARM_SUBSCRIPTION_ID", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("ARM_TENANT_ID", "99999999-8888-7777-6666-555555555555")
    code, out, _ = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT), "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert document["identity"]["source"] == "environment"
    scopes = {r["inputs"].get("scope") for r in document["resources"] if r["type"].endswith(":RoleDefinition")}
    assert scopes == {"/subscriptions/11111111-2222-3333-4444-555555555555"}


VIOLATING = {
    "azure-maas:location": "eastus2",
    "azure-maas:workspaces": [
        {
            "name": "ws-unsafe",
            "kind": "workspace",
            "deployments": [{"name": "unsafe", "model": "ministral-3b", "contentSafety": False}],
        }
    ],
    "azure-maas:access": [
        {
            "principalId": "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c",
            "principalType": "User",
            "role": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        }
    ],
}
OWNER_ASSIGNMENT = "access-3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c-role-8e3af657-a8ff-443c-a75c-2fe8c4bcb635-resourceGroup"


def test_violations_exit_1_and_are_listed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = project(tmp_path, {"bad": VIOLATING})
    code, out, err = plan(capsys, "--stack", "bad", "--cwd", str(directory), "--format", "json")
    assert (code, err) == (1, "")
    found = [
        (d["enforcementLevel"], d["severity"], d["policyName"], d["urn"].rsplit("::", 1)[-1])
        for d in json.loads(out)["diagnostics"]
    ]
    assert found == [
        ("mandatory", "critical", "rbac-least-privilege", OWNER_ASSIGNMENT),
        ("mandatory", "high", "content-safety-enabled", "unsafe-endpoint"),
        ("advisory", "low", "required-tags", "unsafe-endpoint"),
        ("advisory", "low", "required-tags", "ws-unsafe-workspace"),
    ]
    assert json.loads(out)["summary"] == {
        "resources": 10,
        "endpoints": 1,
        "workspaces": 1,
        "foundryDeployments": 0,
        "mandatory": 2,
        "advisory": 2,
        "exitCode": 1,
    }

    code, out, _ = plan(capsys, "--stack", "bad", "--cwd", str(directory))
    assert code == 1
    assert "rbac-least-privilege" in out
    assert "content-safety-enabled" in out
    assert out.strip().splitlines()[-1].startswith("Plan for bad: 10 resources to create, 1 endpoint in 1 workspace;")
    flat = " ".join(out.split())
    assert "2 mandatory, 2 advisory; BLOCKED by 2 mandatory policy violations." in flat

    code, out, _ = plan(capsys, "--stack", "bad", "--cwd", str(directory), "--format", "markdown")
    assert code == 1
    assert out.splitlines()[:2] == [
        "<!-- maas-plan stack=bad -->",
        "### `maas plan` for stack `bad`: ❌ blocked by mandatory policy violations",
    ]
    assert "| Mandatory violations | 2 |" in out
    assert (
        "| mandatory | high | `content-safety-enabled` | `unsafe-endpoint` | serverless endpoint 'unsafe' has content "
        "safety 'Disabled'; only 'Enabled' is allowed." in out
    )


def test_policy_config_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = project(tmp_path, {"bad": VIOLATING})
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"all": "advisory"}))
    code, out, _ = plan(
        capsys, "--stack", "bad", "--cwd", str(directory), "--format", "json", "--policy-pack-config", str(config)
    )
    assert code == 0
    assert {d["enforcementLevel"] for d in json.loads(out)["diagnostics"]} == {"advisory"}
    config.write_text(json.dumps({"content-safety": "advisory"}))
    code, out, err = plan(capsys, "--stack", "bad", "--cwd", str(directory), "--policy-pack-config", str(config))
    assert (code, out) == (2, "")
    assert err.startswith(
        f"maas plan: invalid policy pack config {config}: content-safety: no such policy in the pack;"
    )


def test_invalid_config_exits_2_naming_the_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = project(tmp_path, {"bad": dev_with(**{"azure-maas:location": "westeurope"})})
    code, out, err = plan(capsys, "--stack", "bad", "--cwd", str(directory))
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == "maas plan: invalid stack config (1 problem); nothing was created"
    assert err.splitlines()[1] == (
        "  azure-maas:location: 'westeurope' is not in allowedRegions; valid: eastus, eastus2, northcentralus, "
        "southcentralus, westus, westus3, swedencentral"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "prod"], "maas plan: Pulumi.prod.yaml not found; stacks here: dev, foundry\n"),
        (
            ["--stack", "dev", "--cwd", "/"],
            "maas plan: no Pulumi.yaml in / or any parent directory; run maas in the project (or pass --cwd)\n",
        ),
    ],
    ids=["unknown stack", "not a project"],
)
def test_missing_files_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = plan(capsys, "--cwd", str(PROJECT), *args)
    assert (code, out, err) == (2, "", message)


def test_internal_failure_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "pack"
    broken.mkdir()
    (broken / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (broken / "__main__.py").write_text("raise SystemExit('pack is broken')\n")
    # maas plan starts the pack before it runs the preview (infra.engine.pack_process), and hands it over.
    monkeypatch.setattr(pack_process, "DEFAULT_PACK_DIR", broken)
    monkeypatch.setattr(plan_command, "run_preview", lambda *a, **k: run_preview(*a, **k, pack_dir=broken))
    code, out, err = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT))
    assert (code, out, err) == (
        3,
        "",
        "maas plan: internal error: the policy pack exited before serving: pack is broken\n",
    )


def test_secure_values_are_never_printed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = project(tmp_path, {"sec": dev_with(**{"azure-native:clientSecret": {"secure": CIPHERTEXT}})})
    outputs = []
    for fmt in ("text", "json", "markdown"):
        code, out, err = plan(capsys, "--stack", "sec", "--cwd", str(directory), "--format", fmt)
        assert code == 0
        outputs.append(out + err)
    assert all(CIPHERTEXT not in text and "Zm9yZWlnbi" not in text for text in outputs)
    assert json.loads(outputs[1].strip())["secureConfigKeys"] == ["azure-native:clientSecret"]
    assert "Secure config (`azure-native:clientSecret`) is not decrypted offline" in outputs[2]

    (tmp_path / "ours").mkdir()
    ours = project(tmp_path / "ours", {"sec": dev_with(**{"azure-maas:tags": {"secure": CIPHERTEXT}})})
    code, out, err = plan(capsys, "--stack", "sec", "--cwd", str(ours))
    assert (code, out) == (2, "")
    assert err == (
        "maas plan: azure-maas:tags: is a secure value, which cannot be decrypted offline; azure-maas config holds "
        "no secrets, so set it in plain text (pulumi config set, without --secret)\n"
    )
    assert CIPHERTEXT not in err


def test_markdown_comment(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT), "--format", "markdown")
    lines = out.splitlines()
    assert code == 0
    assert lines[:12] == [
        "<!-- maas-plan stack=dev -->",
        "### `maas plan` for stack `dev`: ✅ passes policy",
        "",
        "| | |",
        "|---|---|",
        "| Resources to create | 27 |",
        "| Serverless endpoints | 3 in 2 workspaces |",
        "| Mandatory violations | 0 |",
        "| Advisory findings | 0 |",
        "| Policy pack | `azure-maas` `0.1.0` |",
        "| Policy config | the pack's defaults |",
        "",
    ]
    assert "No violations." in lines
    assert (
        "| `proj-chat` | `chat-mistral-medium` | `azureml://registries/azureml-mistral/models/mistral-medium-2505` | Key "
        "| Enabled | yes |" in lines
    )
    graph = out[out.index("```mermaid\n") : out.index("```\n", out.index("```mermaid\n"))]
    nodes = [
        line
        for line in graph.splitlines()
        if line.startswith("  r") and ("[" in line or "(" in line) and "-->" not in line and "-.-" not in line
    ]
    assert len(nodes) == 27
    ids = {line.split('"')[1].split("<br/>")[0]: line.strip().split("[")[0].split("(")[0] for line in nodes}
    assert f"  {ids['chat-mistral-medium-subscription']} --> {ids['chat-mistral-medium-endpoint']}" in graph
    assert f"  {ids['chat-mistral-medium']} -.- {ids['chat-mistral-medium-endpoint']}" in graph
    assert (
        lines[-1]
        == "Plan for dev: 27 resources to create, 3 endpoints in 2 workspaces; 0 mandatory, 0 advisory; passes policy."
    )


def test_progress_only_on_a_terminal() -> None:
    quiet = Console(file=io.StringIO(), force_terminal=False)
    with output.progress(quiet, delay=0.0) as step:
        step("running the program")
    assert quiet.file.getvalue() == ""  # type: ignore[attr-defined]
    loud = Console(file=io.StringIO(), force_terminal=True)
    with output.progress(loud, delay=0.0) as step:
        time.sleep(0.2)
        step("running the program")
        time.sleep(0.2)
    assert "running the program" in loud.file.getvalue()  # type: ignore[attr-defined]


def test_a_plan_leaves_no_event_loop_open(capsys: pytest.CaptureFixture[str]) -> None:
    """The SDK's mock monitor opens an event loop per executor thread; one left open until interpreter exit
    can print "Exception ignored in BaseEventLoop.__del__" on the console script's stderr."""
    code, _, _ = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT), "--format", "json")

    open_loops = [o for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and not o.is_closed()]
    assert (code, open_loops) == (0, [])


def test_console_script_runs_the_readme_main_command() -> None:
    """`maas plan --stack dev`, as the README's main command runs it (in the project directory), through the
    installed console script; on the tests' project."""
    script = Path(sys.executable).with_name("maas")
    assert script.exists(), "the maas console script is installed by uv sync ([project.scripts])"
    done = subprocess.run(
        [str(script), "plan", "--stack", "dev", "--format", "json", "--today", TODAY],  # a fixed day: no staleness
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["summary"]["exitCode"] == 0


def test_a_stale_catalog_is_warned_about_before_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["plan", "--stack", "dev", "--cwd", str(PROJECT), "--format", "json", "--today", "2027-02-23"])
    captured = capsys.readouterr()

    assert code == 0
    assert captured.err == (
        "maas plan: warning: the model catalog is 91 days old (as of 2026-11-24, more than 90); lifecycle facts may "
        "have changed: run `maas catalog sync`, or update azure-maas\n"
    )
    assert json.loads(captured.out)["summary"]["exitCode"] == 0


def test_output_is_stable_across_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The SDK's registration order varies between runs; the outputs do not."""
    for fmt in ("json", "markdown", "text"):
        first = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT), "--format", fmt)
        second = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT), "--format", fmt)
        assert first == second, fmt


PLAN_SECTION = section(page("cli.md"), "## Plan offline: `maas plan`")


def test_readme_main_command_is_maas_plan() -> None:
    quick_start = section(readme(), "## Quick start")
    assert "Main command, on a fresh clone with no cloud login" in quick_start
    assert (
        "uv sync --compile-bytecode && uv run python -m compileall -q infra policies/azure_maas_policy\n"
        "uv run maas plan --stack dev\n"
    ) in blocks(quick_start, "bash")


def test_the_docs_text_sample_is_what_maas_plan_prints(capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT))
    sample = blocks(PLAN_SECTION, "text")[0].splitlines()
    assert sample[-1] == text.splitlines()[-1]
    assert sample[0] == text.splitlines()[0]


# --- the version, the stack a plan names, its policy config and warnings ---------------------------------------


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])

    assert (stopped.value.code, capsys.readouterr()) == (0, (f"maas {importlib.metadata.version('azure-maas')}\n", ""))


ESC_PROJECT_STACK = "organization/azure-maas/dev"


@pytest.fixture
def esc_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture project's dev stack importing an ESC environment, with a policy config beside it, and the
    dev stack selected (qualified, as the DIY backend records it) under its own PULUMI_HOME."""
    directory = tmp_path / "project"
    directory.mkdir()
    shutil.copy(PROJECT / "Pulumi.yaml", directory / "Pulumi.yaml")
    stack_file = yaml.safe_load(DEV_STACK.read_text(encoding="utf-8"))
    (directory / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"environment": ["acme/maas-dev"], **stack_file}))
    (directory / "Pulumi.dev.policy.json").write_text(json.dumps({"required-tags": "mandatory"}), encoding="utf-8")
    home = tmp_path / "pulumi-home"
    digest = hashlib.sha1(str(directory / "Pulumi.yaml").encode(), usedforsecurity=False).hexdigest()
    workspace = home / "workspaces" / f"azure-maas-{digest}-workspace.json"
    workspace.parent.mkdir(parents=True)
    workspace.write_text(json.dumps({"stack": ESC_PROJECT_STACK}), encoding="utf-8")
    monkeypatch.setenv("PULUMI_HOME", str(home))
    return directory


ESC_WARNING = esc_warning("Pulumi.dev.yaml", ("acme/maas-dev",))


def test_every_format_names_the_stack_its_policy_config_and_warnings(
    capsys: pytest.CaptureFixture[str], esc_project: Path
) -> None:
    """The stack as selected (``pulumi stack select``, qualified) or given; the program runs as ``dev``."""
    code, out, err = plan(capsys, "--cwd", str(esc_project), "--format", "json")
    document = json.loads(out)

    assert (code, err) == (0, f"maas plan: warning: {ESC_WARNING}\n")
    assert (document["project"], document["stack"]) == ("azure-maas", ESC_PROJECT_STACK)
    assert (document["policyConfig"], document["warnings"]) == ("Pulumi.dev.policy.json", [ESC_WARNING])
    assert {r["urn"].split("::")[0] for r in document["resources"]} == {"urn:pulumi:dev"}

    code, out, err = plan(capsys, "--stack", "acme/dev", "--cwd", str(esc_project), "--format", "markdown")
    lines = out.splitlines()

    assert (code, err) == (0, f"maas plan: warning: {ESC_WARNING}\n")
    assert lines[:2] == ["<!-- maas-plan stack=acme/dev -->", "### `maas plan` for stack `acme/dev`: ✅ passes policy"]
    assert lines[9:15] == [
        "| Policy pack | `azure-maas` `0.1.0` |",
        "| Policy config | `Pulumi.dev.policy.json` |",
        "",
        "> [!WARNING]",
        "> " + ESC_WARNING.replace(":", "\\:"),
        "",
    ]
    assert lines[-1].startswith("Plan for acme/dev: 27 resources to create, 3 endpoints in 2 workspaces;")

    code, out, err = plan(capsys, "--stack", "dev", "--cwd", str(esc_project))
    lines = out.splitlines()

    assert (code, err) == (0, f"maas plan: warning: {ESC_WARNING}\n")
    assert lines[0] == "azure-maas stack dev (everything is a create: there is no state offline)"
    assert "policy config: Pulumi.dev.policy.json" in lines
    assert lines[-1].startswith("Plan for dev: 27 resources to create")


def test_the_warning_comes_before_the_report(esc_project: Path) -> None:
    """On a terminal both streams interleave: the warning is printed first."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("maas")), "plan", "--today", TODAY],
        cwd=esc_project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    lines = done.stdout.splitlines()

    assert done.returncode == 0
    assert lines[:2] == [
        f"maas plan: warning: {ESC_WARNING}",
        f"azure-maas stack {ESC_PROJECT_STACK} (everything is a create: there is no state offline)",
    ]


def test_the_pack_defaults_are_named_when_there_is_no_policy_config(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT))

    assert code == 0
    assert "policy config: the pack's defaults" in out.splitlines()


def test_a_policy_config_outside_the_project_is_shown_absolute(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "policy.json"
    config.write_text("{}", encoding="utf-8")

    code, out, _ = plan(
        capsys, "--stack", "dev", "--cwd", str(PROJECT), "--format", "json", "--policy-pack-config", str(config)
    )

    assert (code, json.loads(out)["policyConfig"]) == (0, str(config))


def _result(endpoints: int, foundry: int, mandatory: int) -> PreviewResult:
    """A preview of ``endpoints`` serverless endpoints (each in its own workspace), ``foundry`` Foundry
    deployments and ``mandatory`` mandatory violations, as the engine would record them."""
    resources = [
        Resource(
            f"urn:pulumi:dev::azure-maas::{ENDPOINT_TYPE}::e{i}", ENDPOINT_TYPE, f"e{i}", {"workspaceName": f"w{i}"}
        )
        for i in range(endpoints)
    ] + [
        Resource(
            f"urn:pulumi:dev::azure-maas::{DEPLOYMENT_TYPE}::d{i}",
            DEPLOYMENT_TYPE,
            f"d{i}",
            {"accountName": "fdy", "deploymentName": f"d{i}"},
        )
        for i in range(foundry)
    ]
    diagnostics = tuple(
        Diagnostic("p", "azure-maas", "0.1.0", EnforcementLevel.MANDATORY, Severity.HIGH, "", "d", "d\nm")
        for _ in range(mandatory)
    )
    report = Report("azure-maas", "0.1.0", (), {}, diagnostics)
    identity = Identity("s", "t", "environment")
    return PreviewResult("azure-maas", "dev", identity, Capture(resources), report, frozenset())


@pytest.mark.parametrize(
    ("counts", "row", "line"),
    [
        (
            (0, 0, 0),
            "| Serverless endpoints | 0 in 0 workspaces |",
            "Plan for acme/dev: 0 resources to create, 0 endpoints in 0 workspaces; 0 mandatory, 0 advisory; "
            "passes policy.",
        ),
        (
            (1, 0, 1),
            "| Serverless endpoints | 1 in 1 workspace |",
            "Plan for acme/dev: 1 resource to create, 1 endpoint in 1 workspace; 1 mandatory, 0 advisory; BLOCKED by "
            "1 mandatory policy violation.",
        ),
        (
            (2, 0, 2),
            "| Serverless endpoints | 2 in 2 workspaces |",
            "Plan for acme/dev: 2 resources to create, 2 endpoints in 2 workspaces; 2 mandatory, 0 advisory; BLOCKED "
            "by 2 mandatory policy violations.",
        ),
        (
            (0, 1, 0),
            "| Serverless endpoints | 0 in 0 workspaces |",
            "Plan for acme/dev: 1 resource to create, 0 endpoints in 0 workspaces, 1 Foundry deployment; 0 mandatory, "
            "0 advisory; passes policy.",
        ),
        (
            (0, 2, 0),
            "| Serverless endpoints | 0 in 0 workspaces |",
            "Plan for acme/dev: 2 resources to create, 0 endpoints in 0 workspaces, 2 Foundry deployments; 0 "
            "mandatory, 0 advisory; passes policy.",
        ),
    ],
    ids=["none", "one", "two", "one-foundry", "two-foundry"],
)
def test_the_summary_line_counts_in_words(counts: tuple[int, int, int], row: str, line: str) -> None:
    view = render.PlanView(_result(*counts), "acme/dev", PROJECT)
    markdown = render.to_markdown(view).splitlines()
    text = Console(file=io.StringIO(), width=200)
    render.print_text(view, text)

    assert render.summary_line(view) == line
    assert markdown[-1] == line
    assert text.file.getvalue().splitlines()[-1] == line  # type: ignore[attr-defined]
    assert markdown[6] == row


LEAVE = """
import atexit, gc, sys

class Witness:
    def __init__(self, path):
        self.path = path

    def __del__(self, open=open):
        with open(self.path, "w") as file:
            file.write("torn down")

witness = Witness(sys.argv[1])
atexit.register(lambda: print(f"atexit ran, collector enabled: {gc.isenabled()}", file=sys.stderr))
sys.argv = ["maas", *sys.argv[2:]]
from infra.cli.app import run
run()
"""
"""``maas ARGS`` after leaving a witness object that writes the file ``argv[1]`` when the interpreter tears the
module down, and an ``atexit`` callback."""


@pytest.mark.parametrize(
    ("args", "code", "stdout_end", "stderr_first"),
    [
        (
            ["plan", "--stack", "dev", "--format", "json", "--today", "2026-11-24"],
            0,
            "}\n",
            "atexit ran, collector enabled: False",
        ),
        (["plan", "--stack", "nope"], 2, "", "maas plan: Pulumi.nope.yaml not found; stacks here: dev, foundry"),
    ],
    ids=["passes", "fails"],
)
def test_maas_ends_without_the_interpreters_teardown_once_the_command_is_done(
    tmp_path: Path, args: list[str], code: int, stdout_end: str, stderr_first: str
) -> None:
    """The command's exit code, its whole output and the ``atexit`` callbacks; no teardown (the witness never
    writes), which is what makes the end of a large plan instant; and no cyclic garbage collector all along."""
    witness = tmp_path / "witness"
    done = subprocess.run(
        [sys.executable, "-c", LEAVE, str(witness), *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout.endswith(stdout_end), done.stderr.splitlines()[0]) == (
        code,
        True,
        stderr_first,
    )
    assert done.stderr.splitlines()[-1] == "atexit ran, collector enabled: False"
    assert not witness.exists()
    if code == 0:
        assert json.loads(done.stdout)["stack"] == "dev"


def test_plan_starts_the_pack_once_and_the_preview_takes_it_over(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``maas plan`` starts the pack before it imports the engine (infra.engine.pack_process); the preview connects
    to that process rather than starting another, and it is stopped when the plan is done."""
    started: list[pack_process.PackProcess] = []
    start = pack_process.start

    def recording(pack_dir: Path, variables: dict[str, str], **kwargs: Any) -> pack_process.PackProcess:
        started.append(start(pack_dir, variables, **kwargs))
        return started[-1]

    monkeypatch.setattr(pack_process, "start", recording)
    code, _, _ = plan(capsys, "--stack", "dev", "--cwd", str(PROJECT), "--today", TODAY)
    assert code == 0
    [pack] = started
    assert (pack.pack_dir, pack.variables) == (
        pack_process.DEFAULT_PACK_DIR,
        {
            "PULUMI_PROJECT": "azure-maas",
            "PULUMI_STACK": "dev",
            "PULUMI_ORGANIZATION": "organization",
            "PULUMI_DRY_RUN": "true",
            "PULUMI_CONFIG": "{}",
        },
    )
    assert (pack.process.returncode, pack.stderr.closed) == (-15, True)


def test_a_stop_signal_prints_one_line_and_nothing_about_what_it_left_half_made(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The frames a stop signal unwinds can hold a coroutine the Pulumi SDK made and had not awaited yet
    (``RPCManager.do_rpc``'s) or an event loop whose constructor it cut short; freed, the first makes Python warn and
    the second prints "Exception ignored in ...", after the one line."""

    async def registration() -> None:
        pass

    class HalfMadeLoop:
        def __del__(self) -> None:
            raise AttributeError("'_UnixSelectorEventLoop' object has no attribute '_ssock'")

    def execute(*_: object) -> int:
        _made = registration()  # made, and never awaited: the signal lands first
        _loop = HalfMadeLoop()
        raise cli.Interrupted(signal.SIGTERM)

    commands = tuple(dataclasses.replace(c, execute=execute) if c.name == "models" else c for c in COMMANDS)
    monkeypatch.setattr(cli, "COMMANDS", commands)
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = cli.main(["models"])
        gc.collect()

    assert (code, capsys.readouterr().err) == (128 + signal.SIGTERM, "maas models: stopped by SIGTERM\n")
    assert ([str(w.message) for w in caught], unraisable) == ([], [])
    assert sys.unraisablehook == unraisable.append  # put back


def test_a_stop_signal_raised_in_an_event_loop_callback_ends_the_loop() -> None:
    """The signal handler raises where the main thread is; during a plan that is often inside a task or callback
    of the program's event loop, which keeps other exceptions and runs on (waiting, in a plan, for a registration
    that never finishes)."""

    def stop() -> None:
        raise cli.Interrupted(signal.SIGTERM)

    loop = asyncio.new_event_loop()
    waiting = loop.create_task(asyncio.sleep(5))
    try:
        loop.call_soon(stop)
        with pytest.raises(cli.Interrupted) as raised:
            loop.run_until_complete(waiting)
    finally:
        waiting.cancel()
        loop.run_until_complete(asyncio.gather(waiting, return_exceptions=True))
        loop.close()
    assert raised.value.signum == signal.SIGTERM
