"""Request fidelity (issue 15 item 5): the ARM requests the provider would send for every resource type the program
creates, on both channels, checked against the Azure REST spec of the API version the installed SDK uses.

The specs are fragments of ``Azure/azure-rest-api-specs`` vendored under ``tests/specs/`` (source path and commit in
each); :mod:`tests.arm_bodies` builds the requests and judges them (its docstring lists the rules). The serverless
channel is checked on the program's own registrations (dev fixture, update and preview); the Foundry channel on
resources built here with the inputs of the channel's contract, and on the program's own registrations as soon as it
makes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest

from infra.engine.resource import Resource
from tests import arm_bodies
from tests.arm_bodies import OPERATIONS, UNKNOWN, Finding, fragments, operation, request, violations
from tests.harness import SECRET_SIG, SIG_KEY, SUBSCRIPTION_ID, Run, run_program

RG = "rg-maas-dev"
RG_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RG}"
ACCOUNT_ID = f"{RG_ID}/providers/Microsoft.CognitiveServices/accounts/fdy-main"
TAGS = {"managed-by": "pulumi", "pulumi-project": "azure-maas", "pulumi-stack": "dev"}
SERVERLESS_TYPES = {
    "azure-native:resources:ResourceGroup",
    "azure-native:storage:StorageAccount",
    "azure-native:keyvault:Vault",
    "azure-native:machinelearningservices:Workspace",
    "azure-native:machinelearningservices:MarketplaceSubscription",
    "azure-native:machinelearningservices:ServerlessEndpoint",
    "azure-native:authorization:RoleDefinition",
    "azure-native:authorization:RoleAssignment",
}
FOUNDRY_TYPES = {
    "azure-native:cognitiveservices:Account",
    "azure-native:cognitiveservices:Project",
    "azure-native:cognitiveservices:Deployment",
    "azure-native:cognitiveservices:RaiPolicy",
}
FOUNDRY_USER = "53ca6127-db72-4b80-b1b0-d745d6d5456d"


@cache
def fixture_run(stack: str, preview: bool) -> Run:
    """The program on the tests' own copy of a shipped stack (tests/data/project)."""
    from infra.engine.stack_files import read_stack_config
    from tests.conftest import PROJECT

    return run_program(read_stack_config(PROJECT / f"Pulumi.{stack}.yaml"), stack=stack, preview=preview)


def dev_run(preview: bool) -> Run:
    return fixture_run("dev", preview)


def custom(run: Run) -> list[Resource]:
    return [r for r in run.resources if r.custom]


def urn(component: str, type_: str, name: str) -> str:
    return f"urn:pulumi:dev::azure-maas::azure-maas:index:{component}${type_}::{name}"


# --- the fragments ---------------------------------------------------------------------------------------------------


def test_every_fragment_names_its_source_file_commit_and_api_version() -> None:
    assert len(fragments()) == 13
    for fragment in fragments().values():
        source = fragment.source
        assert source["repo"] == "Azure/azure-rest-api-specs", fragment.file.name
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), fragment.file.name
        assert source["path"].startswith("specification/"), fragment.file.name
        assert source["path"].endswith(".json"), fragment.file.name
        version = fragment.api_version
        if "common-types/resource-management/" in source["path"]:
            assert version is None, f"{fragment.file.name}: common types have no API version"
        else:
            assert version is not None, fragment.file.name
            assert f"/{version}/" in source["path"], fragment.file.name
        assert not list(descriptions(fragment.document)), f"{fragment.file.name}: trim the descriptions"


def descriptions(node: Any) -> Any:
    """Documentation text left in a fragment (a ``description`` key holding a string, not a property so named)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield value
            yield from descriptions(value)
    elif isinstance(node, list):
        for item in node:
            yield from descriptions(item)


def test_every_type_the_program_creates_has_a_vendored_put_operation() -> None:
    assert set(OPERATIONS) == SERVERLESS_TYPES | FOUNDRY_TYPES
    for type_ in OPERATIONS:
        op = operation(type_)
        assert op.path_parameters, type_
        assert set(op.path_parameters) == set(re.findall(r"\{(\w+)\}", op.path)) - {"subscriptionId"}, type_


@pytest.mark.parametrize("type_", sorted(OPERATIONS))
def test_fragment_api_version_is_the_one_the_sdk_uses(type_: str) -> None:
    assert operation(type_).fragment.api_version == arm_bodies.sdk_api_version(type_)


SDK_ONLY_ENUM_VALUES: Mapping[tuple[str, str], set[str]] = {
    ("azure-native:storage:StorageAccount", "minimumTlsVersion"): {"TLS1_3"},
    ("azure-native:authorization:RoleAssignment", "principalType"): {"Device", "AgentUser", "AgentServicePrincipal"},
    ("azure-native:cognitiveservices:RaiPolicy", "properties.contentFilters[].source"): {
        "PreToolCall",
        "PostToolCall",
        "PreRun",
        "PostRun",
    },
    ("azure-native:cognitiveservices:RaiPolicy", "properties.customBlocklists[].source"): {
        "PreToolCall",
        "PostToolCall",
        "PreRun",
        "PostRun",
    },
}
"""Values an SDK enum offers that the spec of the API version the SDK sends does not list. The SDK merges enums of
one name across API versions; these values come from other versions and the validator rejects them (see
``test_an_sdk_enum_value_the_spec_lacks_is_rejected``)."""

SDK_ONLY_INPUTS: Mapping[str, set[str]] = {
    "azure-native:cognitiveservices:RaiPolicy": {"properties.contentFilters[].action", "properties.safetyProviders"},
}
"""SDK inputs the vendored spec has no property for (SDK types merged from newer API versions): sending them is an
unknown property for the API version the SDK uses."""

SPEC_ONLY_INPUTS: Mapping[str, set[str]] = {
    "azure-native:keyvault:Vault": {"properties.provisioningState", "properties.vaultUri"},
    "azure-native:machinelearningservices:ServerlessEndpoint": {"properties.contentSafety.contentSafetyLevel"},
}
"""Writable spec properties the SDK does not offer (the program cannot send them)."""


@cache
def sdk_findings(type_: str) -> tuple[Finding, ...]:
    return tuple(arm_bodies.compare_sdk(type_))


@pytest.mark.parametrize("type_", sorted(OPERATIONS))
def test_sdk_enums_have_the_values_of_the_fragment(type_: str) -> None:
    """Each SDK enum an input of ``type_`` is typed with, against the enum of that property in the spec: every spec
    value is in the SDK; the SDK's extra values are exactly the known ones."""
    enums = [f for f in sdk_findings(type_) if f.kind == "enum"]
    extra: dict[tuple[str, str], set[str]] = {}
    for finding in enums:
        assert finding.spec_values is not None, f"{type_}: {finding.where} is the SDK enum {finding.enum}; spec: none"
        missing = set(finding.spec_values) - set(finding.sdk_values)
        assert not missing, f"{type_}: {finding.where}: SDK enum {finding.enum} lacks the spec's {sorted(missing)}"
        if set(finding.sdk_values) != set(finding.spec_values):
            extra[(type_, finding.where)] = set(finding.sdk_values) - set(finding.spec_values)
    assert extra == {k: v for k, v in SDK_ONLY_ENUM_VALUES.items() if k[0] == type_}


def test_the_enums_the_program_uses_are_compared() -> None:
    compared = {(t, f.where, f.enum) for t in OPERATIONS for f in sdk_findings(t) if f.kind == "enum"}
    for expected in [
        (
            "azure-native:machinelearningservices:ServerlessEndpoint",
            "properties.authMode",
            "ServerlessInferenceEndpointAuthMode",
        ),
        (
            "azure-native:machinelearningservices:ServerlessEndpoint",
            "properties.contentSafety.contentSafetyStatus",
            "ContentSafetyStatus",
        ),
        ("azure-native:machinelearningservices:Workspace", "identity.type", "ManagedServiceIdentityType"),
        ("azure-native:machinelearningservices:Workspace", "sku.tier", "SkuTier"),
        ("azure-native:storage:StorageAccount", "kind", "Kind"),
        ("azure-native:storage:StorageAccount", "sku.name", "SkuName"),
        ("azure-native:storage:StorageAccount", "minimumTlsVersion", "MinimumTlsVersion"),
        ("azure-native:keyvault:Vault", "properties.sku.family", "SkuFamily"),
        ("azure-native:keyvault:Vault", "properties.sku.name", "SkuName"),
        ("azure-native:authorization:RoleAssignment", "principalType", "PrincipalType"),
        ("azure-native:cognitiveservices:Account", "identity.type", "ResourceIdentityType"),
        ("azure-native:cognitiveservices:Account", "properties.publicNetworkAccess", "PublicNetworkAccess"),
        (
            "azure-native:cognitiveservices:Deployment",
            "properties.versionUpgradeOption",
            "DeploymentModelVersionUpgradeOption",
        ),
        ("azure-native:cognitiveservices:RaiPolicy", "properties.mode", "RaiPolicyMode"),
        ("azure-native:cognitiveservices:RaiPolicy", "properties.contentFilters[].severityThreshold", "ContentLevel"),
        ("azure-native:cognitiveservices:RaiPolicy", "properties.contentFilters[].source", "RaiPolicyContentSource"),
    ]:
        assert expected in compared, expected


@pytest.mark.parametrize("type_", sorted(OPERATIONS))
def test_sdk_inputs_are_the_writable_properties_of_the_fragment(type_: str) -> None:
    findings = sdk_findings(type_)
    assert {f.where for f in findings if f.kind == "sdk-only"} == SDK_ONLY_INPUTS.get(type_, set())
    assert {f.where for f in findings if f.kind == "spec-only"} == SPEC_ONLY_INPUTS.get(type_, set())


# --- the program's own requests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_program_registers_only_types_with_a_vendored_spec(preview: bool) -> None:
    types = {r.type for r in custom(dev_run(preview))}
    assert types >= SERVERLESS_TYPES, sorted(SERVERLESS_TYPES - types)
    assert types <= set(OPERATIONS), sorted(types - set(OPERATIONS))


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize(("stack", "types"), [("dev", SERVERLESS_TYPES), ("foundry", FOUNDRY_TYPES)])
def test_every_request_the_program_makes_conforms_to_the_spec(stack: str, types: set[str], preview: bool) -> None:
    """Every custom resource of the dev (serverless) and Foundry fixtures, whatever its type: no rule broken."""
    resources = custom(fixture_run(stack, preview))
    assert {r.type for r in resources} >= types, sorted(types - {r.type for r in resources})
    problems = [message for r in resources for message in violations(r.urn, r.type, r.inputs)]
    assert problems == []


def test_preview_requests_hold_unknowns_where_outputs_are_unknown() -> None:
    """The preview run does exercise the unknown-value path: IDs of other resources are unknown there."""
    unknown = [r.urn for r in custom(dev_run(True)) if UNKNOWN in str(dict(r.inputs))]
    assert len(unknown) >= 10


def test_serverless_endpoint_request_is_exactly_what_the_provider_sends() -> None:
    endpoint = next(r for r in custom(dev_run(False)) if r.name == "chat-mistral-medium-endpoint")
    sent = request(endpoint.type, endpoint.inputs)
    assert sent.url_parameters == {"resourceGroupName": RG, "workspaceName": "proj-chat", "name": "chat-mistral-medium"}
    assert sent.body == {
        "location": "eastus2",
        "sku": {"name": "Consumption"},
        "tags": {**TAGS, "cost-center": "ai-platform", "environment": "dev"},
        "properties": {
            "authMode": "Key",
            "contentSafety": {"contentSafetyStatus": "Enabled"},
            "modelSettings": {"modelId": "azureml://registries/azureml-mistral/models/mistral-medium-2505"},
        },
    }


def test_flattened_and_renamed_inputs_travel_under_their_wire_names() -> None:
    run = dev_run(False)
    storage = request("azure-native:storage:StorageAccount", run.by_name("hub-maas-dev-storage").inputs)
    assert storage.url_parameters == {"resourceGroupName": RG, "accountName": "sthubmaasdeve05513"}
    assert storage.body["properties"] == {
        "allowBlobPublicAccess": False,
        "minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": True,
    }
    assert set(storage.body) == {"sku", "kind", "location", "tags", "properties"}
    hub = request("azure-native:machinelearningservices:Workspace", run.by_name("hub-maas-dev-workspace").inputs)
    assert set(hub.body) == {"identity", "kind", "location", "sku", "tags", "properties"}
    assert set(hub.body["properties"]) == {"friendlyName", "keyVault", "storageAccount"}
    role = request("azure-native:authorization:RoleDefinition", run.by_name("access-saas-role").inputs)
    assert set(role.url_parameters) == {"scope", "roleDefinitionId"}
    assert role.body["properties"]["type"] == "CustomRole"
    assert "roleType" not in role.body["properties"]


# --- the Foundry channel, from its contract (/tmp/foundry-contract.md) -----------------------------------------------


def foundry_resources(preview: bool) -> list[Resource]:
    """The Foundry resources with the contract's inputs; ``preview`` makes unknown what another resource's outputs
    give (the account name of its children, the resource group, the RAI policy name, the scope)."""

    def maybe(value: Any) -> Any:
        return UNKNOWN if preview else value

    account = {
        "accountName": "fdy-main",
        "resourceGroupName": maybe(RG),
        "location": "eastus2",
        "kind": "AIServices",
        "sku": {"name": "S0"},
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "allowProjectManagement": True,
            "customSubDomainName": "fdy-main-3f9a1c",
            "disableLocalAuth": True,
            "publicNetworkAccess": "Disabled",
        },
        "tags": TAGS,
    }
    project = {
        "accountName": maybe("fdy-main"),
        "projectName": "team-a",
        "resourceGroupName": maybe(RG),
        "location": "eastus2",
        "identity": {"type": "SystemAssigned"},
        "properties": {"displayName": "team-a", "description": "Team A's agents"},
        "tags": TAGS,
    }
    rai = {
        "accountName": maybe("fdy-main"),
        "raiPolicyName": "strict",
        "resourceGroupName": maybe(RG),
        "properties": {
            "basePolicyName": "Microsoft.DefaultV2",
            "mode": "Blocking",
            "contentFilters": [
                {"name": name, "source": source, "severityThreshold": "Low", "blocking": True, "enabled": True}
                for name in ("Hate", "Sexual", "Selfharm", "Violence")
                for source in ("Prompt", "Completion")
            ]
            + [
                {
                    "name": "Jailbreak",
                    "source": "Prompt",
                    "severityThreshold": "High",
                    "blocking": True,
                    "enabled": True,
                },
                {
                    "name": "Protected Material Text",
                    "source": "Completion",
                    "severityThreshold": "High",
                    "blocking": True,
                    "enabled": True,
                },
            ],
        },
    }
    deployment = {
        "accountName": maybe("fdy-main"),
        "deploymentName": "small",
        "resourceGroupName": maybe(RG),
        "properties": {
            "model": {"format": "Mistral AI", "name": "mistral-small-2503", "version": "1"},
            "raiPolicyName": maybe("strict"),
            "versionUpgradeOption": "OnceNewDefaultVersionAvailable",
        },
        "sku": {"name": "GlobalStandard", "capacity": 1},
    }
    assignment = {
        "principalId": "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c",
        "principalType": "Group",
        "roleAssignmentName": "0c4c5f64-6f57-5b8e-9a41-2f1a3b9e2c11",
        "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{FOUNDRY_USER}",
        "scope": maybe(ACCOUNT_ID),
    }
    c = "azure-native:cognitiveservices"
    return [
        Resource(urn("Foundry", f"{c}:Account", "fdy-main-account"), f"{c}:Account", "fdy-main-account", account),
        Resource(urn("Foundry", f"{c}:Project", "fdy-main-team-a"), f"{c}:Project", "fdy-main-team-a", project),
        Resource(urn("Foundry", f"{c}:RaiPolicy", "fdy-main-strict"), f"{c}:RaiPolicy", "fdy-main-strict", rai),
        Resource(urn("Foundry", f"{c}:Deployment", "fdy-main-small"), f"{c}:Deployment", "fdy-main-small", deployment),
        Resource(
            urn("Access", "azure-native:authorization:RoleAssignment", "access-foundry-user"),
            "azure-native:authorization:RoleAssignment",
            "access-foundry-user",
            assignment,
        ),
    ]


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_foundry_contract_requests_conform_to_the_spec(preview: bool) -> None:
    resources = foundry_resources(preview)
    assert {r.type for r in resources} >= FOUNDRY_TYPES
    assert [message for r in resources for message in violations(r.urn, r.type, r.inputs)] == []


def test_foundry_deployment_request_is_exactly_what_the_provider_sends() -> None:
    deployment = next(r for r in foundry_resources(False) if r.type.endswith(":Deployment"))
    sent = request(deployment.type, deployment.inputs)
    assert sent.url_parameters == {"resourceGroupName": RG, "accountName": "fdy-main", "deploymentName": "small"}
    assert sent.body == {
        "sku": {"name": "GlobalStandard", "capacity": 1},
        "properties": {
            "model": {"format": "Mistral AI", "name": "mistral-small-2503", "version": "1"},
            "raiPolicyName": "strict",
            "versionUpgradeOption": "OnceNewDefaultVersionAvailable",
        },
    }


# --- the validator catches what it should, with the exact message ----------------------------------------------------

EP = "azure-native:machinelearningservices:ServerlessEndpoint"
EP_URN = urn("ModelDeployment", EP, "chat-endpoint")


def endpoint(**properties: Any) -> dict[str, Any]:
    return {
        "name": "chat",
        "workspaceName": "proj-chat",
        "resourceGroupName": RG,
        "location": "eastus2",
        "sku": {"name": "Consumption"},
        "properties": {
            "authMode": "Key",
            "modelSettings": {"modelId": "azureml://registries/r/models/m"},
            **properties,
        },
    }


def test_a_conforming_endpoint_has_no_violation() -> None:
    assert violations(EP_URN, EP, endpoint()) == []


def test_a_read_only_property_is_rejected() -> None:
    inputs = endpoint(inferenceEndpoint={"uri": "https://chat.eastus2.models.ai.azure.com"})
    assert violations(EP_URN, EP, inputs) == [
        f"{EP_URN}: $.properties.inferenceEndpoint: read-only: the service sets it; a request must not send it"
    ]


def test_a_read_only_property_is_rejected_even_when_unknown() -> None:
    assert violations(EP_URN, EP, endpoint(provisioningState=UNKNOWN)) == [
        f"{EP_URN}: $.properties.provisioningState: read-only: the service sets it; a request must not send it"
    ]


def test_an_unknown_property_is_rejected() -> None:
    assert violations(EP_URN, EP, endpoint(autoScale=True)) == [
        f"{EP_URN}: $.properties.autoScale: unknown property: not a property in the spec"
    ]


def test_a_bad_enum_value_is_rejected() -> None:
    assert violations(EP_URN, EP, endpoint(authMode="Token")) == [
        f"{EP_URN}: $.properties.authMode: enum: 'Token' is not one of ['Key', 'AAD', 'KeyAndAAD']"
    ]


def test_a_missing_required_property_is_rejected() -> None:
    inputs = endpoint(contentSafety={})
    del inputs["properties"]["authMode"]
    del inputs["location"]
    assert violations(EP_URN, EP, inputs) == [
        f"{EP_URN}: $.location: required: missing",
        f"{EP_URN}: $.properties.authMode: required: missing",
        f"{EP_URN}: $.properties.contentSafety.contentSafetyStatus: required: missing",
    ]


def test_a_missing_path_parameter_and_a_bad_pattern_are_rejected() -> None:
    inputs = endpoint()
    inputs["workspaceName"] = "a"
    del inputs["name"]
    assert violations(EP_URN, EP, inputs) == [
        f"{EP_URN}: path parameter name: required: missing",
        f"{EP_URN}: path parameter workspaceName: pattern: 'a' does not match '^[a-zA-Z0-9][a-zA-Z0-9_-]{{2,32}}$'",
    ]


def test_a_wrong_type_and_a_too_short_value_are_rejected() -> None:
    subscription = "azure-native:machinelearningservices:MarketplaceSubscription"
    sub_urn = urn("ModelDeployment", subscription, "chat-subscription")
    inputs = {"name": "m", "workspaceName": "proj-chat", "resourceGroupName": RG, "properties": {"modelId": ""}}
    assert violations(sub_urn, subscription, inputs) == [
        f"{sub_urn}: $.properties.modelId: minLength: '' breaks minLength 1",
        f"{sub_urn}: $.properties.modelId: pattern: '' does not match '[a-zA-Z0-9_]'",
    ]
    account = foundry_resources(False)[0]
    broken = {**account.inputs, "properties": {**account.inputs["properties"], "disableLocalAuth": "yes"}}
    assert violations(account.urn, account.type, broken) == [
        f"{account.urn}: $.properties.disableLocalAuth: type: 'yes' is not of type 'boolean'"
    ]


def test_unknown_values_skip_value_rules_but_count_as_present() -> None:
    inputs = endpoint(authMode=UNKNOWN, contentSafety={"contentSafetyStatus": UNKNOWN})
    inputs["workspaceName"] = UNKNOWN
    inputs["sku"] = UNKNOWN
    assert violations(EP_URN, EP, inputs) == []


def test_a_secret_is_checked_as_the_value_it_wraps() -> None:
    inputs = endpoint(authMode={SIG_KEY: SECRET_SIG, "value": "Token"})
    assert request(EP, endpoint(authMode={SIG_KEY: SECRET_SIG, "value": "AAD"})).body["properties"]["authMode"] == "AAD"
    assert violations(EP_URN, EP, inputs) == [
        f"{EP_URN}: $.properties.authMode: enum: 'Token' is not one of ['Key', 'AAD', 'KeyAndAAD']"
    ]


def test_a_renamed_input_is_judged_under_its_wire_name() -> None:
    storage = dev_run(False).by_name("hub-maas-dev-storage")
    typo = {**storage.inputs, "supportsHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_9"}
    assert violations(storage.urn, storage.type, typo) == [
        f"{storage.urn}: $.properties.minimumTlsVersion: enum: 'TLS1_9' is not one of ['TLS1_0', 'TLS1_1', 'TLS1_2']",
        f"{storage.urn}: $.supportsHttpsTrafficOnly: unknown property: not a property in the spec",
    ]


def test_an_sdk_enum_value_the_spec_lacks_is_rejected() -> None:
    """The SDK offers TLS1_3 (merged from a newer storage API); the 2024-01-01 request it would send lists no such
    value, so the validator refuses it (see SDK_ONLY_ENUM_VALUES)."""
    storage = dev_run(False).by_name("hub-maas-dev-storage")
    assert violations(storage.urn, storage.type, {**storage.inputs, "minimumTlsVersion": "TLS1_3"}) == [
        f"{storage.urn}: $.properties.minimumTlsVersion: enum: 'TLS1_3' is not one of ['TLS1_0', 'TLS1_1', 'TLS1_2']"
    ]


def test_a_value_sent_where_the_fragment_was_trimmed_is_flagged() -> None:
    hub = dev_run(False).by_name("hub-maas-dev-workspace")
    inputs = {**hub.inputs, "encryption": {"status": "Enabled"}}
    assert violations(hub.urn, hub.type, inputs) == [
        f"{hub.urn}: $.properties.encryption: not vendored: #/definitions/EncryptionProperty is not vendored under"
        " tests/specs; vendor it to check this value"
    ]
