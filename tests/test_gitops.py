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
        "list-stacks.sh",
        "plan-markdown.sh",
        "pr-comment.sh",
        "pulumi-ci.sh",
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
            comments = any("scripts/pr-comment.sh" in s.get("run", "") for s in steps(job)) or any(
                s.get("with", {}).get("comment-on-pr") is True for s in steps(job)
            )
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
    pulumi = step_using(preview, "pulumi/actions@")["with"]
    assert pulumi["command"] == "preview"
    assert (pulumi["diff"], pulumi["policyPacks"], pulumi["comment-on-pr"], pulumi["edit-pr-comment"]) == (
        True,
        "policies",
        True,
        True,
    )
    assert step_using(preview, SETUP_ACTION)["with"]["client-id"] == "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"
    assert preview["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"


def test_main_deploys_each_stack_in_its_environment_one_update_at_a_time() -> None:
    document = workflow("deploy.yml")
    up = document["jobs"]["up"]

    assert document["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert up["environment"] == "${{ matrix.stack }}"
    assert up["concurrency"] == {"group": "pulumi-${{ matrix.stack }}", "cancel-in-progress": False}
    pulumi = step_using(up, "pulumi/actions@")["with"]
    assert (pulumi["command"], pulumi["stack-name"], pulumi["policyPacks"]) == ("up", "${{ matrix.stack }}", "policies")
    assert pulumi["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert step_using(up, SETUP_ACTION)["with"]["client-id"] == "${{ vars.AZURE_DEPLOY_CLIENT_ID }}"
    assert up["env"] == {
        "ARM_USE_OIDC": "true",
        "ARM_CLIENT_ID": "${{ vars.AZURE_DEPLOY_CLIENT_ID }}",
        "ARM_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}",
        "ARM_SUBSCRIPTION_ID": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    }


def test_schedule_runs_a_refreshing_preview_that_fails_on_any_change() -> None:
    document = workflow("drift.yml")
    drift = document["jobs"]["drift"]

    assert document["on"] == {"schedule": [{"cron": "23 5 * * *"}], "workflow_dispatch": None}
    assert drift["concurrency"] == {"group": "pulumi-drift-${{ matrix.stack }}", "cancel-in-progress": False}
    pulumi = step_using(drift, "pulumi/actions@")["with"]
    assert (pulumi["command"], pulumi["refresh"], pulumi["expect-no-changes"], pulumi["policyPacks"]) == (
        "preview",
        True,
        True,
        "policies",
    )
    report = steps(drift)[-1]
    assert report["if"] == "${{ failure() }}"
    assert "::error title=Drift in stack ${STACK}::" in report["run"]
    assert step_using(drift, SETUP_ACTION)["with"]["client-id"] == "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"
    # The preview identity cannot write state, so `refresh: true` must mean `pulumi preview --refresh` (state
    # untouched), which it does from pulumi/actions v6 on; before, it ran a separate `pulumi refresh` that
    # writes the checkpoint (pulumi/actions#1118, released in 6.0.0).
    lines = (WORKFLOWS / "drift.yml").read_text(encoding="utf-8").splitlines()
    (line,) = (text for text in lines if "pulumi/actions@" in text and PINNED.match(text))
    assert int(line.rsplit("# v", 1)[1].split(".")[0]) >= 6


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
    for stage, operation in (("preview", "preview"), ("deploy", "up"), ("drift", "drift")):
        (azure_cli,) = (s for s in cli_steps[stage] if s["task"] == "AzureCLI@2")
        assert azure_cli["inputs"]["scriptPath"] == "scripts/pulumi-ci.sh"
        assert azure_cli["inputs"]["arguments"] == f"{operation} ${{{{ stack }}}}"
        assert azure_cli["inputs"]["addSpnToEnvironment"] is True
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
        "deploy": ["serviceConnection"],
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


ADO_ENV = {
    "PULUMI_BACKEND_URL": "azblob://pulumi-state?storage_account=stmaas0123456789",
    "PULUMI_VERSION": "3.272.0",
    "idToken": "oidc-test-token",
    "servicePrincipalId": "11111111-1111-1111-1111-111111111111",
    "tenantId": "22222222-2222-2222-2222-222222222222",
}


@pytest.mark.parametrize(
    ("operation", "pulumi_args"),
    [
        ("preview", ["preview", "--diff"]),
        ("up", ["up", "--yes", "--diff", "--suppress-outputs"]),
        ("drift", ["preview", "--refresh", "--expect-no-changes", "--diff", "--suppress-outputs"]),
    ],
)
def test_pulumi_ci_runs_one_operation_with_the_policy_pack(
    fakes: Fakes, tmp_path: Path, operation: str, pulumi_args: list[str]
) -> None:
    fakes.add("az", "pulumi", "uv", "curl")
    fakes.answer("az", ["account", "show"], stdout="33333333-3333-3333-3333-333333333333\n")
    fakes.answer("pulumi", ["version"], stdout="v3.272.0\n")
    arm = ("ARM_USE_OIDC", "ARM_OIDC_TOKEN", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID")

    result = fakes.run([str(SCRIPTS / "pulumi-ci.sh"), operation, "dev"], env=ADO_ENV, record_env=arm, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert [c.argv for c in fakes.calls("pulumi")] == [
        ["version"],
        ["login", ADO_ENV["PULUMI_BACKEND_URL"]],
        [*pulumi_args, "--stack", "dev", "--policy-pack", "policies", "--non-interactive"],
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
        (["deploy", "dev"], None, "pulumi-ci: unknown operation 'deploy' (preview, up or drift)\n"),
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
        "--exclude-principal",
        PREVIEW_PRINCIPAL,
        "--exclude-principal",
        DEPLOY_PRINCIPAL,
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
            {"dev": DEV_STACK, "prod": PROD_STACK.replace("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", DEPLOY_PRINCIPAL)},
            f"bootstrap: Pulumi.prod.yaml: azure-maas:access[0].principalId: {DEPLOY_PRINCIPAL} is a pipeline "
            "identity; it may not grant roles to itself or to the other pipeline identity (the deploy identity "
            "holds what deploying needs): remove the entry\n",
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
        f"Pipeline identities (never list them under azure-maas:access): deploy {DEPLOY_PRINCIPAL}, "
        f"preview {PREVIEW_PRINCIPAL}.",
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
