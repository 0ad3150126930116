"""The program under Pulumi's mocks: resource graph, properties, dependencies, outputs and secrets."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from infra import names, roles
from tests.conftest import minimal
from tests.harness import SECRET_SIG, SIG_KEY, SUBSCRIPTION_ID, TENANT_ID, Registration, Run, run_program

STACK = "urn:pulumi:dev::azure-maas::pulumi:pulumi:Stack::azure-maas-dev"
RG_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-maas-dev"
WS_PREFIX = f"{RG_ID}/providers/Microsoft.MachineLearningServices/workspaces"
SP = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
GROUP = "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c"
USER = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
DEV_TAGS = {
    "environment": "dev",
    "cost-center": "ai-platform",
    "managed-by": "pulumi",
    "pulumi-project": "azure-maas",
    "pulumi-stack": "dev",
}


def urn(*types_and_name: str) -> str:
    *types, name = types_and_name
    return f"urn:pulumi:dev::azure-maas::{'$'.join(types)}::{name}"


WS = "azure-maas:index:Workspace"
MD = "azure-maas:index:ModelDeployment"
AC = "azure-maas:index:Access"
ML = "azure-native:machinelearningservices"
AUTH = "azure-native:authorization"


@pytest.fixture
def dev(dev_config: dict[str, str]) -> Run:
    return run_program(dev_config)


def test_dev_stack_registers_exactly_its_resource_graph(dev: Run) -> None:
    assert sorted((r.urn, r.parent) for r in dev.resources) == sorted(
        [
            (urn("pulumi:pulumi:Stack", "azure-native:resources:ResourceGroup", "rg-maas-dev"), STACK),
            (urn("pulumi:pulumi:Stack", WS, "hub-maas-dev"), STACK),
            (
                urn(WS, "azure-native:storage:StorageAccount", "hub-maas-dev-storage"),
                urn("pulumi:pulumi:Stack", WS, "hub-maas-dev"),
            ),
            (
                urn(WS, "azure-native:keyvault:Vault", "hub-maas-dev-keyvault"),
                urn("pulumi:pulumi:Stack", WS, "hub-maas-dev"),
            ),
            (urn(WS, f"{ML}:Workspace", "hub-maas-dev-workspace"), urn("pulumi:pulumi:Stack", WS, "hub-maas-dev")),
            (urn("pulumi:pulumi:Stack", WS, "proj-chat"), STACK),
            (urn(WS, f"{ML}:Workspace", "proj-chat-workspace"), urn("pulumi:pulumi:Stack", WS, "proj-chat")),
            (urn("pulumi:pulumi:Stack", WS, "proj-eval"), STACK),
            (urn(WS, f"{ML}:Workspace", "proj-eval-workspace"), urn("pulumi:pulumi:Stack", WS, "proj-eval")),
            (urn(WS, MD, "chat-mistral-medium"), urn("pulumi:pulumi:Stack", WS, "proj-chat")),
            (
                urn(MD, f"{ML}:MarketplaceSubscription", "chat-mistral-medium-subscription"),
                urn(WS, MD, "chat-mistral-medium"),
            ),
            (
                urn(MD, f"{ML}:ServerlessEndpoint", "chat-mistral-medium-endpoint"),
                urn(WS, MD, "chat-mistral-medium"),
            ),
            (urn(WS, MD, "chat-ministral"), urn("pulumi:pulumi:Stack", WS, "proj-chat")),
            (
                urn(MD, f"{ML}:MarketplaceSubscription", "chat-ministral-subscription"),
                urn(WS, MD, "chat-ministral"),
            ),
            (
                urn(MD, f"{ML}:ServerlessEndpoint", "chat-ministral-endpoint"),
                urn(WS, MD, "chat-ministral"),
            ),
            (urn(WS, MD, "eval-phi4"), urn("pulumi:pulumi:Stack", WS, "proj-eval")),
            (urn(MD, f"{ML}:ServerlessEndpoint", "eval-phi4-endpoint"), urn(WS, MD, "eval-phi4")),
            (urn("pulumi:pulumi:Stack", AC, "access"), STACK),
            (urn(AC, f"{AUTH}:RoleDefinition", "access-marketplace-role"), urn("pulumi:pulumi:Stack", AC, "access")),
            (urn(AC, f"{AUTH}:RoleDefinition", "access-saas-role"), urn("pulumi:pulumi:Stack", AC, "access")),
            (urn(AC, f"{AUTH}:RoleDefinition", "access-serverless-role"), urn("pulumi:pulumi:Stack", AC, "access")),
            (
                urn(AC, f"{AUTH}:RoleAssignment", f"access-{GROUP}-developer-resourceGroup"),
                urn("pulumi:pulumi:Stack", AC, "access"),
            ),
            (
                urn(AC, f"{AUTH}:RoleAssignment", f"access-{SP}-deployer-marketplace-subscription"),
                urn("pulumi:pulumi:Stack", AC, "access"),
            ),
            (
                urn(AC, f"{AUTH}:RoleAssignment", f"access-{SP}-deployer-saas-resourceGroup"),
                urn("pulumi:pulumi:Stack", AC, "access"),
            ),
            (
                urn(AC, f"{AUTH}:RoleAssignment", f"access-{SP}-deployer-serverless-proj-chat"),
                urn("pulumi:pulumi:Stack", AC, "access"),
            ),
            (
                urn(AC, f"{AUTH}:RoleAssignment", f"access-{SP}-deployer-serverless-proj-eval"),
                urn("pulumi:pulumi:Stack", AC, "access"),
            ),
            (
                urn(AC, f"{AUTH}:RoleAssignment", f"access-{USER}-role-acdd72a7-3385-48ef-bd42-f606fba81ae7-proj-eval"),
                urn("pulumi:pulumi:Stack", AC, "access"),
            ),
        ]
    )


def test_hub_has_its_own_storage_and_key_vault_and_projects_point_at_it(dev: Run) -> None:
    hub = dev.by_name("hub-maas-dev-workspace")
    storage = dev.by_name("hub-maas-dev-storage")
    vault = dev.by_name("hub-maas-dev-keyvault")
    account = names.storage_account_name(SUBSCRIPTION_ID, "rg-maas-dev", workspace="hub-maas-dev")
    vault_name = names.key_vault_name(SUBSCRIPTION_ID, "rg-maas-dev", workspace="hub-maas-dev")

    assert hub.inputs["kind"] == "Hub"
    assert hub.inputs["storageAccount"] == f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/{account}"
    assert hub.inputs["keyVault"] == f"{RG_ID}/providers/Microsoft.KeyVault/vaults/{vault_name}"
    assert hub.inputs["identity"] == {"type": "SystemAssigned"}
    assert hub.property_dependencies["storageAccount"] == (storage.urn,)
    assert hub.property_dependencies["keyVault"] == (vault.urn,)
    assert storage.inputs["accountName"] == account
    assert (storage.inputs["allowBlobPublicAccess"], storage.inputs["minimumTlsVersion"]) == (False, "TLS1_2")
    assert vault.inputs["properties"]["tenantId"] == TENANT_ID
    assert vault.inputs["properties"]["enableRbacAuthorization"] is True
    for project in ("proj-chat", "proj-eval"):
        workspace = dev.by_name(f"{project}-workspace")
        assert workspace.inputs["kind"] == "Project"
        assert workspace.inputs["workspaceName"] == project
        assert workspace.inputs["hubResourceId"] == f"{WS_PREFIX}/hub-maas-dev"
        assert workspace.property_dependencies["hubResourceId"] == (hub.urn,)
        assert "storageAccount" not in workspace.inputs
        assert "keyVault" not in workspace.inputs


def test_endpoints_have_the_configured_model_auth_and_content_safety(dev: Run) -> None:
    endpoint = dev.by_name("chat-ministral-endpoint")

    assert endpoint.inputs == {
        "name": "chat-ministral",
        "resourceGroupName": "rg-maas-dev",
        "workspaceName": "proj-chat",
        "location": "eastus2",
        "sku": {"name": "Consumption"},
        "properties": {
            "authMode": "KeyAndAAD",
            "modelSettings": {"modelId": "azureml://registries/azureml-mistral/models/Ministral-3B"},
            "contentSafety": {"contentSafetyStatus": "Enabled"},
        },
        "tags": DEV_TAGS,
    }
    assert dev.by_name("eval-phi4-endpoint").inputs["properties"]["authMode"] == "AAD"


def test_endpoints_depend_on_their_subscription_and_delete_before_replace(dev: Run) -> None:
    for endpoint_name, model in (("chat-mistral-medium", "mistral-medium-2505"), ("chat-ministral", "Ministral-3B")):
        subscription = dev.by_name(f"{endpoint_name}-subscription")
        endpoint = dev.by_name(f"{endpoint_name}-endpoint")
        assert subscription.inputs == {
            "name": model,
            "resourceGroupName": "rg-maas-dev",
            "workspaceName": "proj-chat",
            "properties": {"modelId": f"azureml://registries/azureml-mistral/models/{model}"},
        }
        assert subscription.urn in endpoint.dependencies
        assert endpoint.delete_before_replace is True
        assert subscription.delete_before_replace is None  # not set: the engine's default
    assert all((r.delete_before_replace is True) == r.type.endswith(":ServerlessEndpoint") for r in dev.resources)


def test_microsoft_registry_model_gets_no_subscription(dev: Run) -> None:
    phi = dev.by_name("eval-phi4-endpoint")

    assert sorted(r.name for r in dev.of_type(f"{ML}:MarketplaceSubscription")) == [
        "chat-ministral-subscription",
        "chat-mistral-medium-subscription",
    ]
    assert not any(dev.by_urn(d).type.endswith("MarketplaceSubscription") for d in phi.dependencies)


def test_a_model_in_two_workspaces_gets_one_subscription_in_each() -> None:
    config = minimal(
        workspaces=[
            {
                "name": "ws-one",
                "kind": "workspace",
                "deployments": [{"name": "codestral-one", "model": "codestral-2501"}],
            },
            {
                "name": "ws-two",
                "kind": "workspace",
                "deployments": [
                    {"name": "codestral-two", "modelId": "azureml://registries/azureml-mistral/models/codestral-2501"},
                    {"name": "phi-two", "model": "phi-4"},
                ],
            },
        ]
    )

    run = run_program(config)

    subscriptions = sorted(
        (r.inputs["workspaceName"], r.inputs["name"], r.inputs["properties"]["modelId"])
        for r in run.of_type(f"{ML}:MarketplaceSubscription")
    )
    assert subscriptions == [
        ("ws-one", "Codestral-2501", "azureml://registries/azureml-mistral/models/Codestral-2501"),
        ("ws-two", "Codestral-2501", "azureml://registries/azureml-mistral/models/Codestral-2501"),
    ]


def test_standalone_workspace_gets_its_own_storage_and_key_vault() -> None:
    run = run_program(minimal())

    workspace = run.by_name("ws-main-workspace")
    assert workspace.inputs["kind"] == "Default"
    assert workspace.property_dependencies["storageAccount"] == (run.by_name("ws-main-storage").urn,)
    assert workspace.property_dependencies["keyVault"] == (run.by_name("ws-main-keyvault").urn,)
    assert "hubResourceId" not in workspace.inputs
    assert run.by_name("rg-azure-maas-dev").inputs["resourceGroupName"] == "rg-azure-maas-dev"


def test_existing_workspace_and_group_create_nothing_but_the_deployment() -> None:
    ws_id = (
        "/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/resourceGroups/rg-ml"
        "/providers/Microsoft.MachineLearningServices/workspaces/mlw-shared"
    )
    config = minimal(
        resourceGroup={"name": "rg-existing", "create": False},
        workspaces=[
            {
                "name": "shared",
                "kind": "existing",
                "id": ws_id,
                "deployments": [
                    {"name": "phi-mini", "modelId": "azureml://registries/azureml/models/Phi-4-mini-instruct"}
                ],
            }
        ],
    )

    run = run_program(config)

    assert sorted(r.type for r in run.resources) == [
        "azure-maas:index:ModelDeployment",
        "azure-maas:index:Workspace",
        f"{ML}:ServerlessEndpoint",
    ]
    endpoint = run.by_name("phi-mini-endpoint")
    assert (endpoint.inputs["resourceGroupName"], endpoint.inputs["workspaceName"]) == ("rg-ml", "mlw-shared")
    assert run.outputs["workspaces"] == {"shared": {"name": "mlw-shared", "id": ws_id}}
    assert run.outputs["resourceGroup"] == {
        "name": "rg-existing",
        "id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-existing",
    }


def test_existing_hub_is_referenced_by_its_id() -> None:
    hub_id = (
        "/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/resourceGroups/rg-hub"
        "/providers/Microsoft.MachineLearningServices/workspaces/hub-shared"
    )
    config = minimal(
        hub={"id": hub_id},
        workspaces=[{"name": "proj-a", "kind": "project", "deployments": [{"name": "phi", "model": "phi-4"}]}],
    )

    run = run_program(config)

    assert [r.name for r in run.of_type(f"{ML}:Workspace")] == ["proj-a-workspace"]
    assert run.by_name("proj-a-workspace").inputs["hubResourceId"] == hub_id
    assert run.outputs["hub"] == {"name": "hub-shared", "id": hub_id}


def test_endpoint_names_alone_name_deployments_so_workspace_prefixes_cannot_collide() -> None:
    config = minimal(
        workspaces=[
            {"name": "app", "kind": "workspace", "deployments": [{"name": "chat-x", "model": "phi-4"}]},
            {"name": "app-chat", "kind": "workspace", "deployments": [{"name": "x", "model": "phi-4"}]},
        ]
    )

    run = run_program(config)

    assert sorted(r.urn for r in run.of_type(MD)) == [urn(WS, MD, "chat-x"), urn(WS, MD, "x")]
    assert len({r.urn for r in run.resources}) == len(run.resources)


def test_content_safety_off_is_disabled_and_on_by_default() -> None:
    config = minimal(
        workspaces=[
            {
                "name": "ws-main",
                "kind": "workspace",
                "deployments": [
                    {"name": "raw", "model": "codestral-2501", "contentSafety": False},
                    {"name": "safe", "model": "phi-4"},
                ],
            }
        ]
    )

    run = run_program(config)

    assert run.by_name("raw-endpoint").inputs["properties"]["contentSafety"] == {"contentSafetyStatus": "Disabled"}
    assert run.by_name("safe-endpoint").inputs["properties"]["contentSafety"] == {"contentSafetyStatus": "Enabled"}


def test_retired_model_deploys_when_allowed() -> None:
    config = minimal(
        workspaces=[
            {
                "name": "ws-main",
                "kind": "workspace",
                "deployments": [{"name": "old", "model": "jamba-instruct", "allowRetired": True}],
            }
        ]
    )

    run = run_program(config)

    assert run.by_name("old-endpoint").inputs["properties"]["modelSettings"] == {
        "modelId": "azureml://registries/azureml-ai21/models/AI21-Jamba-Instruct"
    }


def test_every_taggable_resource_carries_the_standard_tags(dev: Run) -> None:
    taggable = {
        "azure-native:resources:ResourceGroup",
        "azure-native:storage:StorageAccount",
        "azure-native:keyvault:Vault",
        f"{ML}:Workspace",
        f"{ML}:ServerlessEndpoint",
    }
    for resource in dev.resources:
        if resource.type in taggable:
            assert resource.inputs["tags"] == DEV_TAGS, resource.urn
        else:
            assert "tags" not in resource.inputs, resource.urn


def _assignments(run: Run) -> dict[str, dict[str, Any]]:
    return {r.name: dict(r.inputs) for r in run.of_type(f"{AUTH}:RoleAssignment")}


def test_developer_gets_azure_ai_developer_on_the_resource_group(dev: Run) -> None:
    role_id = (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{roles.AZURE_AI_DEVELOPER}"
    )

    assert _assignments(dev)[f"access-{GROUP}-developer-resourceGroup"] == {
        "roleAssignmentName": names.deterministic_guid(RG_ID, GROUP, role_id),
        "principalId": GROUP,
        "principalType": "Group",
        "roleDefinitionId": role_id,
        "scope": RG_ID,
    }


def test_role_guid_is_assigned_at_the_named_workspace(dev: Run) -> None:
    reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    role_id = f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{reader}"
    name = f"access-{USER}-role-{reader}-proj-eval"

    assignment = dev.by_name(name)
    assert assignment.inputs["scope"] == f"{WS_PREFIX}/proj-eval"
    assert assignment.inputs["roleDefinitionId"] == role_id
    assert assignment.inputs["roleAssignmentName"] == names.deterministic_guid(f"{WS_PREFIX}/proj-eval", USER, role_id)
    assert assignment.property_dependencies["scope"] == (dev.by_name("proj-eval-workspace").urn,)


def test_deployer_gets_each_permission_at_the_scope_the_docs_name(dev: Run) -> None:
    definitions = {r.name: r for r in dev.of_type(f"{AUTH}:RoleDefinition")}
    by_key = {role.key: role for role in roles.DEPLOYER_ROLES}
    for key, scopes in {
        "marketplace": [f"/subscriptions/{SUBSCRIPTION_ID}"],
        "saas": [RG_ID],
        "serverless": [RG_ID],
    }.items():
        definition = definitions[f"access-{key}-role"]
        assert definition.inputs["permissions"] == [{"actions": list(by_key[key].actions)}]
        assert definition.inputs["assignableScopes"] == scopes
        assert definition.inputs["scope"] == f"/subscriptions/{SUBSCRIPTION_ID}"
        assert definition.inputs["roleType"] == "CustomRole"
        assert dev.by_name("rg-maas-dev").urn in definition.dependencies

    assignments = _assignments(dev)
    expected_scopes = {
        f"access-{SP}-deployer-marketplace-subscription": f"/subscriptions/{SUBSCRIPTION_ID}",
        f"access-{SP}-deployer-saas-resourceGroup": RG_ID,
        f"access-{SP}-deployer-serverless-proj-chat": f"{WS_PREFIX}/proj-chat",
        f"access-{SP}-deployer-serverless-proj-eval": f"{WS_PREFIX}/proj-eval",
    }
    for name, scope in expected_scopes.items():
        key = name.split("-deployer-")[1].split("-")[0]
        definition = definitions[f"access-{key}-role"]
        assert assignments[name]["scope"] == scope
        assert assignments[name]["principalType"] == "ServicePrincipal"
        assert dev.by_name(name).property_dependencies["roleDefinitionId"] == (definition.urn,)


def test_no_access_means_no_access_component() -> None:
    run = run_program(minimal())

    assert [r for r in run.resources if r.type.startswith(AUTH) or r.type == AC] == []


def _identity(run: Run) -> list[tuple[str, Any]]:
    return sorted((r.urn, r.inputs) for r in run.resources)


def test_names_are_identical_across_two_runs(dev_config: dict[str, str]) -> None:
    first, second = run_program(dev_config), run_program(dev_config)

    assert _identity(first) == _identity(second)
    assert len(first.resources) == 27


def test_only_key_endpoints_read_keys_and_keys_are_secret(dev: Run) -> None:
    assert sorted(args["name"] for token, args in dev.invokes if token.endswith(":listServerlessEndpointKeys")) == [
        "chat-ministral",
        "chat-mistral-medium",
    ]
    keys = dev.outputs["endpointKeys"]
    assert keys[SIG_KEY] == SECRET_SIG
    assert keys["value"] == {
        "chat-mistral-medium": {"primaryKey": "pk-chat-mistral-medium", "secondaryKey": "sk-chat-mistral-medium"},
        "chat-ministral": {"primaryKey": "pk-chat-ministral", "secondaryKey": "sk-chat-ministral"},
    }
    assert "pk-" not in repr({k: v for k, v in dev.outputs.items() if k != "endpointKeys"})


def test_stack_outputs_describe_every_endpoint(dev: Run) -> None:
    def endpoint(workspace: str, name: str, model_id: str, auth: str) -> dict[str, Any]:
        uri = f"https://{name}.eastus2.models.ai.azure.com"
        return {
            "workspace": workspace,
            "modelId": model_id,
            "api": "chat",
            "inferenceUri": uri,
            "chatCompletionsUrl": f"{uri}/chat/completions",
            "nativeChatCompletionsUrl": f"{uri}/v1/chat/completions",
            "authMode": auth,
            "contentSafety": True,
            "rateLimits": {"tokensPerMinute": 200000, "requestsPerMinute": 1000},
        }

    assert dev.outputs["endpoints"] == {
        "chat-mistral-medium": endpoint(
            "proj-chat", "chat-mistral-medium", "azureml://registries/azureml-mistral/models/mistral-medium-2505", "Key"
        ),
        "chat-ministral": endpoint(
            "proj-chat", "chat-ministral", "azureml://registries/azureml-mistral/models/Ministral-3B", "KeyAndAAD"
        ),
        "eval-phi4": endpoint("proj-eval", "eval-phi4", "azureml://registries/azureml/models/Phi-4", "AAD"),
    }
    assert dev.outputs["resourceGroup"] == {"name": "rg-maas-dev", "id": RG_ID}

    assert dev.outputs["hub"] == {"name": "hub-maas-dev", "id": f"{WS_PREFIX}/hub-maas-dev"}
    assert dev.outputs["workspaces"] == {
        "proj-chat": {"name": "proj-chat", "id": f"{WS_PREFIX}/proj-chat"},
        "proj-eval": {"name": "proj-eval", "id": f"{WS_PREFIX}/proj-eval"},
    }


def test_an_ocr_model_gets_no_chat_urls() -> None:
    """An OCR / document AI model (deployable only with allowRetired here) answers no chat route."""
    config = minimal(
        location="swedencentral",
        workspaces=[
            {
                "name": "ws-docs",
                "kind": "workspace",
                "deployments": [{"name": "docs", "model": "mistral-document-ai-2505", "allowRetired": True}],
            }
        ],
    )

    run = run_program(config)

    [endpoint] = run.outputs["endpoints"].values()
    assert endpoint["api"] == "ocr"
    assert "chatCompletionsUrl" not in endpoint  # the engine drops a null output value
    assert "nativeChatCompletionsUrl" not in endpoint
    assert endpoint["inferenceUri"] == "https://docs.swedencentral.models.ai.azure.com"


def test_env_overrides_replace_scalar_keys(dev_config: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_MAAS_LOCATION", "Sweden Central")
    monkeypatch.setenv("AZURE_MAAS_RESOURCE_GROUP_NAME", "rg-from-pipeline")
    monkeypatch.setenv("AZURE_MAAS_RESOURCE_GROUP_CREATE", "false")

    run = run_program(dev_config)

    assert run.of_type("azure-native:resources:ResourceGroup") == []
    assert {r.inputs["location"] for r in run.resources if "location" in r.inputs} == {"swedencentral"}
    assert {r.inputs["resourceGroupName"] for r in run.resources if "resourceGroupName" in r.inputs} == {
        "rg-from-pipeline"
    }


def test_location_falls_back_to_the_provider_location() -> None:
    config = {k: v for k, v in minimal().items() if k != "azure-maas:location"} | {"azure-native:location": "westus3"}

    run = run_program(config)

    assert run.by_name("small-endpoint").inputs["location"] == "westus3"


def test_preview_with_unknown_outputs_does_not_crash(dev_config: dict[str, str]) -> None:
    run = run_program(dev_config, preview=True)

    assert len(run.resources) == 27


def _longest_chain(run: Run) -> int:
    by_urn: dict[str, Registration] = {r.urn: r for r in run.resources}

    @cache
    def depth(urn: str) -> int:
        resource = by_urn[urn]
        edges = [u for u in resource.dependencies if u in by_urn]
        return 1 + max((depth(u) for u in edges), default=0)

    return max(depth(u) for u in by_urn)


def _stack_with(deployments: int) -> dict[str, str]:
    return minimal(
        hub={"name": "hub-bench"},
        workspaces=[
            {
                "name": f"proj-{i:03d}",
                "kind": "project",
                "deployments": [{"name": f"ep-{i:03d}", "model": "mistral-medium-2505"}],
            }
            for i in range(deployments)
        ],
        access=[{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}],
    )


def test_longest_dependency_chain_does_not_grow_with_deployments() -> None:
    small, large = run_program(_stack_with(1)), run_program(_stack_with(12))

    assert len(large.of_type(f"{ML}:ServerlessEndpoint")) == 12
    # resource group -> hub storage -> hub -> project -> subscription -> endpoint
    assert _longest_chain(small) == _longest_chain(large) == 6


def test_deployer_roles_assign_existing_role_definitions_and_register_none() -> None:
    """With ``azure-maas:deployerRoles`` (the bootstrap's roles) the program registers no RoleDefinition: the
    deploy identity needs no role-definition write. Each deployer assignment names the given role directly."""
    guids = {
        "marketplace": "0fc6114f-d1ba-5963-b15f-5d7deed1e9db",
        "saas": "635bd9e0-7716-59e5-b2ad-648892f80768",
        "serverless": "cc128442-e27e-54cd-b386-18d0b519b0c2",
    }
    run = run_program(
        minimal(
            access=[{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}],
            deployerRoles=guids,
        )
    )

    assert run.of_type(f"{AUTH}:RoleDefinition") == []
    role_ids = {
        r.name: (r.inputs["roleDefinitionId"], r.property_dependencies.get("roleDefinitionId", ()))
        for r in run.of_type(f"{AUTH}:RoleAssignment")
    }
    prefix = f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions"
    assert role_ids == {
        f"access-{SP}-deployer-marketplace-subscription": (f"{prefix}/{guids['marketplace']}", ()),
        f"access-{SP}-deployer-saas-resourceGroup": (f"{prefix}/{guids['saas']}", ()),
        f"access-{SP}-deployer-serverless-ws-main": (f"{prefix}/{guids['serverless']}", ()),
    }
