"""The GitOps setup: GitHub workflows and the Azure Pipelines file pass their linters and say what the README
promises (triggers, jobs, permissions, commands); the scripts they call run end to end against fake tools."""

from __future__ import annotations

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

from infra.bootstrap import deploy_role, preview_role, rbac_condition
from tests.conftest import ROOT
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


def test_list_stacks_of_this_repository() -> None:
    result = subprocess.run([str(SCRIPTS / "list-stacks.sh")], capture_output=True, text=True, check=False)

    assert (result.returncode, result.stdout) == (0, 'stacks=["dev"]\n')


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
STATE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-maas-state/providers"
STORAGE_ID = f"{STATE}/Microsoft.Storage/storageAccounts/stmaastest"
VAULT_ID = f"{STATE}/Microsoft.KeyVault/vaults/kv-maas-test"
BOOTSTRAP_ARGS = [
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
]


def test_pipeline_roles_and_condition() -> None:
    """The facts the bootstrap hands to az, exactly (the role lists come from infra/roles.py and the pack)."""
    assert deploy_role(SUBSCRIPTION, "d")["Actions"] == [
        "Microsoft.MarketplaceOrdering/agreements/offers/plans/read",
        "Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action",
        "Microsoft.MarketplaceOrdering/offerTypes/publishers/offers/plans/agreements/read",
        "Microsoft.Marketplace/offerTypes/publishers/offers/plans/agreements/read",
        "Microsoft.SaaS/register/action",
        "Microsoft.Authorization/roleDefinitions/read",
        "Microsoft.Authorization/roleDefinitions/write",
        "Microsoft.Authorization/roleDefinitions/delete",
    ]
    assert deploy_role(SUBSCRIPTION, "d")["AssignableScopes"] == [f"/subscriptions/{SUBSCRIPTION}"]
    assert preview_role(RG_ID, "p") == {
        "Name": "p",
        "IsCustom": True,
        "Description": "azure-maas preview pipeline: read serverless endpoint keys during pulumi preview.",
        "Actions": ["Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/listKeys/action"],
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": [RG_ID],
    }
    guids = (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9, 8e3af657-a8ff-443c-a75c-2fe8c4bcb635, "
        "b24988ac-6180-42a0-ab88-20f7382dd24c, f58310d9-a9f6-439a-9e8d-f62e7b41a168"
    )
    assert rbac_condition() == (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals "
        f"{{{guids}}})) AND ((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/delete'}})) OR "
        "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals "
        f"{{{guids}}}))"
    )


PIPELINE_VARIABLES = {
    "AZURE_TENANT_ID": "55555555-5555-5555-5555-555555555555",
    "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
    "AZURE_DEPLOY_CLIENT_ID": "client-7",
    "AZURE_PREVIEW_CLIENT_ID": "client-8",
    "PULUMI_BACKEND_URL": "azblob://pulumi-state?storage_account=stmaastest",
}
"""What the bootstrap prints for the fakes below, and sets with --github."""


def bootstrap_fakes(fakes: Fakes, *, existing: bool) -> None:
    fakes.add("az", "uv")
    fakes.answer("uv", ["run", "python", "-m", "infra.bootstrap"], exec=[sys.executable], skip=4)
    fakes.answer("az", ["storage", "account", "show"], stdout=STORAGE_ID + "\n")
    fakes.answer("az", ["account", "show"], stdout="55555555-5555-5555-5555-555555555555\n")
    fakes.answer("az", ["ad", "signed-in-user"], stdout="66666666-6666-6666-6666-666666666666\n")
    fakes.answer("az", ["group", "show"], stdout=RG_ID + "\n")
    fakes.answer("az", ["keyvault", "show", "--query"], stdout=VAULT_ID + "\n")
    fakes.answer("az", ["keyvault", "show"], exit=0 if existing else 3)
    fakes.answer("az", ["keyvault", "key", "show"], exit=0 if existing else 3)
    for name, number in (("id-maas-deploy", "7"), ("id-maas-preview", "8")):
        fakes.answer("az", ["identity", "show", name, "clientId"], stdout=f"client-{number}\n")
        fakes.answer("az", ["identity", "show", name, "principalId"], stdout=f"principal-{number}\n")
    if existing:
        fakes.answer("az", ["role", "assignment", "list"], stdout="/some/assignment\n")
        fakes.answer("az", ["role", "definition", "list"], stdout="/some/definition\n")
        fakes.answer("az", ["federated-credential", "list"], stdout="existing\n")


def assignments(fakes: Fakes) -> set[tuple[str, str, str]]:
    found = set()
    for call in fakes.calls("az"):
        if call.argv[:3] == ["role", "assignment", "create"]:
            args = dict(zip(call.argv[3::2], call.argv[4::2], strict=False))
            found.add((args["--assignee-object-id"], args["--role"], args["--scope"]))
    return found


def test_bootstrap_creates_state_secrets_identities_and_their_roles(fakes: Fakes) -> None:
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *BOOTSTRAP_ARGS])

    assert result.returncode == 0, result.stderr
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

    subjects = {
        (a[a.index("--identity-name") + 1], a[a.index("--subject") + 1], a[a.index("--issuer") + 1])
        for a in az
        if a[:3] == ["identity", "federated-credential", "create"]
    }
    github = "https://token.actions.githubusercontent.com"
    assert subjects == {
        ("id-maas-deploy", "repo:octo/maas:environment:dev", github),
        ("id-maas-deploy", "repo:octo/maas:environment:prod", github),
        ("id-maas-preview", "repo:octo/maas:pull_request", github),
        ("id-maas-preview", "repo:octo/maas:ref:refs/heads/main", github),
    }

    container = f"{STORAGE_ID}/blobServices/default/containers/pulumi-state"
    key = f"{VAULT_ID}/keys/pulumi-secrets"
    subscription = f"/subscriptions/{SUBSCRIPTION}"
    assert assignments(fakes) == {
        ("66666666-6666-6666-6666-666666666666", "Key Vault Crypto Officer", VAULT_ID),
        ("principal-7", "Storage Blob Data Contributor", container),
        ("principal-7", "Key Vault Crypto User", key),
        ("principal-7", "Contributor", RG_ID),
        ("principal-7", "azure-maas deploy (octo/maas)", subscription),
        ("principal-7", "Role Based Access Control Administrator", subscription),
        ("principal-8", "Storage Blob Data Contributor", container),
        ("principal-8", "Key Vault Crypto User", key),
        ("principal-8", "Reader", subscription),
        ("principal-8", "azure-maas preview (octo/maas)", RG_ID),
    }
    (rbac,) = (
        a for a in az if "Role Based Access Control Administrator" in a and a[:3] == ["role", "assignment", "create"]
    )
    assert rbac[rbac.index("--condition") + 1] == rbac_condition()
    assert rbac[rbac.index("--condition-version") + 1] == "2.0"

    definitions = [
        json.loads(text)
        for c in fakes.calls("az")
        if c.argv[:3] == ["role", "definition", "create"]
        for text in c.files.values()
    ]
    assert definitions == [
        deploy_role(SUBSCRIPTION, "azure-maas deploy (octo/maas)"),
        preview_role(RG_ID, "azure-maas preview (octo/maas)"),
    ]
    assert result.stdout.splitlines()[3:] == [
        *(f"{name}={value}" for name, value in PIPELINE_VARIABLES.items()),
        "PULUMI_SECRETS_PROVIDER=azurekeyvault://kv-maas-test.vault.azure.net/keys/pulumi-secrets",
        "Grant the deploy identity in each stack's config: azure-maas:access principalId principal-7.",
    ]


def test_bootstrap_with_github_creates_environments_and_sets_variables(fakes: Fakes) -> None:
    bootstrap_fakes(fakes, existing=True)
    fakes.add("gh")

    result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *BOOTSTRAP_ARGS, "--github"])

    assert result.returncode == 0, result.stderr
    assert [c.argv for c in fakes.calls("gh")] == [
        ["api", "--method", "PUT", "repos/octo/maas/environments/dev", "--silent"],
        ["api", "--method", "PUT", "repos/octo/maas/environments/prod", "--silent"],
        *(
            ["variable", "set", name, "--repo", "octo/maas", "--body", value]
            for name, value in PIPELINE_VARIABLES.items()
        ),
    ]


def test_bootstrap_run_again_creates_nothing_that_exists(fakes: Fakes) -> None:
    bootstrap_fakes(fakes, existing=True)

    result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *BOOTSTRAP_ARGS])

    assert result.returncode == 0, result.stderr
    az = [c.argv for c in fakes.calls("az")]
    assert assignments(fakes) == set()
    assert not [
        a for a in az if a[:3] in (["identity", "federated-credential", "create"], ["keyvault", "key", "create"])
    ]
    assert not [a for a in az if a[:2] == ["keyvault", "create"] or a[:3] == ["role", "definition", "create"]]
    assert sum(a[:3] == ["role", "definition", "update"] for a in az) == 2


def test_bootstrap_waits_for_roles_to_reach_key_vault_and_gives_up_after_12_tries(fakes: Fakes) -> None:
    fakes.answer("az", ["keyvault", "key", "create"], exit=1, times=2)
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *BOOTSTRAP_ARGS], env={"RETRY_DELAY": "0"})

    assert result.returncode == 0, result.stderr
    assert sum(c.argv[:3] == ["keyvault", "key", "create"] for c in fakes.calls("az")) == 3
    assert (
        "key pulumi-secrets in kv-maas-test (needs your Key Vault Crypto Officer role): not yet, retrying (attempt 2/12)"
        in result.stderr
    )

    fakes.rules.clear()
    fakes.answer("az", ["keyvault", "key", "create"], exit=1)
    bootstrap_fakes(fakes, existing=False)

    result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *BOOTSTRAP_ARGS], env={"RETRY_DELAY": "0"})

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
            "bootstrap: --azure-devops-issuer and --azure-devops-subject go together\n",
        ),
        (None, ["--colour"], "bootstrap: unknown option '--colour' (see --help)\n"),
    ],
)
def test_bootstrap_refuses_bad_arguments_before_calling_azure(
    fakes: Fakes, drop: str | None, extra: list[str], message: str
) -> None:
    bootstrap_fakes(fakes, existing=False)
    args = list(BOOTSTRAP_ARGS)
    if drop:
        at = args.index(drop)
        del args[at : at + 2]

    result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *args, *extra])

    assert (result.returncode, result.stderr) == (1, message)
    assert fakes.calls() == []


# --- the README ------------------------------------------------------------------------------------------

README = (ROOT / "README.md").read_text(encoding="utf-8")
BASH_BLOCK = re.compile(r"^ *```bash\n(.*?)^ *```", re.MULTILINE | re.DOTALL)


def readme_bootstrap_commands() -> list[list[str]]:
    commands = []
    for block in BASH_BLOCK.findall(README):
        text = re.sub(r"\\\n\s*", " ", block.strip())
        for line in text.splitlines():
            if line.strip().startswith("scripts/bootstrap.sh "):
                commands.append(line.split()[1:])
    return commands


def test_readme_bootstrap_commands_run(fakes: Fakes) -> None:
    """The README's bootstrap lines, with their placeholders filled in, run end to end against the fakes."""
    commands = readme_bootstrap_commands()
    assert len(commands) == 2
    bootstrap_fakes(fakes, existing=False)
    fakes.add("gh")
    fill = {
        "<subscription-id>": SUBSCRIPTION,
        "<issuer>": "https://vstoken.dev.azure.com/org",
        "<subject>": "sc://o/p/azure-maas",
    }

    for args in commands:
        result = fakes.run([str(SCRIPTS / "bootstrap.sh"), *(fill.get(a, a) for a in args)])

        assert result.returncode == 0, result.stderr
        assert "<" not in " ".join(fill.get(a, a) for a in args)
    ado = [c.argv for c in fakes.calls("az") if "azure-devops" in c.argv]
    assert [a[a.index("--subject") + 1] for a in ado] == ["sc://o/p/azure-maas"]


def test_readme_gitops_table_names_every_workflow_job() -> None:
    section = README[README.index("## GitOps") : README.index("### From an empty subscription")]
    rows = re.findall(r"^\| [^|]+ \| `([\w-]+\.yml)`, `([\w-]+)`", section, re.MULTILINE)
    jobs = {
        (name, job)
        for name in sorted(p.name for p in WORKFLOWS.glob("*.yml"))
        if name != "stacks.yml"
        for job in workflow(name)["jobs"]
        if job != "stacks"
    }

    assert set(rows) == jobs
