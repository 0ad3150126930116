"""``maas models``: the catalog as a table (80 columns), one model in full, JSON or Markdown; filtered by
lifecycle on a given day, by channel and by region."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from rich.console import Console

from infra import catalog
from infra.cli import app as cli
from infra.cli.render import models as render_catalog
from tests import harness
from tests.docs import blocks, page, section

TODAY = harness.TODAY.isoformat()
SERVERLESS_NOW = [
    "ministral-3b",
    "mistral-small-2503",
    "mistral-medium-2505",
    "codestral-2501",
    "phi-4",
    "phi-4-mini-instruct",
    "phi-4-multimodal-instruct",
    "phi-4-reasoning",
    "phi-4-mini-reasoning",
]
FOUNDRY_NOW = [
    "ministral-3b",
    "mistral-small-2503",
    "mistral-medium-2505",
    "codestral-2501",
    "mistral-large-3",
    "mistral-medium-3-5",
    "mistral-ocr-4-0",
    "mistral-document-ai-2512",
]
LIVING = [*FOUNDRY_NOW, *SERVERLESS_NOW[4:]]
RETIRED = [
    "mistral-large-2402",
    "mistral-large-2407",
    "mistral-small",
    "mistral-large-2411",
    "mistral-nemo",
    "mistral-ocr-2503",
    "mistral-document-ai-2505",
    "jamba-1.5-large",
    "jamba-1.5-mini",
    "jamba-instruct",
]
MANAGED_COMPUTE = ["mixtral-8x7b-instruct-v01", "mixtral-8x7b-v01", "mistral-7b-instruct-v01", "mistral-7b-v01"]


def models(capsys: pytest.CaptureFixture[str], *args: str, today: str = TODAY) -> tuple[int, str, str]:
    code = cli.main(["models", "--today", today, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = models(capsys, "--format", "json", *args)
    assert (code, err) == (0, "")
    document: dict[str, Any] = json.loads(out)
    assert (document["schemaVersion"], document["catalogAsOf"], document["today"]) == (2, TODAY, TODAY)
    rows: list[dict[str, Any]] = document["models"]
    return rows


def keys(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    return [m["key"] for m in listed(capsys, *args)]


def test_retired_and_managed_compute_models_are_hidden_unless_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(keys(capsys)) == sorted(LIVING)
    assert sorted(keys(capsys, "--all")) == sorted(LIVING + RETIRED + MANAGED_COMPUTE)


def test_channel_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert keys(capsys, "--channel", "serverless") == SERVERLESS_NOW
    assert keys(capsys, "--channel", "foundry") == FOUNDRY_NOW
    assert keys(capsys, "--channel", "managedCompute", "--all") == MANAGED_COMPUTE
    assert keys(capsys, "--channel", "foundry", "--all") == ["mistral-document-ai-2505", *FOUNDRY_NOW]


def test_a_row_carries_every_fact_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {m["key"]: m for m in listed(capsys, "--all")}

    assert rows["mistral-ocr-2503"] == {
        "key": "mistral-ocr-2503",
        "name": "Mistral OCR 25.03",
        "publisher": "Mistral AI",
        "api": "ocr",
        "channels": ["serverless"],
        "lifecycle": {
            "stage": "Retired",
            "recordedStage": "Retired",
            "deprecationDate": "2025-10-31",
            "retirementDate": "2026-01-30",
            "tentative": False,
            "replacement": "mistral-document-ai-2505",
            "livingReplacement": "mistral-document-ai-2512",
            "source": "retired-models",
            "asOf": TODAY,
            "note": "Its replacement mistral-document-ai-2505 retired too; mistral-document-ai-2512 replaces both.",
        },
        "serverless": {
            "modelId": "azureml://registries/azureml-mistral/models/mistral-ocr-2503",
            "marketplace": True,
            "regions": list(catalog.load().serverless.regions),
            "source": "serverless-quota",
            "asOf": TODAY,
            "note": None,
        },
        "foundry": None,
        "managedCompute": None,
    }
    large3 = rows["mistral-large-3"]
    assert (large3["serverless"], large3["lifecycle"]["stage"]) == (None, "Preview")
    assert {k: v for k, v in large3["foundry"].items() if k not in ("skus", "regions", "note")} == {
        "format": "Mistral AI",
        "name": "Mistral-Large-3",
        "version": "1",
        "marketplace": False,
        "source": "direct-data-zone",
        "asOf": TODAY,
    }
    assert sorted(large3["foundry"]["skus"]) == ["DataZoneStandard", "GlobalStandard"]
    assert rows["mistral-7b-v01"]["managedCompute"]["modelId"] == (
        "azureml://registries/azureml/models/mistralai-Mistral-7B-v01"
    )


def test_region_filter_normalizes_and_follows_the_channel(capsys: pytest.CaptureFixture[str]) -> None:
    in_order = [k for k in catalog.load().models if k in LIVING]
    assert keys(capsys, "--region", "Sweden Central") == [k for k in in_order if "reasoning" not in k]
    sweden = keys(capsys, "--region", "Sweden Central", "--channel", "serverless")
    assert sweden == [k for k in SERVERLESS_NOW if "reasoning" not in k]
    assert keys(capsys, "--region", "japaneast") == [
        "ministral-3b",
        "mistral-small-2503",
        "mistral-medium-2505",
        "codestral-2501",
        "mistral-large-3",
        "mistral-document-ai-2512",
    ]
    assert keys(capsys, "--region", "eastus2", "--channel", "serverless", "--all")[:2] == [
        "mistral-large-2402",
        "mistral-large-2407",
    ]


def test_an_unknown_region_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = models(capsys, "--region", "moon-1", "--channel", "serverless")
    assert (code, out) == (2, "")
    assert err == (
        "maas models: --region 'moon-1' is not a region the catalog knows on channel 'serverless'; valid: eastus, "
        "eastus2, northcentralus, southcentralus, westus, westus3, swedencentral\n"
    )
    code, _, err = models(capsys, "--region", "japaneast", "--channel", "serverless")
    assert code == 2
    assert err.startswith("maas models: --region 'japaneast' is not a region the catalog knows on channel 'serverless'")


def test_one_model_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = models(capsys, "phi-4-reasoning")

    assert (code, err) == (0, "")
    assert [line.rstrip() for line in out.splitlines()] == [
        "Key             phi-4-reasoning",
        "Name            Phi-4-reasoning (Microsoft)",
        "API             chat completions",
        f"Lifecycle       GenerallyAvailable on {TODAY} [1] as of {TODAY}",
        "Serverless API  azureml://registries/azureml/models/Phi-4-reasoning",
        "                Marketplace: no; regions: eastus, eastus2, northcentralus, southcentralus, westus, westus3 "
        f"[2] as of {TODAY}",
        "[1] Microsoft Learn: Foundry Models retirement schedule (2026-07-07; rendered page of 2026-09-02): "
        "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule",
        "[2] Microsoft Learn: Region availability for models in serverless API deployments (classic, 2026-02-17): "
        "https://learn.microsoft.com/azure/foundry-classic/how-to/deploy-models-serverless-availability",
    ]


def test_an_unknown_key_exits_2_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert models(capsys, "mistral-medium") == (
        2,
        "",
        "maas models: 'mistral-medium' is not a catalog key; did you mean 'mistral-medium-3-5' or "
        "'mistral-medium-2505' or 'mistral-nemo'? `maas models --all` lists them\n",
    )


def test_a_stale_catalog_is_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = models(capsys, "--format", "json", today="2027-03-01")

    assert code == 0
    assert json.loads(out)["today"] == "2027-03-01"
    assert err == (
        f"maas models: warning: the model catalog is 97 days old (as of {TODAY}, more than 90); lifecycle facts may "
        "have changed: run `maas catalog sync`, or update azure-maas\n"
    )


def test_listing_judges_stages_on_the_day() -> None:
    known = catalog.load()
    small = known.models["mistral-small-2503"]
    life = small.lifecycle.model_copy(
        update={"deprecation_date": dt.date(2027, 1, 1), "retirement_date": dt.date(2027, 6, 1)}
    )
    changed = known.model_copy(
        update={"models": {**known.models, "mistral-small-2503": small.model_copy(update={"lifecycle": life})}}
    )

    def stage(day: dt.date) -> list[str]:
        return [r.stage for r in catalog.listing(changed, day) if r.model.key == "mistral-small-2503"]

    assert stage(dt.date(2026, 12, 31)) == ["GenerallyAvailable"]
    assert stage(dt.date(2027, 1, 1)) == ["Deprecated"]
    assert stage(dt.date(2027, 6, 1)) == []  # retired: hidden


def test_the_table_reads_at_80_columns_and_never_cuts_a_key() -> None:
    known = catalog.load()
    console = Console(width=80, record=True, highlight=False)

    render_catalog.print_models(
        catalog.listing(known, harness.TODAY, everything=True), known, harness.TODAY, console, everything=True
    )

    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    firsts = [line.split()[0] for line in lines if line.startswith(" ") and line.split()]
    assert [k for k in known.models if k not in firsts] == []
    assert "→ mistral-document-ai-2512" in text


def test_the_docs_sample_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    browsing = section(page("models.md"), "## Browsing the catalog: `maas models`")
    [shown] = [b for b in blocks(browsing, "console") if b.startswith("$ uv run maas models\n")]

    code, out, _ = models(capsys)

    assert code == 0
    assert [line.rstrip() for line in out.splitlines()] == shown.removeprefix("$ uv run maas models\n").splitlines()


@pytest.mark.parametrize("count", [0, 1, 2])
def test_the_summary_counts_models_in_words(count: int) -> None:
    known = catalog.load()
    rows = catalog.listing(known, harness.TODAY)[:count]
    console = Console(width=200, record=True, highlight=False)

    render_catalog.print_models(rows, known, harness.TODAY, console, everything=True)

    counted = {0: "0 models", 1: "1 model", 2: "2 models"}[count]
    assert console.export_text().splitlines()[-2] == (f"{counted}, stages on 2026-11-24, catalog as of 2026-11-24.")


def test_a_sku_in_one_region_is_counted_in_words() -> None:
    known = catalog.load()
    model = next(m for m in known.models.values() if m.foundry is not None)
    assert model.foundry is not None
    skus = {"GlobalStandard": ("eastus2",), "Standard": ("eastus2", "westus")}
    foundry = model.foundry.model_copy(update={"skus": skus})
    one = model.model_copy(update={"foundry": foundry})

    table = render_catalog.models_markdown(
        [catalog.Listed(one, one.lifecycle.stage_on(harness.TODAY))], known, harness.TODAY
    )

    assert "GlobalStandard (1 region), Standard (2 regions)" in table
