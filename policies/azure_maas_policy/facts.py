"""Facts about serverless model APIs on Azure, written once.

This package ships inside the policy pack (``policies/``), so the pack stays publishable on its own with
``pulumi policy publish policies``. The program (``infra/``) imports the same module and reads the same
``catalog.yaml``, so the pack and the program cannot disagree about a model ID, a region or a name rule.

Only the standard library and PyYAML (a dependency of the Pulumi SDK) are used here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
"""The model catalog: lifecycle dates and replacements, channels, model IDs, regions and quota."""

Stage = Literal["Preview", "GenerallyAvailable", "Legacy", "Deprecated", "Retired"]
Channel = Literal["serverless", "foundry", "managedCompute"]
"""Where a model is offered: serverless API endpoints (ML workspaces and hub projects), Foundry resource
deployments, or managed compute only (open weights; never deployed by azure-maas)."""
CHANNEL_KEYS: tuple[Channel, ...] = ("serverless", "foundry", "managedCompute")
Api = Literal["chat", "ocr"]
"""What a model answers: chat completions, or Mistral's OCR / document AI API."""


@dataclass(frozen=True)
class NameRule:
    """A naming rule: the pattern a name must match and what that means in words."""

    what: str
    pattern: re.Pattern[str]
    valid: str

    def problem(self, value: str) -> str | None:
        """Return why ``value`` breaks the rule, or None when it is valid."""
        if self.pattern.fullmatch(value):
            return None
        return f"{value!r} is not a valid {self.what}: {self.valid}"


# Serverless endpoint names become a DNS label (https://<name>.<region>.models.ai.azure.com), so on
# top of the ARM pattern ^[a-zA-Z][a-zA-Z0-9-]{0,51}$ the last character may not be a hyphen.
ENDPOINT_NAME = NameRule(
    "endpoint name",
    re.compile(r"[a-zA-Z](?:[a-zA-Z0-9-]{0,50}[a-zA-Z0-9])?"),
    "1-52 characters, starting with a letter, then letters, digits or '-', not ending with '-'",
)

# azureml://registries/<registry>/models/<name>; serverless always deploys the latest version.
MODEL_ID = NameRule(
    "model ID",
    re.compile(
        r"azureml://registries/(?P<registry>[a-zA-Z0-9][a-zA-Z0-9_-]*)/models/(?P<model>[a-zA-Z0-9][a-zA-Z0-9._-]*)"
    ),
    "azureml://registries/<registry>/models/<name>",
)
_VERSION_SUFFIX = re.compile(r"/versions/[^/]+/?$", re.IGNORECASE)

MICROSOFT_REGISTRY = "azureml"
"""Microsoft's own model registry: its models need no marketplace subscription."""


def canonical_model_id(model_id: str) -> str:
    """The form model IDs are compared in: case-insensitive, without a ``/versions/N`` suffix."""
    return _VERSION_SUFFIX.sub("", model_id.strip()).rstrip("/").lower()


def model_registry(model_id: str) -> str | None:
    """The registry of a model ID (a ``/versions/N`` suffix is ignored), or None when it is not one."""
    match = MODEL_ID.pattern.fullmatch(_VERSION_SUFFIX.sub("", model_id.strip()).rstrip("/"))
    return match.group("registry") if match else None


def sold_through_marketplace(model_id: str) -> bool:
    """Every registry except Microsoft's own sells its models through Azure Marketplace."""
    registry = model_registry(model_id)
    return registry is not None and registry.lower() != MICROSOFT_REGISTRY


def normalize_region(region: str) -> str:
    """``East US 2`` and ``eastus2`` name the same region."""
    return re.sub(r"[\s_-]", "", region).lower()


def stage_on(stage: Stage, deprecation_date: dt.date | None, retirement_date: dt.date | None, today: dt.date) -> Stage:
    """A model's lifecycle stage on ``today``: announced dates win over the stage recorded at ``asOf``."""
    if retirement_date is not None and today >= retirement_date:
        return "Retired"
    if deprecation_date is not None and today >= deprecation_date:
        return "Deprecated"
    return stage


# Built-in Azure roles the policies name. Source: "Azure built-in roles" (learn.microsoft.com).
AZURE_AI_DEVELOPER = "64702f94-c441-49e6-a78b-ef80e0188fee"
PRIVILEGED_ROLES: Mapping[str, str] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
"""Roles that can change anything or grant themselves anything; never assigned by a least-privilege stack."""

MARKETPLACE_ACTION_PREFIXES = ("microsoft.marketplaceordering/", "microsoft.marketplace/", "microsoft.saas/register/")
"""Actions of the marketplace-ordering role, the one role serverless deployments need at the subscription
(subscribing a workspace to a model's offer signs the offer's terms for the whole subscription)."""


@dataclass(frozen=True)
class CatalogModel:
    """What the policies need of a catalog row."""

    key: str
    name: str
    model_id: str | None
    """The ``azureml://`` ID (serverless or managed compute); None for a model offered only on Foundry resources."""
    channels: tuple[Channel, ...]
    stage: Stage
    deprecation_date: dt.date | None
    retirement_date: dt.date | None
    replacement: str | None

    def stage_on(self, today: dt.date) -> Stage:
        return stage_on(self.stage, self.deprecation_date, self.retirement_date, today)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.model_id})" if self.model_id else self.name


@dataclass(frozen=True)
class CatalogFacts:
    as_of: dt.date
    serverless_regions: tuple[str, ...]
    models: Mapping[str, CatalogModel]
    """By catalog key."""

    def by_model_id(self, model_id: str) -> CatalogModel | None:
        wanted = canonical_model_id(model_id)
        return next((m for m in self.models.values() if m.model_id and canonical_model_id(m.model_id) == wanted), None)

    def replacement_on(self, model: CatalogModel, today: dt.date) -> CatalogModel | None:
        """The first model along the replacement chain that is not deprecated or retired on ``today``."""
        key = living_replacement(
            model.key, {k: m.replacement for k, m in self.models.items()}, lambda k: self.models[k].stage_on(today)
        )
        return self.models[key] if key is not None else None


def living_replacement(start: str, replacements: Mapping[str, str | None], stage: Callable[[str], Stage]) -> str | None:
    """Follow ``replacements`` from ``start`` to the first model not deprecated or retired (a replacement can
    itself retire: Mistral OCR 2503 -> Document AI 2505 -> Document AI 2512); None when there is none."""
    seen = {start}
    current = replacements.get(start)
    while current is not None and current not in seen:
        if stage(current) not in ("Deprecated", "Retired"):
            return current
        seen.add(current)
        current = replacements.get(current)
    return None


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _channels(row: Mapping[str, Any]) -> tuple[Channel, ...]:
    return tuple(channel for channel in CHANNEL_KEYS if row.get(channel) is not None)


@cache
def catalog_facts(path: Path = CATALOG_PATH) -> CatalogFacts:
    """Read ``catalog.yaml`` (the program validates every field of it strictly; see ``infra/catalog.py``)."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    models = {}
    for key, row in data["models"].items():
        ids = [row[c]["modelId"] for c in ("serverless", "managedCompute") if row.get(c)]
        models[key] = CatalogModel(
            key=key,
            name=row["name"],
            model_id=ids[0] if ids else None,
            channels=_channels(row),
            stage=row["lifecycle"]["stage"],
            deprecation_date=_date(row["lifecycle"].get("deprecationDate")),
            retirement_date=_date(row["lifecycle"].get("retirementDate")),
            replacement=row["lifecycle"].get("replacement"),
        )
    return CatalogFacts(
        as_of=dt.date.fromisoformat(str(data["asOf"])),
        serverless_regions=tuple(data["serverless"]["regions"]),
        models=models,
    )
