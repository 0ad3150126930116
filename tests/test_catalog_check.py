"""``maas catalog check``: every stack's deployments against the lifecycle on a day; the tests' project lives.
(The shipped stacks pass the check: tests/test_shipped.py.)"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from infra import catalog
from infra.cli import app as cli
from infra.cli.commands import catalog_check as check_command
from tests.conftest import PROJECT
from tests.docs import blocks, page, section
from tests.harness import TODAY

MISTRAL = "azureml://registries/azureml-mistral/models"


def check(
    capsys: pytest.CaptureFixture[str], project: Path, *args: str, today: dt.date = TODAY
) -> tuple[int, str, str]:
    code = cli.main(["catalog", "check", "--cwd", str(project), "--today", today.isoformat(), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_stack(project: Path, stack: str, *deployments: dict[str, Any], location: str = "eastus2") -> None:
    workspaces = [{"name": "ws-main", "kind": "workspace", "deployments": list(deployments)}]
    config = {"config": {"azure-maas:location": location, "azure-maas:workspaces": workspaces}}
    (project / f"Pulumi.{stack}.yaml").write_text(json.dumps(config), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: azure-maas\nruntime: python\n", encoding="utf-8")
    return tmp_path


def test_the_fixture_stacks_deploy_living_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, PROJECT, "--format", "json")

    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["ok"] is True
    assert [(d["stack"], d["name"], d["model"], d["verdict"]) for d in report["deployments"]] == [
        ("dev", "chat-mistral-medium", "mistral-medium-2505", "living"),
        ("dev", "chat-ministral", "ministral-3b", "living"),
        ("dev", "eval-phi4", "phi-4", "living"),
        ("foundry", "mistral-medium", "mistral-medium-2505", "living"),
        ("foundry", "mistral-large-3", "mistral-large-3", "living"),
    ]
    assert [d["at"] for d in report["deployments"] if d["stack"] == "foundry"] == [
        "azure-maas:foundries[0].deployments[0]",
        "azure-maas:foundries[0].deployments[1]",
    ]


def test_dead_models_fail_the_check_by_name(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(
        project,
        "prod",
        {"name": "chat", "model": "mistral-large-2411"},
        {"name": "small", "model": "mistral-small-2503"},
    )
    write_stack(
        project,
        "test",
        {"name": "old", "model": "mistral-nemo", "allowRetired": True},
        {"name": "raw", "modelId": "azureml://registries/azureml-acme/models/Acme-1"},
    )

    code, out, err = check(capsys, project)

    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "✗ prod: azure-maas:workspaces[0].deployments[0] (chat): Mistral Large 24.11 "
        f"({MISTRAL}/Mistral-Large-2411) was retired on 2026-01-30; use 'mistral-medium-2505' "
        f"({MISTRAL}/mistral-medium-2505) instead",
        f"! test: azure-maas:workspaces[0].deployments[0] (old): Mistral Nemo ({MISTRAL}/Mistral-Nemo) was retired "
        f"on 2026-01-30; use 'mistral-small-2503' ({MISTRAL}/mistral-small-2503) instead (allowRetired is set)",
        "! test: azure-maas:workspaces[0].deployments[1] (raw): azureml://registries/azureml-acme/models/Acme-1: "
        "not in the catalog: no lifecycle facts",
        "1 of 4 deployments uses a model that is deprecated or retired (judged on 2026-11-24, catalog as of 2026-11-24)",
    ]


def test_a_coming_retirement_fails_within_the_window(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = catalog.load()
    small = known.models["mistral-small-2503"]
    life = small.lifecycle.model_copy(update={"retirement_date": TODAY + dt.timedelta(days=20)})
    changed = known.model_copy(
        update={"models": {**known.models, "mistral-small-2503": small.model_copy(update={"lifecycle": life})}}
    )
    monkeypatch.setattr(catalog, "load", lambda: changed)
    write_stack(project, "dev", {"name": "small", "model": "mistral-small-2503"})

    assert check(capsys, project, "--within", "19")[0] == 0
    code, out, _ = check(capsys, project, "--within", "30", "--format", "json")

    assert code == 1
    report = json.loads(out)
    assert (report["ok"], report["within"], report["today"]) == (False, 30, "2026-11-24")
    assert report["deployments"] == [
        {
            "stack": "dev",
            "at": "azure-maas:workspaces[0].deployments[0]",
            "name": "small",
            "model": "mistral-small-2503",
            "stage": "GenerallyAvailable",
            "stageAtEndOfWindow": "Retired",
            "verdict": "dying",
            "allowRetired": False,
            "reason": f"Mistral Small 25.03 ({MISTRAL}/mistral-small-2503) will be retired on 2026-12-14; no "
            "replacement is announced",
        }
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no Pulumi.<stack>.yaml in {project}"),
        (
            {"Pulumi.dev.yaml": '{"config": {"azure-maas:workspaces": [{"name": 1}]}}'},
            "Pulumi.dev.yaml: azure-maas:workspaces is not valid config; `maas plan --stack dev` says why",
        ),
        (
            {"Pulumi.dev.yaml": "config: [unclosed"},
            "{project}/Pulumi.dev.yaml: not valid YAML: while parsing a flow sequence",
        ),
    ],
    ids=["no-stacks", "invalid-workspaces", "unreadable"],
)
def test_unreadable_stacks_exit_2(
    capsys: pytest.CaptureFixture[str], project: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")

    code, out, err = check(capsys, project)

    assert (code, out) == (2, "")
    assert err == f"maas catalog check: {message.format(project=project.resolve() if not files else project)}\n"


def test_a_stale_catalog_is_warned_about(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(project, "dev", {"name": "small", "model": "mistral-small-2503"})

    code, _, err = check(capsys, project, today=TODAY + dt.timedelta(days=120))

    assert code == 0
    assert err.startswith("maas catalog check: warning: the model catalog is 120 days old (as of 2026-11-24")


CHECK_SECTION = section(page("models.md"), "### `maas catalog check`")


def test_the_docs_check_command_passes_on_the_dev_stack(capsys: pytest.CaptureFixture[str]) -> None:
    [command] = [line for b in blocks(CHECK_SECTION, "bash") for line in b.splitlines() if "maas catalog check" in line]
    assert command.startswith("uv run maas catalog check")

    code = cli.main([*command.split()[3:], "--cwd", str(PROJECT), "--today", TODAY.isoformat()])

    assert (code, capsys.readouterr().err) == (0, "")


def test_foundry_deployments_are_judged_too(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    deployments = [
        {"name": "docs", "model": "mistral-document-ai-2505"},
        {"name": "medium", "format": "Mistral AI", "modelName": "mistral-medium-2505"},
        {"name": "raw", "format": "Contoso", "modelName": "c-1", "version": "1"},
    ]
    config = {"azure-maas:location": "eastus2", "azure-maas:foundries": [{"name": "fdy", "deployments": deployments}]}
    (project / "Pulumi.prod.yaml").write_text(json.dumps({"config": config}), encoding="utf-8")

    code, out, err = check(capsys, project)

    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "✗ prod: azure-maas:foundries[0].deployments[0] (docs): Mistral Document AI 25.05 "
        "(Mistral AI/mistral-document-ai-2505) was retired on 2026-07-15; use 'mistral-document-ai-2512' "
        "(Mistral AI/mistral-document-ai-2512) instead",
        "! prod: azure-maas:foundries[0].deployments[2] (raw): Contoso/c-1: not in the catalog: no lifecycle facts",
        "1 of 3 deployments uses a model that is deprecated or retired (judged on 2026-11-24, catalog as of 2026-11-24)",
    ]


def _judged(stack: str, verdict: check_command.Verdict) -> check_command.Judged:
    reason = "" if verdict == "living" else "m was retired on 2026-01-30"
    return check_command.Judged(
        stack, "azure-maas:workspaces[0].deployments[0]", "d", "m", None, None, verdict, False, reason
    )


JUDGED_ON = "(judged on 2026-11-24, catalog as of 2026-11-24)"


@pytest.mark.parametrize(
    ("verdicts", "checked", "within", "summary"),
    [
        ((), ("dev",), 0, "no deployments of 1 stack: nothing to judge"),
        ((), ("dev", "prod"), 0, "no deployments of 2 stacks: nothing to judge"),
        (("living",), ("dev",), 1, "1 deployment of 1 stack uses a living model for the next 1 day"),
        (
            ("living", "living"),
            ("dev", "prod"),
            2,
            "all 2 deployments of 2 stacks use living models for the next 2 days",
        ),
        (("dead",), ("dev",), 0, "1 of 1 deployment uses a model that is deprecated or retired"),
        (
            ("dead", "living"),
            ("dev",),
            1,
            "1 of 2 deployments uses a model that is deprecated or retired or will be within 1 day",
        ),
        (("dead", "dead"), ("dev",), 0, "2 of 2 deployments use a model that is deprecated or retired"),
    ],
    ids=["none", "none-two-stacks", "one", "two", "one-dead", "one-of-two-dead", "two-dead"],
)
def test_the_summary_counts_in_words(
    verdicts: tuple[check_command.Verdict, ...], checked: tuple[str, ...], within: int, summary: str
) -> None:
    judged = [_judged("dev", verdict) for verdict in verdicts]

    lines = check_command.lines(judged, catalog.load(), TODAY, within, checked)

    assert lines[-1] == f"{summary} {JUDGED_ON}"


def test_the_project_is_found_upward(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(project, "dev", {"name": "small", "model": "mistral-small-2503"})
    (project / "infra").mkdir()

    code, out, err = check(capsys, project / "infra")

    assert (code, err) == (0, "")
    assert out == f"1 deployment of 1 stack uses a living model {JUDGED_ON}\n"


def test_stacks_are_read_where_stack_config_dir_says_with_the_projects_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No Pulumi.yaml beside these stack files: unqualified keys still belong to the project, and the project's
    config block still sits under the stack's values, as the engine reads them."""
    (tmp_path / "Pulumi.yaml").write_text(
        "name: azure-maas\nruntime: python\nstackConfigDir: stacks\nconfig:\n  location: eastus2\n", encoding="utf-8"
    )
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(
        "config:\n  workspaces:\n    - name: ws-main\n      kind: workspace\n      deployments:\n"
        "        - {name: chat, model: mistral-large-2411}\n",
        encoding="utf-8",
    )

    code, out, err = check(capsys, tmp_path, "--format", "json")

    assert (code, err) == (1, "")
    assert [(d["stack"], d["at"], d["name"], d["verdict"]) for d in json.loads(out)["deployments"]] == [
        ("prod", "azure-maas:workspaces[0].deployments[0]", "chat", "dead")
    ]
