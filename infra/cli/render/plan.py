"""The three views of a plan: a terminal report (rich), a pull-request comment (Markdown with a Mermaid graph)
and a stable JSON document for other tools. None of them shows a secret or a ciphertext: inputs are printed
with secrets masked, and secure config is listed by key only."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime.rpc import UNKNOWN
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from infra.cli.output import plural
from infra.engine.analyzer import Diagnostic, EnforcementLevel, Severity
from infra.engine.capture import UNKNOWN_TEXT, mask_secrets
from infra.engine.preview import PLACEHOLDER_ID, PreviewResult
from infra.engine.resource import Resource

SCHEMA_VERSION = 1
MERMAID_LIMIT = 150
"""More resources than this and the Markdown graph is left out (GitHub renders large graphs poorly)."""

JSON_FIELDS: dict[str, str] = {
    "schemaVersion": "1; changes when a field changes meaning or goes away.",
    "project": "The project name, from `Pulumi.yaml`.",
    "stack": "The stack planned, as `--stack` gave it or `pulumi stack select` chose it: `dev`, `org/dev` or "
    "`org/project/dev`.",
    "identity": "The subscription and tenant the program saw.",
    "identity.subscriptionId": "From `ARM_SUBSCRIPTION_ID` or `azure-native:subscriptionId`, else a placeholder.",
    "identity.tenantId": "From `ARM_TENANT_ID` or `azure-native:tenantId`, else a placeholder.",
    "identity.source": "Where the subscription came from: `environment`, `config` or `placeholder`.",
    "secureConfigKeys": "Config keys with secure values, which are not decrypted offline (names only).",
    "resources": "Every resource the program registers, sorted by URN.",
    "resources[].urn": "The resource's URN.",
    "resources[].type": "Its Pulumi type token.",
    "resources[].name": "Its logical name.",
    "resources[].parent": "The parent's URN, or null.",
    "resources[].custom": "False for components.",
    "resources[].operation": "Always `create`: an offline plan knows no state.",
    "resources[].dependencies": "URNs it depends on, sorted.",
    "resources[].propertyDependencies": "By input name, the URNs that input waits for.",
    "resources[].options": "`deleteBeforeReplace` and `protect`.",
    "resources[].options.deleteBeforeReplace": "True where the program asks for delete-before-replace.",
    "resources[].options.protect": "True for protected resources.",
    "resources[].inputs": "The inputs as the engine would send them; unknown values are `[unknown]`, secrets `[secret]`.",
    "modelSlots": "One entry per serverless endpoint: which model it puts into which workspace.",
    "modelSlots[].workspace": "The workspace (or project) the endpoint is in.",
    "modelSlots[].endpoint": "The endpoint's name.",
    "modelSlots[].modelId": "The model ID it deploys.",
    "modelSlots[].authMode": "`Key`, `AAD` or `KeyAndAAD`.",
    "modelSlots[].contentSafety": "`Enabled` or `Disabled`.",
    "modelSlots[].marketplaceSubscription": "True when a Marketplace subscription precedes the endpoint.",
    "foundryDeployments": "One entry per Foundry deployment, each resource's in the order they are created.",
    "foundryDeployments[].foundry": "The Foundry resource (its config name).",
    "foundryDeployments[].deployment": "The deployment name (clients send it as `model`).",
    "foundryDeployments[].model": "`<format>/<name> <version>`.",
    "foundryDeployments[].sku": "The deployment type.",
    "foundryDeployments[].capacity": "Units of the sku.",
    "foundryDeployments[].contentFilter": "The content-filter (RAI) policy it names.",
    "foundryDeployments[].after": "The deployment of the same resource it waits for, or null for the first.",
    "policyPack": "The pack that judged the plan.",
    "policyPack.name": "Its name.",
    "policyPack.version": "Its version.",
    "policyConfig": "The policy config the pack ran with (`--policy-pack-config`, else the stack's "
    "`Pulumi.<stack>.policy.json` when there is one), relative to the project directory when it is inside it; "
    "null for the pack's defaults.",
    "warnings": "What the offline plan could not do as `pulumi preview` would (such as reading an ESC environment), "
    "one line each; also printed on stderr.",
    "diagnostics": "Policy violations, mandatory first, then by severity.",
    "diagnostics[].policyName": "The rule that reported it.",
    "diagnostics[].enforcementLevel": "`mandatory`, `remediate` or `advisory`.",
    "diagnostics[].severity": "`critical`, `high`, `medium`, `low` or empty.",
    "diagnostics[].urn": "The resource it is about, or null for a stack-wide one.",
    "diagnostics[].description": "The rule's description.",
    "diagnostics[].message": "What was found, what is allowed and how to fix it.",
    "summary": "Counts and the verdict.",
    "summary.resources": "Resources to create.",
    "summary.endpoints": "Serverless endpoints.",
    "summary.workspaces": "Workspaces that hold endpoints.",
    "summary.foundryDeployments": "Deployments on Foundry resources.",
    "summary.mandatory": "Mandatory violations.",
    "summary.advisory": "Advisory violations.",
    "summary.exitCode": "The exit code of the run (1 with mandatory violations, else 0).",
}
"""Every field of ``maas plan --format json`` (to depth 3); docs/cli.md shows them and a test holds them to the
document."""


@dataclass(frozen=True)
class PlanView:
    """A preview as the reports show it."""

    result: PreviewResult
    stack: str
    """The stack as the user named it or Pulumi selected it, qualified names kept (``org/dev``); the result's
    own ``stack`` is the short name the program ran under."""
    directory: Path
    """The project directory: the policy config's path is shown relative to it."""


_LEVEL_ORDER = [EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE, EnforcementLevel.ADVISORY]
_SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.UNSPECIFIED]


def _ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(
        diagnostics,
        key=lambda d: (
            _LEVEL_ORDER.index(d.enforcement_level) if d.enforcement_level in _LEVEL_ORDER else 9,
            _SEVERITY_ORDER.index(d.severity),
            d.policy_name,
            d.urn,
        ),
    )


def _resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def _readable(value: Any) -> Any:
    """Inputs for display: secrets masked, unknown values as ``[unknown]``."""
    return _unknowns_marked(mask_secrets(value))


def _unknowns_marked(value: Any) -> Any:
    if value == UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: _unknowns_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns_marked(v) for v in value]
    return value


def summary(result: PreviewResult) -> dict[str, Any]:
    counts = Counter(d.enforcement_level for d in result.report.diagnostics)
    slots = result.slots
    return {
        "resources": len(result.resources),
        "endpoints": len(slots),
        "workspaces": len({s.workspace for s in slots}),
        "foundryDeployments": len(result.foundry_deployments),
        "mandatory": counts[EnforcementLevel.MANDATORY],
        "advisory": counts[EnforcementLevel.ADVISORY],
        "exitCode": result.exit_code,
    }


def summary_line(view: PlanView) -> str:
    s = summary(view.result)
    verdict = (
        f"BLOCKED by {plural(s['mandatory'], 'mandatory policy violation')}" if s["mandatory"] else "passes policy"
    )
    foundry = f", {plural(s['foundryDeployments'], 'Foundry deployment')}" if s["foundryDeployments"] else ""
    return (
        f"Plan for {view.stack}: {plural(s['resources'], 'resource')} to create, {plural(s['endpoints'], 'endpoint')} "
        f"in {plural(s['workspaces'], 'workspace')}{foundry}; {s['mandatory']} mandatory, {s['advisory']} advisory; "
        f"{verdict}."
    )


def policy_config(view: PlanView) -> str | None:
    """The policy config file the pack ran with, relative to the project directory when it is inside it (with
    ``/`` on every system); None for the pack's defaults."""
    path = view.result.policy_config
    if path is None:
        return None
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(view.directory))
    return (absolute.relative_to(base) if absolute.is_relative_to(base) else absolute).as_posix()


DEFAULT_POLICY_CONFIG = "the pack's defaults"
"""How the reports name the policy config when there is no file: every policy at its default."""


def policy_config_line(view: PlanView) -> str:
    return f"policy config: {policy_config(view) or DEFAULT_POLICY_CONFIG}"


def _identity_note(result: PreviewResult) -> str | None:
    if result.identity.source != "placeholder":
        return None
    return (
        f"The subscription is not known offline: names derived from it (role assignments, custom roles) use "
        f"{PLACEHOLDER_ID}. Set ARM_SUBSCRIPTION_ID to plan with the real one."
    )


# --- JSON ----------------------------------------------------------------------------------------------------


def _resource_json(resource: Resource) -> dict[str, Any]:
    return {
        "urn": resource.urn,
        "type": resource.type,
        "name": resource.name,
        "parent": resource.parent or None,
        "custom": resource.custom,
        "operation": "create",
        "dependencies": sorted(resource.dependencies),
        "propertyDependencies": {k: sorted(v) for k, v in sorted(resource.property_dependencies.items()) if v},
        "options": {"deleteBeforeReplace": bool(resource.delete_before_replace), "protect": resource.protect},
        "inputs": _readable(resource.inputs),
    }


def to_json(view: PlanView) -> str:
    result = view.result
    document = {
        "schemaVersion": SCHEMA_VERSION,
        "project": result.project,
        "stack": view.stack,
        "identity": {
            "subscriptionId": result.identity.subscription_id,
            "tenantId": result.identity.tenant_id,
            "source": result.identity.source,
        },
        "secureConfigKeys": sorted(result.secure_keys),
        "resources": [_resource_json(r) for r in result.resources],
        "modelSlots": [
            {
                "workspace": s.workspace,
                "endpoint": s.endpoint,
                "modelId": s.model_id,
                "authMode": s.auth_mode,
                "contentSafety": s.content_safety,
                "marketplaceSubscription": s.marketplace_subscription,
            }
            for s in result.slots
        ],
        "foundryDeployments": [
            {
                "foundry": row.foundry,
                "deployment": row.deployment,
                "model": row.model,
                "sku": row.sku,
                "capacity": row.capacity,
                "contentFilter": row.content_filter,
                "after": row.after,
            }
            for row in result.foundry_deployments
        ],
        "policyPack": {"name": result.report.pack_name, "version": result.report.pack_version},
        "policyConfig": policy_config(view),
        "warnings": list(result.warnings),
        "diagnostics": [
            {
                "policyName": d.policy_name,
                "enforcementLevel": d.enforcement_level.value,
                "severity": d.severity.value,
                "urn": d.urn or None,
                "description": d.description,
                "message": d.detail,
            }
            for d in _ordered(result.report.diagnostics)
        ],
        "summary": summary(result),
    }
    return json.dumps(document, indent=2)


# --- Markdown ------------------------------------------------------------------------------------------------


def comment_marker(stack: str) -> str:
    """The first line of the comment, for a workflow to find and update its own comment."""
    return f"<!-- maas-plan stack={stack} -->"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&:@])")
"""Characters that start Markdown or HTML (emphasis, code, links, images, tags, entities, tables, strikethrough)
or an autolink (``https:``, ``a@b``): backslash-escaped, each renders as itself."""


def _cell(text: str) -> str:
    """Text from a config or a message in a table cell: nothing in it renders as Markdown; line breaks kept."""
    lines = (_MARKDOWN_SPECIAL.sub(r"\\\1", line).replace("www.", "www\\.") for line in text.splitlines() or [""])
    return "<br>".join(lines)


def _code(text: str) -> str:
    """``text`` as an inline code span that no backtick in it can end, safe in a table cell (``|`` escaped)."""
    flat = " ".join(text.splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    escaped = flat.replace("|", "\\|")
    return f"{fence}{pad}{escaped}{pad}{fence}"


def _mermaid_text(text: str) -> str:
    """A Mermaid label: characters that end the label or the code block, or read as HTML, as entity codes."""
    entities = {'"': "#quot;", "`": "#96;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;"}
    return "".join(entities.get(c, c) for c in text)


def _mermaid(result: PreviewResult) -> list[str]:
    ids = {r.urn: f"r{i}" for i, r in enumerate(result.resources)}
    lines = ["```mermaid", "flowchart LR"]
    for resource in result.resources:
        label = f"{_mermaid_text(resource.name)}<br/>{_mermaid_text(resource.type.split(':', 1)[-1])}"
        shape = f'["{label}"]' if resource.custom else f'(["{label}"])'
        lines.append(f"  {ids[resource.urn]}{shape}")
    edges: list[str] = []
    for resource in result.resources:
        if resource.parent in ids:
            edges.append(f"  {ids[resource.parent]} -.- {ids[resource.urn]}")
        upstream = sorted(
            {*resource.dependencies, *(u for urns in resource.property_dependencies.values() for u in urns)}
        )
        edges.extend(f"  {ids[u]} --> {ids[resource.urn]}" for u in upstream if u in ids and u != resource.parent)
    return [*lines, *edges, "```"]


def to_markdown(view: PlanView) -> str:
    result = view.result
    s = summary(result)
    status = "❌ blocked by mandatory policy violations" if s["mandatory"] else "✅ passes policy"
    config = policy_config(view)
    lines = [
        comment_marker(view.stack),
        f"### `maas plan` for stack {_code(view.stack)}: {status}",
        "",
        "| | |",
        "|---|---|",
        f"| Resources to create | {s['resources']} |",
        f"| Serverless endpoints | {s['endpoints']} in {plural(s['workspaces'], 'workspace')} |",
        *([f"| Foundry deployments | {s['foundryDeployments']} |"] if s["foundryDeployments"] else []),
        f"| Mandatory violations | {s['mandatory']} |",
        f"| Advisory findings | {s['advisory']} |",
        f"| Policy pack | {_code(result.report.pack_name)} {_code(result.report.pack_version)} |",
        f"| Policy config | {_code(config) if config else DEFAULT_POLICY_CONFIG} |",
        "",
    ]
    for warning in result.warnings:
        lines += ["> [!WARNING]", f"> {_cell(warning)}", ""]
    note = _identity_note(result)
    if note:
        lines += [f"> {_cell(note)}", ""]
    if result.secure_keys:
        keys = ", ".join(_code(k) for k in sorted(result.secure_keys))
        lines += [f"> Secure config ({keys}) is not decrypted offline; the program saw `[secret]`.", ""]
    lines += ["#### Policy results", ""]
    diagnostics = _ordered(result.report.diagnostics)
    if diagnostics:
        lines += ["| Level | Severity | Policy | Resource | Message |", "|---|---|---|---|---|"]
        lines += [
            f"| {d.enforcement_level.value} | {d.severity.value} | {_code(d.policy_name)} | "
            f"{_code(_resource_name(d.urn))} | {_cell(d.detail)} |"
            for d in diagnostics
        ]
    else:
        lines.append("No violations.")
    lines += ["", "#### Model slots", ""]
    if result.slots:
        lines += [
            "| Workspace | Endpoint | Model | Auth | Content safety | Marketplace subscription |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_code(x.workspace)} | {_code(x.endpoint)} | {_code(x.model_id)} | {_cell(x.auth_mode)} "
            f"| {_cell(x.content_safety)} | {'yes' if x.marketplace_subscription else 'no'} |"
            for x in result.slots
        ]
    else:
        lines.append("No serverless endpoints.")
    if result.foundry_deployments:
        lines += ["", "#### Foundry deployments", ""]
        lines += [
            "| Foundry resource | Deployment | Model | Sku | Content filter | After |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_code(row.foundry)} | {_code(row.deployment)} | {_cell(row.model)} | {_cell(row.sku)} x "
            f"{_cell(row.capacity)} | {_code(row.content_filter)} | {_code(row.after) if row.after else 'first'} |"
            for row in result.foundry_deployments
        ]
    lines += ["", "<details><summary>Resource graph</summary>", ""]
    if len(result.resources) <= MERMAID_LIMIT:
        lines += _mermaid(result)
    else:
        left_out = plural(len(result.resources), "resource")
        lines.append(f"Left out: {left_out} (the graph is drawn up to {MERMAID_LIMIT}).")
    lines += ["", "</details>", "", summary_line(view), ""]
    return "\n".join(lines)


# --- terminal --------------------------------------------------------------------------------------------------


def print_text(view: PlanView, console: Console) -> None:
    result = view.result
    children: dict[str, list[Resource]] = {}
    for resource in result.resources:
        children.setdefault(resource.parent, []).append(resource)
    known = {r.urn for r in result.resources}
    tree = Tree(
        f"[bold]{escape(result.project)}[/] stack [bold]{escape(view.stack)}[/] "
        "(everything is a create: there is no state offline)"
    )

    def add(node: Tree, parent: str) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: r.name):
            flag = " [yellow](delete before replace)[/]" if resource.delete_before_replace else ""
            branch = node.add(f"[green]+[/] {escape(resource.name)} [dim]{escape(resource.type)}[/]{flag}")
            add(branch, resource.urn)

    for root in sorted(p for p in children if p not in known):
        add(tree, root)
    console.print(tree)

    if result.slots or not result.foundry_deployments:
        slots = Table(title="Model slots", box=box.SIMPLE_HEAVY)
        for column in ("workspace", "endpoint", "model", "auth", "content safety", "subscription"):
            slots.add_column(column, overflow="fold")
        for x in result.slots:
            slots.add_row(
                *(escape(v) for v in (x.workspace, x.endpoint, x.model_id, x.auth_mode, x.content_safety)),
                "yes" if x.marketplace_subscription else "no",
            )
        console.print(slots)
    if result.foundry_deployments:
        foundry = Table(title="Foundry deployments (created one after the other)", box=box.SIMPLE_HEAVY)
        for column in ("foundry", "deployment", "model", "sku", "content filter", "after"):
            foundry.add_column(column, overflow="fold")
        for row in result.foundry_deployments:
            foundry.add_row(
                *(escape(v) for v in (row.foundry, row.deployment, row.model, f"{row.sku} x {row.capacity}")),
                escape(row.content_filter),
                escape(row.after) if row.after else "[dim]first[/]",
            )
        console.print(foundry)

    diagnostics = _ordered(result.report.diagnostics)
    title = f"Policy pack {result.report.pack_name} {result.report.pack_version}"
    if diagnostics:
        table = Table(title=title, box=box.SIMPLE_HEAVY, show_lines=False)
        for column in ("level", "severity", "policy", "resource", "message"):
            table.add_column(column, overflow="fold")
        for d in diagnostics:
            style = "red" if d.enforcement_level == EnforcementLevel.MANDATORY else "yellow"
            table.add_row(
                f"[{style}]{d.enforcement_level.value}[/]",
                d.severity.value,
                escape(d.policy_name),
                escape(_resource_name(d.urn)),
                escape(d.detail),
            )
        console.print(table)
    else:
        console.print(f"{title}: no violations")
    console.print(policy_config_line(view), markup=False, highlight=False)
    note = _identity_note(result)
    if note:
        console.print(f"[dim]{escape(note)}[/]")
    if result.secure_keys:
        keys = ", ".join(sorted(result.secure_keys))
        console.print(f"[dim]Secure config not decrypted offline (the program saw [secret]): {escape(keys)}[/]")
    console.print(summary_line(view), style="bold red" if result.exit_code else "bold green", highlight=False)
