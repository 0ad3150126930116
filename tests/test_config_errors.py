"""Every bad input fails before anything is registered, with a message that names the key path."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
import yaml

from tests.conftest import minimal, stack
from tests.docs import blocks, page, section
from tests.harness import execute

REGIONS = "eastus, eastus2, northcentralus, southcentralus, westus, westus3, swedencentral"
OFFERED = (
    "australiaeast, brazilsouth, canadacentral, canadaeast, centralus, eastus, eastus2, francecentral, "
    "germanywestcentral, italynorth, japaneast, japanwest, koreacentral, northcentralus, norwayeast, polandcentral, southafricanorth, southcentralus, southindia, spaincentral, swedencentral, switzerlandnorth, switzerlandwest, uaenorth, uksouth, ukwest, westcentralus, westeurope, westus, westus2, westus3"
)
"""Regions that offer serverless models or Foundry deployments (the catalog's)."""
HUB_ID = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-shared"
    "/providers/Microsoft.MachineLearningServices/workspaces/hub-shared"
)


def ws(*deployments: dict[str, Any], name: str = "ws-main", kind: str = "workspace", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "deployments": list(deployments), **extra}


def dep(name: str = "small", **fields: Any) -> dict[str, Any]:
    return {"name": name, **(fields or {"model": "mistral-small-2503"})}


DEPLOYER_ROLES = {
    "marketplace": "0fc6114f-d1ba-5963-b15f-5d7deed1e9db",
    "saas": "635bd9e0-7716-59e5-b2ad-648892f80768",
    "serverless": "cc128442-e27e-54cd-b386-18d0b519b0c2",
}
GRANT = {"principalId": "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c", "principalType": "User", "role": "developer"}

CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "location-outside-default-regions",
        minimal(location="westeurope"),
        [f"azure-maas:location: 'westeurope' is not in allowedRegions; valid: {REGIONS}"],
    ),
    (
        "location-outside-configured-regions",
        minimal(location="East US 2", allowedRegions=["eastus", "Sweden Central"]),
        ["azure-maas:location: 'eastus2' is not in allowedRegions; valid: eastus, swedencentral"],
    ),
    (
        "allowed-region-without-serverless",
        minimal(allowedRegions=["eastus2", "chinanorth"]),
        [
            "azure-maas:allowedRegions[1]: 'chinanorth' offers neither serverless models nor Foundry deployments; "
            f"valid: {OFFERED}"
        ],
    ),
    (
        "location-missing",
        {k: v for k, v in minimal().items() if k != "azure-maas:location"},
        [f"azure-maas:location: required (or set azure-native:location); one of allowedRegions: {REGIONS}"],
    ),
    (
        "unknown-catalog-key",
        minimal(workspaces=[ws(dep(model="mistral-large"))]),
        [
            "azure-maas:workspaces[0].deployments[0].model: 'mistral-large' is not in the model catalog; "
            "did you mean 'mistral-large-3' or 'mistral-large-2411' or 'mistral-large-2407'? "
            "See policies/azure_maas_policy/catalog.yaml, or give a full 'modelId'"
        ],
    ),
    (
        "model-id-wrong-shape",
        minimal(workspaces=[ws(dep(modelId="azureml://registries/azureml-mistral/Codestral-2501"))]),
        [
            "azure-maas:workspaces[0].deployments[0].modelId: 'azureml://registries/azureml-mistral/Codestral-2501' "
            "is not a valid model ID: azureml://registries/<registry>/models/<name>"
        ],
    ),
    (
        "model-id-with-version",
        minimal(workspaces=[ws(dep(modelId="azureml://registries/azureml-mistral/models/Codestral-2501/versions/2"))]),
        [
            "azure-maas:workspaces[0].deployments[0].modelId: "
            "'azureml://registries/azureml-mistral/models/Codestral-2501/versions/2' pins a version; serverless "
            "endpoints always deploy the latest version, so leave off '/versions/...': "
            "'azureml://registries/azureml-mistral/models/Codestral-2501'"
        ],
    ),
    (
        "managed-compute-only",
        minimal(workspaces=[ws(dep(model="mixtral-8x7b-instruct-v01"))]),
        [
            "azure-maas:workspaces[0].deployments[0].model: Mixtral-8x7B-Instruct-v01 "
            "(azureml://registries/azureml/models/mistralai-Mixtral-8x7B-Instruct-v01) is not offered as a serverless "
            "API, only as: managed compute deployment ('managedCompute'); choose a serverless model "
            "(`maas models --channel serverless`)"
        ],
    ),
    (
        "managed-compute-only-by-model-id",
        minimal(workspaces=[ws(dep(modelId="azureml://registries/azureml/models/mistralai-Mistral-7B-v01"))]),
        [
            "azure-maas:workspaces[0].deployments[0].modelId: Mistral-7B-v01 "
            "(azureml://registries/azureml/models/mistralai-Mistral-7B-v01) is not offered as a serverless API, only "
            "as: managed compute deployment ('managedCompute'); choose a serverless model "
            "(`maas models --channel serverless`)"
        ],
    ),
    (
        "retired-with-replacement",
        minimal(workspaces=[ws(dep(model="mistral-large-2402"))]),
        [
            "azure-maas:workspaces[0].deployments[0].model: Mistral Large (2402) "
            "(azureml://registries/azureml-mistral/models/Mistral-large) was retired on 2025-04-15; use "
            "'mistral-medium-2505' (azureml://registries/azureml-mistral/models/mistral-medium-2505) instead; "
            "set allowRetired: true to deploy it anyway"
        ],
    ),
    (
        "foundry-only-model",
        minimal(workspaces=[ws(dep(model="mistral-document-ai-2512"))]),
        [
            "azure-maas:workspaces[0].deployments[0].model: Mistral Document AI 25.12 (Mistral AI/"
            "mistral-document-ai-2512) is not offered as a serverless API, only as: Foundry resource deployment "
            "('foundry'); choose a serverless model (`maas models --channel serverless`)"
        ],
    ),
    (
        "retired-with-a-foundry-only-replacement",
        minimal(location="swedencentral", workspaces=[ws(dep(model="mistral-ocr-2503"))]),
        [
            "azure-maas:workspaces[0].deployments[0].model: Mistral OCR 25.03 "
            "(azureml://registries/azureml-mistral/models/mistral-ocr-2503) was retired on 2026-01-30; use "
            "'mistral-document-ai-2512' (Mistral Document AI 25.12, offered only as: Foundry resource deployment "
            "('foundry')) instead; set allowRetired: true to deploy it anyway"
        ],
    ),
    (
        "model-not-offered-in-the-region",
        minimal(location="swedencentral", workspaces=[ws(dep(model="phi-4-reasoning"))]),
        [
            "azure-maas:workspaces[0].deployments[0].model: Phi-4-reasoning is not offered as a serverless API in "
            "'swedencentral'; regions: eastus, eastus2, northcentralus, southcentralus, westus, westus3"
        ],
    ),
    (
        "retired-by-model-id-any-case",
        minimal(workspaces=[ws(dep(modelId="azureml://registries/azureml-ai21/models/ai21-jamba-instruct"))]),
        [
            "azure-maas:workspaces[0].deployments[0].modelId: AI21 Jamba Instruct "
            "(azureml://registries/azureml-ai21/models/AI21-Jamba-Instruct) was retired on 2025-03-01; no "
            "replacement is announced; set allowRetired: true to deploy it anyway"
        ],
    ),
    (
        "model-and-model-id",
        minimal(workspaces=[ws(dep(model="phi-4", modelId="azureml://registries/azureml/models/Phi-4"))]),
        [
            "azure-maas:workspaces[0].deployments[0]: set exactly one of 'model' (a catalog key) or 'modelId' "
            "(azureml://registries/<registry>/models/<name>)"
        ],
    ),
    (
        "two-deployments-of-one-model",
        minimal(
            workspaces=[
                ws(
                    dep("small-a"),
                    dep("small-b", modelId="azureml://registries/azureml-mistral/models/MISTRAL-SMALL-2503"),
                )
            ]
        ),
        [
            "azure-maas:workspaces[0].deployments[1].modelId: azureml://registries/azureml-mistral/models/"
            "mistral-small-2503 is already deployed in workspace 'ws-main' by "
            "azure-maas:workspaces[0].deployments[0]; Azure allows one deployment per model per workspace"
        ],
    ),
    (
        "endpoint-name-starts-with-digit",
        minimal(workspaces=[ws(dep("9lives"))]),
        [
            "azure-maas:workspaces[0].deployments[0].name: '9lives' is not a valid endpoint name: 1-52 characters, "
            "starting with a letter, then letters, digits or '-', not ending with '-'"
        ],
    ),
    (
        "endpoint-name-underscore",
        minimal(workspaces=[ws(dep("chat_small"))]),
        [
            "azure-maas:workspaces[0].deployments[0].name: 'chat_small' is not a valid endpoint name: 1-52 "
            "characters, starting with a letter, then letters, digits or '-', not ending with '-'"
        ],
    ),
    (
        "endpoint-name-too-long",
        minimal(workspaces=[ws(dep("a" * 53))]),
        [
            f"azure-maas:workspaces[0].deployments[0].name: '{'a' * 53}' is not a valid endpoint name: 1-52 "
            "characters, starting with a letter, then letters, digits or '-', not ending with '-'"
        ],
    ),
    (
        "endpoint-name-twice-in-region",
        minimal(
            workspaces=[
                ws(dep("chat")),
                ws(dep("Chat", model="phi-4"), name="ws-other"),
            ]
        ),
        [
            "azure-maas:workspaces[1].deployments[0].name: 'Chat' is already used by "
            "azure-maas:workspaces[0].deployments[0]; endpoint names are unique per region"
        ],
    ),
    (
        "workspace-name-too-short",
        minimal(workspaces=[ws(dep(), name="ab")]),
        [
            "azure-maas:workspaces[0].name: 'ab' is not a valid workspace name: 3-33 characters, starting with a "
            "letter or digit, then letters, digits, '_' or '-'"
        ],
    ),
    (
        "workspace-name-twice",
        minimal(workspaces=[ws(dep()), ws(dep("phi", model="phi-4"), name="WS-MAIN")]),
        ["azure-maas:workspaces[1].name: 'WS-MAIN' is already the name of workspaces[0]"],
    ),
    (
        "project-without-hub",
        minimal(workspaces=[ws(dep(), kind="project")]),
        [
            "azure-maas:workspaces[0].kind: 'project' needs a Foundry hub: set 'hub' ({name} or {id}), "
            "or use kind 'workspace'"
        ],
    ),
    (
        "existing-without-id",
        minimal(workspaces=[ws(dep(), kind="existing")]),
        ["azure-maas:workspaces[0].id: required for kind 'existing': the workspace's resource ID"],
    ),
    (
        "id-on-created-workspace",
        minimal(workspaces=[ws(dep(), id=HUB_ID)]),
        ["azure-maas:workspaces[0].id: only valid for kind 'existing'; a 'workspace' is created by this stack"],
    ),
    (
        "malformed-guid",
        minimal(access=[{**GRANT, "principalId": "3f2b6a1c-8d4e-4f7a-9b0c"}]),
        [
            "azure-maas:access[0].principalId: '3f2b6a1c-8d4e-4f7a-9b0c' is not a valid GUID: 32 hex digits as "
            "8-4-4-4-12, e.g. 00000000-0000-0000-0000-000000000000"
        ],
    ),
    (
        "role-not-a-role",
        minimal(access=[{**GRANT, "role": "owner"}]),
        [
            "azure-maas:access[0].role: 'owner' is not a role: use 'developer' (built-in Azure AI Developer), "
            "'deployer' (least-privilege custom roles) or a role definition GUID"
        ],
    ),
    (
        "scope-not-a-workspace",
        minimal(access=[{**GRANT, "scope": "ws-typo"}]),
        ["azure-maas:access[0].scope: 'ws-typo' is not a scope; valid: resourceGroup, ws-main"],
    ),
    (
        "unknown-top-level-key",
        {**minimal(), **stack(locaton="eastus2")},
        [
            "azure-maas:locaton: unknown key; did you mean 'location'? Valid keys here: location, resourceGroup, "
            "hub, workspaces, foundries, access, deployerRoles, allowedRegions, tags"
        ],
    ),
    (
        "unknown-deployment-key",
        minimal(workspaces=[ws({"name": "small", "modle": "mistral-small-2503", "model": "phi-4"})]),
        [
            "azure-maas:workspaces[0].deployments[0].modle: unknown key; did you mean 'model'? Valid keys here: "
            "name, model, modelId, authMode, contentSafety, allowRetired"
        ],
    ),
    (
        "unknown-access-key",
        minimal(access=[{**GRANT, "scopes": "ws-main"}]),
        [
            "azure-maas:access[0].scopes: unknown key; did you mean 'scope'? Valid keys here: principalId, "
            "principalType, role, scope"
        ],
    ),
    (
        "unknown-resource-group-key",
        minimal(resourceGroup={"nmae": "rg-x"}),
        ["azure-maas:resourceGroup.nmae: unknown key; did you mean 'name'? Valid keys here: name, create"],
    ),
    (
        "snake-case-key-is-not-a-synonym",
        minimal(workspaces=[ws(dep(model="phi-4", auth_mode="AAD"))]),
        [
            "azure-maas:workspaces[0].deployments[0].auth_mode: unknown key; did you mean 'authMode'? Valid keys "
            "here: name, model, modelId, authMode, contentSafety, allowRetired"
        ],
    ),
    (
        "unknown-key-without-close-match",
        minimal(hub={"name": "hub-one", "sku": "Basic"}),
        ["azure-maas:hub.sku: unknown key; valid keys here: name, id"],
    ),
    (
        "workspace-named-like-the-existing-hub",
        minimal(hub={"id": HUB_ID}, workspaces=[ws(dep(), name="hub-shared")]),
        ["azure-maas:workspaces[0].name: 'hub-shared' is already the name of the hub"],
    ),
    (
        "wrong-auth-mode",
        minimal(workspaces=[ws(dep(model="phi-4", authMode="key"))]),
        ["azure-maas:workspaces[0].deployments[0].authMode: got 'key': Input should be 'Key', 'AAD' or 'KeyAndAAD'"],
    ),
    (
        "wrong-kind",
        minimal(workspaces=[ws(dep(), kind="hub")]),
        ["azure-maas:workspaces[0].kind: got 'hub': Input should be 'project', 'workspace' or 'existing'"],
    ),
    (
        "no-workspaces",
        minimal(workspaces=[]),
        ["azure-maas:workspaces: a stack needs at least one workspace, or one Foundry resource in 'foundries'"],
    ),
    (
        "hub-with-name-and-id",
        minimal(hub={"name": "hub-one", "id": HUB_ID}),
        ["azure-maas:hub: set exactly one of 'name' (create a Foundry hub) or 'id' (use an existing hub)"],
    ),
    (
        "hub-id-malformed",
        minimal(hub={"id": "/subscriptions/x/hub"}),
        [
            "azure-maas:hub.id: '/subscriptions/x/hub' is not a valid workspace resource ID: /subscriptions/"
            "<subscription GUID>/resourceGroups/<group>/providers/Microsoft.MachineLearningServices/workspaces/<name>"
        ],
    ),
    (
        "reserved-tag",
        minimal(tags={"managed-by": "terraform"}),
        ["azure-maas:tags.managed-by: reserved: azure-maas sets managed-by, pulumi-project, pulumi-stack itself"],
    ),
    (
        "reserved-workspace-name",
        minimal(workspaces=[ws(dep(), name="resourceGroup")]),
        ["azure-maas:workspaces[0].name: 'resourceGroup' is reserved: access[].scope uses it as a keyword"],
    ),
    (
        "resource-group-name-ends-with-dot",
        minimal(resourceGroup={"name": "rg-maas."}),
        [
            "azure-maas:resourceGroup.name: 'rg-maas.' is not a valid resource group name: 1-90 characters: "
            "letters, digits, '_', '-', '.', '(' or ')', not ending with '.'"
        ],
    ),
    (
        "deployer-roles-key-missing",
        minimal(deployerRoles={"marketplace": DEPLOYER_ROLES["marketplace"], "saas": DEPLOYER_ROLES["saas"]}),
        ["azure-maas:deployerRoles.serverless: required key is missing"],
    ),
    (
        "deployer-roles-unknown-key",
        minimal(deployerRoles={**DEPLOYER_ROLES, "serverles": DEPLOYER_ROLES["serverless"]}),
        [
            "azure-maas:deployerRoles.serverles: unknown key; did you mean 'serverless'? Valid keys here: "
            "marketplace, saas, serverless, foundry"
        ],
    ),
    (
        "deployer-roles-not-a-guid",
        minimal(deployerRoles={**DEPLOYER_ROLES, "saas": "SaaS Resource Writer"}),
        [
            "azure-maas:deployerRoles.saas: 'SaaS Resource Writer' is not a valid GUID: 32 hex digits as "
            "8-4-4-4-12, e.g. 00000000-0000-0000-0000-000000000000"
        ],
    ),
    (
        "deployer-roles-not-a-mapping",
        minimal(deployerRoles="0fc6114f-d1ba-5963-b15f-5d7deed1e9db"),
        [
            "azure-maas:deployerRoles: got '0fc6114f-d1ba-5963-b15f-5d7deed1e9db': Input should be a valid "
            "dictionary or instance of DeployerRolesConfig"
        ],
    ),
    (
        "deployer-roles-one-guid-twice",
        minimal(deployerRoles={**DEPLOYER_ROLES, "serverless": DEPLOYER_ROLES["saas"].upper()}),
        [
            f"azure-maas:deployerRoles.serverless: {DEPLOYER_ROLES['saas']} is already deployerRoles.saas; each "
            "deployer role is its own role definition"
        ],
    ),
]


@pytest.mark.parametrize(("config", "expected"), [pytest.param(c, e, id=i) for i, c, e in CASES])
def test_bad_input_fails_before_anything_is_registered(config: dict[str, str], expected: list[str]) -> None:
    run, error = execute(config)

    assert isinstance(error, pulumi.RunError), error
    count = len(expected)
    head = f"invalid stack config ({count} problem{'s' if count != 1 else ''}); nothing was created"
    assert str(error).splitlines() == [head, *(f"  {line}" for line in expected)]
    assert run.resources == []
    assert run.invokes == []


def test_every_problem_is_reported_at_once() -> None:
    config = minimal(
        location="westeurope",
        workspaces=[ws(dep("bad_name", model="jamba-instruct"), kind="project")],
        access=[{**GRANT, "principalId": "nope"}],
    )

    run, error = execute(config)

    assert isinstance(error, pulumi.RunError)
    assert str(error).splitlines()[0] == "invalid stack config (2 problems); nothing was created"
    # Shape errors come first; the cross-key rules run once the shape is valid.
    assert [line.split(":")[1] for line in str(error).splitlines()[1:]] == [
        "access[0].principalId",
        "workspaces[0].deployments[0].name",
    ]
    assert run.resources == []


def test_cross_key_rules_report_every_problem_in_key_order() -> None:
    config = minimal(
        location="westeurope",
        workspaces=[ws(dep("retired", model="jamba-instruct"), kind="project")],
        access=[{**GRANT, "scope": "nowhere"}],
    )

    _, error = execute(config)

    assert isinstance(error, pulumi.RunError)
    assert [line.split(": ")[0].strip() for line in str(error).splitlines()[1:]] == [
        "azure-maas:access[0].scope",
        "azure-maas:location",
        "azure-maas:workspaces[0].deployments[0].model",
        "azure-maas:workspaces[0].kind",
    ]


def test_env_override_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_MAAS_LOCATION", "westeurope")

    run, error = execute(minimal())

    assert isinstance(error, pulumi.RunError)
    assert str(error).splitlines()[1] == (
        f"  azure-maas:location (set by AZURE_MAAS_LOCATION): 'westeurope' is not in allowedRegions; valid: {REGIONS}"
    )
    assert run.resources == []


def test_unknown_env_override_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_MAAS_LOCATOIN", "eastus")

    run, error = execute(minimal())

    assert isinstance(error, pulumi.RunError)
    assert str(error).splitlines()[1:] == [
        "  AZURE_MAAS_LOCATOIN: not a known environment override; valid: AZURE_MAAS_LOCATION, "
        "AZURE_MAAS_RESOURCE_GROUP_NAME, AZURE_MAAS_RESOURCE_GROUP_CREATE"
    ]
    assert run.resources == []


ERRORS_SECTION = section(page("configuration.md"), "## Errors")


@pytest.mark.parametrize(
    ("index", "environment"),
    [(0, {}), (1, {"AZURE_MAAS_LOCATION": "westeurope", "AZURE_MAAS_FOO": "1"})],
    ids=["config", "config-and-environment"],
)
def test_the_docs_error_examples_are_what_the_program_says(
    index: int, environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configs = [b for b in blocks(ERRORS_SECTION, "text") if b.startswith("config:\n")]
    outputs = [b for b in blocks(ERRORS_SECTION, "text") if b.startswith("invalid stack config ")]
    assert (len(configs), len(outputs)) == (2, 2)
    assert " ".join(f"{k}={v}" for k, v in environment.items()) in ERRORS_SECTION
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    document = yaml.safe_load(configs[index])["config"]

    _, error = execute({k: v if isinstance(v, str) else json.dumps(v) for k, v in document.items()})

    assert f"{error}\n" == outputs[index]
