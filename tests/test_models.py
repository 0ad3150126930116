"""``maas models``: the catalog as a table or JSON, filtered by lifecycle on a given day and by region."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from infra import catalog, cli
from infra.catalog import Lifecycle
from tests.conftest import ROOT

TODAY = "2026-11-23"
SERVERLESS_NOW = [
    "ministral-3b",
    "mistral-nemo",
    "mistral-large-2411",
    "mistral-small-2503",
    "phi-4",
    "phi-4-mini-instruct",
]
RETIRED = [
    "mistral-large-2402",
    "mistral-large-2407",
    "mistral-small",
    "jamba-1.5-large",
    "jamba-1.5-mini",
    "jamba-instruct",
]
MANAGED_COMPUTE = ["mixtral-8x7b-instruct-v01", "mixtral-8x7b-v01", "mistral-7b-instruct-v01", "mistral-7b-v01"]


def models(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["models", "--today", TODAY, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = models(capsys, "--format", "json", *args)
    assert (code, err) == (0, "")
    document: dict[str, Any] = json.loads(out)
    assert (document["schemaVersion"], document["catalogAsOf"], document["today"]) == (1, "2026-11-23", TODAY)
    rows: list[dict[str, Any]] = document["models"]
    return rows


def test_retired_and_managed_compute_models_are_hidden_unless_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert [m["key"] for m in listed(capsys)] == SERVERLESS_NOW
    assert sorted(m["key"] for m in listed(capsys, "--all")) == sorted(SERVERLESS_NOW + RETIRED + MANAGED_COMPUTE)


def test_a_row_carries_every_fact(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {m["key"]: m for m in listed(capsys, "--all")}
    serverless = list(catalog.load().serverless.regions)

    assert rows["mistral-large-2402"] == {
        "key": "mistral-large-2402",
        "name": "Mistral Large (2402)",
        "publisher": "Mistral AI",
        "modelId": "azureml://registries/azureml-mistral/models/Mistral-large",
        "offer": "serverless",
        "marketplace": True,
        "stage": "Retired",
        "deprecationDate": None,
        "retirementDate": "2025-04-15",
        "replacement": "mistral-large-2411",
        "regions": serverless,
    }
    assert (rows["phi-4"]["marketplace"], rows["phi-4"]["stage"], rows["phi-4"]["regions"]) == (
        False,
        "GenerallyAvailable",
        serverless,
    )
    assert (rows["mistral-7b-v01"]["offer"], rows["mistral-7b-v01"]["regions"]) == ("managedCompute", [])


def test_region_filter_normalizes_and_excludes_managed_compute(capsys: pytest.CaptureFixture[str]) -> None:
    assert [m["key"] for m in listed(capsys, "--region", "Sweden Central")] == SERVERLESS_NOW
    assert [m["key"] for m in listed(capsys, "--region", "swedencentral", "--all")] == [
        k for k in catalog.load().models if k not in MANAGED_COMPUTE
    ]


def test_an_unknown_region_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert models(capsys, "--region", "westeurope") == (
        2,
        "",
        "maas models: --region 'westeurope' is not a serverless region; valid: eastus, eastus2, northcentralus, "
        "southcentralus, westus, westus3, swedencentral\n",
    )


def test_listing_judges_stages_on_the_day_and_narrow_regions() -> None:
    known = catalog.load()
    nemo = known.models["mistral-nemo"]
    announced = nemo.model_copy(
        update={
            "regions": ("eastus2", "swedencentral"),
            "lifecycle": Lifecycle(
                stage="GenerallyAvailable",
                deprecation_date=dt.date(2027, 1, 1),
                retirement_date=dt.date(2027, 6, 1),
            ),
        }
    )
    changed = known.model_copy(update={"models": {**known.models, "mistral-nemo": announced}})

    def stages(day: dt.date, region: str | None = None) -> dict[str, str]:
        return {
            r.model.key: r.stage for r in catalog.listing(changed, day, region=region) if r.model.key == "mistral-nemo"
        }

    assert stages(dt.date(2026, 12, 31)) == {"mistral-nemo": "GenerallyAvailable"}
    assert stages(dt.date(2027, 1, 1)) == {"mistral-nemo": "Deprecated"}
    assert stages(dt.date(2027, 6, 1)) == {}  # retired: hidden
    assert stages(dt.date(2026, 12, 31), "eastus") == {}
    assert stages(dt.date(2026, 12, 31), "swedencentral") == {"mistral-nemo": "GenerallyAvailable"}
    [row] = [r for r in catalog.listing(changed, dt.date(2026, 12, 31)) if r.model.key == "mistral-nemo"]
    assert (row.regions, row.all_regions) == (("eastus2", "swedencentral"), False)


def test_the_text_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = models(capsys)

    assert (code, err) == (0, "")
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[1].split() == [
        "Key",
        "Name",
        "Publisher",
        "Model",
        "ID",
        "Marketplace",
        "Lifecycle",
        "Replacement",
        "Regions",
    ]
    assert [line.split()[0] for line in lines[3:9]] == SERVERLESS_NOW
    assert lines[5].split() == [
        "mistral-large-2411",
        "Mistral",
        "Large",
        "24.11",
        "Mistral",
        "AI",
        "azureml://registries/azureml-mistral/models/Mistral-Large-2411",
        "yes",
        "GenerallyAvailable",
        "-",
        "all",
    ]
    assert lines[-2:] == [
        "6 models, stages on 2026-11-23, catalog as of 2026-11-23; retired and managed-compute-only models hidden "
        "(--all shows them)",
        'Regions "all": every serverless region (eastus, eastus2, northcentralus, southcentralus, westus, westus3, '
        "swedencentral)",
    ]


def test_the_readme_sample_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [shown] = re.findall(r"```console\n\$ uv run maas models\n(.*?)```", readme, re.DOTALL)

    code, out, _ = models(capsys)

    assert code == 0
    assert [line.rstrip() for line in out.splitlines()] == shown.splitlines()
