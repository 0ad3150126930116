"""The model catalog: strict, typed access to ``catalog.yaml``, the one source of truth for model facts.

The file lives in the policy pack (``policies/azure_maas_policy/catalog.yaml``) so the pack can be
published on its own; the program validates every field of it here.

A row describes one model and the channels it is offered on:

- ``serverless``: a serverless API endpoint in an Azure ML workspace or a hub-based Foundry project
  (model ID, Marketplace by registry, regions);
- ``foundry``: a deployment on a Microsoft Foundry resource (``format``, ``name``, ``version``, whether it
  is sold through Azure Marketplace, and the regions of each deployment type, i.e. sku);
- ``managedCompute``: open weights that deploy only to managed compute (never by this project).

Each group of facts carries the key of its ``source`` and the date it was last checked (``asOf``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from azure_maas_policy import facts
from azure_maas_policy.facts import CATALOG_PATH, CHANNEL_KEYS, Api, Channel, Stage
from infra import names

__all__ = [
    "CATALOG_PATH",
    "CHANNELS",
    "DEPLOYMENT_TYPES",
    "STALE_AFTER_DAYS",
    "Api",
    "Catalog",
    "Channel",
    "FoundryChannel",
    "Lifecycle",
    "Listed",
    "Model",
    "Stage",
    "Verdict",
    "judge",
    "known_regions",
    "listing",
    "load",
    "staleness",
]

STALE_AFTER_DAYS = 90
"""``maas plan`` and ``maas models`` warn when the catalog's ``asOf`` is older than this."""

CHANNELS: dict[Channel, str] = dict(
    zip(CHANNEL_KEYS, ("serverless API", "Foundry resource deployment", "managed compute deployment"), strict=True)
)
"""Every channel (in the order of ``facts.CHANNEL_KEYS``) and how messages name it."""

DEPLOYMENT_TYPES = facts.DEPLOYMENT_TYPES
"""Sku names of Foundry resource deployments (AZURE_FACTS.md section 6, "Skus"): the pack's list."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_Strict):
    """Where facts come from: a page or an API, named once and referred to by key."""

    title: str
    url: str | None = None
    path: str | None = None
    """For Microsoft Learn pages: the file in MicrosoftDocs/azure-ai-docs."""


class Sourced(_Strict):
    source: str
    """A key of the catalog's ``sources``."""
    as_of: dt.date = Field(alias="asOf")
    """The day these facts were last checked against their source."""
    note: str | None = None
    """Why a fact is recorded as it is (e.g. which of two contradicting pages wins)."""


class Lifecycle(Sourced):
    stage: Stage
    deprecation_date: dt.date | None = Field(default=None, alias="deprecationDate")
    retirement_date: dt.date | None = Field(default=None, alias="retirementDate")
    replacement: str | None = None
    tentative: bool = False
    """The retirement date is an estimate (the Models API's ``deprecationStatus: Tentative``)."""

    def stage_on(self, today: dt.date) -> Stage:
        """The stage on ``today``: announced dates win over the stage recorded at ``asOf``."""
        return facts.stage_on(self.stage, self.deprecation_date, self.retirement_date, today)


class ServerlessChannel(Sourced):
    model_id: str = Field(alias="modelId")
    regions: tuple[str, ...] | None = None
    """Serverless regions the model is offered in; None: every region of ``serverless.regions``."""

    @field_validator("model_id")
    @classmethod
    def _valid_model_id(cls, value: str) -> str:
        problem = names.model_id_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def marketplace(self) -> bool:
        """Every registry except Microsoft's own sells through Azure Marketplace."""
        return names.needs_marketplace_subscription(self.model_id)


class FoundryChannel(Sourced):
    format: str
    name: str
    version: str
    marketplace: bool
    """True: a partner model sold through Azure Marketplace; False: sold directly by Azure (or Microsoft's)."""
    skus: dict[str, tuple[str, ...]]
    """Deployment type (sku name) to the regions it is offered in."""

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted({region for regions in self.skus.values() for region in regions}))


class ManagedComputeChannel(Sourced):
    model_id: str = Field(alias="modelId")

    @field_validator("model_id")
    @classmethod
    def _valid_model_id(cls, value: str) -> str:
        problem = names.MODEL_ID.problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Model(_Strict):
    key: str
    name: str
    publisher: str
    api: Api
    """``chat``: chat completions; ``ocr``: Mistral's OCR / document AI API (never sent a chat request)."""
    lifecycle: Lifecycle
    serverless: ServerlessChannel | None = None
    foundry: FoundryChannel | None = None
    managed_compute: ManagedComputeChannel | None = Field(default=None, alias="managedCompute")

    def _groups(self) -> dict[Channel, Sourced | None]:
        return {"serverless": self.serverless, "foundry": self.foundry, "managedCompute": self.managed_compute}

    @property
    def channels(self) -> tuple[Channel, ...]:
        groups = self._groups()
        return tuple(channel for channel in CHANNEL_KEYS if groups[channel] is not None)

    @property
    def model_id(self) -> str | None:
        """The ``azureml://`` ID: the serverless one, else the managed-compute one (Foundry-only: None)."""
        if self.serverless is not None:
            return self.serverless.model_id
        return self.managed_compute.model_id if self.managed_compute is not None else None

    @property
    def label(self) -> str:
        """``Name (model ID)``, or ``Name (format/name)`` for a Foundry-only model."""
        if self.model_id is not None:
            return f"{self.name} ({self.model_id})"
        if self.foundry is not None:
            return f"{self.name} ({self.foundry.format}/{self.foundry.name})"
        return self.name

    def sourced(self) -> Iterator[tuple[str, Sourced]]:
        """Every group of facts with where it is (``lifecycle`` or the channel)."""
        yield "lifecycle", self.lifecycle
        groups = self._groups()
        for channel in self.channels:
            group = groups[channel]
            if group is not None:
                yield channel, group


class RateLimits(_Strict):
    tokens_per_minute: int = Field(alias="tokensPerMinute")
    requests_per_minute: int = Field(alias="requestsPerMinute")


class Serverless(Sourced):
    regions: tuple[str, ...]
    rate_limits: RateLimits = Field(alias="rateLimits")


class Catalog(_Strict):
    schema_version: Literal[2] = Field(alias="schemaVersion")
    as_of: dt.date = Field(alias="asOf")
    sources: dict[str, Source]
    serverless: Serverless
    models: dict[str, Model]

    @model_validator(mode="before")
    @classmethod
    def _keyed(cls, data: object) -> object:
        """Each model row knows its own key (the YAML mapping key)."""
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            models = {k: {**v, "key": k} if isinstance(v, dict) else v for k, v in data["models"].items()}
            return {**data, "models": models}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        problems = [*self._source_problems(), *self._row_problems()]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _source_problems(self) -> Iterator[str]:
        """Every group names a source the catalog lists. (A group may be newer than the catalog's ``asOf``:
        a partial ``maas catalog sync`` refreshes some facts without vouching for the whole catalog.)"""
        groups: list[tuple[str, Sourced]] = [("serverless", self.serverless)]
        groups += [(f"{key}.{where}", group) for key, model in self.models.items() for where, group in model.sourced()]
        for where, group in groups:
            if group.source not in self.sources:
                yield f"{where}: source {group.source!r} is not a key of sources"

    def _row_problems(self) -> Iterator[str]:
        seen: dict[str, str] = {}
        foundry_seen: dict[tuple[str, str], str] = {}
        for key, model in self.models.items():
            if key != key.lower():
                yield f"catalog key {key!r} must be lowercase"
            if not model.channels:
                yield f"{key}: offered on no channel; set serverless, foundry or managedCompute"
            if model.model_id is not None:
                other = seen.setdefault(model.model_id.lower(), key)
                if other != key:
                    yield f"catalog keys {other!r} and {key!r} name the same model ID"
            if model.foundry is not None:
                ident = (model.foundry.format.lower(), model.foundry.name.lower())
                other = foundry_seen.setdefault(ident, key)
                if other != key:
                    yield f"catalog keys {other!r} and {key!r} name the same Foundry model"
                for sku, regions in model.foundry.skus.items():
                    if sku not in DEPLOYMENT_TYPES:
                        yield f"{key}: foundry sku {sku!r} is not a deployment type; valid: {', '.join(DEPLOYMENT_TYPES)}"
                    yield from (
                        f"{key}: foundry region {r!r} is not written as Azure writes region names (e.g. eastus2)"
                        for r in regions
                        if r != facts.normalize_region(r)
                    )
            replacement = model.lifecycle.replacement
            if replacement is not None and replacement not in self.models:
                yield f"{key}: replacement {replacement!r} is not a catalog key"
            if model.serverless is not None:
                yield from (
                    f"{key}: region {r!r} is not a serverless region"
                    for r in model.serverless.regions or ()
                    if r not in self.serverless.regions
                )

    def get(self, key: str) -> Model | None:
        return self.models.get(key.lower())

    def by_model_id(self, model_id: str) -> Model | None:
        """The row whose serverless or managed-compute model ID this is (case-insensitive)."""
        wanted = model_id.lower()
        return next((m for m in self.models.values() if m.model_id is not None and m.model_id.lower() == wanted), None)

    def by_foundry_model(self, format_: str, name: str) -> Model | None:
        """The row whose Foundry channel is this format and model name (both case-insensitive)."""
        wanted = (format_.lower(), name.lower())
        return next(
            (
                m
                for m in self.models.values()
                if m.foundry and (m.foundry.format.lower(), m.foundry.name.lower()) == wanted
            ),
            None,
        )

    def close_matches(self, key: str) -> list[str]:
        return difflib.get_close_matches(key.lower(), self.models, n=3, cutoff=0.6)

    def serverless_regions(self, model: Model) -> tuple[str, ...]:
        """Where the model is offered as a serverless API (empty when it is not)."""
        if model.serverless is None:
            return ()
        return model.serverless.regions if model.serverless.regions is not None else self.serverless.regions

    @property
    def foundry_regions(self) -> tuple[str, ...]:
        """Every region some catalog model is offered in on Foundry resources."""
        return tuple(sorted({r for m in self.models.values() if m.foundry for r in m.foundry.regions}))

    def replacement_on(self, model: Model, today: dt.date) -> Model | None:
        """The first model along the replacement chain that is not deprecated or retired on ``today``."""
        key = facts.living_replacement(
            model.key,
            {k: m.lifecycle.replacement for k, m in self.models.items()},
            lambda k: self.models[k].lifecycle.stage_on(today),
        )
        return self.models[key] if key is not None else None


def channels_text(model: Model) -> str:
    """``serverless API ('serverless'), Foundry resource deployment ('foundry')`` for messages."""
    return ", ".join(f"{CHANNELS[c]} ({c!r})" for c in model.channels) or "no channel"


@dataclass(frozen=True)
class Verdict:
    """Whether a model may get a new deployment on a given day, and why not."""

    stage: Stage
    blocked: bool
    reason: str


def judge(
    model: Model, today: dt.date, catalog: Catalog, channel: Literal["serverless", "foundry"] = "serverless"
) -> Verdict:
    """Deprecated and retired models take no new deployments; say since when and what replaces them.

    The replacement named is the first living model along the replacement chain (a replacement can itself
    retire), with the channels it is offered on when it is not offered on ``channel``; models are named as that
    channel names them (a model ID for serverless, format/name for Foundry resources).
    """
    stage = model.lifecycle.stage_on(today)
    if stage not in ("Deprecated", "Retired"):
        return Verdict(stage, False, "")
    life = model.lifecycle
    when = life.retirement_date if stage == "Retired" else life.deprecation_date
    since = f" on {when.isoformat()}" if when else f" (as of the catalog date {catalog.as_of.isoformat()})"
    label = model.label
    if channel == "foundry" and model.foundry is not None:
        label = f"{model.name} ({model.foundry.format}/{model.foundry.name})"
    reason = f"{label} was {stage.lower()}{since}"
    replacement = catalog.replacement_on(model, today)
    if replacement is not None and channel == "serverless" and replacement.serverless is not None:
        reason += f"; use {replacement.key!r} ({replacement.serverless.model_id}) instead"
    elif replacement is not None and channel == "foundry" and replacement.foundry is not None:
        reason += f"; use {replacement.key!r} ({replacement.foundry.format}/{replacement.foundry.name}) instead"
    elif replacement is not None:
        reason += (
            f"; use {replacement.key!r} ({replacement.name}, offered only as: {channels_text(replacement)}) instead"
        )
    else:
        reason += "; no replacement is announced"
    return Verdict(stage, True, reason)


def staleness(catalog: Catalog, today: dt.date) -> str | None:
    """A warning when the catalog was last checked more than :data:`STALE_AFTER_DAYS` days before ``today``."""
    age = (today - catalog.as_of).days
    if age <= STALE_AFTER_DAYS:
        return None
    return (
        f"the model catalog is {age} days old (as of {catalog.as_of.isoformat()}, more than {STALE_AFTER_DAYS}); "
        "lifecycle facts may have changed: run `maas catalog sync`, or update azure-maas"
    )


@dataclass(frozen=True)
class Listed:
    """A catalog row as ``maas models`` shows it: the model and its stage on the day asked."""

    model: Model
    stage: Stage


def listing(
    catalog: Catalog,
    today: dt.date,
    *,
    region: str | None = None,
    channel: Channel | None = None,
    everything: bool = False,
) -> list[Listed]:
    """The models one can deploy on ``today``, in catalog order: on ``channel`` (default: serverless or
    Foundry) and in ``region`` (on that channel). ``everything`` adds retired and managed-compute-only
    models."""
    rows = []
    wanted: tuple[Channel, ...] = (channel,) if channel else ("serverless", "foundry")
    for model in catalog.models.values():
        stage = model.lifecycle.stage_on(today)
        offered = [c for c in wanted if c in model.channels]
        if not everything and (stage == "Retired" or not offered):
            continue
        if channel is not None and not offered:
            continue
        if region is not None and not any(region in regions_on(catalog, model, c) for c in offered):
            continue
        rows.append(Listed(model, stage))
    return rows


def known_regions(catalog: Catalog, channel: Channel | None = None) -> tuple[str, ...]:
    """Regions ``--region`` accepts: serverless regions first, then Foundry regions (or one channel's)."""
    serverless = catalog.serverless.regions if channel in (None, "serverless") else ()
    foundry = catalog.foundry_regions if channel in (None, "foundry") else ()
    return (*serverless, *(r for r in foundry if r not in serverless))


def regions_on(catalog: Catalog, model: Model, channel: Channel) -> tuple[str, ...]:
    """Where ``model`` is offered on ``channel`` (managed compute: none this project knows of)."""
    if channel == "serverless":
        return catalog.serverless_regions(model)
    if channel == "foundry" and model.foundry is not None:
        return model.foundry.regions
    return ()


@cache
def load(path: Path = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog file (once per process)."""
    with path.open(encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.load(handle, Loader=facts.SAFE_LOADER))
