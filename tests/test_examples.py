"""Examples are tests: every Pulumi.<stack>.yaml in the repo and every stack file in the README runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from infra.engine.stack_files import read_stack_config
from tests.conftest import ROOT
from tests.harness import run_program

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_stacks() -> list[str]:
    blocks = YAML_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    return [b for b in blocks if isinstance(yaml.safe_load(b), dict) and "config" in yaml.safe_load(b)]


def test_the_repo_ships_a_dev_stack() -> None:
    assert [p.name for p in STACK_FILES] == ["Pulumi.dev.yaml"]


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_stack_file_deploys_under_mocks(path: Path) -> None:
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")

    run = run_program(read_stack_config(path), stack=stack)

    assert run.of_type("azure-native:machinelearningservices:ServerlessEndpoint")


@pytest.mark.parametrize("block", readme_stacks())
def test_readme_stack_example_deploys_under_mocks(block: str, tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.example.yaml"
    path.write_text(block, encoding="utf-8")
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    run = run_program(read_stack_config(path), stack="example")

    assert run.of_type("azure-native:machinelearningservices:ServerlessEndpoint")


def test_unnamespaced_keys_belong_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: azure-maas\nruntime: python\n", encoding="utf-8")
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  location: eastus\n  azure-native:location: eastus2\n  tags: {a: b}\n", encoding="utf-8")

    assert read_stack_config(path) == {
        "azure-maas:location": "eastus",
        "azure-native:location": "eastus2",
        "azure-maas:tags": '{"a": "b"}',
    }


def test_readme_shows_complete_stack_examples() -> None:
    assert len(readme_stacks()) >= 2


def test_readme_naming_table_quotes_every_rule_sentence() -> None:
    from infra import names

    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    for rule in (names.ENDPOINT_NAME, names.WORKSPACE_NAME, names.RESOURCE_GROUP_NAME, names.GUID):
        row = next((line for line in lines if f"| `{rule.pattern.pattern}`" in line), "")
        assert row.endswith(f"| {rule.valid} |"), rule.what
