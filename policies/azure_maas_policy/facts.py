"""Facts about serverless model APIs on Azure, written once.

This package ships inside the policy pack (``policies/``), so the pack stays publishable on its own with
``pulumi policy publish policies``. The program (``infra/``) imports the same module and reads the same
``catalog.yaml``, so the pack and the program cannot disagree about a model ID, a region or a name rule.

Only the standard library and PyYAML (a dependency of the Pulumi SDK) are used here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
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


SHOWN_LIMIT = 80
"""Characters of a user's value a message quotes; the rest is counted, not printed."""


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters: a 100,000-character name is a user error,
    not a 100,000-character message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters)"


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
        return f"{shown(value)} is not a valid {self.what}: {self.valid}"


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


# --- reading IDs as Azure does ------------------------------------------------------------------------------
#
# Policies judge IDs after one normalization, written here once: surrounding white space is dropped, fixed
# segments (``subscriptions``, ``resourceGroups``, provider namespaces, ``azureml://registries``...) compare
# case-insensitively, a GUID may be wrapped in braces, and doubled, leading and trailing slashes are dropped.
# What cannot be normalized unambiguously raises ValueError with the problem, for the policy to report:
# ``.``/``..`` segments (a server may resolve them or take them literally), characters no Azure ID holds
# (``%``, ``?``, ``#``, ``\``: a URL decodes or cuts at them), and anything not of the expected shape.

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
GUID_FORM = "a GUID (8-4-4-4-12 hexadecimal digits)"
MODEL_ID_FORM = f"a model ID, {MODEL_ID.valid}"
SCOPE_FORM = (
    "an ARM scope: /subscriptions/<subscription GUID>[/resourceGroups/<name>[/providers/...]] or "
    "/providers/Microsoft.Management/managementGroups/<name>"
)
ROLE_DEFINITION_ID_FORM = (
    "a role definition ID, /subscriptions/<subscription GUID>/providers/Microsoft.Authorization/roleDefinitions/"
    "<role GUID>"
)
ACTION_FORM = "an action, such as 'Microsoft.Authorization/roleAssignments/read'"
_NOT_IN_IDS = ("%", "?", "#", "\\")


def canonical_guid(value: str) -> str | None:
    """``value`` as a lowercase GUID without braces or surrounding white space; None when it is not a GUID."""
    text = value.strip()
    if len(text) > 2 and text[0] == "{" and text[-1] == "}":
        text = text[1:-1]
    return text.lower() if GUID.fullmatch(text) else None


def _segments(path: str) -> list[str]:
    """The segments of an ID path without empty ones (doubled, leading and trailing slashes)."""
    for char in _NOT_IN_IDS:
        if char in path:
            raise ValueError(f"has {char!r}, which no Azure resource ID contains")
    segments = [segment for segment in path.strip().split("/") if segment]
    for segment in segments:
        if segment.strip() in (".", ".."):
            raise ValueError(f"has a {segment.strip()!r} segment")
    return segments


@dataclass(frozen=True)
class ModelRef:
    """A model ID read as Azure reads it: ``azureml://registries/<registry>/models/<name>[/versions/<v>]``."""

    text: str
    """The ID as given, without surrounding white space (for messages)."""
    registry: str
    name: str

    @property
    def key(self) -> str:
        """The form model IDs compare in: lowercase, without ``/versions/N``."""
        return f"azureml://registries/{self.registry}/models/{self.name}".lower()

    @property
    def sold_through_marketplace(self) -> bool:
        """Every registry except Microsoft's own sells its models through Azure Marketplace."""
        return self.registry.lower() != MICROSOFT_REGISTRY


_REGISTRY = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")
_MODEL_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")


def parse_model_id(value: str) -> ModelRef:
    """Read a model ID: the scheme and fixed segments in any case, slashes and white space normalized;
    ValueError names the problem when it is not one."""
    text = value.strip()
    shape = "is not of the form azureml://registries/<registry>/models/<name>[/versions/<version>]"
    scheme, separator, rest = text.partition("://")
    if not separator or scheme.lower() != "azureml":
        raise ValueError(shape)
    segments = _segments(rest)
    fixed = [segment.lower() for segment in segments[0:5:2]]
    if fixed not in (["registries", "models"], ["registries", "models", "versions"]) or len(segments) not in (4, 6):
        raise ValueError(shape)
    registry, name = segments[1], segments[3]
    if not _REGISTRY.fullmatch(registry) or not _MODEL_NAME.fullmatch(name):
        raise ValueError(shape)
    return ModelRef(text, registry, name)


def canonical_model_id(model_id: str) -> str:
    """The form model IDs are compared in: case-insensitive, without a ``/versions/N`` suffix."""
    try:
        return parse_model_id(model_id).key
    except ValueError:
        return _VERSION_SUFFIX.sub("", model_id.strip()).rstrip("/").lower()


def model_registry(model_id: str) -> str | None:
    """The registry of a model ID (a ``/versions/N`` suffix is ignored), or None when it is not one."""
    try:
        return parse_model_id(model_id).registry
    except ValueError:
        return None


def sold_through_marketplace(model_id: str) -> bool:
    """Every registry except Microsoft's own sells its models through Azure Marketplace."""
    try:
        return parse_model_id(model_id).sold_through_marketplace
    except ValueError:
        return False


def canonical_name(value: str) -> str:
    """An Azure resource name as compared: without surrounding white space (case is the caller's: Azure
    compares names case-insensitively); ValueError when it is empty or a path."""
    name = value.strip()
    if not name:
        raise ValueError("is empty")
    if "/" in name or name in (".", ".."):
        raise ValueError("is a path, not a name")
    return name


Breadth = Literal["tenant root", "management group", "subscription"]


def scope_breadth(scope: str) -> Breadth | None:
    """How broad an ARM scope is: ``tenant root``, ``management group``, ``subscription``, or None for a
    resource group or anything in one (or a single resource); ValueError names the problem when ``scope``
    is not an ARM scope."""
    if not scope.strip():
        raise ValueError("is empty")
    segments = _segments(scope)
    lower = [segment.lower() for segment in segments]
    if not segments:
        return "tenant root"
    if lower[0] == "subscriptions":
        if len(segments) < 2 or canonical_guid(segments[1]) is None:
            found = repr(segments[1]) if len(segments) > 1 else "nothing"
            raise ValueError(f"has {found} where the subscription GUID belongs")
        if len(segments) == 2:
            return "subscription"
        if lower[2] == "resourcegroups":
            if len(segments) < 4:
                raise ValueError("has nothing where the resource group name belongs")
            return None
        if lower[2] == "providers":
            if len(segments) < 6:
                raise ValueError("has no resource provider, type and name after providers")
            return None
        raise ValueError(f"has {segments[2]!r} after the subscription, where resourceGroups or providers belongs")
    if lower[0] == "providers":
        if lower[1:3] == ["microsoft.management", "managementgroups"]:
            if len(segments) < 4:
                raise ValueError("has nothing where the management group name belongs")
            return "management group"
        if len(segments) < 4:
            raise ValueError("has no resource provider, type and name after providers")
        return None
    raise ValueError(f"starts with {segments[0]!r}, where subscriptions or providers belongs")


def role_definition_guid(role_definition_id: str) -> str:
    """The GUID a role definition ID ends in (a bare GUID is read as itself); ValueError names the problem
    when it is not a role definition ID."""
    guid = canonical_guid(role_definition_id)
    if guid is not None:
        return guid
    segments = _segments(role_definition_id)
    tail = [segment.lower() for segment in segments[-4:-1]]
    if len(segments) < 4 or tail != ["providers", "microsoft.authorization", "roledefinitions"]:
        raise ValueError("does not end in /providers/Microsoft.Authorization/roleDefinitions/<role GUID>")
    guid = canonical_guid(segments[-1])
    if guid is None:
        raise ValueError(f"ends in {segments[-1]!r}, which is not a GUID")
    if segments[:-4]:
        scope_breadth("/" + "/".join(segments[:-4]))  # the scope it is defined at must read too
    return guid


# --- actions of role definitions -----------------------------------------------------------------------------

ROLE_WRITE_ACTIONS = (
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleDefinitions/write",
)
"""Actions that let a role raise its own rights: assign any role, or rewrite a role it holds to ``*``."""
_ACTION = re.compile(r"[^\s/]+(?:/[^\s/]+)*")


def canonical_action(action: str) -> str:
    """An action or action pattern (``*`` is its only wildcard, as in Azure), lowercase: Azure compares
    actions case-insensitively; ValueError names the problem when it is not one."""
    if any(char.isspace() for char in action):
        raise ValueError("has white space")
    if not _ACTION.fullmatch(action):
        raise ValueError("has an empty segment" if action else "is empty")
    return action.lower()


def action_covers(pattern: str, action: str) -> bool:
    """Whether the action pattern ``pattern`` grants ``action``: ``*`` matches any characters, ``/``
    included; everything else is literal (``?`` and ``[`` are not wildcards in Azure); case-insensitive."""
    regex = ".*".join(re.escape(part) for part in pattern.lower().split("*"))
    return re.fullmatch(regex, action.lower()) is not None


def role_writing_action(actions: Sequence[str], not_actions: Sequence[str]) -> str | None:
    """The first of ``actions`` that grants a role write (:data:`ROLE_WRITE_ACTIONS`) that no entry of
    ``not_actions`` (of the same permission) takes away; None when there is none."""
    for pattern in actions:
        for action in ROLE_WRITE_ACTIONS:
            if action_covers(pattern, action) and not any(action_covers(n, action) for n in not_actions):
                return pattern
    return None


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


# --- the Foundry resource channel ----------------------------------------------------------------------------
#
# Foundry resources are ``Microsoft.CognitiveServices/accounts`` (kind ``AIServices``) with projects, model
# deployments and content-filter (RAI) policies as children. Source: AZURE_FACTS.md section 6 (Microsoft Learn:
# deployments overview, create projects, models from partners, Foundry RBAC).

DEPLOYMENT_TYPES = (
    "GlobalStandard",
    "DataZoneStandard",
    "Standard",
    "GlobalProvisionedManaged",
    "DataZoneProvisionedManaged",
    "ProvisionedManaged",
    "GlobalBatch",
    "DataZoneBatch",
    "DeveloperTier",
)
"""Sku names of Foundry resource deployments (deployment types). ``Global*`` types may process data in any
region, ``DataZone*`` types within a data zone (EU, US), the others in the resource's region."""

BUILT_IN_RAI_POLICIES = ("Microsoft.DefaultV2", "Microsoft.Default")
"""Content-filter (RAI) policies every Foundry resource has; a deployment may name one instead of its own."""

HARM_CATEGORIES = ("Hate", "Sexual", "Selfharm", "Violence")
"""The content filter categories with a severity threshold (Azure AI Content Safety's harm categories)."""
CONTENT_SOURCES = ("Prompt", "Completion")
"""What a content filter judges: the prompt sent to the model, or the completion it returns."""
SEVERITY_THRESHOLDS = ("Low", "Medium", "High")
"""A filter's ``severityThreshold``, strictest first: ``Low`` blocks content of low severity and up, ``High``
only content of high severity."""


def filter_key(name: str) -> str:
    """A content filter's name as compared: case, white space, '-' and '_' ignored (``Self-harm`` is
    ``Selfharm``)."""
    return re.sub(r"[\s_-]", "", name).lower()


FOUNDRY_USER = "53ca6127-db72-4b80-b1b0-d745d6d5456d"
"""Foundry User (was Azure AI User): build with projects and call deployments; the least-privilege role for
people and applications. The Foundry role GUIDs here: AZURE_FACTS.md section 6 ("RBAC", from MicrosoftDocs
azure-ai-docs, roles renamed in 2026 with GUIDs unchanged), as of 2026-11-24."""
FOUNDRY_MANAGER_ROLES: Mapping[str, str] = {
    "c883944f-8b7b-4483-af10-35834be79c4a": "Foundry Owner",
    "e47c6f54-e4a2-4754-9501-8e0985b135e1": "Foundry Account Owner",
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": "Cognitive Services Contributor",
    "a001fd3d-188f-4b5d-821b-7da978bf7442": "Cognitive Services OpenAI Contributor",
}
"""Built-in roles that manage Foundry resources (create and delete model deployments, change the resource's
settings; Foundry Owner and Foundry Account Owner also grant roles): what the pipeline that deploys needs at its
Foundry resource, and nobody else. Foundry Project Manager is not one: it manages projects and grants only
Foundry User, without deployment rights."""
FOUNDRY_ROLE_NAMES: Mapping[str, str] = {
    FOUNDRY_USER: "Foundry User",
    "eadc314b-1a2d-4efa-be10-5d325db5065e": "Foundry Project Manager",
    "a97b65f3-24c7-4388-baec-2e87135dc908": "Cognitive Services User",
    **FOUNDRY_MANAGER_ROLES,
}
"""Names of the built-in Foundry roles, by GUID (the names changed in 2026; the GUIDs did not)."""


@dataclass(frozen=True)
class FoundryOffer:
    """A catalog model's Foundry channel: what a deployment names and where each deployment type is offered."""

    format: str
    name: str
    version: str
    marketplace: bool
    skus: Mapping[str, tuple[str, ...]]
    """Deployment type to the regions it is offered in."""

    @property
    def label(self) -> str:
        """``Mistral AI/mistral-small-2503``: how rules and config name a Foundry model."""
        return f"{self.format}/{self.name}"

    def sku(self, given: str) -> str | None:
        """The catalog's spelling of deployment type ``given`` (compared case-insensitively), if offered."""
        return next((sku for sku in self.skus if sku.lower() == given.strip().lower()), None)

    def offers(self, sku: str, region: str) -> bool:
        """Whether the catalog lists deployment type ``sku`` in ``region`` (compared normalized)."""
        return normalize_region(region) in {normalize_region(r) for r in self.skus.get(sku, ())}

    def skus_in(self, region: str) -> list[str]:
        """The deployment types the catalog lists in ``region``."""
        return [sku for sku in self.skus if self.offers(sku, region)]


_FOUNDRY_SCOPE = re.compile(r"/providers/microsoft\.cognitiveservices/accounts/[^/]+(?:/|$)")


def is_foundry_scope(scope: str) -> bool:
    """Whether an ARM scope (read by :func:`scope_breadth`) is a Foundry resource or something in one (a
    project, a deployment)."""
    path = "/" + "/".join(_segments(scope)).lower()
    return _FOUNDRY_SCOPE.search(path) is not None


def foundry_model_key(format_: str, name: str) -> tuple[str, str]:
    """A Foundry model as compared: format and name, trimmed and case-insensitive (Azure compares model names
    case-insensitively; pages spell ``Mistral-small-2503`` and ``mistral-small-2503``)."""
    return (format_.strip().lower(), name.strip().lower())


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
    foundry: FoundryOffer | None = None
    """The Foundry channel, for a model offered on Foundry resources."""

    def stage_on(self, today: dt.date) -> Stage:
        return stage_on(self.stage, self.deprecation_date, self.retirement_date, today)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.model_id})" if self.model_id else self.name

    @property
    def foundry_label(self) -> str:
        """``Mistral Small 25.03 (Mistral AI/mistral-small-2503)``: the model as a Foundry deployment names it."""
        return f"{self.name} ({self.foundry.label})" if self.foundry else self.label


@dataclass(frozen=True)
class CatalogFacts:
    as_of: dt.date
    serverless_regions: tuple[str, ...]
    models: Mapping[str, CatalogModel]
    """By catalog key. Read once, when the facts are made: the look-ups below index it then."""
    _by_model_id: Mapping[str, CatalogModel] = field(init=False, repr=False, compare=False)
    _by_foundry_model: Mapping[tuple[str, str], CatalogModel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the models by canonical model ID and by Foundry model key, the first model in catalog order
        winning (as a scan in that order finds it): a policy asks once per endpoint or deployment, and parsing
        every model ID of the catalog for each question cost more than the rest of the rule."""
        by_id: dict[str, CatalogModel] = {}
        by_foundry: dict[tuple[str, str], CatalogModel] = {}
        for model in self.models.values():
            if model.model_id:
                by_id.setdefault(canonical_model_id(model.model_id), model)
            if model.foundry:
                by_foundry.setdefault(foundry_model_key(model.foundry.format, model.foundry.name), model)
        object.__setattr__(self, "_by_model_id", by_id)
        object.__setattr__(self, "_by_foundry_model", by_foundry)

    def by_model_id(self, model_id: str) -> CatalogModel | None:
        """The model with this ID, compared as :func:`canonical_model_id` reads both."""
        return self._by_model_id.get(canonical_model_id(model_id))

    def by_foundry_model(self, format_: str, name: str) -> CatalogModel | None:
        """The model whose Foundry channel is this format and name (both trimmed, case-insensitive)."""
        return self._by_foundry_model.get(foundry_model_key(format_, name))

    @property
    def foundry_regions(self) -> tuple[str, ...]:
        """Every region the catalog lists for any deployment type of any Foundry model, sorted."""
        regions = {r for m in self.models.values() if m.foundry for rs in m.foundry.skus.values() for r in rs}
        return tuple(sorted(regions))

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


def _foundry(channel: Mapping[str, Any] | None) -> FoundryOffer | None:
    if not channel:
        return None
    return FoundryOffer(
        format=str(channel["format"]),
        name=str(channel["name"]),
        version=str(channel["version"]),
        marketplace=bool(channel["marketplace"]),
        skus={str(sku): tuple(str(r) for r in regions) for sku, regions in channel["skus"].items()},
    )


SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, in C (libyaml) where PyYAML was built with it, as its wheels are: the same documents,
read in a sixth of the time (5 ms rather than 32 for the catalog, which the pack and ``maas models`` read at every
start)."""


@cache
def catalog_facts(path: Path = CATALOG_PATH) -> CatalogFacts:
    """Read ``catalog.yaml`` (the program validates every field of it strictly; see ``infra/catalog.py``)."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=SAFE_LOADER)
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
            foundry=_foundry(row.get("foundry")),
        )
    return CatalogFacts(
        as_of=dt.date.fromisoformat(str(data["asOf"])),
        serverless_regions=tuple(data["serverless"]["regions"]),
        models=MappingProxyType(models),
    )
