"""``maas catalog sync`` end to end against a local ARM server on 127.0.0.1 over TLS that serves the Models API
as the 2025-09-01 REST spec documents it (its own example included), and the merge on its own."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from infra.catalog import CATALOG_PATH, Catalog
from infra.cli import app as cli
from infra.cli.commands import catalog_sync
from infra.cli.commands.catalog_sync import Offer, Swept, merge, sweep_location
from tests.arm_server import Answer, ArmServer, arm_error, page
from tests.conftest import ROOT
from tests.fakes import Credential

TODAY = "2026-11-24"
TOKEN = "arm-token-5e1b"
SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
EXAMPLE = ROOT / "tests" / "data" / "models-api" / "ListLocationModels.json"
FIXED = catalog_sync.FixedToken(AccessToken(TOKEN, 4102444800))
"""For :func:`sweep_location` called directly: the token the CLI would fetch first (expires 2100-01-01)."""
DENIED = (
    "The client 'maas@example.com' with object id '6c9d0b5e-0000-0000-0000-000000000000' does not have "
    "authorization to perform action 'Microsoft.CognitiveServices/locations/models/read' over scope "
    f"'/subscriptions/{SUBSCRIPTION}' or the scope is invalid."
)

CATALOG = """\
# A small catalog for `maas catalog sync` tests: the real file's shape, three Foundry regions.
schemaVersion: 2
asOf: 2026-11-20

sources:
  retirement-schedule:
    title: "Microsoft Learn: Foundry Models retirement schedule"
  retired-models:
    title: "Microsoft Learn: Foundry Models retired models"
  partner-regions:
    title: "Microsoft Learn: Standard deployments of Marketplace models, region availability"
  models-api:
    title: "Azure Models API (maas catalog sync)"

serverless:
  regions: [eastus2, swedencentral]
  rateLimits:
    tokensPerMinute: 200000
    requestsPerMinute: 1000
  source: partner-regions
  asOf: 2026-11-20

models:
  # --- Mistral AI ---------------------------------------------------------
  ministral-3b:
    name: Ministral 3B
    publisher: Mistral AI
    api: chat
    lifecycle:
      stage: GenerallyAvailable
      source: retirement-schedule
      asOf: 2026-11-20
    serverless:
      modelId: azureml://registries/azureml-mistral/models/Ministral-3B
      source: partner-regions
      asOf: 2026-11-20
    foundry:
      format: Mistral AI
      name: Ministral-3B
      version: "1"
      marketplace: true
      skus:
        GlobalStandard: [eastus2, swedencentral, westus]  # every region the page lists
      source: partner-regions
      asOf: 2026-11-20
  mistral-large-3:
    name: Mistral Large 3
    publisher: Mistral AI
    api: chat
    lifecycle:
      stage: Preview
      source: retirement-schedule
      asOf: 2026-11-20
      note: Preview per the schedule.
    foundry:
      format: Mistral AI
      name: Mistral-Large-3
      version: "1"
      marketplace: false
      skus:
        GlobalStandard: [eastus2, westus]
        DataZoneStandard: [eastus2]
      source: partner-regions
      asOf: 2026-11-20
  mistral-small-2503:
    name: Mistral Small 25.03
    publisher: Mistral AI
    api: chat
    lifecycle:
      stage: Retired
      retirementDate: 2026-10-01
      source: retired-models
      asOf: 2026-11-20
    foundry:
      format: Mistral AI
      name: mistral-small-2503
      version: "1"
      marketplace: true
      skus:
        GlobalStandard: [eastus2, swedencentral]
      source: partner-regions
      asOf: 2026-11-20
  codestral-2501:
    name: Codestral 25.01
    publisher: Mistral AI
    api: chat
    lifecycle:
      stage: GenerallyAvailable
      source: retirement-schedule
      asOf: 2026-11-20
    foundry:
      format: Mistral AI
      name: Codestral-2501
      version: "2"
      marketplace: true
      skus:
        GlobalStandard: [westus]
      source: partner-regions
      asOf: 2026-11-20
  # --- Microsoft Phi ------------------------------------------------------
  phi-4:
    name: Phi-4
    publisher: Microsoft
    api: chat
    lifecycle:
      stage: GenerallyAvailable
      source: retirement-schedule
      asOf: 2026-11-20
    serverless:
      modelId: azureml://registries/azureml/models/Phi-4
      source: partner-regions
      asOf: 2026-11-20
"""


# --- Models API entries, shaped as the spec example's (its Llama entry) ------------------------------------


def example_entries() -> list[dict[str, Any]]:
    """The ``value`` of the REST spec's ``ListLocationModels`` example, as published."""
    document: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = document["responses"]["200"]["body"]["value"]
    return entries


def entry(
    format_: str,
    name: str,
    version: str,
    skus: tuple[str, ...] = ("GlobalStandard",),
    status: str = "GenerallyAvailable",
    *,
    default: bool | None = None,
    inference: str = "2099-12-31T00:00:00Z",
    tentative: bool = False,
) -> dict[str, Any]:
    """A ``Model`` entry as the API lists partner and Microsoft models (the example's Llama entry)."""
    registry = "azureml" if format_ == "Microsoft" else "azureml-mistral"
    model: dict[str, Any] = {"format": format_, "name": name, "version": version}
    if default is not None:
        model["isDefaultVersion"] = default
    model["skus"] = [
        {"name": sku, "usageName": f"AIServices.{sku}.MaaS", "capacity": {"maximum": 1, "default": 1}} for sku in skus
    ]
    model["maxCapacity"] = 3
    model["capabilities"] = {"chatCompletion": "true"}
    model["deprecation"] = {"inference": inference} | ({"deprecationStatus": "Tentative"} if tentative else {})
    model["lifecycleStatus"] = status
    model["modelCatalogAssetId"] = f"azureml://registries/{registry}/models/{name}/versions/{version}"
    model["systemData"] = {
        "createdBy": "Microsoft",
        "createdByType": "Application",
        "createdAt": "2025-10-01T00:00:00Z",
        "lastModifiedBy": "MaaSModelConverter",
        "lastModifiedByType": "Application",
        "lastModifiedAt": "2026-11-01T00:00:00Z",
    }
    return {"kind": "AIServices", "skuName": "S0", "model": model}


MINISTRAL = ("Mistral AI", "Ministral-3B", "1")
LARGE_V1 = ("Mistral AI", "Mistral-Large-3", "1")
LARGE_V2 = ("Mistral AI", "Mistral-Large-3", "2")
SMALL = ("Mistral AI", "mistral-small-2503", "1")
LARGE_V2_LIFE: dict[str, Any] = {"inference": "2027-10-01T00:00:00Z", "tentative": True}


def eastus2() -> list[dict[str, Any]]:
    return [
        *example_entries(),
        entry(*MINISTRAL),
        entry(*LARGE_V1, ("GlobalStandard", "DataZoneStandard"), "Preview", default=False),
        entry(*LARGE_V2, ("GlobalStandard", "DataZoneStandard"), default=True, **LARGE_V2_LIFE),
        entry(*SMALL),
        entry("Microsoft", "Phi-4", "7"),
        entry("Microsoft", "Phi-4", "8", default=True),
        {"kind": "AIServices", "skuName": "S0", "model": {"format": "Mistral AI", "name": "mistral-unversioned"}},
    ]


def swedencentral() -> list[dict[str, Any]]:
    return [
        entry(*MINISTRAL, ("GlobalStandard", "DataZoneStandard")),
        entry(*LARGE_V2, ("DataZoneStandard", "provisioned"), default=True, **LARGE_V2_LIFE),
        entry(*SMALL),
        entry("Microsoft", "Phi-4", "8", default=True),
    ]


def westus_pages(server: ArmServer) -> list[Answer]:
    """Two pages, the second behind an absolute ``nextLink``."""
    return [
        page(entry(*MINISTRAL), next_link=server.next_link(SUBSCRIPTION, "westus", "page-2")),
        page(entry(*LARGE_V2, ("GlobalStandard",), default=True, **LARGE_V2_LIFE), entry("Microsoft", "Phi-4", "8")),
    ]


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients trust the test CA only; no proxy stands between them and 127.0.0.1."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


@pytest.fixture
def credential(monkeypatch: pytest.MonkeyPatch) -> Credential:
    made = Credential(TOKEN)
    monkeypatch.setattr(catalog_sync, "default_credential", lambda: made)
    return made


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between retries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(catalog_sync, "sleep", recorded.append)
    return recorded


@pytest.fixture
def server(ca: trustme.CA, trusted: None, credential: Credential, waits: list[float]) -> Iterator[ArmServer]:
    with ArmServer(ca, TOKEN) as running:
        yield running


@pytest.fixture
def catalog_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The small catalog in a working directory of its own (paths print relative to it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


def sync(capsys: pytest.CaptureFixture[str], server: ArmServer | None, *args: str) -> tuple[int, str, str]:
    endpoint = ["--arm-endpoint", server.endpoint] if server is not None else []
    code = cli.main(["catalog", "sync", "--today", TODAY, "--subscription", SUBSCRIPTION, *endpoint, *args])
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
    return code, captured.out, captured.err


def script_all(server: ArmServer) -> None:
    server.script("eastus2", page(*eastus2()))
    server.script("swedencentral", page(*swedencentral()))
    server.script("westus", *westus_pages(server))


# --- a whole sync ------------------------------------------------------------------------------------------

DIFF = """\
--- a/catalog.yaml
+++ b/catalog.yaml
@@ -1,6 +1,6 @@
 # A small catalog for `maas catalog sync` tests: the real file's shape, three Foundry regions.
 schemaVersion: 2
-asOf: 2026-11-20
+asOf: 2026-11-24
~
 sources:
   retirement-schedule:
@@ -28,8 +28,8 @@
     api: chat
     lifecycle:
       stage: GenerallyAvailable
-      source: retirement-schedule
-      asOf: 2026-11-20
+      source: models-api
+      asOf: 2026-11-24
     serverless:
       modelId: azureml://registries/azureml-mistral/models/Ministral-3B
       source: partner-regions
@@ -41,27 +41,30 @@
       marketplace: true
       skus:
         GlobalStandard: [eastus2, swedencentral, westus]  # every region the page lists
-      source: partner-regions
-      asOf: 2026-11-20
+        DataZoneStandard: [swedencentral]
+      source: models-api
+      asOf: 2026-11-24
   mistral-large-3:
     name: Mistral Large 3
     publisher: Mistral AI
     api: chat
     lifecycle:
-      stage: Preview
-      source: retirement-schedule
-      asOf: 2026-11-20
+      stage: GenerallyAvailable
+      retirementDate: 2027-10-01
+      tentative: true
+      source: models-api
+      asOf: 2026-11-24
       note: Preview per the schedule.
     foundry:
       format: Mistral AI
       name: Mistral-Large-3
-      version: "1"
+      version: "2"
       marketplace: false
       skus:
         GlobalStandard: [eastus2, westus]
-        DataZoneStandard: [eastus2]
-      source: partner-regions
-      asOf: 2026-11-20
+        DataZoneStandard: [eastus2, swedencentral]
+      source: models-api
+      asOf: 2026-11-24
   mistral-small-2503:
     name: Mistral Small 25.03
     publisher: Mistral AI
@@ -78,8 +81,8 @@
       marketplace: true
       skus:
         GlobalStandard: [eastus2, swedencentral]
-      source: partner-regions
-      asOf: 2026-11-20
+      source: models-api
+      asOf: 2026-11-24
   codestral-2501:
     name: Codestral 25.01
     publisher: Mistral AI
""".replace("\n~\n", "\n \n")  # a blank context line is one space (`~` here: no trailing blanks)
CHANGES = [
    "ministral-3b: foundry DataZoneStandard: added swedencentral (new sku)",
    "mistral-large-3: foundry version 1 -> 2",
    "mistral-large-3: foundry DataZoneStandard: added swedencentral",
    "mistral-large-3: lifecycle Preview -> GenerallyAvailable, retires 2027-10-01 (tentative)",
]
NOTES = [
    "eastus2: skipped 1 model entry without format, name or version",
    "mistral-large-3: the Models API lists sku 'provisioned' for version 2 (in swedencentral), not a deployment "
    "type azure-maas knows; ignored",
    "mistral-small-2503: the Models API says GenerallyAvailable, the catalog (source retired-models) says Retired, "
    "retires 2026-10-01; kept the stricter",
    "codestral-2501: not listed in any swept location (format/name Mistral AI/Codestral-2501)",
    "phi-4: the Models API lists format 'Microsoft' name 'Phi-4' (versions 7, 8) in 3 locations; add a foundry "
    "channel to track it",
]
PROGRESS = [
    "maas catalog sync: eastus2: 13 models in 1 page",
    "maas catalog sync: swedencentral: 4 models in 1 page",
    "maas catalog sync: westus: 3 models in 2 pages",
]


def test_a_dry_run_prints_the_diff_changes_and_notes_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path, credential: Credential
) -> None:
    script_all(server)

    code, out, err = sync(capsys, server, "--catalog", "catalog.yaml")

    assert code == 0
    assert err.splitlines() == PROGRESS
    assert out == (
        DIFF
        + "".join(f"change: {c}\n" for c in CHANGES)
        + "".join(f"note: {n}\n" for n in NOTES)
        + "3 of 3 locations swept; 4 changes; dry run: pass --write to update catalog.yaml\n"
    )
    assert catalog_file.read_text(encoding="utf-8") == CATALOG
    assert credential.scopes == [(f"{server.endpoint}/.default",)]
    assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {TOKEN}"}


def test_write_replaces_the_file_with_a_valid_catalog_that_keeps_its_comments(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path
) -> None:
    script_all(server)

    code, out, _ = sync(capsys, server, "--catalog", str(catalog_file), "--write")

    assert code == 0
    assert out.splitlines()[-1] == "3 of 3 locations swept; 4 changes; written to catalog.yaml"
    written = catalog_file.read_text(encoding="utf-8")
    known = Catalog.model_validate(yaml.safe_load(written))
    assert known.as_of == dt.date(2026, 11, 24)
    large = known.models["mistral-large-3"]
    assert large.foundry is not None
    assert (large.foundry.version, large.foundry.source, large.foundry.as_of) == ("2", "models-api", known.as_of)
    assert (large.lifecycle.stage, large.lifecycle.retirement_date, large.lifecycle.tentative) == (
        "GenerallyAvailable",
        dt.date(2027, 10, 1),
        True,
    )
    for comment in (
        "# A small catalog for `maas catalog sync` tests",
        "  # --- Microsoft Phi ----",
        "GlobalStandard: [eastus2, swedencentral, westus]  # every region the page lists",
    ):
        assert comment in written
    assert [p.name for p in catalog_file.parent.iterdir() if p.name.startswith(".catalog.yaml")] == []

    script_all(server)
    again, out, _ = sync(capsys, server, "--catalog", "catalog.yaml", "--write")

    assert again == 0
    assert out.splitlines() == [
        *(f"note: {n}" for n in NOTES),
        "3 of 3 locations swept; 0 changes; catalog.yaml is up to date",
    ]
    assert catalog_file.read_text(encoding="utf-8") == written


def test_json_reports_every_location_and_the_diff(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path
) -> None:
    script_all(server)

    code, out, err = sync(capsys, server, "--catalog", "catalog.yaml", "--format", "json")

    assert (code, err.splitlines()) == (0, PROGRESS)
    document = json.loads(out)
    assert document == {
        "schemaVersion": 1,
        "subscription": SUBSCRIPTION,
        "catalog": "catalog.yaml",
        "locations": [
            {"location": "eastus2", "ok": True, "models": 13, "pages": 1, "error": None},
            {"location": "swedencentral", "ok": True, "models": 4, "pages": 1, "error": None},
            {"location": "westus", "ok": True, "models": 3, "pages": 2, "error": None},
        ],
        "changes": CHANGES,
        "notes": NOTES,
        "diff": DIFF,
        "written": False,
    }


def test_pages_are_followed_through_next_link(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path
) -> None:
    server.script("westus", *westus_pages(server))

    code, _, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus")

    assert (code, err) == (0, "maas catalog sync: westus: 3 models in 2 pages\n")
    first, second = server.requests_to("westus")
    path = ArmServer.models_path(SUBSCRIPTION, "westus")
    assert (first.path, first.query) == (path, {"api-version": ["2025-09-01"]})
    assert (second.path, second.query) == (path, {"api-version": ["2025-09-01"], "$skipToken": ["page-2"]})


def test_a_failed_location_keeps_its_regions_and_the_catalog_its_date(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path
) -> None:
    server.script("eastus2", page(*eastus2()))
    server.script("swedencentral", page(*swedencentral()))
    server.script("westus", arm_error(403, "AuthorizationFailed", DENIED))
    failure = ("403 AuthorizationFailed: " + DENIED)[:199] + "…"

    code, out, err = sync(capsys, server, "--catalog", "catalog.yaml", "--write")

    assert code == 1
    assert err.splitlines() == [*PROGRESS[:2], f"maas catalog sync: westus: failed: {failure}"]
    assert out.splitlines()[-2:] == [
        "2 of 3 locations swept; 4 changes; written to catalog.yaml",
        f"westus: failed: {failure}",
    ]
    assert not [line for line in out.splitlines() if "partial" in line]
    known = Catalog.model_validate(yaml.safe_load(catalog_file.read_text(encoding="utf-8")))
    assert known.as_of == dt.date(2026, 11, 20)  # a partial sync does not vouch for the whole catalog
    foundry = {key: model.foundry for key, model in known.models.items() if model.foundry is not None}
    assert {key: f.skus for key, f in foundry.items()} == {
        "ministral-3b": {
            "GlobalStandard": ("eastus2", "swedencentral", "westus"),
            "DataZoneStandard": ("swedencentral",),
        },
        "mistral-large-3": {"GlobalStandard": ("eastus2", "westus"), "DataZoneStandard": ("eastus2", "swedencentral")},
        "mistral-small-2503": {"GlobalStandard": ("eastus2", "swedencentral")},
        "codestral-2501": {"GlobalStandard": ("westus",)},
    }
    assert {key: (f.source, f.as_of) for key, f in foundry.items()} == {
        "ministral-3b": ("models-api", dt.date(2026, 11, 24)),  # refreshed facts carry the day they were read
        "mistral-large-3": ("models-api", dt.date(2026, 11, 24)),
        "mistral-small-2503": ("models-api", dt.date(2026, 11, 24)),
        "codestral-2501": ("partner-regions", dt.date(2026, 11, 20)),
    }


MINUTE_LIMIT = "Rate limit of the Models API exceeded; retry later."
BUSY = "The server is busy; retry later."
RETRY_CASES: list[Any] = [
    pytest.param([arm_error(429, "TooManyRequests", MINUTE_LIMIT, **{"Retry-After": "1"})], 2, [1.0], id="retry-after"),
    pytest.param([arm_error(429, "TooManyRequests", MINUTE_LIMIT, **{"retry-after-ms": "1500"})], 2, [1.5], id="ms"),
    pytest.param(
        [arm_error(429, "TooManyRequests", MINUTE_LIMIT, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})],
        2,
        [0.0],
        id="http-date-in-the-past",
    ),
    pytest.param([arm_error(503, "ServerBusy", BUSY)], 2, [1.0], id="503-then-success"),
    pytest.param(
        [arm_error(500, "InternalServerError", BUSY), arm_error(502, "BadGateway", BUSY)], 3, [1.0, 2.0], id="5xx"
    ),
]


@pytest.mark.parametrize(("answers", "requests", "expected_waits"), RETRY_CASES)
def test_429_and_transient_5xx_are_retried_with_the_wait_asked_or_backoff(
    capsys: pytest.CaptureFixture[str],
    server: ArmServer,
    catalog_file: Path,
    waits: list[float],
    answers: list[Answer],
    requests: int,
    expected_waits: list[float],
) -> None:
    server.script("westus", *answers, page(entry(*MINISTRAL)))

    code, _, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus")

    assert (code, err) == (0, "maas catalog sync: westus: 1 model in 1 page\n")
    assert len(server.requests_to("westus")) == requests
    assert waits == expected_waits


FAILURE_CASES: list[Any] = [
    pytest.param(
        [arm_error(503, "ServerBusy", BUSY)] * 4,
        f"503 ServerBusy: {BUSY} (still failing after 4 attempts)",
        4,
        [1.0, 2.0, 4.0],
        id="backoff-exhausted",
    ),
    pytest.param(
        [arm_error(429, "TooManyRequests", MINUTE_LIMIT, **{"Retry-After": "3600"})],
        f"429 TooManyRequests: {MINUTE_LIMIT}: the service asked to retry after 3600 s, more than the 30 s this waits",
        1,
        [],
        id="retry-after-too-long",
    ),
    pytest.param(
        [arm_error(403, "AuthorizationFailed", "Denied\x1b[2J\x07 for\u202eyou.\r\nTry again.")],
        "403 AuthorizationFailed: Denied [2J for you. Try again.",
        1,
        [],
        id="control-characters",
    ),
    pytest.param([Answer(status=404, body="")], "404 Not Found", 1, [], id="no-arm-body"),
    pytest.param(
        [Answer(body="<html>maintenance</html>", content_type="text/html")],
        "malformed answer: the body is not JSON",
        1,
        [],
        id="not-json",
    ),
    pytest.param(
        [Answer(body={"value": 5})], "malformed answer: `value` is not a list of objects", 1, [], id="value-5"
    ),
    pytest.param(
        [page({"kind": "AIServices", "model": "Ministral-3B"})],
        "malformed answer: an entry's `model` is not an object",
        1,
        [],
        id="model-not-an-object",
    ),
    pytest.param(
        [page({"kind": "AIServices", "model": {"format": "Mistral AI", "name": "x", "version": "1", "skus": "S0"}})],
        "malformed answer: not the documented shape: Cannot deserialize as [ModelSku] an object of type <class 'str'>",
        1,
        [],
        id="skus-not-a-list",
    ),
    pytest.param(
        [Answer(declared_length=9 * 1024 * 1024)],
        "the answer is 9,437,184 bytes, more than the 8,388,608 bytes this reads",
        1,
        [],
        id="content-length",
    ),
    pytest.param(
        [Answer(chunked=9 * 1024 * 1024)], "the answer is more than the 8,388,608 bytes this reads", 1, [], id="chunked"
    ),
]


@pytest.mark.parametrize(("answers", "failure", "requests", "expected_waits"), FAILURE_CASES)
def test_a_location_fails_with_a_one_line_reason(
    capsys: pytest.CaptureFixture[str],
    server: ArmServer,
    catalog_file: Path,
    waits: list[float],
    answers: list[Answer],
    failure: str,
    requests: int,
    expected_waits: list[float],
) -> None:
    server.script("westus", *answers, page(entry(*MINISTRAL)))

    code, out, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus", "--write")

    assert (code, err) == (1, f"maas catalog sync: westus: failed: {failure}\n")
    assert out == f"0 of 1 location swept; 0 changes; catalog.yaml is up to date\nwestus: failed: {failure}\n"
    assert len(server.requests_to("westus")) == requests
    assert waits == expected_waits
    assert catalog_file.read_text(encoding="utf-8") == CATALOG


def test_a_next_link_to_another_host_is_never_requested(
    capsys: pytest.CaptureFixture[str], server: ArmServer, ca: trustme.CA, catalog_file: Path
) -> None:
    with ArmServer(ca, TOKEN) as elsewhere:
        server.script("westus", page(entry(*MINISTRAL), next_link=elsewhere.next_link(SUBSCRIPTION, "westus", "p2")))

        code, _, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus")

    assert code == 1
    assert err == (
        f"maas catalog sync: westus: failed: the next page link points to {elsewhere.endpoint}, not the ARM "
        f"endpoint {server.endpoint}: not followed (the token goes to the ARM endpoint only)\n"
    )
    assert len(server.requests_to("westus")) == 1
    assert elsewhere.requests == []


def test_more_than_50_pages_fail_without_asking_for_the_51st(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path
) -> None:
    server.script(
        "westus",
        *(page(entry(*MINISTRAL), next_link=server.next_link(SUBSCRIPTION, "westus", f"p{n}")) for n in range(2, 53)),
    )

    code, _, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus")

    assert (code, err) == (1, "maas catalog sync: westus: failed: more than 50 pages: not read further\n")
    assert len(server.requests_to("westus")) == 50


def test_more_than_2000_models_fail(capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path) -> None:
    server.script("westus", page(*[entry("Mistral AI", f"model-{n}", "1") for n in range(2001)]))

    code, _, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus")

    assert (code, err) == (1, "maas catalog sync: westus: failed: more than 2000 models: not read further\n")


def test_a_rejected_token_fails_the_location(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path, credential: Credential
) -> None:
    credential.token = "an-expired-token"

    code, _, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus")

    assert (code, err) == (
        1,
        "maas catalog sync: westus: failed: 401 InvalidAuthenticationToken: The access token is invalid.\n",
    )


def test_the_subscription_comes_from_the_environment_and_locations_are_normalized(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)

    locations = ["--location", "Sweden Central", "--location", "swedencentral"]
    code = cli.main(
        [
            "catalog",
            "sync",
            "--today",
            TODAY,
            "--arm-endpoint",
            server.endpoint,
            "--catalog",
            "catalog.yaml",
            *locations,
        ]
    )

    assert code == 0
    assert capsys.readouterr().err == "maas catalog sync: swedencentral: 0 models in 1 page\n"
    assert [r.path for r in server.requests] == [ArmServer.models_path(SUBSCRIPTION, "swedencentral")]


def test_the_real_catalog_against_the_spec_example(
    capsys: pytest.CaptureFixture[str], server: ArmServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spec's example lists no model of the catalog: every Foundry row is noted, nothing else changes."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "catalog.yaml").write_text(CATALOG_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    known = Catalog.model_validate(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))
    server.script("westus", page(*example_entries()))

    code, out, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "WestUS")

    assert (code, err) == (0, "maas catalog sync: westus: 6 models in 1 page\n")
    assert [line for line in out.splitlines() if line.startswith(("change: ", "note: "))] == [
        f"note: {key}: not listed in any swept location (format/name {m.foundry.format}/{m.foundry.name})"
        for key, m in known.models.items()
        if m.foundry is not None
    ]
    assert "; 0 changes; " in out.splitlines()[-1]


def test_a_body_that_stalls_times_out(server: ArmServer) -> None:
    server.script("westus", Answer(declared_length=100))
    bounds = catalog_sync.Bounds(read_timeout=0.2)

    result = sweep_location(
        "westus", subscription=SUBSCRIPTION, credential=FIXED, endpoint=server.endpoint, bounds=bounds
    )

    assert (result.ok, result.error) == (False, f"no answer from {server.endpoint} within 0.2 s (timeout)")


def test_a_closed_port_fails_the_location(server: ArmServer) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        endpoint = f"https://127.0.0.1:{unused.getsockname()[1]}"

    result = sweep_location("westus", subscription=SUBSCRIPTION, credential=FIXED, endpoint=endpoint)

    assert not result.ok
    assert re.fullmatch(rf"cannot reach {re.escape(endpoint)}: \[Errno \d+\] Connection refused", result.error or "")


def test_an_untrusted_certificate_fails_the_location_before_any_request(
    server: ArmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")

    result = sweep_location("westus", subscription=SUBSCRIPTION, credential=FIXED, endpoint=server.endpoint)

    assert not result.ok
    assert (result.error or "").startswith(f"cannot reach {server.endpoint}: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert server.requests == []


# --- nothing is swept or written when the sync cannot start ------------------------------------------------


def bad_catalog(tmp_path: Path, old: str, new: str) -> None:
    (tmp_path / "catalog.yaml").write_text(CATALOG.replace(old, new, 1), encoding="utf-8")


USAGE_CASES: list[Any] = [
    pytest.param(
        ["--subscription", ""], None, "no subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID", id="none"
    ),
    pytest.param(
        ["--subscription", "my-subscription"],
        None,
        "--subscription 'my-subscription' is not a subscription ID (a GUID)",
        id="not-a-guid",
    ),
    pytest.param(
        ["--location", "East US 2!"],
        None,
        "--location 'East US 2!' is not a location name (e.g. eastus2)",
        id="location",
    ),
    pytest.param(
        ["--arm-endpoint", "http://127.0.0.1:1"],
        None,
        "--arm-endpoint 'http://127.0.0.1:1' is not an https:// URL with a host (and nothing after it)",
        id="http",
    ),
    pytest.param(
        ["--catalog", "missing.yaml"],
        None,
        "cannot read the catalog missing.yaml: No such file or directory",
        id="missing",
    ),
    pytest.param(
        [],
        ("stage: Preview", "stage: Beta"),
        "the catalog catalog.yaml is not valid: models.mistral-large-3.lifecycle.stage: Input should be 'Preview', "
        "'GenerallyAvailable', 'Legacy', 'Deprecated' or 'Retired'",
        id="invalid",
    ),
    pytest.param(
        [],
        ("source: partner-regions\n  asOf: 2026-11-20", "source: nowhere\n  asOf: 2026-11-20"),
        "the catalog catalog.yaml is not valid: serverless: source 'nowhere' is not a key of sources",
        id="inconsistent",
    ),
    pytest.param(
        [],
        ("GlobalStandard: [eastus2, westus]", "GlobalStandard: &regions [eastus2, westus]\n        DataZone: *regions"),
        "the catalog catalog.yaml uses YAML anchors or aliases; the sync edits plain mappings only: expand them",
        id="anchors",
    ),
    pytest.param(
        [],
        ("  phi-4:\n    name: Phi-4\n", "  phi-4:\n    <<: {name: Phi-4}\n"),
        "the catalog catalog.yaml uses YAML merge keys (<<); the sync edits plain mappings only: expand them",
        id="merge-key",
    ),
    pytest.param(
        [],
        ("schemaVersion: 2\n", "schemaVersion: [2\n"),
        "the catalog catalog.yaml is not YAML: while parsing a flow sequence",
        id="not-yaml",
    ),
]


@pytest.mark.parametrize(("args", "edit", "cause"), USAGE_CASES)
def test_invalid_arguments_or_catalog_exit_2_before_any_request(
    capsys: pytest.CaptureFixture[str],
    server: ArmServer,
    catalog_file: Path,
    args: list[str],
    edit: tuple[str, str] | None,
    cause: str,
) -> None:
    if edit is not None:
        bad_catalog(catalog_file.parent, *edit)
    before = catalog_file.read_text(encoding="utf-8")

    code, out, err = sync(capsys, server, "--catalog", "catalog.yaml", "--write", *args)

    assert (code, out, err) == (2, "", f"maas catalog sync: {cause}\n")
    assert server.requests == []
    assert catalog_file.read_text(encoding="utf-8") == before


def test_a_credential_without_a_token_exits_2_with_its_first_line(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path, credential: Credential
) -> None:
    credential.error = ClientAuthenticationError(
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tEnvironmentCredential: EnvironmentCredential authentication unavailable."
    )

    code, out, err = sync(capsys, server, "--catalog", "catalog.yaml")

    assert (code, out) == (2, "")
    assert err == (
        f"maas catalog sync: no token for {server.endpoint}/.default: DefaultAzureCredential failed to retrieve a "
        "token from the included credentials. (sign in with `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID for "
        "a workload identity)\n"
    )
    assert server.requests == []


def test_an_internal_failure_exits_3(
    capsys: pytest.CaptureFixture[str], server: ArmServer, catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("the merged catalog does not validate")

    monkeypatch.setattr(catalog_sync, "merge", broken)

    code, _, err = sync(capsys, server, "--catalog", "catalog.yaml", "--location", "westus", "--write")

    assert code == 3
    assert (
        err.splitlines()[-1] == "maas catalog sync: internal error: RuntimeError: the merged catalog does not validate"
    )
    assert catalog_file.read_text(encoding="utf-8") == CATALOG


# --- the merge on its own ----------------------------------------------------------------------------------


def offer(
    name: str = "Ministral-3B",
    version: str = "1",
    skus: tuple[str, ...] = ("GlobalStandard",),
    status: str | None = "GenerallyAvailable",
    *,
    retires: dt.date | None = None,
    tentative: bool = False,
    default: bool = False,
) -> Offer:
    return Offer("AIServices", "Mistral AI", name, version, default, status, retires, tentative, skus)


def merged(*swept: Swept, text: str = CATALOG) -> tuple[Catalog, list[str], list[str]]:
    known = Catalog.model_validate(yaml.safe_load(text))
    result = merge(text, known, swept, dt.date.fromisoformat(TODAY))
    return Catalog.model_validate(yaml.safe_load(result.text)), result.changes, result.notes


def everywhere(*offers: Offer) -> list[Swept]:
    return [Swept(location, True, offers) for location in ("eastus2", "swedencentral", "westus")]


LIFECYCLE_CASES: list[Any] = [
    pytest.param(offer(status="Stable"), ("GenerallyAvailable", None, False), None, id="stable"),
    pytest.param(offer(status="Legacy"), ("Legacy", None, False), "GenerallyAvailable -> Legacy", id="legacy"),
    pytest.param(offer(status="Preview"), ("Preview", None, False), "GenerallyAvailable -> Preview", id="preview"),
    pytest.param(
        offer(status="Deprecating", retires=dt.date(2027, 3, 1)),
        ("Deprecated", dt.date(2027, 3, 1), False),
        "GenerallyAvailable -> Deprecated, retires 2027-03-01",
        id="deprecating",
    ),
    pytest.param(
        offer(status="Deprecated", retires=dt.date(2026, 9, 1)),
        ("Retired", dt.date(2026, 9, 1), False),
        "GenerallyAvailable -> Retired, retires 2026-09-01",
        id="deprecated-is-retired",
    ),
    pytest.param(
        offer(retires=dt.date(2026, 11, 24)),
        ("Retired", dt.date(2026, 11, 24), False),
        "GenerallyAvailable -> Retired, retires 2026-11-24",
        id="past-inference-date",
    ),
    pytest.param(
        offer(retires=dt.date(2027, 6, 30), tentative=True),
        ("GenerallyAvailable", dt.date(2027, 6, 30), True),
        "GenerallyAvailable -> GenerallyAvailable, retires 2027-06-30 (tentative)",
        id="tentative",
    ),
]


@pytest.mark.parametrize(("api", "expected", "change"), LIFECYCLE_CASES)
def test_the_lifecycle_follows_the_models_api(api: Offer, expected: tuple[Any, ...], change: str | None) -> None:
    known, changes, _ = merged(*everywhere(api))

    life = known.models["ministral-3b"].lifecycle
    assert (life.stage, life.retirement_date, life.tentative) == expected
    assert (life.source, life.as_of) == ("models-api", dt.date(2026, 11, 24))
    assert [c for c in changes if c.startswith("ministral-3b: lifecycle")] == (
        [f"ministral-3b: lifecycle {change}"] if change else []
    )


def test_the_strictest_location_wins_with_the_earliest_date() -> None:
    eastus2 = Swept("eastus2", True, (offer(),))
    swedencentral = Swept("swedencentral", True, (offer(status="Deprecating", retires=dt.date(2027, 5, 1)),))
    westus = Swept("westus", True, (offer(retires=dt.date(2027, 2, 1), tentative=True),))

    known, changes, _ = merged(eastus2, swedencentral, westus)

    life = known.models["ministral-3b"].lifecycle
    assert (life.stage, life.retirement_date, life.tentative) == ("Deprecated", dt.date(2027, 2, 1), True)
    assert "ministral-3b: lifecycle GenerallyAvailable -> Deprecated, retires 2027-02-01 (tentative)" in changes


def test_a_sku_left_without_regions_is_removed_and_a_new_one_added() -> None:
    codestral = offer("Codestral-2501", "2", ("DataZoneStandard",))

    known, changes, _ = merged(Swept("westus", True, (codestral,)))

    foundry = known.models["codestral-2501"].foundry
    assert foundry is not None
    assert foundry.skus == {"DataZoneStandard": ("westus",)}
    assert [c for c in changes if c.startswith("codestral-2501")] == [
        "codestral-2501: foundry GlobalStandard: removed westus (sku removed: no region left)",
        "codestral-2501: foundry DataZoneStandard: added westus (new sku)",
    ]


@pytest.mark.parametrize(
    ("offers", "version"),
    [
        pytest.param([offer(version="1"), offer(version="2")], "1", id="listed-and-no-other-default"),
        pytest.param([offer(version="1"), offer(version="2", default=True)], "2", id="another-default"),
        pytest.param([offer(version="9"), offer(version="10")], "10", id="not-listed-the-highest-numerically"),
        pytest.param(
            [offer(version="2025-01-10"), offer(version="2024-12-31", default=True)], "2024-12-31", id="default-wins"
        ),
    ],
)
def test_the_version(offers: list[Offer], version: str) -> None:
    known, _, _ = merged(*everywhere(*offers))

    foundry = known.models["ministral-3b"].foundry
    assert foundry is not None
    assert foundry.version == version


def test_nothing_changes_when_no_location_was_swept() -> None:
    failed = Swept("westus", False, error="403 AuthorizationFailed")

    result = merge(CATALOG, Catalog.model_validate(yaml.safe_load(CATALOG)), [failed], dt.date(2026, 11, 24))

    assert (result.text, result.changes, result.notes) == (CATALOG, [], [])


def test_the_models_api_source_is_added_when_the_catalog_lacks_it() -> None:
    text = CATALOG.replace('  models-api:\n    title: "Azure Models API (maas catalog sync)"\n', "")

    known, _, _ = merged(*everywhere(offer()), text=text)

    assert (
        known.sources["models-api"].url
        == "https://learn.microsoft.com/rest/api/aiservices/accountmanagement/models/list"
    )


DATED = CATALOG.replace(
    "      stage: GenerallyAvailable\n      source: retirement-schedule\n      asOf: 2026-11-20\n    serverless:\n"
    "      modelId: azureml://registries/azureml-mistral/models/Ministral-3B",
    "      stage: GenerallyAvailable\n      retirementDate: 2027-06-30\n      source: retirement-schedule\n"
    "      asOf: 2026-11-20\n    serverless:\n      modelId: azureml://registries/azureml-mistral/models/Ministral-3B",
)


def test_a_retirement_date_is_not_dropped_when_the_api_gives_none() -> None:
    known, changes, notes = merged(*everywhere(offer()), text=DATED)

    life = known.models["ministral-3b"].lifecycle
    assert (life.stage, life.retirement_date, life.source) == (
        "GenerallyAvailable",
        dt.date(2027, 6, 30),
        "retirement-schedule",
    )
    assert (
        "ministral-3b: the Models API says GenerallyAvailable, the catalog (source retirement-schedule) says "
        "GenerallyAvailable, retires 2027-06-30; kept the stricter" in notes
    )
    assert [c for c in changes if "lifecycle" in c] == []


def test_a_stricter_stage_without_a_date_keeps_the_announced_date() -> None:
    known, changes, notes = merged(*everywhere(offer(status="Deprecating")), text=DATED)

    life = known.models["ministral-3b"].lifecycle
    assert (life.stage, life.retirement_date, life.source) == ("Deprecated", dt.date(2027, 6, 30), "models-api")
    assert (
        "ministral-3b: the Models API gives no retirement date; kept 2027-06-30 (source retirement-schedule)" in notes
    )
    assert "ministral-3b: lifecycle GenerallyAvailable, retires 2027-06-30 -> Deprecated, retires 2027-06-30" in changes


def test_a_later_date_from_the_api_replaces_the_catalogs() -> None:
    known, changes, _ = merged(*everywhere(offer(retires=dt.date(2027, 9, 30))), text=DATED)

    life = known.models["ministral-3b"].lifecycle
    assert (life.stage, life.retirement_date, life.source) == ("GenerallyAvailable", dt.date(2027, 9, 30), "models-api")
    assert (
        "ministral-3b: lifecycle GenerallyAvailable, retires 2027-06-30 -> GenerallyAvailable, retires 2027-09-30"
        in changes
    )


@pytest.mark.parametrize(
    ("swept", "changes", "line"),
    [
        ((), 0, "0 of 0 locations swept; 0 changes; catalog.yaml is up to date"),
        ((True,), 1, "1 of 1 location swept; 1 change; dry run: pass --write to update catalog.yaml"),
        ((True, False), 2, "1 of 2 locations swept; 2 changes; dry run: pass --write to update catalog.yaml"),
    ],
)
def test_the_summary_counts_in_words(swept: tuple[bool, ...], changes: int, line: str) -> None:
    results = [Swept(f"l{i}", ok) for i, ok in enumerate(swept)]

    summary = catalog_sync._summary(results, ["c"] * changes, "catalog.yaml", changed=changes > 0, written=False)

    assert summary == line
