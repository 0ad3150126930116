"""``maas models`` views: a table that reads at 80 columns, one model in full, and JSON for scripts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.catalog import Catalog, Channel, Listed, Model, Sourced, regions_on
from infra.cli.output import plural

SCHEMA_VERSION = 2

_SOURCED = {
    "source": "The key of the catalog source the facts come from.",
    "asOf": "The day the facts were read.",
    "note": "Where sources disagree, which fact was kept and why; or null.",
}
JSON_FIELDS: dict[str, str] = {
    "schemaVersion": "2; changes when a field changes meaning or goes away.",
    "catalogAsOf": "The day the catalog's facts were last read as a whole.",
    "today": "The day the lifecycle is judged on (`--today`).",
    "models": "The models listed (`maas models KEY --format json` prints one such entry).",
    "models[].key": "The catalog key, as `model:` in the stack config takes it.",
    "models[].name": "The model's name.",
    "models[].publisher": "Who publishes it.",
    "models[].api": "`chat` or `ocr`.",
    "models[].channels": "The channels it is offered on: `serverless`, `foundry`, `managedCompute`.",
    "models[].lifecycle": "Its lifecycle.",
    "models[].lifecycle.stage": "Its stage on `today`.",
    "models[].lifecycle.recordedStage": "The stage the catalog records.",
    "models[].lifecycle.deprecationDate": "The day it is deprecated, or null.",
    "models[].lifecycle.retirementDate": "The day it retires, or null.",
    "models[].lifecycle.tentative": "True when the dates are announced as tentative.",
    "models[].lifecycle.replacement": "The key of the model Azure names as its replacement, or null.",
    "models[].lifecycle.livingReplacement": "The first living model of the replacement chain on `today`, or null.",
    **{f"models[].lifecycle.{key}": text for key, text in _SOURCED.items()},
    "models[].serverless": "As a serverless API, or null.",
    "models[].serverless.modelId": "The `azureml://` model ID.",
    "models[].serverless.marketplace": "True when Azure Marketplace sells it (a subscription is needed).",
    "models[].serverless.regions": "Regions that offer it.",
    **{f"models[].serverless.{key}": text for key, text in _SOURCED.items()},
    "models[].foundry": "As a Foundry resource deployment, or null.",
    "models[].foundry.format": "The model format (publisher) Azure names.",
    "models[].foundry.name": "The model name in deployments.",
    "models[].foundry.version": "The default version.",
    "models[].foundry.marketplace": "True when Azure Marketplace sells it.",
    "models[].foundry.skus": "By deployment type (sku), the regions that offer it.",
    "models[].foundry.regions": "Every region of any sku.",
    **{f"models[].foundry.{key}": text for key, text in _SOURCED.items()},
    "models[].managedCompute": "On managed compute only (not deployable by azure-maas), or null.",
    "models[].managedCompute.modelId": "The `azureml://` model ID.",
    **{f"models[].managedCompute.{key}": text for key, text in _SOURCED.items()},
}
"""Every field of ``maas models --format json``; docs/cli.md shows them and a test holds them to the document."""
"""Of the ``maas models --format json`` document (2: channels per model)."""

_STAGE_STYLE = {"Retired": "red", "Deprecated": "yellow", "Legacy": "yellow", "Preview": "cyan"}
_STAGE_SHORT = {"GenerallyAvailable": "GA"}
_API_TEXT = {"chat": "chat", "ocr": "OCR"}
_CHANNEL_LABELS: dict[Channel, str] = {
    "serverless": "Serverless API",
    "foundry": "Foundry",
    "managedCompute": "Managed compute",
}
MARKETPLACE_MARK = "*"


def _sourced(group: Sourced) -> dict[str, Any]:
    return {"source": group.source, "asOf": group.as_of.isoformat(), "note": group.note}


def model_json(model: Model, catalog: Catalog, today: dt.date) -> dict[str, Any]:
    """Every fact of a row, dates as ISO strings, regions spelled out, with each group's source and date."""
    life = model.lifecycle
    replacement = catalog.replacement_on(model, today)
    document: dict[str, Any] = {
        "key": model.key,
        "name": model.name,
        "publisher": model.publisher,
        "api": model.api,
        "channels": list(model.channels),
        "lifecycle": {
            "stage": life.stage_on(today),
            "recordedStage": life.stage,
            "deprecationDate": life.deprecation_date and life.deprecation_date.isoformat(),
            "retirementDate": life.retirement_date and life.retirement_date.isoformat(),
            "tentative": life.tentative,
            "replacement": life.replacement,
            "livingReplacement": replacement.key if replacement else None,
            **_sourced(life),
        },
        "serverless": None,
        "foundry": None,
        "managedCompute": None,
    }
    if model.serverless is not None:
        document["serverless"] = {
            "modelId": model.serverless.model_id,
            "marketplace": model.serverless.marketplace,
            "regions": list(catalog.serverless_regions(model)),
            **_sourced(model.serverless),
        }
    if model.foundry is not None:
        foundry = model.foundry
        document["foundry"] = {
            "format": foundry.format,
            "name": foundry.name,
            "version": foundry.version,
            "marketplace": foundry.marketplace,
            "skus": {sku: list(regions) for sku, regions in foundry.skus.items()},
            "regions": list(foundry.regions),
            **_sourced(foundry),
        }
    if model.managed_compute is not None:
        document["managedCompute"] = {"modelId": model.managed_compute.model_id, **_sourced(model.managed_compute)}
    return document


def models_json(rows: Sequence[Listed], catalog: Catalog, today: dt.date) -> str:
    return json.dumps(
        {
            "schemaVersion": SCHEMA_VERSION,
            "catalogAsOf": catalog.as_of.isoformat(),
            "today": today.isoformat(),
            "models": [model_json(row.model, catalog, today) for row in rows],
        },
        indent=2,
    )


def _md_regions(regions: Sequence[str], every: Sequence[str], what: str) -> str:
    return f"every {what} region" if list(regions) == list(every) else ", ".join(regions)


def models_markdown(rows: Sequence[Listed], catalog: Catalog, today: dt.date) -> str:
    """The catalog as a Markdown table (docs/models.md shows this output, kept in step by scripts/docs.py)."""
    lines = [
        "| Key | Name | API | Lifecycle | Serverless API | Foundry resource |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        model = row.model
        life = model.lifecycle
        stage = _STAGE_SHORT.get(row.stage, row.stage)
        if life.retirement_date and row.stage == "Retired":
            stage = f"Retired {life.retirement_date.isoformat()}"
        elif life.retirement_date:
            stage += f", retires {life.retirement_date.isoformat()}"
        if row.stage in ("Deprecated", "Retired"):
            replacement = catalog.replacement_on(model, today)
            stage += f"; use `{replacement.key}`" if replacement else "; no replacement"
        serverless = foundry = "-"
        if model.serverless is not None:
            regions = _md_regions(catalog.serverless_regions(model), catalog.serverless.regions, "serverless")
            market = "Marketplace" if model.serverless.marketplace else "no Marketplace"
            serverless = f"`{model.serverless.model_id}` ({market}; {regions})"
        elif model.managed_compute is not None:
            serverless = f"managed compute only: `{model.managed_compute.model_id}`"
        if model.foundry is not None:
            f = model.foundry
            skus = ", ".join(f"{sku} ({plural(len(regions), 'region')})" for sku, regions in f.skus.items())
            seller = "Marketplace" if f.marketplace else "sold by Azure"
            foundry = f"{f.format} / `{f.name}` / {f.version} ({seller}; {skus})"
        lines.append(f"| `{model.key}` | {model.name} | {_API_TEXT[model.api]} | {stage} | {serverless} | {foundry} |")
    return "\n".join(lines) + "\n"


def _lifecycle_text(row: Listed, catalog: Catalog, today: dt.date) -> str:
    life = row.model.lifecycle
    style = _STAGE_STYLE.get(row.stage, "")
    stage = _STAGE_SHORT.get(row.stage, row.stage)
    lines = [f"[{style}]{stage}[/]" if style else stage]
    if life.deprecation_date and row.stage not in ("Retired",):
        lines.append(f"deprecation {life.deprecation_date.isoformat()}")
    if life.retirement_date:
        tentative = "~" if life.tentative else ""
        verb = "retired" if row.stage == "Retired" else "retires"
        lines.append(f"{verb} {tentative}{life.retirement_date.isoformat()}")
    if row.stage in ("Deprecated", "Retired"):
        replacement = catalog.replacement_on(row.model, today)
        lines.append(f"→ {escape(replacement.key)}" if replacement else "no replacement")
    return "\n".join(lines)


def _channels_text(model: Model) -> str:
    marks = {
        "serverless": model.serverless is not None and model.serverless.marketplace,
        "foundry": model.foundry is not None and model.foundry.marketplace,
        "managedCompute": False,
    }
    return "\n".join(f"{channel}{MARKETPLACE_MARK if marks[channel] else ''}" for channel in model.channels)


def print_models(
    rows: Sequence[Listed], catalog: Catalog, today: dt.date, console: Console, *, everything: bool
) -> None:
    """Fits 80 columns. Keys and replacement keys never wrap or shorten (they are what one copies into a stack
    file); the model's name goes under its key, and a model that does not answer chat completions says so."""
    table = Table(box=box.SIMPLE_HEAVY, pad_edge=False)
    table.add_column("Model", overflow="fold", min_width=max((len(r.model.key) for r in rows), default=5))
    table.add_column("Lifecycle", no_wrap=True)
    table.add_column("Channels", no_wrap=True)
    for row in rows:
        model = row.model
        lines = [f"[bold]{escape(model.key)}[/]", f"[dim]{escape(model.name)}[/]"]
        if model.api != "chat":
            lines.append(f"[magenta]{_API_TEXT[model.api]} API, not chat[/]")
        table.add_row("\n".join(lines), _lifecycle_text(row, catalog, today), _channels_text(model))
    console.print(table)
    hidden = "" if everything else "; retired and managed-compute-only models hidden (--all shows them)"
    console.print(
        f"{plural(len(rows), 'model')}, stages on {today.isoformat()}, catalog as of {catalog.as_of.isoformat()}{hidden}.\n"
        f"{MARKETPLACE_MARK} sold through Azure Marketplace. `maas models KEY` shows a model's IDs, regions and "
        "sources.",
        markup=False,
    )


def print_model(model: Model, catalog: Catalog, today: dt.date, console: Console) -> None:
    """One model with every fact, where each fact comes from and when it was last checked."""
    life = model.lifecycle
    stage = life.stage_on(today)
    used: list[str] = []

    def cite(group: Sourced) -> str:
        if group.source not in used:
            used.append(group.source)
        note = f"; {group.note}" if group.note else ""
        return f"[dim][{used.index(group.source) + 1}] as of {group.as_of.isoformat()}{escape(note)}[/]"

    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    table.add_row("Key", escape(model.key))
    table.add_row("Name", escape(f"{model.name} ({model.publisher})"))
    table.add_row("API", "chat completions" if model.api == "chat" else "OCR / document AI (not chat completions)")
    dates = [
        f"deprecation {life.deprecation_date.isoformat()}" if life.deprecation_date else "",
        f"retirement {life.retirement_date.isoformat()}{' (tentative)' if life.tentative else ''}"
        if life.retirement_date
        else "",
    ]
    replacement = catalog.replacement_on(model, today)
    lifecycle = f"{stage} on {today.isoformat()}"
    if any(dates):
        lifecycle += f"; {', '.join(d for d in dates if d)}"
    if stage in ("Deprecated", "Retired"):
        lifecycle += f"; replacement: {replacement.key}" if replacement else "; no replacement announced"
    table.add_row("Lifecycle", f"{escape(lifecycle)} {cite(life)}")
    for channel in model.channels:
        regions = ", ".join(regions_on(catalog, model, channel)) or "-"
        if channel == "serverless" and model.serverless is not None:
            text = (
                f"{model.serverless.model_id}\nMarketplace: {'yes' if model.serverless.marketplace else 'no'}; "
                f"regions: {regions}"
            )
            group: Sourced = model.serverless
        elif channel == "foundry" and model.foundry is not None:
            foundry = model.foundry
            skus = "; ".join(f"{sku}: {', '.join(r) or '-'}" for sku, r in foundry.skus.items()) or "no sku known"
            seller = "through Azure Marketplace (partner model)" if foundry.marketplace else "directly by Azure"
            text = (
                f"format {foundry.format!r}, name {foundry.name!r}, version {foundry.version!r}\nsold {seller}\n{skus}"
            )
            group = foundry
        elif model.managed_compute is not None:
            text = f"{model.managed_compute.model_id}\nopen weights; azure-maas does not deploy managed compute"
            group = model.managed_compute
        else:  # pragma: no cover - channels lists only the groups that are set
            continue
        table.add_row(_CHANNEL_LABELS[channel], f"{escape(text)} {cite(group)}")
    console.print(table)
    for number, key in enumerate(used, start=1):
        source = catalog.sources[key]
        where = source.url or source.path or ""
        console.print(f"[{number}] {source.title}" + (f": {where}" if where else ""), markup=False, soft_wrap=True)
