"""The Foundry resource channel under Pulumi's mocks: the exact resource graph (deployments chained per account,
every deployment with a content filter, keys secret or absent), the outputs, and every bad input named by key
with nothing registered."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra import names, roles
from tests.conftest import stack
from tests.harness import SECRET_SIG, SIG_KEY, SUBSCRIPTION_ID, Run, execute, run_program

CS = "azure-native:cognitiveservices"
FOUNDRY = "azure-maas:index:Foundry"
RG = "rg-maas-foundry"
ACCOUNT_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts"
GROUP = "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c"
SP = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
EXISTING = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-shared"
    "/providers/Microsoft.CognitiveServices/accounts/fdy-shared"
)


def foundry(**fields: Any) -> dict[str, Any]:
    return {
        "name": "fdy-main",
        "projects": [{"name": "proj-chat", "description": "Chat"}, {"name": "proj-docs"}],
        "contentFilters": [{"name": "strict", "severityThreshold": "Low"}],
        "deployments": [
            {"name": "mistral-medium", "model": "mistral-medium-2505", "contentFilter": "strict"},
            {"name": "mistral-large-3", "model": "mistral-large-3", "contentFilter": "strict", "capacity": 2},
            {"name": "small", "model": "mistral-small-2503"},
        ],
        **fields,
    }


def config(*foundries: dict[str, Any], **keys: Any) -> dict[str, str]:
    base: dict[str, Any] = {"location": "eastus2", "resourceGroup": {"name": RG}}
    return stack(**{**base, "foundries": list(foundries or [foundry()]), **keys})


def urn(*types_and_name: str) -> str:
    *types, name = types_and_name
    return f"urn:pulumi:dev::azure-maas::{'$'.join(types)}::{name}"


@pytest.fixture(scope="module")
def run() -> Run:
    grants = [
        {"principalId": GROUP, "principalType": "Group", "role": "developer", "scope": "fdy-main"},
        {"principalId": SP, "principalType": "ServicePrincipal", "role": "developer", "scope": "fdy-main/proj-docs"},
    ]
    return run_program(config(access=grants))


PARENT = urn("pulumi:pulumi:Stack", FOUNDRY, "fdy-main")
"""The component's URN as the children name their parent."""


def test_the_resource_graph(run: Run) -> None:
    assert sorted((r.type, r.name, r.parent) for r in run.resources if r.type.startswith((CS, FOUNDRY))) == [
        (FOUNDRY, "fdy-main", urn("pulumi:pulumi:Stack", "azure-maas-dev")),
        (f"{CS}:Account", "fdy-main", PARENT),
        (f"{CS}:Deployment", "fdy-main/mistral-large-3", PARENT),
        (f"{CS}:Deployment", "fdy-main/mistral-medium", PARENT),
        (f"{CS}:Deployment", "fdy-main/small", PARENT),
        (f"{CS}:Project", "fdy-main/proj-chat", PARENT),
        (f"{CS}:Project", "fdy-main/proj-docs", PARENT),
        (f"{CS}:RaiPolicy", "fdy-main/strict", PARENT),
    ]
    [account] = run.of_type(f"{CS}:Account")
    assert account.property_dependencies["resourceGroupName"] == (
        urn("pulumi:pulumi:Stack", "azure-native:resources:ResourceGroup", RG),
    )


def test_the_account(run: Run) -> None:
    [account] = run.of_type(f"{CS}:Account")
    subdomain = names.foundry_subdomain(SUBSCRIPTION_ID, RG, account="fdy-main")

    assert {k: v for k, v in account.inputs.items() if k != "tags"} == {
        "accountName": "fdy-main",
        "resourceGroupName": RG,
        "location": "eastus2",
        "kind": "AIServices",
        "sku": {"name": "S0"},
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "allowProjectManagement": True,
            "customSubDomainName": subdomain,
            "disableLocalAuth": True,
            "publicNetworkAccess": "Enabled",
        },
    }
    assert account.inputs["tags"]["pulumi-stack"] == "dev"
    assert subdomain.startswith("fdy-main-")
    assert len(subdomain) == len("fdy-main-") + 6


def test_projects_have_their_own_identity(run: Run) -> None:
    projects = {r.name: r.inputs for r in run.of_type(f"{CS}:Project")}

    assert projects["fdy-main/proj-chat"]["identity"] == {"type": "SystemAssigned"}
    assert projects["fdy-main/proj-chat"]["properties"] == {"displayName": "proj-chat", "description": "Chat"}
    assert projects["fdy-main/proj-docs"]["accountName"] == "fdy-main"
    assert projects["fdy-main/proj-docs"]["projectName"] == "proj-docs"


def test_the_content_filter_blocks_every_harm_category_at_its_threshold(run: Run) -> None:
    [policy] = run.of_type(f"{CS}:RaiPolicy")
    properties = policy.inputs["properties"]

    assert (policy.inputs["raiPolicyName"], properties["basePolicyName"], properties["mode"]) == (
        "strict",
        "Microsoft.DefaultV2",
        "Blocking",
    )
    harm = [f for f in properties["contentFilters"] if f["name"] in ("Hate", "Sexual", "Selfharm", "Violence")]
    assert sorted((f["name"], f["source"]) for f in harm) == sorted(
        (name, source) for name in ("Hate", "Sexual", "Selfharm", "Violence") for source in ("Prompt", "Completion")
    )
    assert all(f["severityThreshold"] == "Low" and f["blocking"] and f["enabled"] for f in harm)
    others = {
        f["name"]: (f["source"], f["blocking"], f["enabled"]) for f in properties["contentFilters"] if f not in harm
    }
    assert others == {
        "Jailbreak": ("Prompt", True, True),
        "Protected Material Text": ("Completion", True, True),
        "Protected Material Code": ("Completion", True, True),
    }


def test_deployments_are_chained_per_account_and_name_a_content_filter(run: Run) -> None:
    deployments = {r.name: r for r in run.of_type(f"{CS}:Deployment")}
    medium, large, small = (deployments[f"fdy-main/{n}"] for n in ("mistral-medium", "mistral-large-3", "small"))
    [policy] = run.of_type(f"{CS}:RaiPolicy")

    assert large.dependencies.count(medium.urn) == 1
    assert small.dependencies.count(large.urn) == 1
    assert medium.urn not in small.dependencies  # a chain, not a fan-in
    assert all(d.urn not in medium.dependencies for d in (large, small))
    assert policy.urn in medium.dependencies  # the policy's name is an output of the policy
    assert policy.urn not in small.dependencies  # a built-in policy is named, not created
    assert all(d.delete_before_replace is True for d in deployments.values())
    assert {name: (d.inputs["properties"]["raiPolicyName"], d.inputs["sku"]) for name, d in deployments.items()} == {
        "fdy-main/mistral-medium": ("strict", {"name": "GlobalStandard", "capacity": 1}),
        "fdy-main/mistral-large-3": ("strict", {"name": "GlobalStandard", "capacity": 2}),
        "fdy-main/small": ("Microsoft.DefaultV2", {"name": "GlobalStandard", "capacity": 1}),
    }
    assert medium.inputs["properties"]["model"] == {
        "format": "Mistral AI",
        "name": "mistral-medium-2505",
        "version": "1",
    }
    assert medium.inputs["properties"]["versionUpgradeOption"] == "OnceNewDefaultVersionAvailable"
    assert medium.inputs["deploymentName"] == "mistral-medium"


def test_the_outputs(run: Run) -> None:
    subdomain = names.foundry_subdomain(SUBSCRIPTION_ID, RG, account="fdy-main")
    base = f"https://{subdomain}.openai.azure.com/openai/v1"

    assert run.outputs["foundries"] == {
        "fdy-main": {
            "name": "fdy-main",
            "id": f"{ACCOUNT_ID}/fdy-main",
            "endpoint": f"https://{subdomain}.services.ai.azure.com/",
            "projects": {
                project: {
                    "name": project,
                    "id": f"{ACCOUNT_ID}/fdy-main/projects/{project}",
                    "endpoint": f"https://{subdomain}.services.ai.azure.com/api/projects/{project}",
                }
                for project in ("proj-chat", "proj-docs")
            },
        }
    }
    assert run.outputs["foundryDeployments"]["fdy-main/mistral-large-3"] == {
        "foundry": "fdy-main",
        "deployment": "mistral-large-3",
        "format": "Mistral AI",
        "modelName": "Mistral-Large-3",
        "version": "1",
        "api": "chat",
        "baseUrl": base,
        "chatCompletionsUrl": f"{base}/chat/completions",
        "authMode": "AAD",
        "contentFilter": "strict",
        "sku": "GlobalStandard",
        "capacity": 2,
    }
    assert sorted(run.outputs["foundryDeployments"]) == [
        "fdy-main/mistral-large-3",
        "fdy-main/mistral-medium",
        "fdy-main/small",
    ]
    assert run.outputs["foundryKeys"] == {SIG_KEY: SECRET_SIG, "value": {}}
    assert not [token for token, _ in run.invokes if token == f"{CS}:listAccountKeys"]


def test_developer_is_foundry_user_at_a_foundry_scope(run: Run) -> None:
    assignments = {r.name: r.inputs for r in run.of_type("azure-native:authorization:RoleAssignment")}
    role = roles.role_definition_id(SUBSCRIPTION_ID, roles.FOUNDRY_USER)

    assert {name: (a["roleDefinitionId"], a["scope"]) for name, a in assignments.items()} == {
        f"access-{GROUP}-developer-fdy-main": (role, f"{ACCOUNT_ID}/fdy-main"),
        f"access-{SP}-developer-fdy-main/proj-docs": (role, f"{ACCOUNT_ID}/fdy-main/projects/proj-docs"),
    }


def test_local_auth_exports_keys_only_as_secrets() -> None:
    run = run_program(config(foundry(localAuth=True)))
    [account] = run.of_type(f"{CS}:Account")

    assert account.inputs["properties"]["disableLocalAuth"] is False
    assert run.outputs["foundryKeys"] == {
        SIG_KEY: SECRET_SIG,
        "value": {"fdy-main": {"key1": "key1-fdy-main", "key2": "key2-fdy-main"}},
    }
    assert "key1-fdy-main" not in repr({k: v for k, v in run.outputs.items() if k != "foundryKeys"})
    assert run.outputs["foundryDeployments"]["fdy-main/small"]["authMode"] == "KeyAndAAD"


def test_an_existing_foundry_resource_is_referenced_not_created() -> None:
    run = run_program(config(foundry(id=EXISTING, subdomain="fdy-shared", contentFilters=[], deployments=[])))

    assert run.of_type(f"{CS}:Account") == []
    projects = run.of_type(f"{CS}:Project")
    assert {(p.inputs["accountName"], p.inputs["resourceGroupName"]) for p in projects} == {("fdy-shared", "rg-shared")}
    assert run.outputs["foundries"]["fdy-main"]["id"] == EXISTING
    assert run.outputs["foundries"]["fdy-main"]["endpoint"] == "https://fdy-shared.services.ai.azure.com/"


def test_a_stack_may_have_foundries_and_workspaces() -> None:
    workspaces = [{"name": "ws-main", "kind": "workspace", "deployments": [{"name": "ep", "model": "phi-4"}]}]
    run = run_program(config(workspaces=workspaces))

    assert len(run.of_type("azure-native:machinelearningservices:ServerlessEndpoint")) == 1
    assert len(run.of_type(f"{CS}:Deployment")) == 3


# --- bad input: named by key, nothing registered ---------------------------------------------------------------

DEPLOYMENTS = "azure-maas:foundries[0].deployments"
CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "serverless-only-model",
        config(foundry(deployments=[{"name": "phi", "model": "phi-4"}])),
        [
            f"{DEPLOYMENTS}[0].model: Phi-4 (azureml://registries/azureml/models/Phi-4) is not offered on Foundry "
            "resources, only as: serverless API ('serverless'); choose a Foundry model (`maas models --channel foundry`)"
        ],
    ),
    (
        "unknown-model",
        config(foundry(deployments=[{"name": "dx", "model": "mistral-larg-3"}])),
        [
            f"{DEPLOYMENTS}[0].model: 'mistral-larg-3' is not in the model catalog; did you mean 'mistral-large-3' or "
            "'mistral-large-2411' or 'mistral-large-2407'? "
            "`maas models --channel foundry` lists the Foundry models, or give 'format', 'modelName' and 'version'"
        ],
    ),
    (
        "sku-not-offered",
        config(foundry(deployments=[{"name": "dx", "model": "mistral-medium-2505", "sku": "Standard"}])),
        [f"{DEPLOYMENTS}[0].sku: Mistral Medium 3 (25.05) is not offered as 'Standard'; offered: GlobalStandard"],
    ),
    (
        "region-not-offered-for-the-sku",
        config(
            foundry(deployments=[{"name": "dx", "model": "mistral-large-3", "sku": "DataZoneStandard"}]),
            location="canadaeast",
            allowedRegions=["canadaeast"],
        ),
        [
            f"{DEPLOYMENTS}[0].sku: Mistral Large 3 is not offered in 'canadaeast' as 'DataZoneStandard'; offered: "
            "GlobalStandard in australiaeast, brazilsouth, canadaeast, eastus, eastus2, francecentral, "
            "germanywestcentral, italynorth, japaneast, koreacentral, northcentralus, norwayeast, polandcentral, "
            "southafricanorth, southcentralus, southindia, spaincentral, swedencentral, switzerlandnorth, "
            "switzerlandwest, uaenorth, uksouth, westeurope, westus, westus3, DataZoneStandard in centralus, eastus, "
            "eastus2, francecentral, germanywestcentral, italynorth, northcentralus, polandcentral, southcentralus, "
            "spaincentral, swedencentral, westcentralus, westeurope, westus, westus2, westus3"
        ],
    ),
    (
        "unknown-content-filter",
        config(foundry(deployments=[{"name": "dx", "model": "mistral-large-3", "contentFilter": "strcit"}])),
        [
            f"{DEPLOYMENTS}[0].contentFilter: 'strcit' is not a content filter of 'fdy-main'; valid: strict, "
            "Microsoft.DefaultV2, Microsoft.Default"
        ],
    ),
    (
        "model-and-raw-model",
        config(foundry(deployments=[{"name": "dx", "model": "mistral-large-3", "format": "Mistral AI"}])),
        [
            f"{DEPLOYMENTS}[0]: set exactly one of 'model' (a catalog key) or 'format' with 'modelName' (and "
            "'version') as the Models API names them"
        ],
    ),
    (
        "raw-model-without-version",
        config(foundry(deployments=[{"name": "dx", "format": "Contoso", "modelName": "c-1"}])),
        [f"{DEPLOYMENTS}[0].version: required with 'format' and 'modelName' (the catalog does not know them)"],
    ),
    (
        "duplicate-deployment-name",
        config(
            foundry(deployments=[{"name": "dx", "model": "mistral-large-3"}, {"name": "DX", "model": "ministral-3b"}])
        ),
        [f"{DEPLOYMENTS}[1].name: 'DX' is already the name of deployments[0]; names are unique here"],
    ),
    (
        "bad-deployment-name",
        config(foundry(deployments=[{"name": "a/b", "model": "mistral-large-3"}])),
        [
            f"{DEPLOYMENTS}[0].name: 'a/b' is not a valid deployment name: 2-64 characters: letters, digits, '.', "
            "'_' or '-', starting and ending with a letter or digit"
        ],
    ),
    (
        "unknown-sku",
        config(foundry(deployments=[{"name": "dx", "model": "mistral-large-3", "sku": "Global"}])),
        [
            f"{DEPLOYMENTS}[0].sku: 'Global' is not a deployment type; valid: GlobalStandard, DataZoneStandard, "
            "Standard, GlobalProvisionedManaged, DataZoneProvisionedManaged, ProvisionedManaged, GlobalBatch, "
            "DataZoneBatch, DeveloperTier"
        ],
    ),
    (
        "existing-without-subdomain",
        config(foundry(id=EXISTING)),
        [
            "azure-maas:foundries[0].subdomain: required with 'id': the existing resource's custom subdomain, as in "
            "https://<subdomain>.services.ai.azure.com"
        ],
    ),
    (
        "existing-with-network-setting",
        config(foundry(id=EXISTING, subdomain="fdy-shared", publicNetworkAccess="Disabled")),
        ["azure-maas:foundries[0].publicNetworkAccess: only valid for a Foundry resource this stack creates (no 'id')"],
    ),
    (
        "deployer-at-a-project",
        config(
            access=[
                {
                    "principalId": SP,
                    "principalType": "ServicePrincipal",
                    "role": "deployer",
                    "scope": "fdy-main/proj-chat",
                }
            ]
        ),
        [
            "azure-maas:access[0].scope: 'deployer' at project 'fdy-main/proj-chat': deployments are the Foundry "
            "resource's, not a project's; use scope 'fdy-main'"
        ],
    ),
    (
        "deployer-roles-without-foundry",
        config(
            access=[{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}],
            deployerRoles={
                "marketplace": "0fc6114f-d1ba-5963-b15f-5d7deed1e9db",
                "saas": "635bd9e0-7716-59e5-b2ad-648892f80768",
                "serverless": "cc128442-e27e-54cd-b386-18d0b519b0c2",
            },
        ),
        [
            "azure-maas:deployerRoles.foundry: required: 'deployer' at azure-maas:access[0] covers the stack's "
            "Foundry resources; set it to the bootstrap's Foundry Deployer role (scripts/bootstrap.sh prints it)"
        ],
    ),
    (
        "unknown-project-scope",
        config(access=[{"principalId": SP, "principalType": "User", "role": "developer", "scope": "fdy-main/nope"}]),
        [
            "azure-maas:access[0].scope: 'fdy-main/nope' is not a scope; valid: resourceGroup, fdy-main, "
            "fdy-main/proj-chat, fdy-main/proj-docs"
        ],
    ),
    (
        "same-subdomain-twice",
        config(foundry(subdomain="shared-sub"), foundry(name="fdy-two", subdomain="shared-sub")),
        [
            "azure-maas:foundries[1]: would share the custom subdomain 'shared-sub' with azure-maas:foundries[0]; "
            "subdomains are globally unique: set another 'subdomain'"
        ],
    ),
    (
        "foundry-named-like-a-workspace",
        config(foundry(name="ws-main"), workspaces=[{"name": "ws-main", "kind": "workspace"}]),
        ["azure-maas:foundries[0].name: 'ws-main' is already a workspace's name; access[].scope names both"],
    ),
]


@pytest.mark.parametrize(("given", "expected"), [pytest.param(c, e, id=i) for i, c, e in CASES])
def test_bad_input_is_named_by_key_and_nothing_is_registered(given: dict[str, str], expected: list[str]) -> None:
    run, error = execute(given)

    assert isinstance(error, pulumi.RunError), error
    assert str(error).splitlines()[1:] == [f"  {line}" for line in expected]
    assert run.resources == []


def test_the_outputs_hold_to_the_documented_stack_outputs() -> None:
    """Every Foundry output the program exports is documented (infra/outputs.py), and nothing more."""
    from infra.outputs import STACK_OUTPUTS
    from tests.test_docs import paths

    run = run_program(config(foundry(localAuth=True)))
    outputs = {**run.outputs, "foundryKeys": run.outputs["foundryKeys"]["value"]}
    maps = frozenset({"foundries", "foundryDeployments", "foundryKeys"})
    opaque = frozenset({"foundries.<name>.projects", "foundryKeys.<name>"})
    exported = [p for p in paths(outputs, maps=maps, opaque=opaque) if p.startswith("foundr")]

    assert sorted(exported) == sorted(p for p in STACK_OUTPUTS if p.startswith("foundr"))


def test_a_retired_model_is_named_as_foundry_names_it() -> None:
    run, error = execute(config(foundry(deployments=[{"name": "docs", "model": "mistral-document-ai-2505"}])))

    assert isinstance(error, pulumi.RunError)
    assert str(error).splitlines()[1:] == [
        f"  {DEPLOYMENTS}[0].model: Mistral Document AI 25.05 (Mistral AI/mistral-document-ai-2505) was retired on "
        "2026-07-15; use 'mistral-document-ai-2512' (Mistral AI/mistral-document-ai-2512) instead; set allowRetired: "
        "true to deploy it anyway"
    ]
    assert run.resources == []


def test_allow_retired_deploys_it_anyway() -> None:
    deployments = [{"name": "docs", "model": "mistral-document-ai-2505", "allowRetired": True}]
    run = run_program(config(foundry(deployments=deployments)))

    [deployment] = run.of_type(f"{CS}:Deployment")
    assert deployment.inputs["properties"]["model"]["name"] == "mistral-document-ai-2505"
    # An OCR model answers no chat route: no chat URL (Pulumi leaves null values out of outputs).
    assert "chatCompletionsUrl" not in run.outputs["foundryDeployments"]["fdy-main/docs"]
    assert run.outputs["foundryDeployments"]["fdy-main/docs"]["api"] == "ocr"


def test_the_default_subdomain_is_the_name_and_a_stable_hash() -> None:
    import hashlib

    digest = hashlib.sha256("\x1f".join([SUBSCRIPTION_ID, RG, "foundry", "Fdy--Main-"]).encode()).hexdigest()[:6]

    assert names.foundry_subdomain(SUBSCRIPTION_ID, RG, account="Fdy--Main-") == f"fdy-main-{digest}"
    assert (
        names.foundry_subdomain(SUBSCRIPTION_ID, RG, account="a" * 64)
        == f"{'a' * 57}-"
        + hashlib.sha256("\x1f".join([SUBSCRIPTION_ID, RG, "foundry", "a" * 64]).encode()).hexdigest()[:6]
    )
    assert names.SUBDOMAIN.problem(names.foundry_subdomain(SUBSCRIPTION_ID, RG, account="a" * 64)) is None


def test_deployer_gets_the_foundry_deployer_role_at_each_foundry_resource() -> None:
    run = run_program(config(access=[{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}]))
    definitions = {r.name: r.inputs for r in run.of_type("azure-native:authorization:RoleDefinition")}
    rg_id = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RG}"

    assert sorted(definitions) == [f"access-{key}-role" for key in ("foundry", "marketplace", "saas", "serverless")]
    assert definitions["access-foundry-role"]["permissions"] == [
        {
            "actions": [
                "Microsoft.CognitiveServices/accounts/read",
                "Microsoft.CognitiveServices/accounts/deployments/*",
                "Microsoft.CognitiveServices/accounts/raiPolicies/*",
            ]
        }
    ]
    assert definitions["access-foundry-role"]["assignableScopes"] == [rg_id]
    assignments = {r.name: r.inputs["scope"] for r in run.of_type("azure-native:authorization:RoleAssignment")}
    assert assignments == {
        f"access-{SP}-deployer-marketplace-subscription": f"/subscriptions/{SUBSCRIPTION_ID}",
        f"access-{SP}-deployer-saas-resourceGroup": rg_id,
        f"access-{SP}-deployer-foundry-fdy-main": f"{ACCOUNT_ID}/fdy-main",
    }


def test_a_stack_without_foundry_resources_creates_no_foundry_deployer_role() -> None:
    workspaces = [{"name": "ws-main", "kind": "workspace", "deployments": [{"name": "ep", "model": "phi-4"}]}]
    grant = {"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}
    run = run_program(stack(location="eastus2", workspaces=workspaces, access=[grant]))

    names_ = sorted(r.name for r in run.of_type("azure-native:authorization:RoleDefinition"))
    assert names_ == ["access-marketplace-role", "access-saas-role", "access-serverless-role"]
