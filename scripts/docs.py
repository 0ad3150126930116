"""Generate the reference tables of the docs from the code, between marker lines:

    <!-- generated: NAME -->
    ...
    <!-- end generated: NAME -->

Usage: ``uv run python scripts/docs.py`` rewrites every generated section; ``--check`` changes nothing and exits
1 naming each section that is out of date (tests/test_docs.py runs it). Each table has one source:

- ``config-keys``: the settings model (``infra/settings/model.py``), its fields' docstrings;
- ``naming-rules``: the rules of ``infra/names.py`` and ``azure_maas_policy.facts``;
- ``stack-outputs``: ``infra/outputs.py``;
- ``catalog``: ``maas models --all --format markdown`` on the catalog's own as-of day;
- ``policies``: the pack's policies (``azure_maas_policy.rules.POLICIES``);
- ``cli-options``: the ``maas`` parser, built from the command table;
- ``exit-codes``: ``infra.errors.ExitCode``;
- ``json-fields``: the ``JSON_FIELDS`` of each command's JSON document.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pulumi_policy import ResourceValidationPolicy
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from azure_maas_policy import facts
from azure_maas_policy.rules import POLICIES
from infra import catalog, names, outputs
from infra.cli import app
from infra.cli.commands import COMMANDS, catalog_check, catalog_sync
from infra.cli.render import models as render_models
from infra.cli.render import plan as render_plan
from infra.cli.render import smoke as render_smoke
from infra.errors import ExitCode
from infra.settings import NAMESPACE, Settings
from infra.settings.model import nested_model

ROOT = Path(__file__).resolve().parents[1]
PAGES = (*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "policies" / "README.md")
SECTION = re.compile(
    r"^<!-- generated: (?P<name>[a-z-]+) -->\n(?P<body>.*?)^<!-- end generated: (?P=name) -->$",
    re.MULTILINE | re.DOTALL,
)
OPENING = re.compile(r"^<!-- (?:end )?generated: ([a-z-]+) -->$", re.MULTILINE)


def _md(text: str) -> str:
    """A docstring or help text as a Markdown table cell: RST literals as code, one line, pipes escaped, and
    ``<`` outside code as an entity (``Pulumi.<stack>.yaml`` would otherwise read as an HTML tag)."""
    parts = " ".join(text.replace("``", "`").split()).split("`")
    return "`".join(part if i % 2 else part.replace("<", "&lt;") for i, part in enumerate(parts)).replace("|", "\\|")


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- config-keys ---------------------------------------------------------------------------------------------


def _type_text(annotation: Any) -> str:  # noqa: PLR0911 - one return per kind of type
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_text(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return " or ".join(_type_text(a) for a in get_args(annotation) if a is not type(None))
    if origin is Literal:
        return " | ".join(f"`{value}`" for value in get_args(annotation))
    if origin is tuple:
        return f"list of {_type_text(get_args(annotation)[0])}"
    if origin is dict:
        return f"map of {_type_text(get_args(annotation)[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return {str: "string", bool: "boolean", int: "integer"}.get(annotation, str(annotation))


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "see meaning"
    value = field.default
    if value is None or value is PydanticUndefined:
        return "-"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, tuple):
        return "`[]`" if not value else f"`{json.dumps(list(value))}`"
    return f"`{json.dumps(value)}`"


def _config_rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, ...]]:
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        yield (f"`{path}`", _type_text(field.annotation), _default_text(field), field.description or "")
        inner = nested_model(field.annotation)
        if inner is not None:
            many = get_origin(field.annotation) is tuple
            yield from _config_rows(inner, f"{path}[]." if many else f"{path}.")


def config_keys() -> str:
    rows = list(_config_rows(Settings, f"{NAMESPACE}:"))
    return _table(("Key", "Type", "Default", "Meaning"), rows)


# --- naming-rules --------------------------------------------------------------------------------------------

NAME_RULES: tuple[facts.NameRule, ...] = tuple(
    {id(rule): rule for rule in vars(names).values() if isinstance(rule, facts.NameRule)}.values()
)
"""Every rule ``infra.names`` defines or re-exports from the pack, in the order they are written."""


def naming_rules() -> str:
    rows = [(rule.what, f"`{rule.pattern.pattern}`", rule.valid) for rule in NAME_RULES]
    return _table(("Value", "Pattern (full match)", "Rule"), rows)


# --- stack-outputs, json-fields ------------------------------------------------------------------------------


def stack_outputs() -> str:
    return _table(("Output", "Meaning"), [(f"`{path}`", text) for path, text in outputs.STACK_OUTPUTS.items()])


JSON_DOCUMENTS: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("maas plan --format json", render_plan.JSON_FIELDS),
    ("maas models --format json", render_models.JSON_FIELDS),
    ("maas smoke --format json", render_smoke.JSON_FIELDS),
    ("maas catalog check --format json", catalog_check.JSON_FIELDS),
    ("maas catalog sync --format json", catalog_sync.JSON_FIELDS),
)


def json_fields() -> str:
    parts = []
    for command, fields in JSON_DOCUMENTS:
        rows = [(f"`{path}`", text) for path, text in fields.items()]
        parts.append(f"`{command}`:\n\n" + _table(("Field", "Meaning"), rows))
    return "\n".join(parts)


# --- catalog, policies ---------------------------------------------------------------------------------------


def catalog_table() -> str:
    known = catalog.load()
    rows = catalog.listing(known, known.as_of, everything=True)
    return (
        f"As of {known.as_of.isoformat()} (`maas models --all --format markdown --today {known.as_of.isoformat()}`):\n\n"
        + render_models.models_markdown(rows, known, known.as_of)
    )


def _schema_default(schema: Mapping[str, Any]) -> str:
    if "default" not in schema:
        return "no default"
    text = json.dumps(schema["default"])
    if len(text) > 60 and isinstance(schema["default"], list):
        return f"a list of {len(schema['default'])} values"
    return f"`{text}`"


def policies() -> str:
    rows = []
    for policy in POLICIES:
        properties = policy.config_schema.properties if policy.config_schema else {}
        config = "; ".join(f"`{name}` ({_schema_default(schema)})" for name, schema in properties.items()) or "-"
        kind = "resource" if isinstance(policy, ResourceValidationPolicy) else "stack"
        level = policy.enforcement_level.value if policy.enforcement_level else "-"
        severity = policy.severity.value if policy.severity else "-"
        rows.append((f"`{policy.name}`", level, severity, kind, policy.description or "", config))
    return _table(("Policy", "Enforcement", "Severity", "Scope", "What it enforces", "Config (default)"), rows)


# --- cli-options, exit-codes ---------------------------------------------------------------------------------


def _command_parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    root = app.parser()
    for command in COMMANDS:
        parser = root
        for word in command.name.split():
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            parser = sub.choices[word]
        yield command.name, parser


def _option_row(action: argparse.Action) -> tuple[str, ...]:
    names_ = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.metavar or action.dest}`"
    if action.choices is not None:
        value = " | ".join(f"`{c}`" for c in action.choices)
    elif action.nargs == 0:
        value = "-"
    else:
        value = f"`{action.metavar or action.dest.upper()}`"
    help_ = (action.help or "") % {"default": action.default} if action.help else ""
    if isinstance(action, argparse._AppendAction):
        help_ += " (repeatable)" if "repeatable" not in help_ else ""
    return (names_, value, help_)


def cli_options() -> str:
    parts = []
    for name, parser in _command_parsers():
        rows = [
            _option_row(action)
            for action in parser._actions
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        ]
        parts.append(f"`maas {name}`:\n\n" + _table(("Option", "Value", "Meaning"), rows))
    return "\n".join(parts)


def exit_codes() -> str:
    return _table(("Code", "Name", "Meaning"), [(f"`{int(c)}`", f"`{c.name}`", c.meaning) for c in ExitCode])


GENERATORS: dict[str, Callable[[], str]] = {
    "config-keys": config_keys,
    "naming-rules": naming_rules,
    "stack-outputs": stack_outputs,
    "catalog": catalog_table,
    "policies": policies,
    "cli-options": cli_options,
    "exit-codes": exit_codes,
    "json-fields": json_fields,
}


# --- the markers ---------------------------------------------------------------------------------------------


def regenerate(text: str, where: str, generated: Mapping[str, str]) -> str:
    """``text`` with every generated section rewritten; a marker without its partner is an error."""
    openings = OPENING.findall(text)
    found = [m.group("name") for m in SECTION.finditer(text)]
    if len(openings) != 2 * len(found):
        raise SystemExit(f"docs: {where}: a generated-section marker has no partner (found: {', '.join(openings)})")
    unknown = sorted(set(found) - set(generated))
    if unknown:
        raise SystemExit(f"docs: {where}: unknown generated section {unknown[0]!r}; known: {', '.join(generated)}")
    return SECTION.sub(
        lambda m: (
            f"<!-- generated: {m['name']} -->\n\n{generated[m['name']].rstrip()}\n\n<!-- end generated: {m['name']} -->"
        ),
        text,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/docs.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a section is out of date")
    args = parser.parse_args(argv)
    generated = {name: make() for name, make in GENERATORS.items()}
    stale: list[str] = []
    seen: set[str] = set()
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        seen |= {m.group("name") for m in SECTION.finditer(text)}
        new = regenerate(text, str(page.relative_to(ROOT)), generated)
        if new != text:
            stale.append(str(page.relative_to(ROOT)))
            if not args.check:
                page.write_text(new, encoding="utf-8")
    missing = sorted(set(GENERATORS) - seen)
    if missing:
        print(f"docs: no page has the generated section {missing[0]!r}", file=sys.stderr)
        return ExitCode.FAILED
    if stale and args.check:
        print(f"docs: out of date: {', '.join(stale)}; run `uv run python scripts/docs.py`", file=sys.stderr)
        return ExitCode.FAILED
    for shown in stale:
        print(f"docs: rewrote {shown}")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
