"""The catalog agrees with the facts sheet, and the naming rules accept and reject what Azure does."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from infra import catalog as catalog_module
from infra import names
from infra.catalog import Lifecycle, judge

CATALOG = catalog_module.load()

# (catalog key, model ID, retirement date or None, replacement) from AZURE_FACTS.md section 2.
SEED = [
    (
        "mistral-large-2402",
        "azureml://registries/azureml-mistral/models/Mistral-large",
        "2025-04-15",
        "mistral-large-2411",
    ),
    (
        "mistral-large-2407",
        "azureml://registries/azureml-mistral/models/Mistral-large-2407",
        "2025-05-13",
        "mistral-large-2411",
    ),
    ("mistral-small", "azureml://registries/azureml-mistral/models/Mistral-small", "2025-07-31", "mistral-small-2503"),
    ("ministral-3b", "azureml://registries/azureml-mistral/models/Ministral-3B", None, None),
    ("mistral-nemo", "azureml://registries/azureml-mistral/models/Mistral-Nemo", None, None),
    ("jamba-1.5-large", "azureml://registries/azureml-ai21/models/AI21-Jamba-1.5-Large", "2025-08-01", None),
    ("jamba-1.5-mini", "azureml://registries/azureml-ai21/models/AI21-Jamba-1.5-Mini", "2025-08-01", None),
    ("jamba-instruct", "azureml://registries/azureml-ai21/models/AI21-Jamba-Instruct", "2025-03-01", None),
    ("mistral-large-2411", "azureml://registries/azureml-mistral/models/Mistral-Large-2411", None, None),
    ("mistral-small-2503", "azureml://registries/azureml-mistral/models/mistral-small-2503", None, None),
]
MANAGED_COMPUTE = ["mixtral-8x7b-instruct-v01", "mixtral-8x7b-v01", "mistral-7b-instruct-v01", "mistral-7b-v01"]


@pytest.mark.parametrize(("key", "model_id", "retired", "replacement"), SEED, ids=[s[0] for s in SEED])
def test_seed_models_keep_their_rows(key: str, model_id: str, retired: str | None, replacement: str | None) -> None:
    model = CATALOG.models[key]

    assert model.model_id == model_id
    assert model.offer == "serverless"
    assert model.needs_marketplace_subscription is True
    assert model.lifecycle.retirement_date == (dt.date.fromisoformat(retired) if retired else None)
    assert model.lifecycle.replacement == replacement


def test_catalog_has_source_date_regions_and_quota() -> None:
    assert CATALOG.as_of == dt.date(2026, 11, 23)
    assert CATALOG.source
    assert CATALOG.serverless.regions == (
        "eastus",
        "eastus2",
        "northcentralus",
        "southcentralus",
        "westus",
        "westus3",
        "swedencentral",
    )
    assert (CATALOG.serverless.rate_limits.tokens_per_minute, CATALOG.serverless.rate_limits.requests_per_minute) == (
        200_000,
        1_000,
    )


def test_managed_compute_models_are_marked_and_microsoft_models_need_no_subscription() -> None:
    assert [k for k, m in CATALOG.models.items() if m.offer == "managedCompute"] == MANAGED_COMPUTE
    microsoft = [
        k for k, m in CATALOG.models.items() if m.offer == "serverless" and not m.needs_marketplace_subscription
    ]
    assert microsoft == ["phi-4", "phi-4-mini-instruct"]
    assert all(CATALOG.models[k].registry == "azureml" for k in microsoft)


def test_lookup_by_model_id_ignores_case() -> None:
    model = CATALOG.by_model_id("AZUREML://registries/azureml-mistral/models/MINISTRAL-3b")

    assert model is not None
    assert model.key == "ministral-3b"
    assert CATALOG.by_model_id("azureml://registries/azureml-mistral/models/Unknown") is None


def _model(lifecycle: Lifecycle) -> catalog_module.Model:
    return CATALOG.models["mistral-nemo"].model_copy(update={"lifecycle": lifecycle})


def test_lifecycle_stage_follows_the_dates() -> None:
    life = Lifecycle(stage="Legacy", deprecation_date=dt.date(2026, 3, 1), retirement_date=dt.date(2026, 6, 1))

    assert life.stage_on(dt.date(2026, 2, 28)) == "Legacy"
    assert life.stage_on(dt.date(2026, 3, 1)) == "Deprecated"
    assert life.stage_on(dt.date(2026, 6, 1)) == "Retired"


def test_judge_blocks_deprecated_and_retired_models_and_names_the_replacement() -> None:
    model = _model(
        Lifecycle(
            stage="Legacy",
            deprecation_date=dt.date(2026, 3, 1),
            retirement_date=dt.date(2026, 6, 1),
            replacement="mistral-small-2503",
        )
    )

    assert judge(model, dt.date(2026, 2, 1), CATALOG).blocked is False
    deprecated = judge(model, dt.date(2026, 4, 1), CATALOG)
    assert (deprecated.stage, deprecated.blocked) == ("Deprecated", True)
    assert deprecated.reason == (
        "Mistral Nemo (azureml://registries/azureml-mistral/models/Mistral-Nemo) was deprecated on 2026-03-01; "
        "use 'mistral-small-2503' (azureml://registries/azureml-mistral/models/mistral-small-2503) instead"
    )
    retired = judge(model, dt.date(2026, 6, 1), CATALOG)
    assert retired.reason.startswith(
        "Mistral Nemo (azureml://registries/azureml-mistral/models/Mistral-Nemo) was retired on 2026-06-01;"
    )


def test_catalog_rejects_a_replacement_that_is_not_a_key(tmp_path: Path) -> None:
    text = catalog_module.CATALOG_PATH.read_text(encoding="utf-8").replace(
        "replacement: mistral-large-2411}", "replacement: mistral-large-9999}", 1
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(
        ValueError, match=re.escape("mistral-large-2402: replacement 'mistral-large-9999' is not a catalog key")
    ):
        catalog_module.load(path)


@pytest.mark.parametrize(
    ("rule", "valid", "invalid"),
    [
        (names.ENDPOINT_NAME, ["a", "chat-mistral-large", "A" + "b" * 51], ["", "9a", "a_b", "a-", "a" * 53, "a.b"]),
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
