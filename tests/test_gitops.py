"""The GitOps setup: GitHub workflows and the Azure Pipelines file pass their linters and say what docs/gitops.md
promises (triggers, jobs, permissions, commands); the scripts they call run end to end against fake tools."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cli import bootstrap
from infra.engine.stack_files import POLICY_CONFIG_FILE, policy_config_path
from tests.conftest import DEV_STACK as DEV_STACK_FILE
from tests.conftest import PROJECT, ROOT
from tests.docs import blocks, page, section
from tests.fakes import Fakes

BIN = Path(sys.executable).parent
WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPTS = ROOT / "scripts"
SETUP_ACTION = "$/.github/actions/pulumi-setup"
PINNED = re.compile(r"^\s*-?\s*uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is a locked dev dependency; run uv sync"
    return str(path)


def workflow(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    document["on"] = document.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    (found,) = (s for s in steps(job) if str(s.get("uses", "")).startswith(action))
    return found


def locked_pulumi_version() -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    (version,) = (p["version"] for p in lock["package"] if p["name"] == "pulumi")
    return str(version)


# --- linters -------------------------------------------------------------------------------------------


def actionlint(cwd: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p.relative_to(cwd)) for p in (cwd / ".github" / "workflows").glob("*.yml"))
    command = [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), "-pyflakes", "", *files]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def zizmor(cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [tool("zizmor"), "--offline", "--persona", "auditor", "--format", "json", "--no-progress", "."]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    result = actionlint(ROOT)

    assert (result.returncode, result.stdout) == (0, "")


def test_actionlint_runs_shellcheck_on_run_steps(tmp_path: Path) -> None:
    """The check above can fail: a workflow with an injection and an unquoted variable is reported."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
        "      - run: cp $SOURCE target\n",
        encoding="utf-8",
    )

    result = actionlint(tmp_path)

    assert result.returncode == 1
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout
    assert "SC2086" in result.stdout


def test_zizmor_finds_nothing_even_as_auditor() -> None:
    result = zizmor(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_zizmor_reports_dangerous_workflows(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(
        "on: pull_request_target\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n",
        encoding="utf-8",
    )

    result = zizmor(tmp_path)

    assert result.returncode != 0
    found = {finding["ident"] for finding in json.loads(result.stdout)}
    assert {"dangerous-triggers", "unpinned-uses", "artipacked", "excessive-permissions"} <= found


def test_shell_scripts_pass_shellcheck() -> None:
    scripts = [*sorted(SCRIPTS.glob("*.sh")), ROOT / ".ci" / "run"]

    result = subprocess.run(
        [tool("shellcheck"), "--severity=style", *map(str, scripts)], capture_output=True, text=True, check=False
    )

    assert [p.name for p in scripts] == [
        "bootstrap.sh",
        "deploy-smoke.sh",
        "list-stacks.sh",
        "plan-markdown.sh",
        "policy-config.sh",
        "pr-comment.sh",
        "preview-markdown.sh",
        "pulumi-ci.sh",
        "pulumi-lock-retry.sh",
        "pulumi-stack.sh",
        "run",
    ]
    assert (result.returncode, result.stdout) == (0, "")


def test_azure_pipelines_inline_scripts_pass_shellcheck(tmp_path: Path) -> None:
    """Inline `bash:` steps, with Azure Pipelines macros ($(name), replaced before the shell runs) as plain words."""
    pipeline = yaml.safe_load((ROOT / "azure-pipelines.yml").read_text(encoding="utf-8"))
    scripts = [
        step["bash"]
        for stage in pipeline["stages"]
        for job in next(iter(stage["jobs"][0].values()))
        for step in job.get("steps", [])
        if "bash" in step
    ]
    assert len(scripts) == 3
    for number, script in enumerate(scripts):
        path = tmp_path / f"step{number}.sh"
        path.write_text("#!/usr/bin/env bash\n" + re.sub(r"\$\((\w+(\.\w+)*)\)", r"MACRO_\1", script), encoding="utf-8")
        result = subprocess.run([tool("shellcheck"), str(path)], capture_output=True, text=True, check=False)
        assert (result.returncode, result.stdout) == (0, ""), script


# --- what the workflows do -----------------------------------------------------------------------------


def test_every_action_is_pinned_to_a_full_commit_sha() -> None:
    files = [*sorted(WORKFLOWS.glob("*.yml")), ROOT / ".github" / "actions" / "pulumi-setup" / "action.yml"]
    uses = [line for f in files for line in f.read_text(encoding="utf-8").splitlines() if "uses:" in line]

    remote = [line for line in uses if "$/" not in line]
    assert remote
    assert [line for line in remote if not PINNED.match(line)] == []
    pins = {m["action"]: m["sha"] for line in remote if (m := PINNED.match(line))}
    assert set(pins) == {"actions/checkout", "astral-sh/setup-uv", "azure/login", "pulumi/actions"}
    for action, sha in pins.items():  # one version of each action everywhere
        assert all(sha in line for line in remote if f"{action}@" in line), action


def test_every_workflow_starts_with_no_permissions() -> None:
    names = sorted(p.name for p in WORKFLOWS.glob("*.yml"))

    assert names == ["catalog.yml", "ci.yml", "deploy.yml", "drift.yml", "pull-request.yml", "stacks.yml"]
    assert all(workflow(name)["permissions"] == {} for name in names)


def test_write_permissions_only_where_they_are_used() -> None:
    """id-token: write exactly in the jobs that sign in to Azure; pull-requests: write exactly in the jobs that
    post a comment; nothing else ever writes."""
    for name in sorted(p.name for p in WORKFLOWS.glob("*.yml")):
        for job_name, job in workflow(name)["jobs"].items():
            permissions = {k: v.split()[0] for k, v in job["permissions"].items()}
            signs_in = any(s.get("uses") == SETUP_ACTION for s in steps(job))
            comments = any("scripts/pr-comment.sh" in s.get("run", "") for s in steps(job))
            expected = {"contents": "read"}
            if signs_in:
                expected["id-token"] = "write"
            if comments:
                expected["pull-requests"] = "write"
            assert permissions == expected, f"{name}: {job_name}"


def test_pull_requests_get_an_offline_plan_comment_and_a_same_repository_preview() -> None:
    document = workflow("pull-request.yml")
    plan, preview = document["jobs"]["plan"], document["jobs"]["preview"]

    assert document["on"] == {"pull_request": {"branches": ["main"]}}
    assert document["jobs"]["stacks"]["uses"] == "$/.github/workflows/stacks.yml"
    assert plan["strategy"]["matrix"] == {"stack": "${{ fromJSON(needs.stacks.outputs.stacks) }}"}
    runs = [s.get("run", "") for s in steps(plan)]
    assert 'scripts/plan-markdown.sh "$STACK" plan.md' in runs
    assert "scripts/pr-comment.sh plan.md" in runs
    comment = next(s for s in steps(plan) if s.get("run") == "scripts/pr-comment.sh plan.md")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert not any("secrets." in json.dumps(s) or "vars." in json.dumps(s) for s in steps(plan))

    assert preview["if"] == (
        "${{ github.event.pull_request.head.repo.full_name == github.repository && vars.PULUMI_BACKEND_URL != '' }}"
    )
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    names = [s.get("uses", s.get("name")) for s in steps(preview)]
    assert names == [
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        SETUP_ACTION,
        "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d",
        "pulumi preview",
        "Comment on the pull request",
        "Verdict",
    ]
    install, run_preview, post, verdict = steps(preview)[2:]
    assert (install["name"], install["with"]) == ("Install the Pulumi CLI", {"pulumi-version": locked_pulumi_version()})
    assert (run_preview["id"], run_preview["run"]) == ("preview", 'scripts/preview-markdown.sh "$STACK" preview.md')
    assert run_preview["env"] == {
        "STACK": "${{ matrix.stack }}",
        "PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}",
    }
    assert post == {
        "name": "Comment on the pull request",
        "if": "${{ !cancelled() && steps.preview.outputs.exit-code != '' }}",
        "env": {
            "GH_TOKEN": "${{ github.token }}",
            "REPO": "${{ github.repository }}",
            "PR": "${{ github.event.pull_request.number }}",
        },
        "run": "scripts/pr-comment.sh preview.md",
    }
    assert verdict["if"] == "${{ steps.preview.outputs.exit-code != '0' }}"
    assert verdict["env"] == {"STACK": "${{ matrix.stack }}", "EXIT_CODE": "${{ steps.preview.outputs.exit-code }}"}
    assert verdict["run"].splitlines()[-1] == "exit 1"
    assert "::error title=pulumi preview ${STACK}::exit code ${EXIT_CODE}" in verdict["run"]
    assert step_using(preview, SETUP_ACTION)["with"]["client-id"] == "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"
    assert preview["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"


def test_main_deploys_each_stack_in_its_environment_one_update_at_a_time() -> None:
    document = workflow("deploy.yml")
    up = document["jobs"]["up"]

    assert document["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert up["environment"] == "${{ matrix.stack }}"
    assert up["concurrency"] == {"group": "pulumi-${{ matrix.stack }}", "cancel-in-progress": False}
    assert up["permissions"] == {"contents": "read", "id-token": "write"}
    assert step_using(up, "pulumi/actions@")["with"] == {"pulumi-version": locked_pulumi_version()}
    (pulumi_up,) = (s for s in steps(up) if s.get("name") == "pulumi up")
    assert pulumi_up == {
        "name": "pulumi up",
        "env": {"STACK": "${{ matrix.stack }}", "PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}"},
        "run": 'scripts/pulumi-stack.sh up "$STACK"',
    }
    assert step_using(up, SETUP_ACTION)["with"]["client-id"] == "${{ vars.AZURE_DEPLOY_CLIENT_ID }}"
    assert up["env"] == {
        "ARM_USE_OIDC": "true",
        "ARM_CLIENT_ID": "${{ vars.AZURE_DEPLOY_CLIENT_ID }}",
        "ARM_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}",
        "ARM_SUBSCRIPTION_ID": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    }


def test_schedule_runs_a_refreshing_preview_that_fails_on_any_change() -> None:
    """pulumi/actions only installs the CLI (no `command`): the preview is scripts/pulumi-stack.sh drift, which
    waits while the stack is locked (its test below runs it), with the backend named by PULUMI_BACKEND_URL. The
    concurrency group is not the deploy's: a newly queued job cancels the pending one of its group."""
    document = workflow("drift.yml")
    drift = document["jobs"]["drift"]

    assert document["on"] == {"schedule": [{"cron": "23 5 * * *"}], "workflow_dispatch": None}
    assert drift["concurrency"] == {"group": "pulumi-drift-${{ matrix.stack }}", "cancel-in-progress": False}
    assert drift["concurrency"]["group"] != workflow("deploy.yml")["jobs"]["up"]["concurrency"]["group"]
    names = [s.get("uses", s.get("name")) for s in steps(drift)]
    assert names[1:] == [
        SETUP_ACTION,
        "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d",
        "pulumi preview --refresh --expect-no-changes",
        "Report drift",
    ]
    assert step_using(drift, "pulumi/actions@")["with"] == {"pulumi-version": locked_pulumi_version()}
    preview = steps(drift)[3]
    assert preview["run"] == 'scripts/pulumi-stack.sh drift "$STACK"'
    assert preview["env"] == {"STACK": "${{ matrix.stack }}", "PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}"}
    report = steps(drift)[-1]
    assert report["if"] == "${{ failure() }}"
    assert "::error title=Drift in stack ${STACK}::" in report["run"]
    assert step_using(drift, SETUP_ACTION)["with"]["client-id"] == "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"


def test_a_daily_check_judges_every_stacks_models_and_syncs_where_azure_is_reachable() -> None:
    document = workflow("catalog.yml")
    lifecycle, sync = document["jobs"]["lifecycle"], document["jobs"]["sync"]

    assert document["on"] == {"schedule": [{"cron": "41 4 * * *"}], "workflow_dispatch": None}
    assert document["concurrency"] == {"group": "catalog", "cancel-in-progress": False}
    assert [s.get("run") for s in steps(lifecycle)][-1] == "uv run --locked maas catalog check --within 30"
    assert "id-token" not in lifecycle["permissions"]
    assert sync["if"] == "${{ vars.AZURE_PREVIEW_CLIENT_ID != '' }}"
    runs = [s.get("run", "") for s in steps(sync)]
    assert "uv run --locked maas catalog sync --write" in runs[-2]
    assert runs[-1] == "uv run --locked maas catalog check --within 30"
    assert steps(sync)[-1]["if"] == "${{ !cancelled() }}"


def test_ci_workflow_runs_the_readme_test_command() -> None:
    test = workflow("ci.yml")["jobs"]["test"]

    assert [s.get("run") for s in steps(test)] == [None, None, "bash .ci/run"]


PACK_SCRIPTS = (
    "scripts/plan-markdown.sh",
    "scripts/preview-markdown.sh",
    "scripts/pulumi-stack.sh",
    "scripts/pulumi-ci.sh",
)
"""The scripts that run the policy pack and add the stack's policy config themselves (their tests below run them
against a fake pulumi and uv, with and without the file)."""
RUNS_PULUMI = re.compile(r"^\s*(pulumi (preview|up|refresh|destroy)\b|uv run\b.*\bmaas plan\b)", re.MULTILINE)
"""A shell line that runs a Pulumi operation or maas plan itself (not one that names it in a message)."""


def test_every_workflow_step_that_runs_the_policy_pack_passes_the_stacks_policy_config() -> None:
    """Every step that runs the pack calls one of the scripts that add the stack's policy config (their tests below
    run them against a fake pulumi and uv, with and without the file); no step runs pulumi or maas plan directly,
    and no pulumi/actions step runs a command (the next test says why)."""
    found = []
    for name in sorted(p.name for p in WORKFLOWS.glob("*.yml")):
        for job_name, job in workflow(name)["jobs"].items():
            for step in steps(job):
                run = step.get("run", "")
                if str(step.get("uses", "")).startswith("pulumi/actions@"):
                    assert "command" not in step["with"], f"{name}: {job_name}"
                if any(script in run for script in PACK_SCRIPTS):
                    found.append((name, job_name, run))
                else:
                    assert not RUNS_PULUMI.search(run), run

    assert found == [
        ("deploy.yml", "up", 'scripts/pulumi-stack.sh up "$STACK"'),
        ("drift.yml", "drift", 'scripts/pulumi-stack.sh drift "$STACK"'),
        ("pull-request.yml", "plan", 'scripts/plan-markdown.sh "$STACK" plan.md'),
        ("pull-request.yml", "preview", 'scripts/preview-markdown.sh "$STACK" preview.md'),
    ]


def test_pulumi_actions_only_ever_installs_the_cli() -> None:
    """With a `command`, pulumi/actions reads every stack output after the operation (Automation API
    `stack.outputs()`, which runs `pulumi stack output --json --show-secrets`) and publishes each one as a step
    output, decrypted (src/main.ts at a34e8ffdddb745bf5c0580307baf9390defe80c8); `core.setSecret` masks a structured
    value only as its whole JSON text, not the keys inside it. Our outputs endpointKeys and foundryKeys are such
    secrets, so no step, in any workflow or in the composite action, gives it a `command`: it installs the CLI and
    our scripts run Pulumi."""
    files = [*sorted(WORKFLOWS.glob("*.yml")), ROOT / ".github" / "actions" / "pulumi-setup" / "action.yml"]
    found = []
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        jobs = document.get("jobs", {"composite": document.get("runs", {})})
        for job_name, job in jobs.items():
            for step in steps(job):
                if str(step.get("uses", "")).startswith("pulumi/actions@"):
                    found.append((path.name, job_name, step["name"], step["with"]))

    installed = {"pulumi-version": locked_pulumi_version()}
    assert found == [
        ("deploy.yml", "up", "Install the Pulumi CLI", installed),
        ("drift.yml", "drift", "Install the Pulumi CLI", installed),
        ("pull-request.yml", "preview", "Install the Pulumi CLI", installed),
    ]


def test_every_azure_pipelines_step_that_runs_the_policy_pack_calls_a_script_that_passes_it() -> None:
    pipeline = yaml.safe_load((ROOT / "azure-pipelines.yml").read_text(encoding="utf-8"))
    found = []
    for stage in pipeline["stages"]:
        for job in next(iter(stage["jobs"][0].values())):
            for step in job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]:
                if step.get("task") == "AzureCLI@2":
                    found.append((stage["stage"], step["inputs"]["scriptPath"], step["inputs"]["arguments"]))
                elif any(script in step.get("bash", "") for script in PACK_SCRIPTS):
                    found.append((stage["stage"], "bash", step["bash"]))
                else:
                    assert not RUNS_PULUMI.search(step.get("bash", "")), step

    assert found == [
        ("plan", "bash", 'scripts/plan-markdown.sh "$STACK" "$(Build.ArtifactStagingDirectory)/plan-${STACK}.md"'),
        ("preview", "scripts/pulumi-ci.sh", "preview ${{ stack }}"),
        ("deploy", "scripts/pulumi-ci.sh", "up ${{ stack }}"),
        ("deploy", "scripts/pulumi-ci.sh", "smoke ${{ stack }}"),
        ("drift", "scripts/pulumi-ci.sh", "drift ${{ stack }}"),
    ]


def test_a_deploy_ends_with_maas_smoke_signed_in_again_as_the_deploy_identity() -> None:
    """After `pulumi up` succeeds (a step runs only when every step before it succeeded), azure/login signs the
    Azure CLI in again as the deploy identity (the first sign-in may have expired during a long update), then
    scripts/deploy-smoke.sh runs `maas smoke`, which reads the outputs itself: no step handles them."""
    up = workflow("deploy.yml")["jobs"]["up"]
    names = [s.get("uses", s.get("name")) for s in steps(up)]

    assert names == [
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        SETUP_ACTION,
        "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d",
        "pulumi up",
        "azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5",
        "maas smoke",
    ]
    relogin, smoke = steps(up)[4:]
    assert relogin["with"] == step_using(up, SETUP_ACTION)["with"]
    assert relogin["with"]["client-id"] == "${{ vars.AZURE_DEPLOY_CLIENT_ID }}"
    assert smoke["run"] == 'scripts/deploy-smoke.sh "$STACK"'
    assert smoke["env"] == {"STACK": "${{ matrix.stack }}", "PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}"}
    assert not any("if" in s or "continue-on-error" in s or "id" in s for s in steps(up)[2:])


def test_no_pipeline_reads_the_stack_outputs_itself() -> None:
    """Only `maas smoke` reads the outputs (with the keys), inside its own process; no workflow, pipeline or script
    line that runs runs `pulumi stack output` or passes --show-secrets (comments may name them)."""
    files = [
        *sorted((ROOT / ".github").rglob("*.yml")),
        ROOT / "azure-pipelines.yml",
        *sorted(SCRIPTS.glob("*.sh")),
    ]
    lines = [
        (f.name, line)
        for f in files
        for line in f.read_text(encoding="utf-8").splitlines()
        if not line.strip().startswith("#")
    ]

    assert len(files) >= 12
    assert [(f, line) for f, line in lines if "--show-secrets" in line or "stack output" in line] == []
    assert [(f, line) for f, line in lines if "maas smoke" in line and "--outputs" in line] == []


def test_the_pulumi_cli_version_is_the_locked_sdk_version_everywhere() -> None:
    version = locked_pulumi_version()
    pinned = [
        step_using(job, "pulumi/actions@")["with"]["pulumi-version"]
        for name in ("pull-request.yml", "deploy.yml", "drift.yml")
        for job in workflow(name)["jobs"].values()
        if any(str(s.get("uses", "")).startswith("pulumi/actions@") for s in steps(job))
    ]
    pipeline = yaml.safe_load((ROOT / "azure-pipelines.yml").read_text(encoding="utf-8"))
    (ado,) = (v["value"] for v in pipeline["variables"] if v.get("name") == "PULUMI_VERSION")

    assert pinned == [version, version, version]
    assert ado == version


def test_azure_pipelines_runs_the_same_flow() -> None:
    pipeline = yaml.safe_load((ROOT / "azure-pipelines.yml").read_text(encoding="utf-8"))
    stages = {stage["stage"]: stage for stage in pipeline["stages"]}

    assert pipeline["trigger"] == {"batch": True, "branches": {"include": ["main"]}}
    assert pipeline["pr"] == {"branches": {"include": ["main"]}}
    assert pipeline["schedules"][0]["cron"] == "23 5 * * *"
    assert {k: s["condition"] for k, s in stages.items()} == {
        "plan": "eq(variables['Build.Reason'], 'PullRequest')",
        "preview": "eq(variables['Build.Reason'], 'PullRequest')",
        "deploy": "and(eq(variables['Build.SourceBranch'], 'refs/heads/main'), "
        "in(variables['Build.Reason'], 'IndividualCI', 'BatchedCI', 'Manual'))",
        "drift": "eq(variables['Build.Reason'], 'Schedule')",
    }
    assert stages["deploy"]["lockBehavior"] == "sequential"

    def jobs(stage: str) -> list[dict[str, Any]]:
        return list(next(iter(stages[stage]["jobs"][0].values())))

    (deployment,) = jobs("deploy")
    assert deployment["environment"] == "azure-maas-${{ stack }}"
    cli_steps = {
        stage: [s for s in (job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]) if "task" in s]
        for stage in ("preview", "deploy", "drift")
        for job in jobs(stage)
    }
    for stage, operations in (("preview", ["preview"]), ("deploy", ["up", "smoke"]), ("drift", ["drift"])):
        azure_cli = [s for s in cli_steps[stage] if s["task"] == "AzureCLI@2"]
        assert [s["inputs"]["arguments"] for s in azure_cli] == [f"{op} ${{{{ stack }}}}" for op in operations]
        for step in azure_cli:
            assert step["inputs"]["scriptPath"] == "scripts/pulumi-ci.sh"
            assert step["inputs"]["addSpnToEnvironment"] is True
            assert step.get("condition") is None  # the smoke runs only when pulumi up succeeded
    plan_steps = jobs("plan")[0]["steps"]
    assert any("scripts/plan-markdown.sh" in s.get("bash", "") for s in plan_steps)


def test_azure_pipelines_pull_requests_never_reference_the_deploy_connection() -> None:
    """Pull-request builds run the pull request's own YAML and scripts, so they sign in with a second, read-only
    connection (id-maas-preview); the deploy connection appears in the deploy stage only (and its Branch control
    check, docs/gitops.md "Azure Pipelines", keeps an edited pipeline from borrowing it)."""
    pipeline = yaml.safe_load((ROOT / "azure-pipelines.yml").read_text(encoding="utf-8"))
    parameters = {p["name"]: p for p in pipeline["parameters"]}
    stages = {stage["stage"]: stage for stage in pipeline["stages"]}

    def connections(stage: str) -> list[str]:
        text = json.dumps(stages[stage])
        return re.findall(r"\$\{\{ parameters\.(\w*[cC]onnection) \}\}", text)

    assert (parameters["serviceConnection"]["default"], parameters["previewServiceConnection"]["default"]) == (
        "azure-maas",
        "azure-maas-preview",
    )
    assert {stage: connections(stage) for stage in stages} == {
        "plan": [],
        "preview": ["previewServiceConnection"],
        "deploy": ["serviceConnection", "serviceConnection"],  # pulumi up, then maas smoke as the same identity
        "drift": ["previewServiceConnection"],
    }


# --- the scripts, end to end against fake tools -----------------------------------------------------------


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return Fakes(tmp_path / "fakes")


COMMENTS = "repos/octo/maas/issues/7/comments"


def comment_env() -> dict[str, str]:
    return {"GH_TOKEN": "gh-test-token", "REPO": "octo/maas", "PR": "7"}


def plan_file(tmp_path: Path, stack: str = "dev", body: str = "plan body\n") -> Path:
    path = tmp_path / "plan.md"
    path.write_text(f"<!-- maas-plan stack={stack} -->\n{body}", encoding="utf-8")
    return path


def test_pr_comment_posts_a_new_comment(fakes: Fakes, tmp_path: Path) -> None:
    fakes.add("gh")
    fakes.answer("gh", [COMMENTS, "--paginate"], stdout="[]")
    path = plan_file(tmp_path)

    result = fakes.run([str(SCRIPTS / "pr-comment.sh"), str(path)], env=comment_env())

    assert (result.returncode, result.stdout) == (0, "pr-comment: posted a comment on #7\n")
    post = fakes.calls("gh")[1]
    assert post.argv[:4] == ["api", "--method", "POST", COMMENTS]
    assert list(post.files.values()) == [path.read_text(encoding="utf-8")]


def test_pr_comment_updates_its_own_comment_for_the_same_stack_only(fakes: Fakes, tmp_path: Path) -> None:
    comments = [
        {"id": 11, "user": {"login": "alice"}, "body": "<!-- maas-plan stack=dev -->\nquoted by a human"},
        {"id": 12, "user": {"login": "github-actions[bot]"}, "body": "<!-- maas-plan stack=prod -->\nprod"},
        {"id": 13, "user": {"login": "github-actions[bot]"}, "body": "<!-- maas-plan stack=dev -->\nold plan"},
    ]
    fakes.add("gh")
    fakes.answer("gh", [COMMENTS, "--paginate"], stdout=json.dumps(comments))

    result = fakes.run([str(SCRIPTS / "pr-comment.sh"), str(plan_file(tmp_path))], env=comment_env())

    assert (result.returncode, result.stdout) == (0, "pr-comment: updated comment 13 on #7\n")
    assert fakes.calls("gh")[1].argv[:4] == ["api", "--method", "PATCH", "repos/octo/maas/issues/comments/13"]


def test_pr_comment_truncates_what_github_would_reject(fakes: Fakes, tmp_path: Path) -> None:
    fakes.add("gh")
    fakes.answer("gh", [COMMENTS, "--paginate"], stdout="[]")
    path = plan_file(tmp_path, body="x" * 70000)

    result = fakes.run([str(SCRIPTS / "pr-comment.sh"), str(path)], env=comment_env())

    (body,) = fakes.calls("gh")[1].files.values()
    assert result.returncode == 0
    assert len(body.encode()) < 65536
    assert body.startswith("<!-- maas-plan stack=dev -->\n")
    assert body.endswith("\n\n_Truncated: the full plan is in the workflow run summary._\n")


@pytest.mark.parametrize(
    ("env", "first_line", "message"),
    [
        ({"PR": "7; rm -rf /"}, "<!-- maas-plan stack=dev -->", "pr-comment: PR must be a pull request number\n"),
        ({"REPO": "octo"}, "<!-- maas-plan stack=dev -->", "pr-comment: REPO must be OWNER/NAME\n"),
        (
            {},
            '<!-- maas-plan stack=dev" -->',
            "pr-comment: the first line of plan.md is not a comment marker such as <!-- maas-plan stack=dev -->\n",
        ),
    ],
)
def test_pr_comment_refuses_bad_input_before_calling_github(
    fakes: Fakes, tmp_path: Path, env: dict[str, str], first_line: str, message: str
) -> None:
    fakes.add("gh")
    (tmp_path / "plan.md").write_text(first_line + "\nbody\n", encoding="utf-8")

    result = fakes.run([str(SCRIPTS / "pr-comment.sh"), "plan.md"], env={**comment_env(), **env}, cwd=tmp_path)

    assert (result.returncode, result.stderr) == (1, message)
    assert fakes.calls("gh") == []


def copy_script(tmp_path: Path, name: str) -> Path:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    return Path(shutil.copy(SCRIPTS / name, tmp_path / "scripts" / name))


def test_list_stacks_prints_every_stack_file(tmp_path: Path) -> None:
    script = copy_script(tmp_path, "list-stacks.sh")
    for stack in ("prod", "dev", "eu-west.2"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n", encoding="utf-8")

    result = subprocess.run([str(script)], capture_output=True, text=True, check=False)

    assert (result.returncode, result.stdout) == (0, 'stacks=["dev","eu-west.2","prod"]\n')


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "list-stacks: no Pulumi.<stack>.yaml in {dir}\n"),
        (["Pulumi.a b.yaml"], "list-stacks: Pulumi.a b.yaml: not a stack name (letters, digits, _ . -)\n"),
    ],
)
def test_list_stacks_rejects_what_a_workflow_could_not_use(tmp_path: Path, files: list[str], message: str) -> None:
    script = copy_script(tmp_path, "list-stacks.sh")
    for name in files:
        (tmp_path / name).write_text("config: {}\n", encoding="utf-8")

    result = subprocess.run([str(script)], capture_output=True, text=True, check=False)

    assert (result.returncode, result.stdout, result.stderr) == (1, "", message.format(dir=tmp_path))


@pytest.mark.parametrize(("code", "kept"), [(0, True), (1, True), (2, False), (3, False)])
def test_plan_markdown_records_the_exit_code_and_never_fails(
    fakes: Fakes, tmp_path: Path, code: int, kept: bool
) -> None:
    fakes.add("uv")
    markdown = "<!-- maas-plan stack=dev -->\n## plan\n"
    stderr = "" if kept else "maas plan: azure-maas:location: 'mars' is not a region\n"
    fakes.answer("uv", ["maas", "plan"], stdout=markdown if kept else "", stderr=stderr, exit=code)
    output, summary = tmp_path / "output", tmp_path / "summary"

    with_policy_config(tmp_path, config=False)

    result = fakes.run(
        [str(SCRIPTS / "plan-markdown.sh"), "dev", "plan.md"],
        env={"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
        cwd=tmp_path,
    )

    assert result.returncode == 0
    assert fakes.calls("uv")[0].argv == ["run", "--locked", "maas", "plan", "--stack", "dev", "--format", "markdown"]
    assert output.read_text(encoding="utf-8") == f"exit-code={code}\n"
    written = (tmp_path / "plan.md").read_text(encoding="utf-8")
    assert summary.read_text(encoding="utf-8") == written
    if kept:
        assert written == markdown
    else:
        cause = "invalid configuration" if code == 2 else "internal failure"
        assert written == (
            "<!-- maas-plan stack=dev -->\n## maas plan: stack `dev` could not be planned\n\n"
            f"Exit code {code} ({cause}):\n\n```text\n{stderr}```\n"
        )


def test_plan_markdown_sets_an_azure_pipelines_variable(fakes: Fakes, tmp_path: Path) -> None:
    fakes.add("uv")
    fakes.answer("uv", ["maas"], stdout="<!-- maas-plan stack=dev -->\n", exit=1)

    result = fakes.run([str(SCRIPTS / "plan-markdown.sh"), "dev", "plan.md"], env={"TF_BUILD": "True"}, cwd=tmp_path)

    assert result.stdout == (
        f"##vso[task.setvariable variable=planExitCode]1\n##vso[task.uploadsummary]{tmp_path / 'plan.md'}\n"
    )


PREVIEW = (
    "Previewing update (dev):\n"
    "    ~ azure-native:machinelearningservices:ServerlessEndpoint chat-small update [diff: ~tags]\n"
    "        ~ tags: {\n"
    '            ~ note: "```" => "````quoted````"\n'
    "          }\n"
    "Outputs:\n"
    "    endpointKeys: [secret]\n"
    "\n"
    "Resources:\n"
    "    ~ 1 to update\n"
    "    3 unchanged\n"
)
"""What `pulumi preview --diff` prints (secret outputs as [secret]), with runs of three and four backticks."""
POLICY_VIOLATION = (
    "Policy Violations:\n"
    "    [mandatory]  azure-maas v0.1.0  content-safety-enabled (chat-small: "
    "azure-native:machinelearningservices:ServerlessEndpoint)\n"
)
PREVIEW_FAILED = "error: preview failed\n"


def policy_note(config: bool) -> str:
    """What scripts/policy-config.sh tells stderr for the stack `dev`, before the preview runs."""
    if config:
        return "policy-config: stack dev runs the policy pack with Pulumi.dev.policy.json\n"
    return "policy-config: no Pulumi.dev.policy.json: stack dev runs the policy pack with its defaults\n"


def run_preview_markdown(fakes: Fakes, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    output, summary = tmp_path / "output", tmp_path / "summary"
    result = fakes.run(
        [str(SCRIPTS / "preview-markdown.sh"), "dev", "preview.md"],
        # Unbuffered, so the fake's stdout and stderr reach the shared pipe in the order it writes them.
        env={"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    return result, output, summary


@pytest.mark.parametrize("config", [False, True], ids=["no-policy-config", "policy-config"])
def test_preview_markdown_comments_a_passing_preview_in_a_fence_longer_than_any_in_it(
    fakes: Fakes, tmp_path: Path, config: bool
) -> None:
    """The GitHub preview job's step: scripts/pulumi-stack.sh preview (the pack, and the stack's policy config only
    when the file exists), its output in the log and, fenced by five backticks (it holds four in a row), in the
    comment body; the exit code to the step output."""
    fakes.add("pulumi")
    fakes.answer("pulumi", ["preview"], stdout=PREVIEW)
    with_policy_config(tmp_path, config)

    result, output, summary = run_preview_markdown(fakes, tmp_path)

    assert result.returncode == 0, result.stderr
    assert [c.argv for c in fakes.calls("pulumi")] == [
        ["preview", "--diff", "--stack", "dev", "--policy-pack", "policies", *policy_args(config), "--non-interactive"]
    ]
    written = (tmp_path / "preview.md").read_text(encoding="utf-8")
    assert written == (
        "<!-- pulumi-preview stack=dev -->\n## pulumi preview: stack `dev` passed\n\n"
        f"`````text\n{policy_note(config)}{PREVIEW}`````\n"
    )
    assert output.read_text(encoding="utf-8") == "exit-code=0\n"
    assert summary.read_text(encoding="utf-8") == written
    assert result.stdout == policy_note(config) + PREVIEW
    assert result.stderr == "preview-markdown: pulumi preview --stack dev exited 0\n"


def test_preview_markdown_records_a_failing_preview_and_exits_0_so_the_comment_is_posted(
    fakes: Fakes, tmp_path: Path
) -> None:
    """Mandatory policy violations fail `pulumi preview` (exit 255): the comment shows them and the error, and the
    workflow's Verdict step, not this script, fails the job."""
    fakes.add("pulumi")
    fakes.answer("pulumi", ["preview"], stdout=POLICY_VIOLATION, stderr=PREVIEW_FAILED, exit=255)
    with_policy_config(tmp_path, config=True)

    result, output, summary = run_preview_markdown(fakes, tmp_path)

    assert result.returncode == 0
    assert len(fakes.calls("pulumi")) == 1
    written = (tmp_path / "preview.md").read_text(encoding="utf-8")
    assert written == (
        "<!-- pulumi-preview stack=dev -->\n## pulumi preview: stack `dev` failed (exit code 255)\n\n"
        f"```text\n{policy_note(True)}{POLICY_VIOLATION}{PREVIEW_FAILED}```\n"
    )
    assert output.read_text(encoding="utf-8") == "exit-code=255\n"
    assert summary.read_text(encoding="utf-8") == written
    assert result.stderr == "preview-markdown: pulumi preview --stack dev exited 255\n"


def test_preview_markdown_drops_terminal_colours_and_ends_the_last_line(fakes: Fakes, tmp_path: Path) -> None:
    fakes.add("pulumi")
    fakes.answer(
        "pulumi", ["preview"], stdout="\x1b[1m\x1b[38;5;2m+ \x1b[0mpulumi:pulumi:Stack create\x1b[0m\nResources:"
    )

    result, _, _ = run_preview_markdown(fakes, tmp_path)

    assert result.returncode == 0
    assert (tmp_path / "preview.md").read_text(encoding="utf-8") == (
        "<!-- pulumi-preview stack=dev -->\n## pulumi preview: stack `dev` passed\n\n"
        f"```text\n{policy_note(False)}+ pulumi:pulumi:Stack create\nResources:\n```\n"
    )


def test_preview_markdown_keeps_the_end_of_a_long_preview_within_the_comment_limit(
    fakes: Fakes, tmp_path: Path
) -> None:
    """A preview longer than a comment holds keeps its last 55000 bytes from a line start (the policy violations
    and the summary come last) and says how many lines are left out, so scripts/pr-comment.sh posts it whole,
    fence closed, instead of cutting it at 60000 bytes."""
    lines = "".join(f"    + azure-native:resources:Thing thing-{n:05d} create é\n" for n in range(2000))
    fakes.add("pulumi", "gh")
    fakes.answer("pulumi", ["preview"], stdout=lines + "Resources:\n    + 2000 to create\n")
    fakes.answer("gh", [COMMENTS, "--paginate"], stdout="[]")

    preview, _, _ = run_preview_markdown(fakes, tmp_path)
    written = (tmp_path / "preview.md").read_text(encoding="utf-8")
    kept = written.split("```text\n", 1)[1].removesuffix("```\n")
    comment = fakes.run([str(SCRIPTS / "pr-comment.sh"), "preview.md"], env=comment_env(), cwd=tmp_path)

    assert preview.returncode == 0
    assert len(kept.encode()) <= 55000
    assert kept.endswith("    + azure-native:resources:Thing thing-01999 create é\nResources:\n    + 2000 to create\n")
    assert kept.startswith("    + azure-native:resources:Thing thing-")
    left = 2000 + 3 - kept.count("\n")  # the policy-config note, the preview's lines and its summary
    assert written.startswith(
        "<!-- pulumi-preview stack=dev -->\n## pulumi preview: stack `dev` passed\n\n"
        f"_The first {left} lines of the preview are left out here; the job log has all of it._\n\n```text\n"
    )
    assert comment.returncode == 0
    assert list(fakes.calls("gh")[1].files.values()) == [written]


def test_preview_markdown_refuses_a_bad_stack_name_before_running_pulumi(fakes: Fakes, tmp_path: Path) -> None:
    fakes.add("pulumi")

    result = fakes.run([str(SCRIPTS / "preview-markdown.sh"), "dev;x", "preview.md"], cwd=tmp_path)

    assert (result.returncode, result.stderr) == (2, "preview-markdown: 'dev;x' is not a stack name\n")
    assert fakes.calls() == []
    assert not (tmp_path / "preview.md").exists()


ADO_ENV = {
    "PULUMI_BACKEND_URL": "azblob://pulumi-state?storage_account=stmaas0123456789",
    "PULUMI_VERSION": "3.272.0",
    "idToken": "oidc-test-token",
    "servicePrincipalId": "11111111-1111-1111-1111-111111111111",
    "tenantId": "22222222-2222-2222-2222-222222222222",
}


OPERATIONS = [
    ("preview", ["preview", "--diff"]),
    ("up", ["up", "--yes", "--diff", "--suppress-outputs"]),
    ("drift", ["preview", "--refresh", "--expect-no-changes", "--diff", "--suppress-outputs"]),
]
"""Each Pulumi operation of scripts/pulumi-stack.sh and its command, before --stack."""


def policy_args(config: bool) -> list[str]:
    """What every command that runs the pack adds for the stack `dev` when it has a policy config file."""
    return ["--policy-pack-config", "Pulumi.dev.policy.json"] if config else []


def with_policy_config(directory: Path, config: bool) -> None:
    """A project directory with `dev`'s policy config file (or without it), next to files that are not it."""
    (directory / "Pulumi.prod.policy.json").write_text("{}\n", encoding="utf-8")
    (directory / "Pulumi.dev.policy.yaml").write_text("{}\n", encoding="utf-8")
    if config:
        (directory / "Pulumi.dev.policy.json").write_text('{"all": "mandatory"}\n', encoding="utf-8")


@pytest.mark.parametrize("config", [False, True], ids=["no-policy-config", "policy-config"])
@pytest.mark.parametrize(("operation", "pulumi_args"), OPERATIONS)
def test_pulumi_ci_runs_one_operation_with_the_policy_pack(
    fakes: Fakes, tmp_path: Path, operation: str, pulumi_args: list[str], config: bool
) -> None:
    fakes.add("az", "pulumi", "uv", "curl")
    fakes.answer("az", ["account", "show"], stdout="33333333-3333-3333-3333-333333333333\n")
    fakes.answer("pulumi", ["version"], stdout="v3.272.0\n")
    arm = ("ARM_USE_OIDC", "ARM_OIDC_TOKEN", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID")
    with_policy_config(tmp_path, config)

    result = fakes.run([str(SCRIPTS / "pulumi-ci.sh"), operation, "dev"], env=ADO_ENV, record_env=arm, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert [c.argv for c in fakes.calls("pulumi")] == [
        ["version"],
        ["login", ADO_ENV["PULUMI_BACKEND_URL"]],
        [*pulumi_args, "--stack", "dev", "--policy-pack", "policies", *policy_args(config), "--non-interactive"],
    ]
    assert fakes.calls("pulumi")[-1].env == {
        "ARM_USE_OIDC": "true",
        "ARM_OIDC_TOKEN": "oidc-test-token",
        "ARM_CLIENT_ID": ADO_ENV["servicePrincipalId"],
        "ARM_TENANT_ID": ADO_ENV["tenantId"],
        "ARM_SUBSCRIPTION_ID": "33333333-3333-3333-3333-333333333333",
    }
    assert [c.argv[:2] for c in fakes.calls("uv")] == [["sync", "--locked"], ["venv", "--quiet"], ["pip", "install"]]
    assert fakes.calls("curl") == []
    assert "oidc-test-token" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "unset", "message"),
    [
        (["deploy", "dev"], None, "pulumi-ci: unknown operation 'deploy' (preview, up, drift or smoke)\n"),
        (["up", "dev;x"], None, "pulumi-ci: 'dev;x' is not a stack name\n"),
        (
            ["up", "dev"],
            "idToken",
            "pulumi-ci: no OIDC token: run this in AzureCLI@2 with addSpnToEnvironment: true and a workload "
            "identity federation connection\n",
        ),
        (
            ["up", "dev"],
            "PULUMI_BACKEND_URL",
            "pulumi-ci: PULUMI_BACKEND_URL is not set (azblob://<container>?storage_account=<account>)\n",
        ),
    ],
)
def test_pulumi_ci_refuses_before_running_anything(
    fakes: Fakes, tmp_path: Path, args: list[str], unset: str | None, message: str
) -> None:
    fakes.add("az", "pulumi", "uv", "curl")
    env = {k: v for k, v in ADO_ENV.items() if k != unset}

    result = fakes.run([str(SCRIPTS / "pulumi-ci.sh"), *args], env=env, cwd=tmp_path)

    assert (result.returncode, result.stderr) == (2, message)
    assert fakes.calls() == []


# --- the stack's policy config ---------------------------------------------------------------------------


def test_the_policy_config_file_is_named_as_the_program_names_it(tmp_path: Path) -> None:
    """scripts/policy-config.sh, the one place shell and YAML spell the name, finds exactly the file
    infra.engine.stack_files names for the stack (and prints nothing when it is absent)."""
    script = [str(SCRIPTS / "policy-config.sh"), "eu-west.2"]
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    expected = policy_config_path(tmp_path, "eu-west.2")

    absent = subprocess.run(script, cwd=tmp_path, capture_output=True, text=True, check=False)
    expected.write_text("{}\n", encoding="utf-8")
    present = subprocess.run(script, cwd=tmp_path, capture_output=True, text=True, check=False)

    assert (absent.returncode, absent.stdout, absent.stderr) == (
        0,
        "",
        "policy-config: no Pulumi.eu-west.2.policy.json: stack eu-west.2 runs the policy pack with its defaults\n",
    )
    assert (present.returncode, present.stdout, present.stderr) == (
        0,
        f"{expected.name}\n",
        "policy-config: stack eu-west.2 runs the policy pack with Pulumi.eu-west.2.policy.json\n",
    )
    assert POLICY_CONFIG_FILE.format(stack="dev") == "Pulumi.dev.policy.json"  # as the argv assertions spell it
    # The scripts look in the directory they run in, the repository root: this project keeps its stack files (and
    # so their policy configs) beside Pulumi.yaml, with no stackConfigDir.
    assert policy_config_path(ROOT, "dev") == ROOT / "Pulumi.dev.policy.json"


SPELLED = re.compile(r"Pulumi\.(?P<stack>[^\s.`'\"]+)\.policy\.json")
STACK_PLACEHOLDERS = {"${stack}": "{stack}", "<stack>": "{stack}"}


def test_every_place_that_spells_the_policy_config_name_agrees_with_the_program() -> None:
    """Workflows, pipeline, scripts and the GitOps docs cannot import POLICY_CONFIG_FILE: every spelling of the
    name in them, with its stack placeholder, is the constant; the only one that decides anything is the script's."""
    files = [
        *sorted((ROOT / ".github").rglob("*.yml")),
        ROOT / "azure-pipelines.yml",
        *sorted(SCRIPTS.glob("*.sh")),
        ROOT / "docs" / "gitops.md",
    ]
    spelled: dict[str, set[str]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.count("policy.json") == len(SPELLED.findall(text)), path.name
        for match in SPELLED.finditer(text):
            spelled.setdefault(path.name, set()).add(STACK_PLACEHOLDERS.get(match["stack"], match["stack"]))

    assert all(names == {"{stack}"} for names in spelled.values()), spelled
    assert {"policy-config.sh", "gitops.md", "deploy.yml", "drift.yml", "pull-request.yml"} <= set(spelled)
    lines = (SCRIPTS / "policy-config.sh").read_text(encoding="utf-8").splitlines()
    (code,) = (line for line in lines if "policy.json" in line and not line.startswith("#"))
    assert code == f'file="{POLICY_CONFIG_FILE.replace("{stack}", "${stack}")}"'


@pytest.mark.parametrize("config", [False, True], ids=["no-policy-config", "policy-config"])
def test_plan_markdown_passes_the_stacks_policy_config_when_it_has_one(
    fakes: Fakes, tmp_path: Path, config: bool
) -> None:
    fakes.add("uv")
    fakes.answer("uv", ["maas", "plan"], stdout="<!-- maas-plan stack=dev -->\n")
    with_policy_config(tmp_path, config)

    result = fakes.run([str(SCRIPTS / "plan-markdown.sh"), "dev", "plan.md"], cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert [c.argv for c in fakes.calls("uv")] == [
        ["run", "--locked", "maas", "plan", "--stack", "dev", "--format", "markdown", *policy_args(config)]
    ]


# --- the Pulumi command of each operation, and the drift check's wait for a lock ---------------------------

LOCK_ERROR = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the "
    "lock file with `pulumi cancel`.\n  azblob://pulumi-state/.pulumi/locks/organization/azure-maas/dev/"
    "3b5c.json: created by runner@fv-az123 (pid 4242) at 2026-12-01T05:23:09Z\n"
)
"""What the Blob backend prints when another update holds the stack (pkg/backend/diy/lock.go, checkForLock)."""
CLOUD_CONFLICT = "error: [409] Conflict: Another update is currently in progress.\n"
NO_CHANGES_EXPECTED = "error: no changes were expected but changes were proposed\n"


def retry_note(attempt: int, attempts: int = 4, wait: int = 0) -> str:
    return (
        f"pulumi-lock-retry: the stack is locked by another update (attempt {attempt} of {attempts}); "
        f"trying again in {wait} s\n"
    )


@pytest.mark.parametrize("config", [False, True], ids=["no-policy-config", "policy-config"])
@pytest.mark.parametrize(("operation", "pulumi_args"), OPERATIONS)
def test_pulumi_stack_runs_one_operation_with_the_pack_and_the_stacks_policy_config(
    fakes: Fakes, tmp_path: Path, operation: str, pulumi_args: list[str], config: bool
) -> None:
    """What the GitHub drift job runs after pulumi/actions installed the CLI (and pulumi-ci.sh on Azure
    Pipelines): the backend comes from PULUMI_BACKEND_URL, no login."""
    fakes.add("pulumi")
    with_policy_config(tmp_path, config)

    result = fakes.run([str(SCRIPTS / "pulumi-stack.sh"), operation, "dev"], cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert [c.argv for c in fakes.calls("pulumi")] == [
        [*pulumi_args, "--stack", "dev", "--policy-pack", "policies", *policy_args(config), "--non-interactive"]
    ]


@pytest.mark.parametrize(("operation", "calls"), [("drift", 3), ("preview", 1), ("up", 1)])
def test_only_the_drift_check_waits_for_a_locked_stack(
    fakes: Fakes, tmp_path: Path, operation: str, calls: int
) -> None:
    fakes.add("pulumi")
    fakes.answer("pulumi", ["--stack"], stderr=LOCK_ERROR, exit=255, times=2)

    result = fakes.run([str(SCRIPTS / "pulumi-stack.sh"), operation, "dev"], env={"LOCK_RETRY_WAIT": "0"}, cwd=tmp_path)

    assert result.returncode == (0 if operation == "drift" else 255)
    assert len(fakes.calls("pulumi")) == calls


@pytest.mark.parametrize(("locked", "message"), [(1, LOCK_ERROR), (3, LOCK_ERROR), (2, CLOUD_CONFLICT)])
def test_lock_retry_runs_pulumi_again_while_the_stack_is_locked(
    fakes: Fakes, tmp_path: Path, locked: int, message: str
) -> None:
    fakes.add("pulumi")
    fakes.answer("pulumi", ["preview"], stderr=message, exit=255, times=locked)
    fakes.answer("pulumi", ["preview"], stdout="Resources:\n    4 unchanged\n")

    result = fakes.run(
        [str(SCRIPTS / "pulumi-lock-retry.sh"), "preview", "--stack", "dev"],
        env={"LOCK_RETRY_WAIT": "0", "LOCK_RETRY_ATTEMPTS": "4"},
        cwd=tmp_path,
    )

    assert result.returncode == 0
    assert [c.argv for c in fakes.calls("pulumi")] == [["preview", "--stack", "dev"]] * (locked + 1)
    assert result.stdout == "Resources:\n    4 unchanged\n"
    assert result.stderr == "".join(message + retry_note(n) for n in range(1, locked + 1))


def test_lock_retry_gives_up_after_its_attempts_with_pulumis_exit_code(fakes: Fakes, tmp_path: Path) -> None:
    fakes.add("pulumi")
    fakes.answer("pulumi", ["preview"], stderr=LOCK_ERROR, exit=255)

    result = fakes.run(
        [str(SCRIPTS / "pulumi-lock-retry.sh"), "preview", "--stack", "dev"],
        env={"LOCK_RETRY_WAIT": "0", "LOCK_RETRY_ATTEMPTS": "4"},
        cwd=tmp_path,
    )

    assert result.returncode == 255
    assert len(fakes.calls("pulumi")) == 4
    assert result.stderr == "".join(LOCK_ERROR + retry_note(n) for n in range(1, 4)) + LOCK_ERROR + (
        "pulumi-lock-retry: the stack is still locked after 4 attempts 0 s apart; if no update is running, pulumi "
        "cancel removes a stale lock\n"
    )


@pytest.mark.parametrize(
    ("stdout", "stderr", "code"),
    [
        ("", NO_CHANGES_EXPECTED, 255),  # drift: the one failure the check exists for
        ("", "error: failed to load checkpoint: blob not found\n", 7),
        (LOCK_ERROR, "error: program failed\n", 255),  # the text on stdout (a program's log) is not a lock error
    ],
)
def test_lock_retry_never_retries_another_failure(
    fakes: Fakes, tmp_path: Path, stdout: str, stderr: str, code: int
) -> None:
    fakes.add("pulumi")
    fakes.answer("pulumi", ["preview"], stdout=stdout, stderr=stderr, exit=code)

    result = fakes.run(
        [str(SCRIPTS / "pulumi-lock-retry.sh"), "preview", "--stack", "dev"],
        env={"LOCK_RETRY_WAIT": "0", "LOCK_RETRY_ATTEMPTS": "4"},
        cwd=tmp_path,
    )

    assert (result.returncode, result.stdout, result.stderr) == (code, stdout, stderr)
    assert len(fakes.calls("pulumi")) == 1


def test_lock_retry_waits_30_seconds_between_20_attempts_by_default(fakes: Fakes, tmp_path: Path) -> None:
    """The defaults, with a stand-in `sleep` that returns at once: 19 waits of 30 s, 9.5 minutes at most."""
    fakes.add("pulumi", "sleep")
    fakes.answer("pulumi", ["preview"], stderr=LOCK_ERROR, exit=255)

    result = fakes.run([str(SCRIPTS / "pulumi-lock-retry.sh"), "preview"], cwd=tmp_path)

    assert result.returncode == 255
    assert len(fakes.calls("pulumi")) == 20
    assert [c.argv for c in fakes.calls("sleep")] == [["30"]] * 19
    assert retry_note(19, 20, 30) in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOCK_RETRY_ATTEMPTS": "0"}, "LOCK_RETRY_ATTEMPTS must be a positive whole number, got '0'"),
        ({"LOCK_RETRY_WAIT": "1.5"}, "LOCK_RETRY_WAIT must be a whole number of seconds, got '1.5'"),
    ],
)
def test_lock_retry_refuses_bad_settings_before_running_pulumi(
    fakes: Fakes, tmp_path: Path, env: dict[str, str], message: str
) -> None:
    fakes.add("pulumi")

    result = fakes.run([str(SCRIPTS / "pulumi-lock-retry.sh"), "preview"], env=env, cwd=tmp_path)

    assert (result.returncode, result.stderr) == (2, f"pulumi-lock-retry: {message}\n")
    assert fakes.calls() == []


# --- the smoke test after a deploy ------------------------------------------------------------------------

SMOKE_VERDICTS = {
    0: "passed: every endpoint and Foundry deployment answered",
    1: "failed: a check failed (the table in the log says which)",
    2: "failed: unreadable outputs, an invalid selection or a credential that would go elsewhere",
    3: "failed: internal failure",
}


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_deploy_smoke_runs_maas_smoke_and_fails_the_job_with_it(fakes: Fakes, tmp_path: Path, code: int) -> None:
    """maas smoke reads the outputs itself (no --outputs): the script sees only its exit code and its table."""
    fakes.add("uv")
    fakes.answer("uv", ["maas", "smoke"], stdout="smoke table\n", exit=code)
    summary = tmp_path / "summary"

    result = fakes.run([str(SCRIPTS / "deploy-smoke.sh"), "dev"], env={"GITHUB_STEP_SUMMARY": str(summary)})

    line = f"maas smoke --stack dev {SMOKE_VERDICTS[code]} (exit code {code})"
    assert [c.argv for c in fakes.calls("uv")] == [["run", "--locked", "maas", "smoke", "--stack", "dev"]]
    assert result.returncode == code
    assert summary.read_text(encoding="utf-8") == f"- {line}\n"
    assert result.stdout == "smoke table\n" + (f"::error title=maas smoke dev::{line}\n" if code else "")
    assert result.stderr == f"deploy-smoke: {line}\n"


def test_deploy_smoke_uploads_its_line_to_the_azure_pipelines_summary(fakes: Fakes, tmp_path: Path) -> None:
    fakes.add("uv")
    fakes.answer("uv", ["maas", "smoke"], exit=1)

    result = fakes.run(
        [str(SCRIPTS / "deploy-smoke.sh"), "dev"], env={"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": str(tmp_path)}
    )

    line = f"maas smoke --stack dev {SMOKE_VERDICTS[1]} (exit code 1)"
    assert result.returncode == 1
    assert (tmp_path / "smoke-dev.md").read_text(encoding="utf-8") == f"- {line}\n"
    assert result.stdout == (
        f"##vso[task.uploadsummary]{tmp_path / 'smoke-dev.md'}\n##vso[task.logissue type=error]{line}\n"
    )


def test_pulumi_ci_smoke_signs_in_to_the_backend_and_runs_maas_smoke(fakes: Fakes, tmp_path: Path) -> None:
    """The deploy job's second AzureCLI@2 task (a new Azure CLI sign-in): the CLI an earlier task installed, the
    program's environment (not the pack's), the backend, then scripts/deploy-smoke.sh."""
    fakes.add("az", "pulumi", "uv", "curl")
    fakes.answer("az", ["account", "show"], stdout="33333333-3333-3333-3333-333333333333\n")
    fakes.answer("pulumi", ["version"], stdout="v3.272.0\n")

    result = fakes.run([str(SCRIPTS / "pulumi-ci.sh"), "smoke", "dev"], env=ADO_ENV, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert [c.argv for c in fakes.calls("pulumi")] == [["version"], ["login", ADO_ENV["PULUMI_BACKEND_URL"]]]
    assert [c.argv for c in fakes.calls("uv")] == [
        ["sync", "--locked"],
        ["run", "--locked", "maas", "smoke", "--stack", "dev"],
    ]
    assert "oidc-test-token" not in result.stdout + result.stderr


# --- the bootstrap ---------------------------------------------------------------------------------------

SUBSCRIPTION = "44444444-4444-4444-4444-444444444444"
RG_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-maas-dev"
STATE_RG_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-maas-state"
STATE = f"{STATE_RG_ID}/providers"
STORAGE_ID = f"{STATE}/Microsoft.Storage/storageAccounts/stmaastest"
VAULT_ID = f"{STATE}/Microsoft.KeyVault/vaults/kv-maas-test"
CONTAINER_ID = f"{STORAGE_ID}/blobServices/default/containers/pulumi-state"
KEY_ID = f"{VAULT_ID}/keys/pulumi-secrets"
ME = "66666666-6666-6666-6666-666666666666"
DEPLOY_PRINCIPAL = "77777777-7777-4777-8777-777777777777"
PREVIEW_PRINCIPAL = "88888888-8888-4888-8888-888888888888"
RBAC_ADMIN = "Role Based Access Control Administrator"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
ADO_ISSUER = "https://vstoken.dev.azure.com/0a1b2c3d-0000-4000-8000-000000000000"

# A sample stack set: `dev` grants the built-in Azure AI Developer to a group and the least-privilege
# `deployer` roles (the custom roles the bootstrap creates, named in azure-maas:deployerRoles) to a service
# principal; `prod` grants a built-in role by GUID (Reader, written in upper case) to a group on one workspace.
# No stack grants anything to a user.
DEPLOYER_ROLES = {
    # The bootstrap's deployer role GUIDs for SUBSCRIPTION and octo/maas (UUIDv5 of deployer-role, the
    # subscription, the repository and the role key; infra/bootstrap.py), pinned here.
    "marketplace": "6a2f9a2a-b8a9-5f37-9e91-0b594555283f",
    "saas": "468bdbd7-56f3-5810-ba5b-287f47920d60",
    "serverless": "575fc52f-dda8-554b-9ff6-db47d3cd97e8",
    "foundry": "50aabd71-0405-5b0d-987d-a59735824817",
}
DEPLOYER_ROLES_CONFIG = "".join(f"    {key}: {guid}\n" for key, guid in DEPLOYER_ROLES.items())
DEV_STACK = (
    """\
config:
  azure-maas:location: eastus2
  azure-maas:resourceGroup:
    name: rg-maas-dev
    create: false
  azure-maas:hub:
    name: hub-maas-dev
  azure-maas:workspaces:
    - name: proj-chat
      kind: project
      deployments:
        - name: chat-small
          model: mistral-small-2503
  azure-maas:access:
    - principalId: 3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c
      principalType: Group
      role: developer
    - principalId: 7c9e6679-7425-40de-944b-e07fc1f90ae7
      principalType: ServicePrincipal
      role: deployer
  azure-maas:deployerRoles:
"""
    + DEPLOYER_ROLES_CONFIG
)
PROD_STACK = """\
config:
  azure-maas:location: eastus2
  azure-maas:resourceGroup:
    name: rg-maas-dev
    create: false
  azure-maas:workspaces:
    - name: ws-prod
      kind: workspace
      deployments:
        - name: prod-small
          model: mistral-small-2503
  azure-maas:access:
    - principalId: a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d
      principalType: Group
      role: ACDD72A7-3385-48EF-BD42-F606FBA81AE7
      scope: ws-prod
"""
RG_ROLES = (
    "468bdbd7-56f3-5810-ba5b-287f47920d60, 575fc52f-dda8-554b-9ff6-db47d3cd97e8, "
    "64702f94-c441-49e6-a78b-ef80e0188fee, acdd72a7-3385-48ef-bd42-f606fba81ae7"
)


def condition(roles: str, types: str) -> str:
    """The allow-list condition of one RBAC Administrator assignment of the deploy identity."""
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{roles}}}"
        " AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
        f"{{{types}}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] "
        f"ForAnyOfAllValues:GuidNotEquals {{{DEPLOY_PRINCIPAL}, {PREVIEW_PRINCIPAL}}})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{roles}}}"
        " AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
        f"{{{types}}} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalId] "
        f"ForAnyOfAllValues:GuidNotEquals {{{DEPLOY_PRINCIPAL}, {PREVIEW_PRINCIPAL}}}))"
    )


SUBSCRIPTION_CONDITION = condition(DEPLOYER_ROLES["marketplace"], "'ServicePrincipal'")
"""At the subscription the deploy identity may grant only the Marketplace Subscriber deployer role (the one role
the program assigns there), to the principal types that `deployer` entries use."""
RG_CONDITION = condition(RG_ROLES, "'Group', 'ServicePrincipal'")
"""In the stacks' resource group: the sample stacks' four other role definitions, to the two principal types they
use. Neither condition allows granting to the pipeline identities themselves."""


def write_project(directory: Path, stacks: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "Pulumi.yaml", directory / "Pulumi.yaml")
    for name, text in stacks.items():
        (directory / f"Pulumi.{name}.yaml").write_text(text, encoding="utf-8")
    return directory


OUTSIDE_WS = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-prod"
)
"""An existing workspace outside the stacks' resource group."""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", {"dev": DEV_STACK, "prod": PROD_STACK})


def bootstrap_args(project: Path, *extra: str) -> list[str]:
    return [
        str(SCRIPTS / "bootstrap.sh"),
        "--repo",
        "octo/maas",
        "--subscription",
        SUBSCRIPTION,
        "--location",
        "eastus2",
        "--deploy-resource-group",
        "rg-maas-dev",
        "--stacks",
        "dev,prod",
        "--storage-account",
        "stmaastest",
        "--key-vault",
        "kv-maas-test",
        "--project-dir",
        str(project),
        *extra,
    ]


def bootstrap_facts(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``python -m infra.cli.bootstrap ARGV``, in process: exit code, stdout, stderr."""
    try:
        code = bootstrap.main(list(argv))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def condition_args(project: Path, stacks: str = "dev,prod", at: str = "resourceGroup") -> list[str]:
    return [
        "rbac-condition",
        "--at",
        at,
        "--subscription",
        SUBSCRIPTION,
        "--resource-group",
        "rg-maas-dev",
        "--repo",
        "octo/maas",
        "--project-dir",
        str(project),
        "--stacks",
        stacks,
        "--deploy-principal",
        DEPLOY_PRINCIPAL,
        "--exclude-principal",
        PREVIEW_PRINCIPAL,
    ]


def test_rbac_condition_allows_exactly_the_roles_and_principal_types_the_stacks_use(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Condition syntax 2.0 as Microsoft documents it for delegating role assignment management: an allow-list
    for write (@Request) and delete (@Resource), not a deny-list of a few privileged roles. Conditions cannot
    test the scope, so there are two: at the subscription only the Marketplace Subscriber role, in the stacks'
    resource group everything else."""
    assert bootstrap_facts(capsys, *condition_args(project, at="subscription")) == (
        0,
        SUBSCRIPTION_CONDITION + "\n",
        "",
    )
    assert bootstrap_facts(capsys, *condition_args(project)) == (0, RG_CONDITION + "\n", "")


def test_the_condition_names_the_deployer_roles_the_bootstrap_creates(project: Path) -> None:
    """The deployer GUIDs the conditions allow are the bootstrap's own roles, which the stack names in
    azure-maas:deployerRoles and the program assigns."""
    allowed = bootstrap.stack_grants(
        project, "dev", subscription_id=SUBSCRIPTION, resource_group="rg-maas-dev", repo="octo/maas"
    )

    assert sorted((g.role, g.principal_type, g.deployer_role, g.at) for g in allowed) == sorted(
        [
            (DEPLOYER_ROLES["marketplace"], "ServicePrincipal", "marketplace", "subscription"),
            (DEPLOYER_ROLES["saas"], "ServicePrincipal", "saas", "resourceGroup"),
            (DEPLOYER_ROLES["serverless"], "ServicePrincipal", "serverless", "resourceGroup"),
            ("64702f94-c441-49e6-a78b-ef80e0188fee", "Group", None, "resourceGroup"),
        ]
    )
    assert bootstrap.deployer_role_guids(SUBSCRIPTION, "octo/maas") == DEPLOYER_ROLES
    assert set(bootstrap.deployer_role_definitions(SUBSCRIPTION, "rg-maas-dev", "octo/maas")) == set(
        DEPLOYER_ROLES.values()
    )


def test_stacks_that_grant_nothing_give_the_deploy_identity_no_role_assignment_rights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_access = DEV_STACK[: DEV_STACK.index("  azure-maas:access:")]
    project = write_project(tmp_path / "p", {"dev": no_access, "prod": no_access})

    assert bootstrap_facts(capsys, *condition_args(project)) == (0, "\n", "")
    assert bootstrap_facts(capsys, *condition_args(project, at="subscription")) == (0, "\n", "")


@pytest.mark.parametrize(
    ("stacks", "message"),
    [
        (
            {"dev": DEV_STACK},
            "bootstrap: Pulumi.prod.yaml not found in {dir}: create the stack file first; the bootstrap reads "
            "its azure-maas:access to decide which roles the deploy identity may grant\n",
        ),
        (
            {"dev": DEV_STACK, "prod": PROD_STACK.replace("ACDD72A7-3385-48EF-BD42-F606FBA81AE7", "Owner")},
            "bootstrap: Pulumi.prod.yaml: invalid stack config (uv run maas plan --stack prod lists every problem): "
            "azure-maas:access[0].role: 'Owner' is not a role: use 'developer' (built-in Azure AI Developer), "
            "'deployer' (least-privilege custom roles) or a role definition GUID\n",
        ),
        (
            {
                "dev": DEV_STACK,
                "prod": PROD_STACK.replace(
                    "ACDD72A7-3385-48EF-BD42-F606FBA81AE7", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
                ),
            },
            "bootstrap: Pulumi.prod.yaml: azure-maas:access[0].role: Owner (8e3af657-a8ff-443c-a75c-2fe8c4bcb635) "
            "is privileged; the deploy identity is never allowed to grant it\n",
        ),
        (
            {"dev": DEV_STACK, "prod": PROD_STACK.replace("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", PREVIEW_PRINCIPAL)},
            f"bootstrap: Pulumi.prod.yaml: azure-maas:access[0].principalId: {PREVIEW_PRINCIPAL} is a pipeline "
            "identity that no stack may grant a role (only the deploy identity, and only 'developer'): remove the "
            "entry\n",
        ),
        (
            {"dev": DEV_STACK, "prod": PROD_STACK.replace("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", DEPLOY_PRINCIPAL)},
            "bootstrap: Pulumi.prod.yaml: azure-maas:access[0].role: 'acdd72a7-3385-48ef-bd42-f606fba81ae7' for the "
            f"deploy identity ({DEPLOY_PRINCIPAL}): a stack may grant it only 'developer', the data-plane role its "
            "smoke test after each deploy needs\n",
        ),
        (
            {"dev": DEV_STACK.replace("7c9e6679-7425-40de-944b-e07fc1f90ae7", DEPLOY_PRINCIPAL), "prod": PROD_STACK},
            "bootstrap: Pulumi.dev.yaml: azure-maas:access[1].role: 'deployer' for the deploy identity "
            f"({DEPLOY_PRINCIPAL}): a stack may grant it only 'developer', the data-plane role its smoke test after "
            "each deploy needs\n",
        ),
        (
            {"dev": DEV_STACK.replace("3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c", DEPLOY_PRINCIPAL), "prod": PROD_STACK},
            "bootstrap: Pulumi.dev.yaml: azure-maas:access[0].principalType: 'Group' for the deploy identity "
            f"({DEPLOY_PRINCIPAL}), a managed identity: use 'ServicePrincipal'\n",
        ),
        (
            {"dev": DEV_STACK[: DEV_STACK.index("  azure-maas:deployerRoles:")], "prod": PROD_STACK},
            "bootstrap: Pulumi.dev.yaml: azure-maas:access[1].role: 'deployer' needs azure-maas:deployerRoles (the "
            "deploy identity cannot create role definitions): add azure-maas:deployerRoles: {marketplace: "
            "6a2f9a2a-b8a9-5f37-9e91-0b594555283f, saas: 468bdbd7-56f3-5810-ba5b-287f47920d60, serverless: "
            "575fc52f-dda8-554b-9ff6-db47d3cd97e8, foundry: 50aabd71-0405-5b0d-987d-a59735824817}\n",
        ),
        (
            {
                "dev": DEV_STACK.replace(DEPLOYER_ROLES["saas"], "0fc6114f-d1ba-5963-b15f-5d7deed1e9db"),
                "prod": PROD_STACK,
            },
            "bootstrap: Pulumi.dev.yaml: azure-maas:deployerRoles.saas: 0fc6114f-d1ba-5963-b15f-5d7deed1e9db is not "
            "the bootstrap's azure-maas SaaS Resource Writer role (468bdbd7-56f3-5810-ba5b-287f47920d60); set "
            "azure-maas:deployerRoles to {marketplace: 6a2f9a2a-b8a9-5f37-9e91-0b594555283f, saas: "
            "468bdbd7-56f3-5810-ba5b-287f47920d60, serverless: 575fc52f-dda8-554b-9ff6-db47d3cd97e8, foundry: "
            "50aabd71-0405-5b0d-987d-a59735824817}\n",
        ),
        (
            {
                "dev": DEV_STACK,
                "prod": PROD_STACK.replace("kind: workspace", f"kind: existing\n      id: {OUTSIDE_WS}"),
            },
            f"bootstrap: Pulumi.prod.yaml: azure-maas:access[0]: assigns a role at workspace 'ws-prod' ({OUTSIDE_WS}), "
            "outside --deploy-resource-group 'rg-maas-dev', the only group where the deploy identity may grant roles\n",
        ),
        (
            {"dev": DEV_STACK, "prod": PROD_STACK.replace("name: rg-maas-dev", "name: rg-other")},
            "bootstrap: Pulumi.prod.yaml: the stack deploys to resource group 'rg-other', but "
            "--deploy-resource-group is 'rg-maas-dev', the only group the deploy identity may change\n",
        ),
    ],
)
def test_rbac_condition_refuses_stacks_it_cannot_delegate_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stacks: dict[str, str], message: str
) -> None:
    project = write_project(tmp_path / "p", stacks)

    assert bootstrap_facts(capsys, *condition_args(project)) == (2, "", message.replace("{dir}", str(project)))


AI_DEVELOPER = "64702f94-c441-49e6-a78b-ef80e0188fee"
FOUNDRY_USER = "53ca6127-db72-4b80-b1b0-d745d6d5456d"
DEPLOY_DEVELOPER = f"""\
    - principalId: {DEPLOY_PRINCIPAL}
      principalType: ServicePrincipal
      role: developer
"""
"""An access entry that grants the deploy identity its data-plane role on the resource group (Azure AI Developer),
what `maas smoke` needs after a deploy for the dev stack's hub project."""
DEV_WITH_DEPLOY = DEV_STACK.replace("  azure-maas:access:\n", "  azure-maas:access:\n" + DEPLOY_DEVELOPER)
FOUNDRY_STACK = f"""\
config:
  azure-maas:location: eastus2
  azure-maas:resourceGroup:
    name: rg-maas-dev
    create: false
  azure-maas:foundries:
    - name: fdy-maas-dev
      projects:
        - name: proj-docs
      deployments:
        - name: mistral-medium
          model: mistral-medium-2505
  azure-maas:access:
    - principalId: {DEPLOY_PRINCIPAL}
      principalType: ServicePrincipal
      role: developer
      scope: fdy-maas-dev/proj-docs
"""
"""A Foundry stack that grants the deploy identity only its data-plane role on a project (Foundry User)."""


def deploy_branch(source: str, roles: str) -> str:
    attribute = f"@{source}[Microsoft.Authorization/roleAssignments:"
    return (
        f"({attribute}PrincipalId] ForAnyOfAnyValues:GuidEquals {{{DEPLOY_PRINCIPAL}}} AND "
        f"{attribute}RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{roles}}})"
    )


def with_deploy_branch(condition_text: str, roles: str) -> str:
    """``condition_text`` with the deploy identity's own branch OR-ed into each action's half."""
    split = " AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}))"
    write, delete = condition_text.split(split)
    return (
        f"{write[:-1]} OR {deploy_branch('Request', roles)}){split}{delete[:-1]} OR {deploy_branch('Resource', roles)})"
    )


def test_a_stack_may_grant_the_deploy_identity_its_developer_role_and_the_condition_allows_only_that(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`developer` is Azure AI Developer at the resource group (dev) and Foundry User at a Foundry project
    (foundry): the deploy identity may assign itself exactly those, through a branch of its own; every other role
    still excludes both pipeline identities, and the subscription's condition does not change."""
    project = write_project(tmp_path / "p", {"dev": DEV_WITH_DEPLOY, "prod": PROD_STACK, "foundry": FOUNDRY_STACK})
    stacks = "dev,prod,foundry"

    assert bootstrap_facts(capsys, *condition_args(project, stacks)) == (
        0,
        with_deploy_branch(RG_CONDITION, f"{FOUNDRY_USER}, {AI_DEVELOPER}") + "\n",
        "",
    )
    assert bootstrap_facts(capsys, *condition_args(project, stacks, at="subscription")) == (
        0,
        SUBSCRIPTION_CONDITION + "\n",
        "",
    )
    check = ["check-stacks", *condition_args(project, stacks)[3:]]
    assert bootstrap_facts(capsys, *check) == (
        0,
        "dev: Azure AI Developer and 3 deployer roles, to Group and ServicePrincipal; to the deploy identity: "
        "Azure AI Developer\nprod: acdd72a7-3385-48ef-bd42-f606fba81ae7, to Group\n"
        "foundry: to the deploy identity: Foundry User\n",
        "",
    )


def test_a_condition_for_the_deploy_identitys_developer_role_alone(tmp_path: Path) -> None:
    grants = bootstrap.stack_grants(
        write_project(tmp_path / "p", {"foundry": FOUNDRY_STACK}),
        "foundry",
        subscription_id=SUBSCRIPTION,
        resource_group="rg-maas-dev",
        repo="octo/maas",
        excluded=[PREVIEW_PRINCIPAL],
        deploy_principal=DEPLOY_PRINCIPAL.upper(),
    )

    assert grants == {bootstrap.Grant(FOUNDRY_USER, "ServicePrincipal", None, "resourceGroup", DEPLOY_PRINCIPAL)}
    assert bootstrap.rbac_condition(grants, [PREVIEW_PRINCIPAL], DEPLOY_PRINCIPAL) == (
        f"((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})) OR {deploy_branch('Request', FOUNDRY_USER)})"
        f" AND ((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/delete'}})) OR "
        f"{deploy_branch('Resource', FOUNDRY_USER)})"
    )
    with pytest.raises(ValueError, match="a grant to a pipeline identity other than the deploy identity"):
        bootstrap.rbac_condition(grants, [DEPLOY_PRINCIPAL], PREVIEW_PRINCIPAL)


def test_bootstrap_tells_the_condition_which_pipeline_identity_is_the_deploy_identity(
    fakes: Fakes, tmp_path: Path
) -> None:
    """scripts/bootstrap.sh passes the deploy identity as --deploy-principal and the preview identity as
    --exclude-principal, so a stack's `developer` grant to the deploy identity reaches its condition."""
    project = write_project(tmp_path / "p", {"dev": DEV_WITH_DEPLOY, "prod": PROD_STACK})
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run(bootstrap_args(project), cwd=ROOT)

    assert result.returncode == 0, result.stderr
    found = assignments(fakes)
    assert found[(DEPLOY_PRINCIPAL, RBAC_ADMIN, RG_ID)] == with_deploy_branch(RG_CONDITION, AI_DEVELOPER)
    assert found[(DEPLOY_PRINCIPAL, RBAC_ADMIN, f"/subscriptions/{SUBSCRIPTION}")] == SUBSCRIPTION_CONDITION
    facts_calls = [c.argv for c in fakes.calls("uv") if "rbac-condition" in c.argv]
    assert [a[a.index("--deploy-principal") :] for a in facts_calls] == [
        ["--deploy-principal", DEPLOY_PRINCIPAL, "--exclude-principal", PREVIEW_PRINCIPAL]
    ] * 2


def test_pipeline_role_definitions() -> None:
    """The custom roles the bootstrap hands to az, exactly (the role lists come from infra/roles.py)."""
    assert bootstrap.deploy_role(SUBSCRIPTION, "d")["Actions"] == [
        "Microsoft.MarketplaceOrdering/agreements/offers/plans/read",
        "Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action",
        "Microsoft.MarketplaceOrdering/offerTypes/publishers/offers/plans/agreements/read",
        "Microsoft.Marketplace/offerTypes/publishers/offers/plans/agreements/read",
        "Microsoft.SaaS/register/action",
    ]
    assert bootstrap.deploy_role(SUBSCRIPTION, "d") == {
        "Name": "d",
        "IsCustom": True,
        "Description": "azure-maas deploy pipeline: subscribe workspaces to Marketplace model offers.",
        "Actions": [
            "Microsoft.MarketplaceOrdering/agreements/offers/plans/read",
            "Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action",
            "Microsoft.MarketplaceOrdering/offerTypes/publishers/offers/plans/agreements/read",
            "Microsoft.Marketplace/offerTypes/publishers/offers/plans/agreements/read",
            "Microsoft.SaaS/register/action",
        ],
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": [f"/subscriptions/{SUBSCRIPTION}"],
    }
    assert bootstrap.deployer_role_definitions(SUBSCRIPTION, "rg-maas-dev", "octo/maas") == DEPLOYER_ROLE_DEFINITIONS
    assert bootstrap.preview_role(RG_ID, "p") == {
        "Name": "p",
        "IsCustom": True,
        "Description": "azure-maas preview pipeline: read serverless endpoint keys during pulumi preview.",
        "Actions": ["Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/listKeys/action"],
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": [RG_ID],
    }
    assert bootstrap.decrypt_role(STATE_RG_ID, "k") == {
        "Name": "k",
        "IsCustom": True,
        "Description": "azure-maas preview pipeline: decrypt a stack's data key with the Key Vault key "
        "(no encrypt, wrap, unwrap or sign).",
        "Actions": [],
        "NotActions": [],
        "DataActions": ["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/decrypt/action"],
        "NotDataActions": [],
        "AssignableScopes": [STATE_RG_ID],
    }


def role_permissions(*actions: str) -> list[dict[str, list[str]]]:
    return [{"actions": list(actions), "notActions": [], "dataActions": [], "notDataActions": []}]


DEPLOYER_ROLE_DEFINITIONS = {
    DEPLOYER_ROLES["marketplace"]: {
        "properties": {
            "roleName": "azure-maas Marketplace Subscriber (octo/maas)",
            "description": "Subscribe a workspace or project to a model's Azure Marketplace offer (granted at the "
            "subscription).",
            "type": "CustomRole",
            "permissions": role_permissions(
                "Microsoft.MarketplaceOrdering/agreements/offers/plans/read",
                "Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action",
                "Microsoft.MarketplaceOrdering/offerTypes/publishers/offers/plans/agreements/read",
                "Microsoft.Marketplace/offerTypes/publishers/offers/plans/agreements/read",
                "Microsoft.SaaS/register/action",
            ),
            "assignableScopes": [f"/subscriptions/{SUBSCRIPTION}"],
        }
    },
    DEPLOYER_ROLES["saas"]: {
        "properties": {
            "roleName": "azure-maas SaaS Resource Writer (octo/maas)",
            "description": "Create the SaaS resource of a model subscription (granted at the resource group).",
            "type": "CustomRole",
            "permissions": role_permissions("Microsoft.SaaS/resources/read", "Microsoft.SaaS/resources/write"),
            "assignableScopes": [RG_ID],
        }
    },
    DEPLOYER_ROLES["serverless"]: {
        "properties": {
            "roleName": "azure-maas Serverless Deployer (octo/maas)",
            "description": "Manage marketplace model subscriptions and serverless endpoints (granted at each "
            "workspace).",
            "type": "CustomRole",
            "permissions": role_permissions(
                "Microsoft.MachineLearningServices/workspaces/marketplaceModelSubscriptions/*",
                "Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/*",
            ),
            "assignableScopes": [RG_ID],
        }
    },
    DEPLOYER_ROLES["foundry"]: {
        "properties": {
            "roleName": "azure-maas Foundry Deployer (octo/maas)",
            "description": "Manage model deployments and content filters of a Foundry resource (granted at each "
            "Foundry resource).",
            "type": "CustomRole",
            "permissions": role_permissions(
                "Microsoft.CognitiveServices/accounts/read",
                "Microsoft.CognitiveServices/accounts/deployments/*",
                "Microsoft.CognitiveServices/accounts/raiPolicies/*",
            ),
            "assignableScopes": [RG_ID],
        }
    },
}
"""The three `deployer` roles the bootstrap PUTs, by GUID, exactly (the action lists come from infra/roles.py)."""

PIPELINE_VARIABLES = {
    "AZURE_TENANT_ID": "55555555-5555-5555-5555-555555555555",
    "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
    "AZURE_DEPLOY_CLIENT_ID": "client-7",
    "AZURE_PREVIEW_CLIENT_ID": "client-8",
    "PULUMI_BACKEND_URL": "azblob://pulumi-state?storage_account=stmaastest",
}
"""What the bootstrap prints for the fakes below, and sets with --github."""


def rbac_assignment(condition: str, scope: str = f"/subscriptions/{SUBSCRIPTION}") -> dict[str, Any]:
    """One of the deploy identity's RBAC Administrator assignments as ``az role assignment list`` shows it."""
    name = "9d0f8a3c-1111-4222-8333-444455556666" if scope == RG_ID else "9d0f8a3c-1111-4222-8333-444455557777"
    return {
        "condition": condition,
        "conditionVersion": "2.0",
        "description": None,
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "principalId": DEPLOY_PRINCIPAL,
        "principalType": "ServicePrincipal",
        "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        "scope": scope,
        "type": "Microsoft.Authorization/roleAssignments",
    }


def bootstrap_fakes(
    fakes: Fakes, *, existing: bool, conditions: tuple[str, str] = (SUBSCRIPTION_CONDITION, RG_CONDITION)
) -> None:
    """``existing``: everything exists already; the RBAC Administrator assignments at the subscription and at the
    stacks' resource group then have ``conditions``."""
    fakes.add("az", "uv")
    fakes.answer("uv", ["run", "python", "-m", "infra.cli.bootstrap"], exec=[sys.executable], skip=4)
    fakes.answer("az", ["storage", "account", "show"], stdout=STORAGE_ID + "\n")
    fakes.answer("az", ["account", "show"], stdout="55555555-5555-5555-5555-555555555555\n")
    fakes.answer("az", ["ad", "signed-in-user"], stdout=ME + "\n")
    fakes.answer("az", ["group", "show", "rg-maas-state"], stdout=STATE_RG_ID + "\n")
    fakes.answer("az", ["group", "show"], stdout=RG_ID + "\n")
    fakes.answer("az", ["keyvault", "show", "--query"], stdout=VAULT_ID + "\n")
    fakes.answer("az", ["keyvault", "show"], exit=0 if existing else 3)
    fakes.answer("az", ["keyvault", "key", "show"], exit=0 if existing else 3)
    for name, number, principal in (
        ("id-maas-deploy", "7", DEPLOY_PRINCIPAL),
        ("id-maas-preview", "8", PREVIEW_PRINCIPAL),
    ):
        fakes.answer("az", ["identity", "show", name, "clientId"], stdout=f"client-{number}\n")
        fakes.answer("az", ["identity", "show", name, "principalId"], stdout=f"{principal}\n")
    if existing:
        for scope, condition in zip((f"/subscriptions/{SUBSCRIPTION}", RG_ID), conditions, strict=True):
            assignment = json.dumps(rbac_assignment(condition, scope), indent=2)
            fakes.answer("az", ["role", "assignment", "list", RBAC_ADMIN, scope], stdout=assignment + "\n")
        fakes.answer("az", ["role", "assignment", "list"], stdout="/some/assignment\n")
        fakes.answer("az", ["role", "definition", "list"], stdout="/some/definition\n")
        fakes.answer("az", ["federated-credential", "list"], stdout="existing\n")


def assignments(fakes: Fakes) -> dict[tuple[str, str, str], str | None]:
    """Every role assignment the bootstrap created: (principal, role, scope) to its condition."""
    found = {}
    for call in fakes.calls("az"):
        if call.argv[:3] == ["role", "assignment", "create"]:
            args = dict(zip(call.argv[3::2], call.argv[4::2], strict=False))
            key = (args["--assignee-object-id"], args["--role"], args["--scope"])
            found[key] = args.get("--condition")
            assert args.get("--condition-version") == ("2.0" if "--condition" in args else None)
    return found


def created_role_definitions(fakes: Fakes) -> list[dict[str, Any]]:
    return [
        json.loads(text)
        for c in fakes.calls("az")
        if c.argv[:3] == ["role", "definition", "create"]
        for text in c.files.values()
    ]


def put_role_definitions(fakes: Fakes) -> dict[str, dict[str, Any]]:
    """The role definitions the bootstrap PUT with ``az rest``, by GUID (from the URL)."""
    found = {}
    for call in fakes.calls("az"):
        if call.argv[:3] == ["rest", "--method", "put"]:
            url = call.argv[call.argv.index("--url") + 1]
            prefix = f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/"
            assert url.startswith(f"{prefix}roleDefinitions/"), url
            assert url.endswith("?api-version=2022-04-01"), url
            (body,) = call.files.values()
            found[url.removeprefix(f"{prefix}roleDefinitions/").split("?")[0]] = json.loads(body)
    return found


def federated_credentials(fakes: Fakes) -> set[tuple[str, str, str, str]]:
    """(identity, credential name, issuer, subject) of every federated credential the bootstrap created."""
    return {
        (
            a[a.index("--identity-name") + 1],
            a[a.index("--name") + 1],
            a[a.index("--issuer") + 1],
            a[a.index("--subject") + 1],
        )
        for a in (c.argv for c in fakes.calls("az"))
        if a[:3] == ["identity", "federated-credential", "create"]
    }


ADO_OPTIONS = [
    "--azure-devops-issuer",
    ADO_ISSUER,
    "--azure-devops-subject",
    "sc://octo/maas/azure-maas",
    "--azure-devops-preview-subject",
    "sc://octo/maas/azure-maas-preview",
]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Fakes, subprocess.CompletedProcess[str]]:
    """One bootstrap of an empty subscription with every Azure option (GitHub and Azure DevOps trusted), shared
    by the tests that read what it created."""
    root = tmp_path_factory.mktemp("first-run")
    project = write_project(root / "project", {"dev": DEV_STACK, "prod": PROD_STACK})
    fakes = Fakes(root / "fakes")
    bootstrap_fakes(fakes, existing=False)
    result = fakes.run(bootstrap_args(project, *ADO_OPTIONS), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return fakes, result


def test_bootstrap_creates_state_secrets_identities_and_their_roles(
    first_run: tuple[Fakes, subprocess.CompletedProcess[str]],
) -> None:
    fakes, result = first_run
    az = [c.argv for c in fakes.calls("az")]
    storage = next(a for a in az if a[:3] == ["storage", "account", "create"])
    for flag, value in (
        ("--allow-shared-key-access", "false"),
        ("--allow-blob-public-access", "false"),
        ("--min-tls-version", "TLS1_2"),
        ("--https-only", "true"),
    ):
        assert storage[storage.index(flag) + 1] == value
    blob = next(a for a in az if a[:3] == ["storage", "account", "blob-service-properties"])
    assert blob[blob.index("--enable-versioning") + 1] == "true"
    vault = next(a for a in az if a[:2] == ["keyvault", "create"])
    assert vault[vault.index("--enable-rbac-authorization") + 1] == "true"
    assert vault[vault.index("--enable-purge-protection") + 1] == "true"
    assert any(a[:3] == ["keyvault", "key", "create"] for a in az)

    assert federated_credentials(fakes) == {
        ("id-maas-deploy", "github-environment-dev", GITHUB_ISSUER, "repo:octo/maas:environment:dev"),
        ("id-maas-deploy", "github-environment-prod", GITHUB_ISSUER, "repo:octo/maas:environment:prod"),
        ("id-maas-preview", "github-pull-request", GITHUB_ISSUER, "repo:octo/maas:pull_request"),
        ("id-maas-preview", "github-branch-main", GITHUB_ISSUER, "repo:octo/maas:ref:refs/heads/main"),
        ("id-maas-deploy", "azure-devops", ADO_ISSUER, "sc://octo/maas/azure-maas"),
        ("id-maas-preview", "azure-devops-preview", ADO_ISSUER, "sc://octo/maas/azure-maas-preview"),
    }
    subscription = f"/subscriptions/{SUBSCRIPTION}"
    assert assignments(fakes) == {
        (ME, "Key Vault Crypto Officer", VAULT_ID): None,
        (DEPLOY_PRINCIPAL, "Storage Blob Data Contributor", CONTAINER_ID): None,
        (DEPLOY_PRINCIPAL, "Key Vault Crypto User", KEY_ID): None,
        (DEPLOY_PRINCIPAL, "Contributor", RG_ID): None,
        (DEPLOY_PRINCIPAL, "azure-maas deploy (octo/maas)", subscription): None,
        (DEPLOY_PRINCIPAL, RBAC_ADMIN, subscription): SUBSCRIPTION_CONDITION,
        (DEPLOY_PRINCIPAL, RBAC_ADMIN, RG_ID): RG_CONDITION,
        (PREVIEW_PRINCIPAL, "Storage Blob Data Reader", CONTAINER_ID): None,
        (PREVIEW_PRINCIPAL, "azure-maas secrets decrypt (octo/maas)", KEY_ID): None,
        (PREVIEW_PRINCIPAL, "Reader", subscription): None,
        (PREVIEW_PRINCIPAL, "azure-maas preview (octo/maas)", RG_ID): None,
    }
    assert not [a for a in az if a[:3] in (["role", "assignment", "delete"], ["role", "assignment", "update"])]
    assert created_role_definitions(fakes) == [
        bootstrap.deploy_role(SUBSCRIPTION, "azure-maas deploy (octo/maas)"),
        bootstrap.decrypt_role(STATE_RG_ID, "azure-maas secrets decrypt (octo/maas)"),
        bootstrap.preview_role(RG_ID, "azure-maas preview (octo/maas)"),
    ]
    assert put_role_definitions(fakes) == DEPLOYER_ROLE_DEFINITIONS
    definitions = [c.argv for c in fakes.calls("az") if c.argv[:3] == ["role", "definition", "list"]]
    assert [a[a.index("--scope") + 1] for a in definitions] == [f"/subscriptions/{SUBSCRIPTION}", STATE_RG_ID, RG_ID]
    assert result.stdout.splitlines()[3:] == [
        *(f"{name}={value}" for name, value in PIPELINE_VARIABLES.items()),
        "PULUMI_SECRETS_PROVIDER=azurekeyvault://kv-maas-test.vault.azure.net/keys/pulumi-secrets",
        f"Pipeline identities: deploy {DEPLOY_PRINCIPAL} (a stack may grant it role: developer, which its smoke "
        f"test needs, and nothing else), preview {PREVIEW_PRINCIPAL} (never list it under azure-maas:access).",
        "The deployer roles, for the config of every stack file that uses role: deployer:",
        "azure-maas:deployerRoles:",
        *(f"  {key}: {guid}" for key, guid in DEPLOYER_ROLES.items()),
    ]
    assert "bootstrap: dev: Azure AI Developer and 3 deployer roles, to Group and ServicePrincipal" in result.stderr


def test_the_preview_identity_can_read_state_and_decrypt_but_never_write_or_delete(
    first_run: tuple[Fakes, subprocess.CompletedProcess[str]],
) -> None:
    """`pulumi preview` on the Blob backend writes nothing (no lock, checkpoint, history or backup; see
    infra/bootstrap.py), so the preview identity gets read-only data roles and no storage condition."""
    fakes, _ = first_run
    preview = {
        (role, scope): condition for (p, role, scope), condition in assignments(fakes).items() if p == PREVIEW_PRINCIPAL
    }
    assert preview == {
        ("Storage Blob Data Reader", CONTAINER_ID): None,
        ("azure-maas secrets decrypt (octo/maas)", KEY_ID): None,
        ("Reader", f"/subscriptions/{SUBSCRIPTION}"): None,
        ("azure-maas preview (octo/maas)", RG_ID): None,
    }
    custom = {d["Name"]: d for d in created_role_definitions(fakes)}
    for role, _ in preview:
        if role in custom:
            permissions = [*custom[role]["Actions"], *custom[role]["DataActions"]]
            assert not [p for p in permissions if p.endswith(("/write", "/delete", "*", "/encrypt/action"))], role


def test_no_identity_can_write_role_definitions_or_assignments(
    first_run: tuple[Fakes, subprocess.CompletedProcess[str]],
) -> None:
    """Every custom role an identity is assigned, scanned for actions that change authorization or use a
    wildcard: none. Whoever may write a custom role assigned to them can rewrite it (to Owner); the `deployer`
    roles are the bootstrap's, so no pipeline identity holds role-definition write anywhere. Role assignments
    are granted only through RBAC Administrator, under the allow-list conditions."""
    fakes, _ = first_run
    custom = {d["Name"]: d for d in created_role_definitions(fakes)}
    granted = [(principal, role) for principal, role, _ in assignments(fakes)]
    risky = {
        (principal, role): [
            a
            for a in [*custom[role]["Actions"], *custom[role]["DataActions"]]
            if "*" in a or (a.lower().startswith("microsoft.authorization/") and not a.lower().endswith("/read"))
        ]
        for principal, role in granted
        if role in custom
    }
    assert {k: v for k, v in risky.items() if v} == {}
    built_in = {role for principal, role in granted if role not in custom and principal != ME}
    assert built_in == {
        "Contributor",  # NotActions: Microsoft.Authorization/*/Write and */Delete
        "Storage Blob Data Contributor",
        "Key Vault Crypto User",
        "Storage Blob Data Reader",
        "Reader",
        RBAC_ADMIN,  # role assignments only, under the conditions above
    }
    # Nobody is assigned a deployer role by the bootstrap: they are only PUT, for the stacks to assign.
    deployer_names = {d["properties"]["roleName"] for d in put_role_definitions(fakes).values()}
    assert not deployer_names & {role for _, role in granted}


def test_bootstrap_run_again_creates_nothing_that_exists(fakes: Fakes, project: Path) -> None:
    bootstrap_fakes(fakes, existing=True)

    result = fakes.run(bootstrap_args(project), cwd=ROOT)

    assert result.returncode == 0, result.stderr
    az = [c.argv for c in fakes.calls("az")]
    assert assignments(fakes) == {}
    assert not [
        a for a in az if a[:3] in (["identity", "federated-credential", "create"], ["keyvault", "key", "create"])
    ]
    assert not [a for a in az if a[:2] == ["keyvault", "create"] or a[:3] == ["role", "definition", "create"]]
    assert sum(a[:3] == ["role", "definition", "update"] for a in az) == 3
    assert put_role_definitions(fakes) == DEPLOYER_ROLE_DEFINITIONS  # PUT again: updated in place
    assert not [a for a in az if a[:3] == ["role", "assignment", "update"]]
    for scope in (f"/subscriptions/{SUBSCRIPTION}", RG_ID):
        assert f"bootstrap: the RBAC Administrator condition of the deploy identity at {scope} is up to date" in (
            result.stderr
        )
    # The read-write data roles earlier bootstraps gave the preview identity are taken away (the fakes answer
    # every `role assignment list` with an assignment).
    assert [a[3:] for a in az if a[:3] == ["role", "assignment", "delete"]] == [
        ["--assignee", PREVIEW_PRINCIPAL, "--role", role, "--scope", scope, "--output", "none"]
        for role, scope in (("Storage Blob Data Contributor", CONTAINER_ID), ("Key Vault Crypto User", KEY_ID))
    ]


def test_bootstrap_run_again_after_a_stack_adds_a_role_updates_the_condition(fakes: Fakes, project: Path) -> None:
    """The condition follows the stack files: re-running the bootstrap rewrites it in place (az role assignment
    update takes the whole assignment; only condition, conditionVersion and description may change)."""
    old = RG_CONDITION.replace(", acdd72a7-3385-48ef-bd42-f606fba81ae7", "")
    assert old != RG_CONDITION
    bootstrap_fakes(fakes, existing=True, conditions=(SUBSCRIPTION_CONDITION, old))

    result = fakes.run(bootstrap_args(project), cwd=ROOT)

    assert result.returncode == 0, result.stderr
    (update,) = (c for c in fakes.calls("az") if c.argv[:3] == ["role", "assignment", "update"])
    (path,) = update.files
    assert update.argv == ["role", "assignment", "update", "--role-assignment", f"@{path}", "--output", "none"]
    assert json.loads(update.files[path]) == rbac_assignment(RG_CONDITION, RG_ID)
    assert f"bootstrap: updating the RBAC Administrator condition of the deploy identity at {RG_ID}" in result.stderr


def test_bootstrap_removes_role_assignment_rights_when_no_stack_grants_anything(fakes: Fakes, tmp_path: Path) -> None:
    no_access = DEV_STACK[: DEV_STACK.index("  azure-maas:access:")]
    project = write_project(tmp_path / "p", {"dev": no_access, "prod": no_access})
    bootstrap_fakes(fakes, existing=True)

    result = fakes.run(bootstrap_args(project), cwd=ROOT)

    assert result.returncode == 0, result.stderr
    deletes = [c.argv for c in fakes.calls("az") if c.argv[:3] == ["role", "assignment", "delete"]]
    scopes = (f"/subscriptions/{SUBSCRIPTION}", RG_ID)
    assert deletes[:2] == [
        [
            *("role", "assignment", "delete", "--assignee", DEPLOY_PRINCIPAL, "--role", RBAC_ADMIN),
            *("--scope", scope, "--output", "none"),
        ]
        for scope in scopes
    ]
    for scope in scopes:
        assert f"bootstrap: no stack grants a role at {scope}: removing the deploy identity's {RBAC_ADMIN} " in (
            result.stderr
        )


GITHUB_ENVIRONMENT = {
    "name": "dev",
    "protection_rules": [
        {"id": 1, "type": "wait_timer", "wait_timer": 30},
        {
            "id": 2,
            "type": "required_reviewers",
            "prevent_self_review": False,
            "reviewers": [{"type": "User", "reviewer": {"login": "bob", "id": 5}}],
        },
        {"id": 3, "type": "branch_policy"},
    ],
    "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
}
BRANCH_ONLY = {"deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}}


def github_calls(fakes: Fakes) -> list[tuple[list[str], Any]]:
    """gh calls, with a temporary --input path replaced by the JSON it held."""
    found = []
    for call in fakes.calls("gh"):
        argv, body = list(call.argv), None
        if "--input" in argv:
            at = argv.index("--input") + 1
            body = json.loads(call.files[argv[at]])
            argv[at] = "BODY"
        found.append((argv, body))
    return found


def environment_calls(stack: str, body: dict[str, Any], *, create_policy: bool = True) -> list[tuple[list[str], Any]]:
    env = f"repos/octo/maas/environments/{stack}"
    policies = f"{env}/deployment-branch-policies"
    return [
        (["api", "--method", "PUT", env, "--input", "BODY", "--silent"], body),
        (["api", policies, "--jq", '.branch_policies[] | select(.type != "tag") | .name'], None),
        *(
            [(["api", "--method", "POST", policies, "-f", "name=main", "-f", "type=branch", "--silent"], None)]
            if create_policy
            else []
        ),
    ]


def test_bootstrap_with_github_creates_protected_environments_and_sets_variables(fakes: Fakes, project: Path) -> None:
    """Deploy credentials exist only in a stack's environment, so the environment decides who may deploy: only
    main may run in it, and with --reviewers one of them must approve (not the person who triggered the run)."""
    bootstrap_fakes(fakes, existing=False)
    fakes.add("gh")
    fakes.answer("gh", ["users/alice"], stdout='{"login": "alice", "id": 101}')
    fakes.answer("gh", ["orgs/octo/teams/platform"], stdout='{"slug": "platform", "id": 202}')

    result = fakes.run(bootstrap_args(project, "--github", "--reviewers", "alice,octo/platform"), cwd=ROOT)

    assert result.returncode == 0, result.stderr
    protected = {
        **BRANCH_ONLY,
        "reviewers": [{"type": "User", "id": 101}, {"type": "Team", "id": 202}],
        "prevent_self_review": True,
    }
    assert github_calls(fakes) == [
        (["api", "users/alice", "--jq", ".id"], None),
        (["api", "orgs/octo/teams/platform", "--jq", ".id"], None),
        *environment_calls("dev", protected),
        *environment_calls("prod", protected),
        *(
            (["variable", "set", name, "--repo", "octo/maas", "--body", value], None)
            for name, value in PIPELINE_VARIABLES.items()
        ),
    ]
    assert fakes.calls("gh")[0].tool == "gh"
    first_az = next(i for i, c in enumerate(fakes.calls()) if c.tool == "az")
    assert [c.tool for c in fakes.calls()[:first_az]] == ["uv", "gh", "gh"]  # reviewers resolved before Azure


def test_bootstrap_with_github_keeps_reviewers_set_by_hand_and_adds_only_the_missing_branch_policy(
    fakes: Fakes, project: Path
) -> None:
    """PUT replaces an environment's protection rules, so without --reviewers the reviewers and wait timer it
    has are sent back; a branch policy other than main is reported, not removed."""
    bootstrap_fakes(fakes, existing=True)
    fakes.add("gh")
    fakes.answer("gh", ["repos/octo/maas/environments/dev", "--jq"], stdout=json.dumps(GITHUB_ENVIRONMENT))
    fakes.answer("gh", ["repos/octo/maas/environments/prod", "--jq"], stderr="gh: Not Found (HTTP 404)\n", exit=1)
    policies = {"branch_policies": [{"name": "main", "type": "branch"}, {"name": "release/*", "type": "branch"}]}
    fakes.answer("gh", ["repos/octo/maas/environments/dev/deployment-branch-policies"], stdout=json.dumps(policies))

    result = fakes.run(bootstrap_args(project, "--github"), cwd=ROOT)

    assert result.returncode == 0, result.stderr
    kept = {**BRANCH_ONLY, "wait_timer": 30, "reviewers": [{"type": "User", "id": 5}], "prevent_self_review": False}
    calls = github_calls(fakes)
    assert [argv[:3] for argv, _ in (calls[0], calls[3])] == [
        ["api", "repos/octo/maas/environments/dev", "--jq"],
        ["api", "repos/octo/maas/environments/prod", "--jq"],
    ]
    assert calls[1:3] == environment_calls("dev", kept, create_policy=False)
    assert calls[4:7] == environment_calls("prod", BRANCH_ONLY)
    assert (
        "bootstrap: environment dev also admits release/*: the deploy identity trusts every branch its "
        "environments admit" in result.stderr
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--reviewers", "alice"], "bootstrap: --reviewers needs --github\n"),
        (
            ["--github", "--reviewers", "alice,bad name"],
            "bootstrap: --reviewers: 'bad name' is not a GitHub login or ORG/TEAM\n",
        ),
        (
            ["--github", "--reviewers", "a,b,c,d,e,f,g"],
            "bootstrap: --reviewers: GitHub allows at most 6 reviewers per environment, got 7\n",
        ),
    ],
)
def test_bootstrap_refuses_bad_reviewers_before_calling_anything(
    fakes: Fakes, project: Path, extra: list[str], message: str
) -> None:
    bootstrap_fakes(fakes, existing=False)
    fakes.add("gh")

    result = fakes.run(bootstrap_args(project, *extra), cwd=ROOT)

    assert (result.returncode, result.stderr) == (1, message)
    assert fakes.calls() == []


def test_bootstrap_names_a_reviewer_github_does_not_know(fakes: Fakes, project: Path) -> None:
    bootstrap_fakes(fakes, existing=False)
    fakes.add("gh")
    fakes.answer("gh", ["users/nobody"], stderr="gh: Not Found (HTTP 404)\n", exit=1)

    result = fakes.run(bootstrap_args(project, "--github", "--reviewers", "nobody"), cwd=ROOT)

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "bootstrap: --reviewers: GitHub knows no user 'nobody'"
    assert fakes.calls("az") == []


def test_bootstrap_waits_for_roles_to_reach_key_vault_and_gives_up_after_12_tries(fakes: Fakes, project: Path) -> None:
    fakes.answer("az", ["keyvault", "key", "create"], exit=1, times=2)
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run(bootstrap_args(project), env={"RETRY_DELAY": "0"}, cwd=ROOT)

    assert result.returncode == 0, result.stderr
    assert sum(c.argv[:3] == ["keyvault", "key", "create"] for c in fakes.calls("az")) == 3
    assert (
        "key pulumi-secrets in kv-maas-test (needs your Key Vault Crypto Officer role): not yet, retrying (attempt 2/12)"
        in result.stderr
    )

    fakes.rules.clear()
    fakes.answer("az", ["keyvault", "key", "create"], exit=1)
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run(bootstrap_args(project), env={"RETRY_DELAY": "0"}, cwd=ROOT)

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "bootstrap: gave up on key pulumi-secrets in kv-maas-test (needs your Key Vault Crypto Officer role) after 12 attempts"
    )
    assert sum(c.argv[:3] == ["keyvault", "key", "create"] for c in fakes.calls("az")) == 12
    assert not [c for c in fakes.calls("az") if c.argv[:2] == ["identity", "create"]]


@pytest.mark.parametrize(
    ("drop", "extra", "message"),
    [
        ("--repo", [], "bootstrap: --repo is required (OWNER/NAME)\n"),
        ("--location", [], "bootstrap: --location is required\n"),
        (
            None,
            ["--stacks", "dev,pr od"],
            "bootstrap: --stacks: 'pr od' is not a stack name (letters, digits, _ . -)\n",
        ),
        (
            None,
            ["--azure-devops-issuer", "https://x"],
            "bootstrap: --azure-devops-issuer needs --azure-devops-subject and/or --azure-devops-preview-subject\n",
        ),
        (
            None,
            ["--azure-devops-preview-subject", "sc://o/p/c"],
            "bootstrap: --azure-devops-subject and --azure-devops-preview-subject need --azure-devops-issuer\n",
        ),
        (None, ["--colour"], "bootstrap: unknown option '--colour' (see --help)\n"),
    ],
)
def test_bootstrap_refuses_bad_arguments_before_calling_azure(
    fakes: Fakes, project: Path, drop: str | None, extra: list[str], message: str
) -> None:
    bootstrap_fakes(fakes, existing=False)
    args = bootstrap_args(project)
    if drop:
        at = args.index(drop)
        del args[at : at + 2]

    result = fakes.run([*args, *extra], cwd=ROOT)

    assert (result.returncode, result.stderr) == (1, message)
    assert fakes.calls() == []


def test_bootstrap_reads_every_stack_before_calling_azure(fakes: Fakes, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"dev": DEV_STACK})
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run(bootstrap_args(project), cwd=ROOT)

    assert (result.returncode, result.stderr) == (
        2,
        f"bootstrap: Pulumi.prod.yaml not found in {project}: create the stack file first; the bootstrap reads "
        "its azure-maas:access to decide which roles the deploy identity may grant\n",
    )
    assert [c.tool for c in fakes.calls()] == ["uv"]


def test_bootstrap_refuses_a_deployer_stack_without_the_deployer_roles(fakes: Fakes, tmp_path: Path) -> None:
    """The shipped Pulumi.dev.yaml, as the tests' fixture keeps it (a laptop stack: `deployer` without
    azure-maas:deployerRoles, so the program creates its roles, which needs role-definition write) plans clean, but
    the deploy identity may not create role definitions: the bootstrap refuses the file with one line, before
    calling Azure."""
    project = write_project(tmp_path / "p", {"dev": DEV_STACK_FILE.read_text(encoding="utf-8")})
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run([*bootstrap_args(project), "--stacks", "dev"], cwd=ROOT)

    assert (result.returncode, result.stderr) == (
        2,
        "bootstrap: Pulumi.dev.yaml: azure-maas:access[1].role: 'deployer' needs azure-maas:deployerRoles (the "
        "deploy identity cannot create role definitions): add azure-maas:deployerRoles: {marketplace: "
        "6a2f9a2a-b8a9-5f37-9e91-0b594555283f, saas: 468bdbd7-56f3-5810-ba5b-287f47920d60, serverless: "
        "575fc52f-dda8-554b-9ff6-db47d3cd97e8, foundry: 50aabd71-0405-5b0d-987d-a59735824817}\n",
    )
    assert [c.tool for c in fakes.calls()] == ["uv"]


def with_deployer_roles(stack_file: str) -> str:
    """A stack file with the bootstrap's azure-maas:deployerRoles added under ``config:`` (what step 2 of
    docs/gitops.md asks for a stack that uses `deployer`)."""
    return stack_file.rstrip("\n") + "\n  azure-maas:deployerRoles:\n" + DEPLOYER_ROLES_CONFIG


# --- the docs ------------------------------------------------------------------------------------------

GITOPS = page("gitops.md")
SECURITY = section(page("security.md"), "## Security: what each identity can and cannot do")


def documented_bootstrap_commands() -> list[list[str]]:
    commands = []
    for block in blocks(GITOPS, "bash"):
        text = re.sub(r"\\\n\s*", " ", block.strip())
        for line in text.splitlines():
            if line.strip().startswith("scripts/bootstrap.sh "):
                commands.append(line.split()[1:])
    return commands


def test_documented_bootstrap_commands_run(fakes: Fakes, tmp_path: Path) -> None:
    """The bootstrap lines of docs/gitops.md, with their placeholders filled in, run end to end against the fakes,
    from the repository root, on the shipped dev stack file (the tests' copy) with the azure-maas:deployerRoles
    the bootstrap prints added (the file itself is a laptop stack, which the bootstrap refuses: the test above);
    each Azure DevOps subject it names is trusted on the identity its option names."""
    dev = with_deployer_roles(DEV_STACK_FILE.read_text(encoding="utf-8"))
    project = write_project(tmp_path / "p", {"dev": dev})
    commands = documented_bootstrap_commands()
    assert len(commands) == 2
    bootstrap_fakes(fakes, existing=False)
    fakes.add("gh")
    fakes.answer("gh", ["users/alice"], stdout='{"login": "alice", "id": 101}')
    fill = {
        "<subscription-id>": SUBSCRIPTION,
        "<issuer>": ADO_ISSUER,
        "<subject>": "sc://o/p/azure-maas",
        "<preview-subject>": "sc://o/p/azure-maas-preview",
        "<your-github-login>": "alice",
    }
    identity = {"--azure-devops-subject": "id-maas-deploy", "--azure-devops-preview-subject": "id-maas-preview"}

    for args in commands:
        filled = [fill.get(a, a) for a in args]
        result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *filled, "--project-dir", str(project)], cwd=ROOT)

        assert result.returncode == 0, result.stderr
        assert "<" not in " ".join(filled)
        expected = {(identity[o], v) for o, v in itertools.pairwise(filled) if o in identity}
        trusted = {(c[0], c[3]) for c in federated_credentials(fakes) if c[2] == ADO_ISSUER}
        assert trusted == expected
    assert any("--azure-devops-subject" in args for args in commands)


def security_grants(fakes: Fakes) -> set[tuple[str, str, str]]:
    """(who, what, where) of everything a bootstrap run granted, in the docs' placeholders."""
    names = {
        ME: "you (signed in)",
        DEPLOY_PRINCIPAL: "`id-maas-deploy`",
        PREVIEW_PRINCIPAL: "`id-maas-preview`",
        "id-maas-deploy": "`id-maas-deploy`",
        "id-maas-preview": "`id-maas-preview`",
    }
    scopes = {
        f"/subscriptions/{SUBSCRIPTION}": "the subscription",
        RG_ID: "the stacks' resource group",
        CONTAINER_ID: "the state container",
        VAULT_ID: "the key vault",
        KEY_ID: "the secrets key",
    }
    subjects = {
        "repo:octo/maas:environment:dev": "`repo:<repo>:environment:<stack>`",
        "repo:octo/maas:environment:prod": "`repo:<repo>:environment:<stack>`",
        "repo:octo/maas:pull_request": "`repo:<repo>:pull_request`",
        "repo:octo/maas:ref:refs/heads/main": "`repo:<repo>:ref:refs/heads/<branch>`",
        "sc://octo/maas/azure-maas": "the deploy service connection",
        "sc://octo/maas/azure-maas-preview": "the preview service connection",
    }
    issuers = {GITHUB_ISSUER: "GitHub Actions", ADO_ISSUER: "Azure DevOps"}
    grants = {
        (names[who], f"sign-in as {subjects[subject]}", issuers[issuer])
        for who, _, issuer, subject in federated_credentials(fakes)
    }
    for (who, role, scope), condition in assignments(fakes).items():
        what = role.replace("octo/maas", "<repo>") + (" with the allow-list condition" if condition else "")
        grants.add((names[who], what, scopes[scope]))
    return grants


SECURITY_TABLE = re.compile(r"<!-- security-grants[^>]*-->\n(.*?)<!-- /security-grants -->", re.DOTALL)


def test_security_grants(first_run: tuple[Fakes, subprocess.CompletedProcess[str]]) -> None:
    """What one bootstrap run with every Azure option grants, row by row; the Security section of
    docs/security.md is this table (the next test keeps them equal)."""
    assert security_grants(first_run[0]) == SECURITY_GRANTS


SECURITY_GRANTS = {
    ("`id-maas-deploy`", "sign-in as `repo:<repo>:environment:<stack>`", "GitHub Actions"),
    ("`id-maas-deploy`", "sign-in as the deploy service connection", "Azure DevOps"),
    ("`id-maas-deploy`", "Contributor", "the stacks' resource group"),
    ("`id-maas-deploy`", "azure-maas deploy (<repo>)", "the subscription"),
    ("`id-maas-deploy`", "Role Based Access Control Administrator with the allow-list condition", "the subscription"),
    (
        "`id-maas-deploy`",
        "Role Based Access Control Administrator with the allow-list condition",
        "the stacks' resource group",
    ),
    ("`id-maas-deploy`", "Storage Blob Data Contributor", "the state container"),
    ("`id-maas-deploy`", "Key Vault Crypto User", "the secrets key"),
    ("`id-maas-preview`", "sign-in as `repo:<repo>:pull_request`", "GitHub Actions"),
    ("`id-maas-preview`", "sign-in as `repo:<repo>:ref:refs/heads/<branch>`", "GitHub Actions"),
    ("`id-maas-preview`", "sign-in as the preview service connection", "Azure DevOps"),
    ("`id-maas-preview`", "Reader", "the subscription"),
    ("`id-maas-preview`", "azure-maas preview (<repo>)", "the stacks' resource group"),
    ("`id-maas-preview`", "Storage Blob Data Reader", "the state container"),
    ("`id-maas-preview`", "azure-maas secrets decrypt (<repo>)", "the secrets key"),
    ("you (signed in)", "Key Vault Crypto Officer", "the key vault"),
}


def test_the_security_section_lists_exactly_what_the_bootstrap_grants() -> None:
    match = SECURITY_TABLE.search(SECURITY)
    assert match is not None
    rows = {
        tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        for line in match.group(1).splitlines()
        if line.startswith("| ") and not line.startswith("| Identity")
    }

    assert rows == SECURITY_GRANTS


@pytest.mark.parametrize(
    ("scope", "role"),
    [
        ("resourceGroup", AI_DEVELOPER),
        ("proj-chat", AI_DEVELOPER),
        ("fdy-maas-dev", FOUNDRY_USER),
        ("fdy-maas-dev/proj-docs", FOUNDRY_USER),
    ],
)
def test_the_security_page_names_the_role_the_deploy_identity_may_grant_itself_at_each_scope(
    tmp_path: Path, scope: str, role: str
) -> None:
    """What the program's own `developer` is at each kind of scope, and what the condition then allows the deploy
    identity, as the security page says: Azure AI Developer on the resource group or a workspace, Foundry User on
    a Foundry resource or project."""
    workspaces = DEV_STACK[DEV_STACK.index("  azure-maas:hub:") : DEV_STACK.index("  azure-maas:access:")]
    stack = FOUNDRY_STACK.replace("  azure-maas:access:", workspaces + "  azure-maas:access:").replace(
        "scope: fdy-maas-dev/proj-docs", f"scope: {scope}"
    )
    grants = bootstrap.stack_grants(
        write_project(tmp_path / "p", {"s": stack}),
        "s",
        subscription_id=SUBSCRIPTION,
        resource_group="rg-maas-dev",
        repo="octo/maas",
        deploy_principal=DEPLOY_PRINCIPAL,
    )

    assert grants == {bootstrap.Grant(role, "ServicePrincipal", None, "resourceGroup", DEPLOY_PRINCIPAL)}
    kind = "Azure AI Developer on the resource group or a workspace; Foundry User on a Foundry resource or project"
    assert kind in " ".join(SECURITY.split())
    assert bootstrap.BUILT_IN_ROLE_NAMES == {AI_DEVELOPER: "Azure AI Developer", FOUNDRY_USER: "Foundry User"}


def test_the_security_page_shows_the_deploy_identitys_branch_and_refusal_as_the_bootstrap_writes_them(
    tmp_path: Path,
) -> None:
    project = write_project(
        tmp_path / "p",
        {
            "foundry": FOUNDRY_STACK,
            "dev": DEV_STACK.replace(
                "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c\n      principalType: Group\n      role: developer",
                f"{DEPLOY_PRINCIPAL}\n      principalType: ServicePrincipal\n      role: deployer",
            ),
        },
    )

    def grants(stack: str) -> frozenset[bootstrap.Grant]:
        return bootstrap.stack_grants(
            project,
            stack,
            subscription_id=SUBSCRIPTION,
            resource_group="rg-maas-dev",
            repo="octo/maas",
            deploy_principal=DEPLOY_PRINCIPAL,
        )

    condition_text = bootstrap.rbac_condition(grants("foundry"), [PREVIEW_PRINCIPAL], DEPLOY_PRINCIPAL)
    with pytest.raises(bootstrap.BootstrapError) as refused:
        grants("dev")

    branch = deploy_branch("Request", FOUNDRY_USER)
    assert f" OR {branch})" in condition_text
    assert f" OR {branch.replace(DEPLOY_PRINCIPAL, '<deploy principal>')}\n" in SECURITY
    quoted = str(refused.value).removeprefix("Pulumi.dev.yaml: ").replace(DEPLOY_PRINCIPAL, "<deploy principal>")
    assert f"`{quoted}`" in " ".join(SECURITY.split())


def test_the_gitops_example_grants_the_deploy_identity_developer_where_the_smoke_test_calls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The access entry of step 4, added to the shipped dev stack (with the bootstrap's deployerRoles), with the
    deploy principal filled in: the bootstrap accepts it, and the condition lets the deploy identity assign itself
    Azure AI Developer; the scope is the project whose endpoint takes only Entra ID tokens."""
    (example,) = (b for b in blocks(GITOPS, "yaml") if "<deploy-principal-id>" in b)
    entries = yaml.safe_load(example.replace("<deploy-principal-id>", DEPLOY_PRINCIPAL))["azure-maas:access"]
    stack = yaml.safe_load(with_deployer_roles(DEV_STACK_FILE.read_text(encoding="utf-8")))
    stack["config"]["azure-maas:access"] += entries
    project = write_project(tmp_path / "p", {"dev": yaml.safe_dump(stack)})
    (workspace,) = (w for w in stack["config"]["azure-maas:workspaces"] if w["name"] == entries[0]["scope"])

    code, out, err = bootstrap_facts(capsys, *condition_args(project, "dev"))

    assert (code, err) == (0, "")
    assert out.rstrip("\n").endswith(f" OR {deploy_branch('Resource', AI_DEVELOPER)})")
    assert [d["authMode"] for d in workspace["deployments"]] == ["AAD"]


def test_the_gitops_workflows_table_names_every_workflow_job() -> None:
    workflows = section(GITOPS, "## Workflows")
    rows = re.findall(r"^\| [^|]+ \| `([\w-]+\.yml)`, `([\w-]+)`", workflows, re.MULTILINE)
    jobs = {
        (name, job)
        for name in sorted(p.name for p in WORKFLOWS.glob("*.yml"))
        if name != "stacks.yml"
        for job in workflow(name)["jobs"]
        if job != "stacks"
    }

    assert set(rows) == jobs
