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
