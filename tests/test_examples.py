"""Examples are tests: every stack file shown in the README, under docs/ and in policies/README.md runs.

(The shipped ``Pulumi.<stack>.yaml`` files are the user's; tests/test_shipped.py runs each of them.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.engine.stack_files import read_stack_config
from tests.conftest import PROJECT
from tests.docs import DOCS, blocks, pack_readme, page, readme
from tests.harness import run_program

PAGES = {
    "README.md": readme(),
    **{f"docs/{path.name}": page(path.name) for path in sorted(DOCS.glob("*.md"))},
    "policies/README.md": pack_readme(),
}


def documented_stacks() -> list[tuple[str, str]]:
    """(where, text) of every ```yaml block with a top-level ``config:`` key, page by page."""
    found = []
    for name, text in PAGES.items():
        stacks = [
            b for b in blocks(text, "yaml") if isinstance(document := yaml.safe_load(b), dict) and "config" in document
        ]
        found += [(f"{name}[{i}]", block) for i, block in enumerate(stacks)]
    return found


DOCUMENTED = documented_stacks()


@pytest.mark.parametrize("block", [text for _, text in DOCUMENTED], ids=[where for where, _ in DOCUMENTED])
def test_documented_stack_example_deploys_under_mocks(block: str, tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.example.yaml"
    path.write_text(block, encoding="utf-8")
    (tmp_path / "Pulumi.yaml").write_text((PROJECT / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    run = run_program(read_stack_config(path), stack="example")

    deployed = run.of_type("azure-native:machinelearningservices:ServerlessEndpoint")
    deployed += run.of_type("azure-native:cognitiveservices:Deployment")
    assert deployed, "the example deploys no model"


def test_unnamespaced_keys_belong_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: azure-maas\nruntime: python\n", encoding="utf-8")
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  location: eastus\n  azure-native:location: eastus2\n  tags: {a: b}\n", encoding="utf-8")

    assert read_stack_config(path) == {
        "azure-maas:location": "eastus",
        "azure-native:location": "eastus2",
        "azure-maas:tags": '{"a": "b"}',
    }


def test_the_docs_show_complete_stack_examples() -> None:
    assert len(DOCUMENTED) >= 2


def test_the_example_without_content_safety_plans_with_its_documented_exception(tmp_path: Path) -> None:
    """docs/configuration.md turns content safety off for one endpoint and shows the stack's policy config that
    grants it an exception: with that file beside it the example plans clean; without it, the rule fails it."""
    import json

    from infra.engine.preview import run_preview

    text = page("configuration.md")
    (stack,) = [b for b in blocks(text, "yaml") if "contentSafety: false" in b]
    (policy,) = [b for b in blocks(text, "json") if "content-safety-enabled" in b]
    (tmp_path / "Pulumi.yaml").write_text((PROJECT / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "Pulumi.team-a.yaml").write_text(stack, encoding="utf-8")

    without = run_preview(tmp_path, "team-a")
    (tmp_path / "Pulumi.team-a.policy.json").write_text(policy, encoding="utf-8")
    planned = run_preview(tmp_path, "team-a")

    assert [
        (d.policy_name, d.enforcement_level.value)
        for d in without.report.diagnostics
        if d.urn.endswith("::team-a-codestral-endpoint")
    ] == [("content-safety-enabled", "mandatory"), ("required-tags", "advisory")]
    assert without.exit_code == 1
    assert planned.exit_code == 0
    assert planned.policy_config == tmp_path / "Pulumi.team-a.policy.json"
    assert json.loads(policy)["content-safety-enabled"]["exceptions"] == {
        "proj-team-a/team-a-codestral": "Code completion only; outputs are compiled and reviewed, never shown to end "
        "users"
    }
    mandatory = [d.policy_name for d in planned.report.diagnostics if d.enforcement_level.value == "mandatory"]
    assert mandatory == []
