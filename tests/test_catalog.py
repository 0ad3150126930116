"""The catalog carries the facts the facts sheet and Microsoft's pages give, each with its source and date, and
judges every model on the tests' fixed day; the naming rules accept and reject what Azure does."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from azure_maas_policy import facts
from azure_maas_policy.facts import CATALOG_PATH
from infra import catalog as catalog_module
from infra import names
from infra.catalog import Lifecycle, judge
from tests.harness import TODAY

CATALOG = catalog_module.load()
PARTNER_GLOBAL = [
    "australiaeast",
    "brazilsouth",
    "canadacentral",
    "canadaeast",
    "centralus",
    "eastus",
    "eastus2",
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "koreacentral",
    "northcentralus",
    "norwayeast",
    "polandcentral",
    "southafricanorth",
    "southcentralus",
    "southindia",
    "spaincentral",
    "swedencentral",
    "switzerlandnorth",
    "switzerlandwest",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westus",
    "westus2",
    "westus3",
]
DIRECT_DATA_ZONE = [
    "centralus",
    "eastus",
    "eastus2",
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "northcentralus",
    "polandcentral",
    "southcentralus",
    "spaincentral",
    "swedencentral",
    "westcentralus",
    "westeurope",
    "westus",
    "westus2",
    "westus3",
]
DIRECT_GLOBAL = [
    "australiaeast",
    "brazilsouth",
    "canadaeast",
    "eastus",
    "eastus2",
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "japaneast",
    "koreacentral",
    "northcentralus",
    "norwayeast",
    "polandcentral",
    "southafricanorth",
    "southcentralus",
    "southindia",
    "spaincentral",
    "swedencentral",
    "switzerlandnorth",
    "switzerlandwest",
    "uaenorth",
    "uksouth",
    "westeurope",
    "westus",
    "westus3",
]
EU_DATA_ZONE = [
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "polandcentral",
    "spaincentral",
    "swedencentral",
    "westeurope",
]
MISTRAL = "azureml://registries/azureml-mistral/models"

# Every row's verdict on the tests' day: (key, stage, channels, the reason a new deployment is refused or "").
VERDICTS = [
    (
        "mistral-large-2402",
        "Retired",
        ("serverless",),
        f"Mistral Large (2402) ({MISTRAL}/Mistral-large) was retired on 2025-04-15; use 'mistral-medium-2505' "
        f"({MISTRAL}/mistral-medium-2505) instead",
    ),
    (
        "mistral-large-2407",
        "Retired",
        ("serverless",),
        f"Mistral Large (2407) ({MISTRAL}/Mistral-large-2407) was retired on 2025-05-13; use 'mistral-medium-2505' "
        f"({MISTRAL}/mistral-medium-2505) instead",
    ),
    (
        "mistral-small",
        "Retired",
        ("serverless",),
        f"Mistral Small ({MISTRAL}/Mistral-small) was retired on 2025-07-31; use 'mistral-small-2503' "
        f"({MISTRAL}/mistral-small-2503) instead",
    ),
    (
        "mistral-large-2411",
        "Retired",
        ("serverless",),
        f"Mistral Large 24.11 ({MISTRAL}/Mistral-Large-2411) was retired on 2026-01-30; use 'mistral-medium-2505' "
        f"({MISTRAL}/mistral-medium-2505) instead",
    ),
    (
        "mistral-nemo",
        "Retired",
        ("serverless",),
        f"Mistral Nemo ({MISTRAL}/Mistral-Nemo) was retired on 2026-01-30; use 'mistral-small-2503' "
        f"({MISTRAL}/mistral-small-2503) instead",
    ),
    (
        "mistral-ocr-2503",
        "Retired",
        ("serverless",),
        f"Mistral OCR 25.03 ({MISTRAL}/mistral-ocr-2503) was retired on 2026-01-30; use 'mistral-document-ai-2512' "
        "(Mistral Document AI 25.12, offered only as: Foundry resource deployment ('foundry')) instead",
    ),
    (
        "mistral-document-ai-2505",
        "Retired",
        ("serverless", "foundry"),
        f"Mistral Document AI 25.05 ({MISTRAL}/mistral-document-ai-2505) was retired on 2026-07-15; use "
        "'mistral-document-ai-2512' (Mistral Document AI 25.12, offered only as: Foundry resource deployment "
        "('foundry')) instead",
    ),
    ("ministral-3b", "GenerallyAvailable", ("serverless", "foundry"), ""),
    ("mistral-small-2503", "GenerallyAvailable", ("serverless", "foundry"), ""),
    ("mistral-medium-2505", "GenerallyAvailable", ("serverless", "foundry"), ""),
    ("codestral-2501", "GenerallyAvailable", ("serverless", "foundry"), ""),
    ("mistral-large-3", "Preview", ("foundry",), ""),
    ("mistral-medium-3-5", "Preview", ("foundry",), ""),
    ("mistral-ocr-4-0", "Preview", ("foundry",), ""),
    ("mistral-document-ai-2512", "GenerallyAvailable", ("foundry",), ""),
    (
        "jamba-1.5-large",
        "Retired",
        ("serverless",),
        "AI21 Jamba 1.5 Large (azureml://registries/azureml-ai21/models/AI21-Jamba-1.5-Large) was retired on "
        "2025-08-01; no replacement is announced",
    ),
    (
        "jamba-1.5-mini",
        "Retired",
        ("serverless",),
        "AI21 Jamba 1.5 Mini (azureml://registries/azureml-ai21/models/AI21-Jamba-1.5-Mini) was retired on "
        "2025-08-01; no replacement is announced",
    ),
    (
        "jamba-instruct",
        "Retired",
        ("serverless",),
        "AI21 Jamba Instruct (azureml://registries/azureml-ai21/models/AI21-Jamba-Instruct) was retired on "
        "2025-03-01; no replacement is announced",
    ),
    ("phi-4", "GenerallyAvailable", ("serverless",), ""),
    ("phi-4-mini-instruct", "GenerallyAvailable", ("serverless",), ""),
    ("phi-4-multimodal-instruct", "GenerallyAvailable", ("serverless",), ""),
    ("phi-4-reasoning", "GenerallyAvailable", ("serverless",), ""),
    ("phi-4-mini-reasoning", "GenerallyAvailable", ("serverless",), ""),
    ("mixtral-8x7b-instruct-v01", "GenerallyAvailable", ("managedCompute",), ""),
    ("mixtral-8x7b-v01", "GenerallyAvailable", ("managedCompute",), ""),
    ("mistral-7b-instruct-v01", "GenerallyAvailable", ("managedCompute",), ""),
    ("mistral-7b-v01", "GenerallyAvailable", ("managedCompute",), ""),
]


def test_every_row_is_judged_on_the_tests_day() -> None:
    """Every seed model keeps its row; retired ones are refused with date and replacement (AZURE_FACTS 2)."""
    assert list(CATALOG.models) == [key for key, *_ in VERDICTS]
    for key, stage, channels, reason in VERDICTS:
        model = CATALOG.models[key]
        verdict = judge(model, TODAY, CATALOG)
        assert (verdict.stage, model.channels, verdict.reason, verdict.blocked) == (
            stage,
            channels,
            reason,
            bool(reason),
        )


def test_the_catalog_is_as_of_the_tests_day_and_names_its_sources() -> None:
    assert CATALOG.as_of == TODAY
    groups = [(key, where, group) for key, m in CATALOG.models.items() for where, group in m.sourced()]
    assert {group.source for _, _, group in groups} <= set(CATALOG.sources)
    assert {group.as_of for _, _, group in groups} == {TODAY}
    for key, source in CATALOG.sources.items():
        assert source.title, key
        assert source.url or source.path, key
        assert source.url is None or source.url.startswith("https://"), key
    assert CATALOG.serverless.regions == (
        "eastus",
        "eastus2",
        "northcentralus",
        "southcentralus",
        "westus",
        "westus3",
        "swedencentral",
    )
    limits = CATALOG.serverless.rate_limits
    assert (limits.tokens_per_minute, limits.requests_per_minute) == (200_000, 1_000)


def test_contradicting_pages_are_recorded_with_the_stricter_fact_and_a_note() -> None:
    large3 = CATALOG.models["mistral-large-3"].lifecycle
    assert (large3.stage, large3.source) == ("Preview", "models-sold-by-azure")
    assert large3.note is not None
    assert "Preview is recorded" in large3.note
    doc_ai = CATALOG.models["mistral-document-ai-2505"].lifecycle
    assert doc_ai.retirement_date == dt.date(2026, 7, 15)
    assert doc_ai.note is not None
    assert "2026-07-20" in doc_ai.note
    large = CATALOG.models["mistral-large-2402"].lifecycle
    assert large.note is not None
    assert "Mistral-large v1, GA" in large.note


def test_serverless_facts_marketplace_and_regions() -> None:
    marketplace = [k for k, m in CATALOG.models.items() if m.serverless is not None and m.serverless.marketplace]
    microsoft = [k for k, m in CATALOG.models.items() if m.serverless is not None and not m.serverless.marketplace]
    assert microsoft == [
        "phi-4",
        "phi-4-mini-instruct",
        "phi-4-multimodal-instruct",
        "phi-4-reasoning",
        "phi-4-mini-reasoning",
    ]
    assert marketplace == [
        "mistral-large-2402",
        "mistral-large-2407",
        "mistral-small",
        "mistral-large-2411",
        "mistral-nemo",
        "mistral-ocr-2503",
        "mistral-document-ai-2505",
        "ministral-3b",
        "mistral-small-2503",
        "mistral-medium-2505",
        "codestral-2501",
        "jamba-1.5-large",
        "jamba-1.5-mini",
        "jamba-instruct",
    ]
    assert CATALOG.serverless_regions(CATALOG.models["mistral-document-ai-2505"]) == ("eastus2", "swedencentral")
    no_sweden = ("eastus", "eastus2", "northcentralus", "southcentralus", "westus", "westus3")
    assert CATALOG.serverless_regions(CATALOG.models["phi-4-reasoning"]) == no_sweden
    assert CATALOG.serverless_regions(CATALOG.models["phi-4"]) == CATALOG.serverless.regions
    assert CATALOG.serverless_regions(CATALOG.models["mistral-large-3"]) == ()


@pytest.mark.parametrize(
    ("key", "name", "version", "marketplace", "skus"),
    [
        ("ministral-3b", "Ministral-3B", "1", True, {"GlobalStandard": PARTNER_GLOBAL}),
        ("mistral-small-2503", "mistral-small-2503", "1", True, {"GlobalStandard": PARTNER_GLOBAL}),
        ("mistral-medium-2505", "mistral-medium-2505", "1", True, {"GlobalStandard": PARTNER_GLOBAL}),
        ("codestral-2501", "Codestral-2501", "2", True, {"GlobalStandard": PARTNER_GLOBAL}),
        (
            "mistral-large-3",
            "Mistral-Large-3",
            "1",
            False,
            {"GlobalStandard": DIRECT_GLOBAL, "DataZoneStandard": DIRECT_DATA_ZONE},
        ),
        (
            "mistral-document-ai-2512",
            "mistral-document-ai-2512",
            "1",
            False,
            {"GlobalStandard": DIRECT_GLOBAL, "DataZoneStandard": DIRECT_DATA_ZONE},
        ),
        ("mistral-medium-3-5", "mistral-medium-3-5", "1", False, {"DataZoneStandard": EU_DATA_ZONE}),
        ("mistral-ocr-4-0", "mistral-ocr-4-0", "1", False, {"DataZoneStandard": EU_DATA_ZONE}),
    ],
)
def test_foundry_facts(key: str, name: str, version: str, marketplace: bool, skus: dict[str, list[str]]) -> None:
    foundry = CATALOG.models[key].foundry
    assert foundry is not None
    assert (foundry.format, foundry.name, foundry.version, foundry.marketplace) == (
        "Mistral AI",
        name,
        version,
        marketplace,
    )
    assert {sku: list(regions) for sku, regions in foundry.skus.items()} == skus


def test_ocr_models_are_marked_so() -> None:
    assert [k for k, m in CATALOG.models.items() if m.api == "ocr"] == [
        "mistral-ocr-2503",
        "mistral-document-ai-2505",
        "mistral-ocr-4-0",
        "mistral-document-ai-2512",
    ]


def test_lookup_by_model_id_ignores_case_and_finds_managed_compute_rows() -> None:
    model = CATALOG.by_model_id("AZUREML://registries/azureml-mistral/models/MINISTRAL-3b")

    assert model is not None
    assert model.key == "ministral-3b"
    mixtral = CATALOG.by_model_id("azureml://registries/azureml/models/mistralai-Mixtral-8x7B-v01")
    assert mixtral is not None
    assert mixtral.key == "mixtral-8x7b-v01"
    assert CATALOG.by_model_id(f"{MISTRAL}/Unknown") is None


def _model(lifecycle: Lifecycle) -> catalog_module.Model:
    return CATALOG.models["mistral-small-2503"].model_copy(update={"lifecycle": lifecycle})


def _life(**dates: dt.date | str) -> Lifecycle:
    return Lifecycle.model_validate({"stage": "Legacy", "source": "retirement-schedule", "asOf": TODAY, **dates})


def test_lifecycle_stage_follows_the_dates() -> None:
    life = _life(deprecationDate=dt.date(2027, 3, 1), retirementDate=dt.date(2027, 6, 1))

    assert life.stage_on(dt.date(2027, 2, 28)) == "Legacy"
    assert life.stage_on(dt.date(2027, 3, 1)) == "Deprecated"
    assert life.stage_on(dt.date(2027, 6, 1)) == "Retired"


def test_judge_blocks_deprecated_and_retired_models_and_names_the_living_replacement() -> None:
    model = _model(
        _life(deprecationDate=dt.date(2027, 3, 1), retirementDate=dt.date(2027, 6, 1), replacement="mistral-small")
    )
    swapped = CATALOG.model_copy(update={"models": {**CATALOG.models, "mistral-small-2503": model}})

    assert judge(model, dt.date(2027, 2, 1), swapped).blocked is False
    deprecated = judge(model, dt.date(2027, 4, 1), swapped)
    assert (deprecated.stage, deprecated.blocked) == ("Deprecated", True)
    # mistral-small retired; its replacement is this very model: no living replacement on the chain.
    assert deprecated.reason == (
        f"Mistral Small 25.03 ({MISTRAL}/mistral-small-2503) was deprecated on 2027-03-01; no replacement is announced"
    )
    retired = judge(model, dt.date(2027, 6, 1), swapped)
    assert retired.reason.startswith(f"Mistral Small 25.03 ({MISTRAL}/mistral-small-2503) was retired on 2027-06-01;")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "replacement: mistral-medium-2505\n      source: retired-models",
            "replacement: mistral-large-9999\n      source: retired-models",
            "mistral-large-2402: replacement 'mistral-large-9999' is not a catalog key",
        ),
        (
            "source: retired-models\n",
            "source: nowhere\n",
            "mistral-large-2402.lifecycle: source 'nowhere' is not a key of sources",
        ),
        (
            "GlobalStandard: [australiaeast, brazilsouth, canadacentral",
            "Global: [australiaeast, brazilsouth, canadacentral",
            "ministral-3b: foundry sku 'Global' is not a deployment type",
        ),
        (
            "regions: [eastus2, swedencentral]",
            "regions: [eastus2, westeurope]",
            "mistral-document-ai-2505: region 'westeurope' is not a serverless region",
        ),
        (
            "      name: Ministral-3B\n",
            "      name: Codestral-2501\n",
            "catalog keys 'ministral-3b' and 'codestral-2501' name the same Foundry model",
        ),
    ],
    ids=["replacement", "source", "sku", "serverless-region", "foundry-twice"],
)
def test_the_catalog_refuses_inconsistent_facts(tmp_path: Path, old: str, new: str, problem: str) -> None:
    text = catalog_module.CATALOG_PATH.read_text(encoding="utf-8")
    assert old in text

    with pytest.raises(ValueError, match=re.escape(problem)):
        catalog_module.load(_write(tmp_path, text.replace(old, new, 1)))


def test_a_stale_catalog_is_reported_after_90_days() -> None:
    assert catalog_module.staleness(CATALOG, TODAY + dt.timedelta(days=90)) is None
    assert catalog_module.staleness(CATALOG, TODAY + dt.timedelta(days=91)) == (
        "the model catalog is 91 days old (as of 2026-11-24, more than 90); lifecycle facts may have changed: "
        "run `maas catalog sync`, or update azure-maas"
    )


@pytest.mark.parametrize(
    ("rule", "valid", "invalid"),
    [
        (names.ENDPOINT_NAME, ["a", "chat-mistral-medium", "A" + "b" * 51], ["", "9a", "a_b", "a-", "a" * 53, "a.b"]),
        (names.WORKSPACE_NAME, ["abc", "proj_chat-1", "1ab", "a" * 33], ["ab", "-abc", "a" * 34, "a.bc"]),
        (names.MARKETPLACE_SUBSCRIPTION_NAME, ["AI21-Jamba-1-5-Large", "x"], ["AI21-Jamba-1.5-Large", "-x", ""]),
        (names.RESOURCE_GROUP_NAME, ["rg-maas-dev", "rg.(x)_1"], ["", "rg.", "rg maas", "r" * 91]),
        (names.GUID, ["3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c"], ["3f2b6a1c8d4e4f7a9b0c1d2e3f4a5b6c", "xyz"]),
    ],
    ids=["endpoint", "workspace", "subscription", "resource-group", "guid"],
)
def test_name_rules(rule: names.NameRule, valid: list[str], invalid: list[str]) -> None:
    assert [v for v in valid if rule.problem(v)] == []
    assert [v for v in invalid if rule.problem(v) is None] == []


def test_derived_names_follow_azure_rules_and_are_stable() -> None:
    scope = ("11111111-2222-3333-4444-555555555555", "rg-maas-dev")
    storage = names.storage_account_name(*scope, workspace="Hub_With-Very-Long-Name-Indeed")
    vault = names.key_vault_name(*scope, workspace="Hub_With-Very-Long-Name-Indeed")

    assert re.fullmatch(r"[a-z0-9]{3,24}", storage)
    assert re.fullmatch(r"[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,22}[a-zA-Z0-9]", vault)
    assert re.fullmatch(r"kv-a-b-[0-9a-f]{6}", names.key_vault_name(*scope, workspace="a--b_"))
    assert re.fullmatch(r"kv-[0-9a-f]{6}", names.key_vault_name(*scope, workspace="___"))
    assert storage == names.storage_account_name(*scope, workspace="Hub_With-Very-Long-Name-Indeed")
    assert storage != names.storage_account_name("other", "rg-maas-dev", workspace="Hub_With-Very-Long-Name-Indeed")
    assert names.marketplace_subscription_name("azureml://registries/azureml-ai21/models/AI21-Jamba-1.5-Large") == (
        "AI21-Jamba-1-5-Large"
    )


def test_deterministic_guid_is_uuid5_and_case_insensitive() -> None:
    first = names.deterministic_guid("/subscriptions/X/resourceGroups/RG", "p", "r")

    assert first == names.deterministic_guid("/subscriptions/x/resourcegroups/rg", "P", "R")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first)


def test_the_catalog_is_read_by_libyaml_and_alike_by_the_pure_python_loader() -> None:
    """The program and the pack read the catalog with PyYAML's C loader (installed wheels have it); the document is
    the one the pure-Python safe loader reads, so both see the same data."""
    assert facts.SAFE_LOADER.__name__ == "CSafeLoader"
    text = CATALOG_PATH.read_text(encoding="utf-8")
    assert yaml.load(text, Loader=facts.SAFE_LOADER) == yaml.safe_load(text)
