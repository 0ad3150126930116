"""The model catalog: strict, typed access to ``catalog.yaml``, the one source of truth for model facts.

The file lives in the policy pack (``policies/azure_maas_policy/catalog.yaml``) so the pack can be
published on its own; the program validates every field of it here.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from azure_maas_policy import facts
from azure_maas_policy.facts import CATALOG_PATH, Stage
from infra import names

__all__ = ["CATALOG_PATH", "Catalog", "Lifecycle", "Listed", "Model", "Stage", "Verdict", "judge", "listing", "load"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Lifecycle(_Strict):
    stage: Stage
    deprecation_date: dt.date | None = Field(default=None, alias="deprecationDate")
    retirement_date: dt.date | None = Field(default=None, alias="retirementDate")
    replacement: str | None = None

    def stage_on(self, today: dt.date) -> Stage:
        """The stage on ``today``: announced dates win over the stage recorded at ``asOf``."""
        return facts.stage_on(self.stage, self.deprecation_date, self.retirement_date, today)


class Model(_Strict):
    key: str
    name: str
    publisher: str
    model_id: str = Field(alias="modelId")
    offer: Literal["serverless", "managedCompute"]
    regions: tuple[str, ...] | None
    lifecycle: Lifecycle

    @field_validator("model_id")
    @classmethod
    def _valid_model_id(cls, value: str) -> str:
        problem = names.model_id_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def registry(self) -> str:
        return names.model_registry(self.model_id)

    @property
    def needs_marketplace_subscription(self) -> bool:
        return names.needs_marketplace_subscription(self.model_id)


class RateLimits(_Strict):
    tokens_per_minute: int = Field(alias="tokensPerMinute")
    requests_per_minute: int = Field(alias="requestsPerMinute")


class Serverless(_Strict):
    regions: tuple[str, ...]
    rate_limits: RateLimits = Field(alias="rateLimits")


class Catalog(_Strict):
    source: tuple[str, ...]
    as_of: dt.date = Field(alias="asOf")
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
        seen: dict[str, str] = {}
        for key, model in self.models.items():
            if key != key.lower():
                raise ValueError(f"catalog key {key!r} must be lowercase")
            other = seen.setdefault(model.model_id.lower(), key)
            if other != key:
                raise ValueError(f"catalog keys {other!r} and {key!r} name the same model ID")
            replacement = model.lifecycle.replacement
            if replacement is not None and replacement not in self.models:
                raise ValueError(f"{key}: replacement {replacement!r} is not a catalog key")
            for region in model.regions or ():
                if region not in self.serverless.regions:
                    raise ValueError(f"{key}: region {region!r} is not a serverless region")
        return self

    def get(self, key: str) -> Model | None:
        return self.models.get(key.lower())

    def by_model_id(self, model_id: str) -> Model | None:
        wanted = model_id.lower()
        return next((m for m in self.models.values() if m.model_id.lower() == wanted), None)

    def close_matches(self, key: str) -> list[str]:
        return difflib.get_close_matches(key.lower(), self.models, n=3, cutoff=0.6)

    def regions_for(self, model: Model) -> tuple[str, ...]:
        return model.regions if model.regions is not None else self.serverless.regions


@dataclass(frozen=True)
class Verdict:
    """Whether a model may get a new serverless deployment on a given day, and why not."""

    stage: Stage
    blocked: bool
    reason: str


def judge(model: Model, today: dt.date, catalog: Catalog) -> Verdict:
    """Deprecated and retired models take no new deployments; say since when and what replaces them."""
    stage = model.lifecycle.stage_on(today)
    if stage not in ("Deprecated", "Retired"):
        return Verdict(stage, False, "")
    life = model.lifecycle
    when = life.retirement_date if stage == "Retired" else life.deprecation_date
    since = f" on {when.isoformat()}" if when else f" (as of the catalog date {catalog.as_of.isoformat()})"
    reason = f"{model.name} ({model.model_id}) was {stage.lower()}{since}"
    if life.replacement:
        replacement = catalog.models[life.replacement]
        reason += f"; use {life.replacement!r} ({replacement.model_id}) instead"
    else:
        reason += "; no replacement is announced"
    return Verdict(stage, True, reason)


@dataclass(frozen=True)
class Listed:
    """A catalog row as ``maas models`` shows it: the model, its stage on the day asked, and where it is
    offered as a serverless API (empty for managed-compute-only models)."""

    model: Model
    stage: Stage
    regions: tuple[str, ...]
    all_regions: bool
    """True when the catalog confirms no narrower list than every serverless region."""


def listing(catalog: Catalog, today: dt.date, *, region: str | None = None, everything: bool = False) -> list[Listed]:
    """The models one can deploy as serverless APIs on ``today`` (in ``region``, a serverless region), in
    catalog order. ``everything`` adds retired and managed-compute-only models (not with ``region``: they are
    offered in no serverless region)."""
    rows = []
    for model in catalog.models.values():
        serverless = model.offer == "serverless"
        regions = catalog.regions_for(model) if serverless else ()
        row = Listed(model, model.lifecycle.stage_on(today), regions, serverless and model.regions is None)
        if region is not None and region not in regions:
            continue
        if not everything and (row.stage == "Retired" or not serverless):
            continue
        rows.append(row)
    return rows


@cache
def load(path: Path = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog file (once per process)."""
    with path.open(encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.safe_load(handle))
