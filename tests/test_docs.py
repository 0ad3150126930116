"""The docs: reference tables generated from the code and up to date, every field of every JSON document and
stack output documented (and nothing documented that is not there), a short README that reaches every page,
and links that resolve."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from infra.cli import app
from infra.cli.commands import catalog_check, catalog_sync
from infra.cli.commands import smoke as smoke_command
from infra.cli.render import models as render_models
from infra.cli.render import plan as render_plan
from infra.cli.render import smoke as render_smoke
from infra.errors import ExitCode
from infra.outputs import STACK_OUTPUTS
from infra.settings import Settings
from infra.settings.model import nested_model
from tests.conftest import ROOT, minimal
from tests.harness import TODAY


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generator", ROOT / "scripts" / "docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["docs_generator"] = module
    spec.loader.exec_module(module)
    return module


docs = _load_generator()
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), ROOT / "policies" / "README.md"]


# --- generated sections --------------------------------------------------------------------------------------


def test_every_generated_section_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    code = docs.main(["--check"])

    assert (code, capsys.readouterr().err) == (0, "")


def test_the_check_names_a_stale_page_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# A\n\n<!-- generated: exit-codes -->\nold\n<!-- end generated: exit-codes -->\n", encoding="utf-8"
    )
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    monkeypatch.setattr(docs, "PAGES", (page,))
    monkeypatch.setattr(docs, "GENERATORS", {"exit-codes": docs.exit_codes})

    assert docs.main(["--check"]) == 1
    assert capsys.readouterr().err == "docs: out of date: page.md; run `uv run python scripts/docs.py`\n"
    assert "old" in page.read_text(encoding="utf-8")
    assert docs.main([]) == 0
    assert "| `2` | `USAGE` |" in page.read_text(encoding="utf-8")
    assert docs.main(["--check"]) == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<!-- generated: exit-codes -->\nx\n", "a generated-section marker has no partner (found: exit-codes)"),
        ("<!-- generated: nope -->\n<!-- end generated: nope -->\n", "unknown generated section 'nope'; known: "),
    ],
)
def test_a_broken_marker_is_an_error(text: str, problem: str) -> None:
    with pytest.raises(SystemExit) as raised:
        docs.regenerate(text, "page.md", {"exit-codes": "table"})
    assert str(raised.value).startswith(f"docs: page.md: {problem}")


def test_every_config_key_and_exit_code_has_a_meaning() -> None:
    def fields(model: type[BaseModel]) -> Iterator[str]:
        for name, field in model.model_fields.items():
            if not field.description:
                yield f"{model.__name__}.{name}"
            inner = nested_model(field.annotation)
            if inner is not None:
                yield from fields(inner)

    assert list(fields(Settings)) == []
    assert [code.name for code in ExitCode if not code.meaning] == []


def test_the_config_table_lists_every_key_once() -> None:
    table = docs.config_keys()
    keys = re.findall(r"^\| `azure-maas:([^`]+)`", table, re.MULTILINE)
    assert len(keys) == len(set(keys))
    assert {"location", "workspaces[].deployments[].allowRetired", "deployerRoles.serverless", "tags"} <= set(keys)


def test_the_cli_table_lists_every_option_of_every_command() -> None:
    table = docs.cli_options()
    for name, parser in docs._command_parsers():
        section = table.split(f"`maas {name}`:\n", 1)[1].split("\n`maas ", 1)[0]
        options = {o for a in parser._actions for o in a.option_strings if o not in {"--help", "-h"}}
        assert options == set(re.findall(r"`(--?[A-Za-z-]+)`", section.split("| Meaning |", 1)[1])) - {"-"}, name


# --- JSON documents and stack outputs hold to their declared fields ------------------------------------------


def paths(
    value: Any, prefix: str = "", *, maps: frozenset[str] = frozenset(), opaque: frozenset[str] = frozenset()
) -> list[str]:
    """Every field of a JSON document as a dotted path (``items[].name``) to depth 3; under a path in ``maps``
    the keys are names (``<name>``); a path in ``opaque`` is not descended into."""
    found: list[str] = []
    if prefix in opaque:
        return found
    if isinstance(value, Mapping):
        if prefix.replace("[]", "").count(".") >= 2:
            return found
        for key, item in value.items():
            path = f"{prefix}.{'<name>' if prefix in maps else key}".lstrip(".")
            found += [p for p in [path, *paths(item, path, maps=maps, opaque=opaque)] if p not in found]
    elif isinstance(value, list):
        for item in value:
            found += [p for p in paths(item, f"{prefix}[]", maps=maps, opaque=opaque) if p not in found]
    return found


def test_paths_reads_names_lists_and_depth() -> None:
    document = {"a": [{"b": {"c": {"d": 1}}}], "m": {"x": {"y": 1}, "z": {"y": 2}}, "o": {"k": 1}}
    assert paths(document, maps=frozenset({"m"}), opaque=frozenset({"o"})) == [
        "a",
        "a[].b",
        "a[].b.c",
        "m",
        "m.<name>",
        "m.<name>.y",
        "o",
    ]


def _project(directory: Path, config: Mapping[str, str]) -> Path:
    (directory / "Pulumi.yaml").write_text("name: azure-maas\nruntime: python\n", encoding="utf-8")
    document = {"config": {key: yaml.safe_load(value) for key, value in config.items()}}
    (directory / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return directory


def _json_of(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    app.main([*argv, "--format", "json", "--today", TODAY.isoformat()])
    return json.loads(capsys.readouterr().out)


def test_the_plan_document(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A plan with a violation, so that diagnostics have entries, and a Foundry deployment."""
    deployments = [{"name": "small", "model": "mistral-small-2503", "contentSafety": False}]
    foundry = {"name": "fdy-main", "deployments": [{"name": "large", "model": "mistral-large-3"}]}
    workspaces = [{"name": "ws-main", "kind": "workspace", "deployments": deployments}]
    project = _project(tmp_path, minimal(workspaces=workspaces, foundries=[foundry]))
    document = _json_of(capsys, "plan", "--stack", "dev", "--cwd", str(project))

    assert document["diagnostics"]
    opaque = frozenset({"resources[].inputs", "resources[].propertyDependencies"})
    assert paths(document, opaque=opaque) == list(render_plan.JSON_FIELDS)


def test_the_models_documents(capsys: pytest.CaptureFixture[str]) -> None:
    listing = _json_of(capsys, "models", "--all")
    one = _json_of(capsys, "models", "mistral-medium-2505")

    opaque = frozenset({"models[].foundry.skus"})
    assert sorted(paths(listing, opaque=opaque)) == sorted(render_models.JSON_FIELDS)
    assert set(paths({"models": [one]}, opaque=opaque)) < set(paths(listing, opaque=opaque))


def test_the_catalog_check_document(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = _project(tmp_path, minimal())
    document = _json_of(capsys, "catalog", "check", "--cwd", str(project))

    assert paths(document) == list(catalog_check.JSON_FIELDS)


def test_the_smoke_document() -> None:
    usage = smoke_command.Usage(prompt_tokens=6, completion_tokens=2, total_tokens=8)
    results = [
        smoke_command.Result("a", "inference", "key", False, True, 200, 1, latency=0.1, usage=usage, reply="pong"),
        smoke_command.Result("b", "native", "entra", True, False, None, 1, problem="no answer"),
    ]
    document = json.loads(render_smoke.smoke_json(results, "dev"))

    assert paths(document) == list(render_smoke.JSON_FIELDS)


def test_the_catalog_sync_document() -> None:
    results = [catalog_sync.Swept("eastus2", True, models=3, pages=1), catalog_sync.Swept("westus", False, error="x")]
    document = catalog_sync.json_document("sub", "catalog.yaml", results, ["a change"], ["a note"], "--- a\n", False)

    assert paths(document) == list(catalog_sync.JSON_FIELDS)


def test_the_stack_outputs_are_what_the_program_exports() -> None:
    """The recorded outputs of the dev and Foundry stacks (tests/test_smoke.py holds them to the program's
    exports), together."""
    maps = frozenset({"workspaces", "endpoints", "endpointKeys", "foundries", "foundryDeployments", "foundryKeys"})
    opaque = frozenset(
        {"endpoints.<name>.rateLimits", "endpointKeys.<name>", "foundries.<name>.projects", "foundryKeys.<name>"}
    )
    found: set[str] = set()
    for name in ("stack-output-dev.json", "stack-output-foundry.json"):
        recorded = json.loads((ROOT / "tests" / "data" / name).read_text(encoding="utf-8"))
        found |= set(paths(recorded, maps=maps, opaque=opaque))

    assert sorted(found) == sorted(STACK_OUTPUTS)


# --- the README and the pages --------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation other than '-' and '_' dropped, spaces as '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE):
        base = slug(heading)
        candidate, n = base, 0
        while candidate in found:
            n += 1
            candidate = f"{base}-{n}"
        found.add(candidate)
    return found


def test_the_readme_is_short_and_reaches_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {link.split("#")[0] for link in LINK.findall(readme)}

    assert len(readme.encode()) < 12_000
    assert sorted(f"docs/{p.name}" for p in DOCS.glob("*.md") if f"docs/{p.name}" not in linked) == []
    assert "policies/README.md" in linked


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans hold patterns like [a-z](...), not links
    broken = []
    for link in LINK.findall(text):
        if re.match(r"[a-z]+:", link):
            continue
        target, _, fragment = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link}: no such file")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(f"{link}: no heading #{fragment} in {path.relative_to(ROOT)}")
    assert broken == []


def test_the_slug_rule() -> None:
    assert slug("Plan offline: `maas plan`") == "plan-offline-maas-plan"
    assert slug("Security: what each identity can and cannot do") == "security-what-each-identity-can-and-cannot-do"
