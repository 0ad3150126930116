"""``maas catalog sync``: refresh the catalog's Foundry facts and lifecycle from Azure's Models API.

For one subscription and a set of locations, ``GET /subscriptions/{id}/providers/Microsoft.CognitiveServices/
locations/{location}/models`` (``Models_List``, api-version 2025-09-01, through azure-mgmt-cognitiveservices)
lists the models a Foundry resource there can deploy: format, name, version, skus (deployment types),
lifecycle status and retirement date. The sweep is bounded in every way (retries and waits, timeouts, pages,
models, body size), sends the token only to the ARM endpoint's host, and reports every location that failed.

The merge edits the catalog file round-trip (comments, quotes, flow lists and key order kept): versions, the
regions of each sku and the lifecycle of every row with a ``foundry`` channel. A lifecycle the API states less
strictly than the catalog is kept and noted; rows are never added or deleted. The change is printed as a
unified diff and written only with ``--write``.

Exit codes: 0 every location swept, 1 partial (the failed locations are named; their facts stay as they were),
2 invalid arguments, catalog or credential, 3 internal failure (raised; the CLI reports it).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import difflib
import io
import json
import os
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from azure_maas_policy import facts
from azure_maas_policy.facts import CATALOG_PATH, DEPLOYMENT_TYPES, Stage
from infra.cli import options
from infra.cli.command import Command
from infra.cli.http import TokenProvider
from infra.cli.output import one_line, plural
from infra.engine.documents import first_line
from infra.errors import ExitCode, UserError

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential
    from pydantic import ValidationError
    from rich.console import Console
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from infra.catalog import Catalog, Model

# Parsing the command line imports none of the sweep's and the merge's libraries: the Models API client
# (infra.cli.models_api: azure-core, azure-mgmt-cognitiveservices, requests), ruamel.yaml and the catalog's
# pydantic models are imported by the functions that use them.

PREFIX = "maas catalog sync"
ARM_ENDPOINT = "https://management.azure.com"
API_VERSION = "2025-09-01"
"""The api-version azure-mgmt-cognitiveservices 14.1 sends (the tests' server insists on it)."""
SOURCE_KEY = "models-api"
"""The key of ``sources`` every fact taken from the Models API names."""
SOURCE = {
    "title": "Azure Models API: GET /subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/"
    "{location}/models, api-version 2025-09-01 (maas catalog sync)",
    "url": "https://learn.microsoft.com/rest/api/aiservices/accountmanagement/models/list",
}
"""Added to ``sources`` when a catalog without it gets facts from the API."""
USER_AGENT = "azure-maas-catalog-sync"
SUBSCRIPTION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
LOCATION = re.compile(r"^[a-z0-9]{2,40}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""What a version read from the API must look like before it is written into the catalog."""
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
DETAIL_LIMIT = 200
"""Characters of a failure reason (status, ARM error code and message) kept on its line."""
NO_DATE_FROM = dt.date(2099, 1, 1)
"""``deprecation.inference`` on or after this day means "no date" (the API writes 2099-12-31)."""
STATUS_STAGES: dict[str, Stage] = {
    "preview": "Preview",
    "stable": "GenerallyAvailable",
    "generallyavailable": "GenerallyAvailable",
    "legacy": "Legacy",
    "deprecating": "Deprecated",
    "deprecated": "Retired",
}
"""API ``lifecycleStatus`` to catalog stage: ``Deprecating`` takes no new deployments (the catalog's Deprecated);
``Deprecated`` answers 410 (the catalog's Retired)."""
RANK: dict[Stage, int] = {"Preview": 0, "GenerallyAvailable": 0, "Legacy": 0, "Deprecated": 1, "Retired": 2}
"""How strict a stage is: Deprecated and Retired models take no new deployments."""
SKU_NAMES = {sku.lower(): sku for sku in DEPLOYMENT_TYPES}
JSON_FIELDS: dict[str, str] = {
    "schemaVersion": "1; changes when a field changes meaning or goes away.",
    "subscription": "The subscription whose Models API was read.",
    "catalog": "The catalog file.",
    "locations": "One entry per location swept.",
    "locations[].location": "The location.",
    "locations[].ok": "False when the location could not be swept (its facts are left as they were).",
    "locations[].models": "Models read.",
    "locations[].pages": "Pages read.",
    "locations[].error": "Why it failed, on one line, or null.",
    "changes": "Each change to the catalog, in words.",
    "notes": "What the sync saw but does not change (e.g. a channel the catalog lacks).",
    "diff": "The change as a unified diff of the catalog file.",
    "written": "True when `--write` wrote the change.",
}
"""Every field of ``maas catalog sync --format json``; docs/cli.md shows them and a test holds them to the
document."""
LIFECYCLE_ORDER = ("stage", "deprecationDate", "retirementDate", "tentative")
"""Where ``retirementDate`` and ``tentative`` go when the sync adds them: after the keys before them here."""

sleep: Callable[[float], None] = time.sleep
"""How the sweep waits between retries (tests replace it to record the waits)."""


class SyncUsageError(UserError):
    """The sync cannot start: invalid arguments, catalog or credential (exit 2); one line."""


class SweepFailedError(Exception):
    """A location could not be swept; the one-line reason."""


@dataclass(frozen=True)
class Bounds:
    """Every limit of the sweep."""

    retries: int = 3
    """Retries of a 429 or transient 5xx answer (500, 502, 503, 504)."""
    backoff: float = 1.0
    """Seconds before the first retry when the service asks no wait; doubled each retry (1, 2, 4)."""
    max_wait: float = 30.0
    """A wait asked for beyond this fails the location at once."""
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_pages: int = 50
    max_models: int = 2000
    """Model entries per location, over all its pages."""
    max_body: int = 8 * 1024 * 1024
    """Bytes of one answer's body (decoded), checked before it is read into memory."""
    workers: int = 4
    """Locations swept at the same time."""


@dataclass(frozen=True)
class Offer:
    """One entry of a location's model list, as the merge reads it."""

    kind: str
    format: str
    name: str
    version: str
    default: bool
    status: str | None
    """``lifecycleStatus`` as the API writes it (``Stable``, ``Deprecating``...)."""
    retires: dt.date | None
    """``deprecation.inference`` (its date): inference stops that day; None when absent or 2099 and later."""
    tentative: bool
    """``deprecation.deprecationStatus`` is ``Tentative``: the date is an estimate."""
    skus: tuple[str, ...]
    """Sku names as the API writes them (``GlobalStandard``, ``provisioned``...)."""


@dataclass(frozen=True)
class Swept:
    """The outcome of one location: its offers, or why there are none."""

    location: str
    ok: bool
    offers: tuple[Offer, ...] = ()
    models: int = 0
    """Model entries received (skipped ones included)."""
    pages: int = 0
    error: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Merged:
    """The catalog text after the merge, the facts that changed and what the merge could not decide."""

    text: str
    changes: list[str]
    notes: list[str]


# --- the sweep --------------------------------------------------------------------------------------------


def default_credential() -> TokenProvider:
    """azure-identity's ``DefaultAzureCredential`` (environment, workload identity, managed identity, az CLI...)."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


class FixedToken:
    """The token fetched before the sweep, handed to every location's client (azure-core's credential shape)."""

    def __init__(self, token: AccessToken) -> None:
        self._token = token

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return self._token


def _access_token(token: Any) -> AccessToken:
    """azure-core's ``AccessToken`` from any credential's answer (a test double may carry no expiry)."""
    from azure.core.credentials import AccessToken

    expires_on = int(getattr(token, "expires_on", 0) or 0) or int(time.time()) + 3600
    return AccessToken(str(token.token), expires_on)


def _clean(text: str, limit: int = DETAIL_LIMIT) -> str:
    """``text`` on one line without control or format characters, cut to ``limit`` characters."""
    printable = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return one_line(printable, limit)


def _shown(value: str) -> str:
    """An API string quoted for a message, control characters removed."""
    return repr(_clean(value, 80))


def sweep_location(
    location: str,
    *,
    subscription: str,
    credential: TokenCredential,
    endpoint: str = ARM_ENDPOINT,
    bounds: Bounds = Bounds(),
    sleep: Callable[[float], None] = time.sleep,
) -> Swept:
    """List one location's models (:func:`infra.cli.models_api.sweep_location`); never raises for what a service
    or network can do wrong."""
    from infra.cli import models_api

    return models_api.sweep_location(
        location, subscription=subscription, credential=credential, endpoint=endpoint, bounds=bounds, sleep=sleep
    )


def sweep(
    locations: Sequence[str],
    *,
    subscription: str,
    credential: TokenCredential,
    endpoint: str = ARM_ENDPOINT,
    bounds: Bounds = Bounds(),
    sleep: Callable[[float], None] = time.sleep,
    done: Callable[[Swept], None] = lambda _: None,
) -> Iterator[Swept]:
    """Every location swept, ``bounds.workers`` at a time; yields the results in the locations' order, and calls
    ``done`` with each as it finishes (from a worker thread)."""
    if not locations:
        return
    with ThreadPoolExecutor(max_workers=min(bounds.workers, len(locations)), thread_name_prefix="sync") as pool:
        futures: list[Future[Swept]] = []
        for location in locations:
            future = pool.submit(
                sweep_location,
                location,
                subscription=subscription,
                credential=credential,
                endpoint=endpoint,
                bounds=bounds,
                sleep=sleep,
            )
            future.add_done_callback(lambda f: done(f.result()) if f.exception() is None else None)
            futures.append(future)
        for future in futures:
            yield future.result()


# --- the merge --------------------------------------------------------------------------------------------


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    editor = YAML(typ="rt")
    editor.preserve_quotes = True
    editor.width = 1 << 16  # never re-wrap a line
    editor.representer.ignore_aliases = lambda _: True  # one date set in two places is written twice, not aliased
    return editor


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Versions compare part by part, numbers as numbers (``2024-05-13`` < ``2024-08-06``, ``9`` < ``10``)."""
    parts = re.split(r"[.\-_]", version)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts)


def _choose_version(current: str, listed: Sequence[Offer]) -> str:
    """The catalog's version while it is listed and no location makes another the default; else the default
    version (the highest, if locations disagree), else the highest listed."""
    versions = {offer.version for offer in listed}
    defaults = {offer.version for offer in listed if offer.default}
    if current in versions and not defaults - {current}:
        return current
    return max(defaults or versions, key=_version_key)


def _flow(regions: Sequence[str]) -> CommentedSeq:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(regions)
    seq.fa.set_flow_style()
    return seq


def _put(mapping: CommentedMap, key: str, value: Any, order: Sequence[str]) -> None:
    """Set ``key``; a new key goes right after the last key present of those before it in ``order``."""
    if key in mapping:
        mapping[key] = value
        return
    before = order[: order.index(key)]
    keys = list(mapping)
    position = max((keys.index(k) + 1 for k in before if k in mapping), default=0)
    mapping.insert(position, key, value)


def _like(old: Any, new: str) -> Any:
    """``new`` quoted as ``old`` was (``version: "1"`` stays double-quoted)."""
    return type(old)(new) if isinstance(old, str) and type(old) is not str else new


def _lifecycle_text(stage: Stage, retires: dt.date | None, tentative: bool) -> str:
    if retires is None:
        return stage
    return f"{stage}, retires {retires.isoformat()}{' (tentative)' if tentative else ''}"


class _Merge:
    """One merge: the catalog's YAML document edited in place, with the change lines and notes it makes."""

    def __init__(self, catalog: Catalog, document: CommentedMap, swept: Sequence[Swept], today: dt.date) -> None:
        self.catalog, self.document, self.swept, self.today = catalog, document, swept, today
        self.changes: list[str] = []
        self.notes: list[str] = []
        self.sourced = False

    def row(self, model: Model) -> None:
        if model.foundry is not None:
            self.foundry(model)
        elif model.serverless is not None:
            self.suggest(model)

    def foundry(self, model: Model) -> None:
        key, channel = model.key, model.foundry
        assert channel is not None
        node: CommentedMap = self.document["models"][key]["foundry"]
        wanted = (channel.format.lower(), channel.name.lower())
        found = {
            result.location: [o for o in result.offers if (o.format.lower(), o.name.lower()) == wanted]
            for result in self.swept
        }
        listed = [offer for offers in found.values() for offer in offers]
        if not listed:
            self.notes.append(f"{key}: not listed in any swept location (format/name {channel.format}/{channel.name})")
            return
        version = _choose_version(channel.version, listed)
        if version != channel.version:
            node["version"] = _like(node["version"], version)
            self.changes.append(f"{key}: foundry version {channel.version} -> {version}")
        chosen = {location: [o for o in offers if o.version == version] for location, offers in found.items()}
        self.skus(model, version, node, chosen)
        self.lifecycle(model, [offer for offers in chosen.values() for offer in offers])
        self.stamped(node)

    def skus(self, model: Model, version: str, node: CommentedMap, chosen: dict[str, list[Offer]]) -> None:
        key, channel = model.key, model.foundry
        assert channel is not None
        offered: dict[str, set[str]] = {location: set() for location in chosen}
        unknown: dict[str, list[str]] = {}
        for location, offers in chosen.items():
            for name in (sku for offer in offers for sku in offer.skus):
                if name.lower() in SKU_NAMES:
                    offered[location].add(SKU_NAMES[name.lower()])
                elif location not in unknown.setdefault(name, []):
                    unknown[name].append(location)
        for name, locations in unknown.items():
            self.notes.append(
                f"{key}: the Models API lists sku {_shown(name)} for version {version} "
                f"(in {', '.join(locations)}), not a deployment type azure-maas knows; ignored"
            )
        skus: CommentedMap = node["skus"]
        new_skus = [s for s in DEPLOYMENT_TYPES if s not in channel.skus and any(s in o for o in offered.values())]
        for sku in [*channel.skus, *new_skus]:
            before = set(channel.skus.get(sku, ()))
            after = {r for r in before if r not in offered} | {loc for loc, names in offered.items() if sku in names}
            if after == before:
                continue
            added, removed = sorted(after - before), sorted(before - after)
            said = "; ".join(
                part
                for part in (
                    f"added {', '.join(added)}" if added else "",
                    f"removed {', '.join(removed)}" if removed else "",
                )
                if part
            )
            if not after:
                del skus[sku]
                said += " (sku removed: no region left)"
            else:
                skus[sku] = _flow(sorted(after))
                said += " (new sku)" if sku in new_skus else ""
            self.changes.append(f"{key}: foundry {sku}: {said}")

    def lifecycle(self, model: Model, offers: Sequence[Offer]) -> None:
        key, life = model.key, model.lifecycle
        stages: list[Stage] = []
        for offer in offers:
            if offer.retires is not None and offer.retires <= self.today:
                stages.append("Retired")
            elif (offer.status or "").lower() in STATUS_STAGES:
                stages.append(STATUS_STAGES[(offer.status or "").lower()])
            elif offer.status:
                self.notes.append(
                    f"{key}: the Models API gives lifecycleStatus {_shown(offer.status)} for version "
                    f"{offer.version}, not one azure-maas knows; ignored"
                )
        if not stages:
            return
        strictest = max(RANK[stage] for stage in stages)
        stage = Counter(s for s in stages if RANK[s] == strictest).most_common(1)[0][0]
        dates = [offer.retires for offer in offers if offer.retires is not None]
        retires = min(dates) if dates else None
        tentative = retires is not None and all(o.tentative for o in offers if o.retires == retires)
        current = life.stage_on(self.today)
        undated = retires is None and life.retirement_date is not None
        if RANK[stage] < RANK[current] or (RANK[stage] == RANK[current] and undated):
            ours = _lifecycle_text(current, life.retirement_date, life.tentative)
            self.notes.append(
                f"{key}: the Models API says {_lifecycle_text(stage, retires, tentative)}, the catalog "
                f"(source {life.source}) says {ours}; kept the stricter"
            )
            return
        if undated:  # a stricter stage without a date: the date announced elsewhere still holds
            retires, tentative = life.retirement_date, life.tentative
            self.notes.append(f"{key}: the Models API gives no retirement date; kept {retires} (source {life.source})")
        node: CommentedMap = self.document["models"][key]["lifecycle"]
        old = _lifecycle_text(life.stage, life.retirement_date, life.tentative)
        new = _lifecycle_text(stage, retires, tentative)
        if stage != life.stage:
            node["stage"] = stage
        if retires != life.retirement_date:
            if retires is None:
                del node["retirementDate"]
            else:
                _put(node, "retirementDate", retires, LIFECYCLE_ORDER)
        if tentative != life.tentative:
            if tentative:
                _put(node, "tentative", True, LIFECYCLE_ORDER)
            else:
                del node["tentative"]
        if new != old:
            self.changes.append(f"{key}: lifecycle {old} -> {new}")
        self.stamped(node)

    def stamped(self, node: CommentedMap) -> None:
        node["source"] = SOURCE_KEY
        node["asOf"] = self.today
        self.sourced = True

    def suggest(self, model: Model) -> None:
        """A row without a foundry channel whose serverless model the API lists: say so, add nothing."""
        assert model.serverless is not None
        wanted = model.serverless.model_id.rsplit("/", 1)[-1].lower()
        seen: dict[tuple[str, str], tuple[str, str, set[str], set[str]]] = {}
        for result in self.swept:
            for offer in result.offers:
                if offer.name.lower() == wanted:
                    _, _, versions, locations = seen.setdefault(
                        (offer.format.lower(), offer.name.lower()), (offer.format, offer.name, set(), set())
                    )
                    versions.add(offer.version)
                    locations.add(result.location)
        for format_, name, versions, locations in seen.values():
            listed = ", ".join(sorted(versions, key=_version_key))
            self.notes.append(
                f"{model.key}: the Models API lists format {_shown(format_)} name {_shown(name)} "
                f"({'version' if len(versions) == 1 else 'versions'} {listed}) in {plural(len(locations), 'location')}; "
                "add a foundry channel to track it"
            )


def merge(text: str, catalog: Catalog, results: Sequence[Swept], today: dt.date) -> Merged:
    """The catalog ``text`` with the Models API's facts from the swept locations of ``results``.

    Rows with a foundry channel get the version, the regions of each sku (swept locations only; the others
    keep theirs) and the API's lifecycle, unless the catalog's is stricter on ``today`` (a stricter stage, or
    the same stage with a retirement date where the API gives none: an announced date is never dropped); each
    group taken from the API names it as source with ``asOf: today``. The top-level ``asOf`` (the day the
    catalog as a whole was last checked, which staleness warnings read) moves to ``today`` only when every
    location was swept, so a partial sync leaves the catalog as stale as it was. The result must validate as
    a :class:`Catalog`.
    """
    from pydantic import ValidationError
    from ruamel.yaml.comments import CommentedMap

    from infra.catalog import Catalog

    swept = [result for result in results if result.ok]
    notes = [note for result in swept for note in result.notes]
    if not swept:
        return Merged(text, [], notes)
    complete = len(swept) == len(results)
    editor = _yaml()
    document: CommentedMap = editor.load(text)
    work = _Merge(catalog, document, swept, today)
    for model in catalog.models.values():
        work.row(model)
    if complete and today > catalog.as_of:
        document["asOf"] = today
    if work.sourced and SOURCE_KEY not in document["sources"]:
        document["sources"][SOURCE_KEY] = CommentedMap(SOURCE)
    buffer = io.StringIO()
    editor.dump(document, buffer)
    merged = buffer.getvalue()
    try:
        Catalog.model_validate(yaml.safe_load(merged))
    except ValidationError as error:
        raise RuntimeError(f"the merged catalog does not validate: {_validation_problem(error)}") from error
    return Merged(merged, work.changes, [*notes, *work.notes])


# --- the command ------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``maas catalog sync``."""
    parser.add_argument(
        "--subscription",
        metavar="ID",
        help="the subscription whose Models API to read (default: $AZURE_SUBSCRIPTION_ID)",
    )
    parser.add_argument(
        "--location",
        "-l",
        action="append",
        default=[],
        metavar="L",
        help="a location to sweep (repeatable; default: every serverless and Foundry region of the catalog)",
    )
    parser.add_argument("--write", action="store_true", help="update the catalog file (default: print the diff only)")
    parser.add_argument("--catalog", type=Path, metavar="FILE", help="the catalog file (default: the policy pack's)")
    parser.add_argument("--format", "-f", choices=["text", "json"], default="text", help="output format")
    parser.add_argument(
        "--arm-endpoint",
        default=ARM_ENDPOINT,
        metavar="URL",
        help="the Azure Resource Manager endpoint, https:// (default: %(default)s)",
    )
    options.add_today(parser, "the sync (the asOf date it records)")


@dataclass(frozen=True)
class _Job:
    subscription: str
    locations: tuple[str, ...]
    path: Path
    text: str
    catalog: Catalog
    endpoint: str


def _validation_problem(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ").split("; ")[0]
    return f"{where}: {message}" if where else message


def _refuse_aliases(text: str) -> None:
    """Anchors, aliases and merge keys share one node between places: the sync edits plain mappings only."""
    from ruamel.yaml.events import AliasEvent, ScalarEvent

    for event in _yaml().parse(text):
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise SyncUsageError("uses YAML anchors or aliases; the sync edits plain mappings only: expand them")
        if isinstance(event, ScalarEvent) and event.value == "<<" and event.style is None:
            raise SyncUsageError("uses YAML merge keys (<<); the sync edits plain mappings only: expand them")


def _read_catalog(path: Path) -> tuple[str, Catalog]:
    from pydantic import ValidationError
    from ruamel.yaml.error import YAMLError as RuamelYAMLError

    from infra.catalog import Catalog

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SyncUsageError(f"cannot read the catalog {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        _refuse_aliases(text)
        document = yaml.safe_load(text)
    except SyncUsageError as error:
        raise SyncUsageError(f"the catalog {path} {error}") from None
    except (yaml.YAMLError, RuamelYAMLError) as error:
        raise SyncUsageError(f"the catalog {path} is not YAML: {first_line(error)}") from None
    try:
        return text, Catalog.model_validate(document)
    except ValidationError as error:
        raise SyncUsageError(f"the catalog {path} is not valid: {_validation_problem(error)}") from None


def _endpoint(value: str) -> str:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises for a port that is no number)
    except ValueError:
        parts = parts._replace(netloc="")
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username
        or parts.path.strip("/")
        or parts.query
        or parts.fragment
    ):
        raise SyncUsageError(f"--arm-endpoint {value!r} is not an https:// URL with a host (and nothing after it)")
    return f"https://{parts.netloc}"


def _job(args: argparse.Namespace) -> _Job:
    subscription = args.subscription or os.environ.get("AZURE_SUBSCRIPTION_ID", "")
    if not subscription:
        raise SyncUsageError("no subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID")
    if not SUBSCRIPTION_ID.match(subscription):
        origin = "--subscription" if args.subscription else "AZURE_SUBSCRIPTION_ID"
        raise SyncUsageError(f"{origin} {subscription!r} is not a subscription ID (a GUID)")
    endpoint = _endpoint(args.arm_endpoint)
    locations: list[str] = []
    for given in args.location:
        location = facts.normalize_region(given)
        if not LOCATION.match(location):
            raise SyncUsageError(f"--location {given!r} is not a location name (e.g. eastus2)")
        if location not in locations:
            locations.append(location)
    path: Path = args.catalog or CATALOG_PATH
    text, catalog = _read_catalog(path)
    if not locations:
        known = {facts.normalize_region(r) for r in (*catalog.serverless.regions, *catalog.foundry_regions)}
        locations = sorted(r for r in known if LOCATION.match(r))
    if not locations:
        raise SyncUsageError(f"the catalog {path} names no region to sweep: pass --location")
    return _Job(subscription, tuple(locations), path, text, catalog, endpoint)


def _token(endpoint: str) -> AccessToken:
    scope = f"{endpoint}/.default"
    try:
        credential = default_credential()
        token = _access_token(credential.get_token(scope))
    except Exception as error:  # azure-identity raises ClientAuthenticationError and subclasses
        raise SyncUsageError(
            f"no token for {scope}: {first_line(error)} (sign in with `az login`, or set "
            "AZURE_CLIENT_ID/AZURE_TENANT_ID for a workload identity)"
        ) from None
    return token


def _display(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def unified_diff(old: str, new: str, shown: str) -> str:
    """``git diff``'s shape: ``--- a/<path>`` / ``+++ b/<path>``; empty when nothing changed."""
    lines = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
    ):
        lines.append(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n")
    return "".join(lines)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically: a temporary file in the same directory, then a rename over it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _progress_line(result: Swept) -> str:
    if not result.ok:
        return f"{PREFIX}: {result.location}: failed: {result.error}"
    return f"{PREFIX}: {result.location}: {plural(result.models, 'model')} in {plural(result.pages, 'page')}"


def _sweep(job: _Job, credential: FixedToken, errors: Console, redact: Callable[[str], str]) -> list[Swept]:
    """Every location swept, with progress on stderr: a bar on a terminal, else one line per location."""
    options: dict[str, Any] = {
        "subscription": job.subscription,
        "credential": credential,
        "endpoint": job.endpoint,
        "sleep": sleep,
    }
    if not errors.is_terminal:
        results = []
        for result in sweep(job.locations, **options):
            errors.print(redact(_progress_line(result)), markup=False, emoji=False)
            results.append(result)
        return results
    from rich.progress import Progress

    with Progress(console=errors, transient=True) as bar:
        task = bar.add_task("sweeping the Models API", total=len(job.locations))

        def done(result: Swept) -> None:
            bar.console.print(redact(_progress_line(result)), markup=False, emoji=False)
            bar.advance(task)

        return list(sweep(job.locations, done=done, **options))


def _redactor(secret: str) -> Callable[[str], str]:
    return lambda text: text.replace(secret, "***") if secret else text


def run(args: argparse.Namespace, out: Console, errors: Console) -> int:
    """``maas catalog sync``: sweep, merge, print (and with ``--write``, write); the exit code."""
    today: dt.date = args.today or dt.date.today()
    job = _job(args)
    token = _token(job.endpoint)
    redact = _redactor(token.token)
    results = _sweep(job, FixedToken(token), errors, redact)
    results = [dataclasses.replace(r, error=redact(r.error)) if r.error else r for r in results]
    merged = merge(job.text, job.catalog, results, today)
    shown = _display(job.path)
    diff = unified_diff(job.text, merged.text, shown)
    written = bool(args.write) and merged.text != job.text
    if written:
        _write(job.path, merged.text)
    changes, notes = [redact(c) for c in merged.changes], [redact(n) for n in merged.notes]
    failed = [r for r in results if not r.ok]
    if args.format == "json":
        document = json_document(job.subscription, shown, results, changes, notes, redact(diff), written)
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _print_text(
            out, redact(diff), changes, notes, _summary(results, changes, shown, merged.text != job.text, written)
        )
        for result in failed:
            _line(out, f"{result.location}: failed: {result.error}", "red")
    return ExitCode.OK if not failed else ExitCode.FAILED


def json_document(
    subscription: str,
    shown: str,
    results: Sequence[Swept],
    changes: Sequence[str],
    notes: Sequence[str],
    diff: str,
    written: bool,
) -> dict[str, Any]:
    """The ``--format json`` document (fields: :data:`JSON_FIELDS`); every text in it already redacted."""
    return {
        "schemaVersion": 1,
        "subscription": subscription,
        "catalog": shown,
        "locations": [
            {"location": r.location, "ok": r.ok, "models": r.models, "pages": r.pages, "error": r.error}
            for r in results
        ],
        "changes": list(changes),
        "notes": list(notes),
        "diff": diff,
        "written": written,
    }


def _summary(results: Sequence[Swept], changes: Sequence[str], shown: str, changed: bool, written: bool) -> str:
    swept = sum(1 for r in results if r.ok)
    head = f"{swept} of {plural(len(results), 'location')} swept; {plural(len(changes), 'change')}"
    if written:
        return f"{head}; written to {shown}"
    if changed:
        return f"{head}; dry run: pass --write to update {shown}"
    return f"{head}; {shown} is up to date"


DIFF_STYLES: tuple[tuple[str, str], ...] = (
    ("+++", "bold"),
    ("---", "bold"),
    ("@@", "cyan"),
    ("+", "green"),
    ("-", "red"),
)


def _line(out: Console, text: str, style: str = "") -> None:
    from rich.text import Text

    out.print(Text(text, style=style), soft_wrap=True)


def _print_text(out: Console, diff: str, changes: Sequence[str], notes: Sequence[str], summary: str) -> None:
    for line in diff.splitlines():
        _line(out, line, next((style for start, style in DIFF_STYLES if line.startswith(start)), ""))
    for change in changes:
        _line(out, f"change: {change}")
    for note in notes:
        _line(out, f"note: {note}", "yellow")
    _line(out, summary, "bold")


COMMAND = Command(
    name="catalog sync",
    help="refresh lifecycle, versions, skus and regions from Azure's Models API",
    description="Read Azure's Models API (Microsoft.CognitiveServices/locations/{location}/models) for a "
    "subscription and a set of locations, and update the catalog's Foundry facts and lifecycle. Prints the "
    "change as a diff; writes only with --write; never deletes a row. Exit codes: 0 every location swept, "
    "1 the sync was partial (the failed locations are named; their facts are left as they were), 2 invalid "
    "arguments, catalog or credentials, 3 internal failure.",
    add_arguments=add_arguments,
    execute=run,
)
