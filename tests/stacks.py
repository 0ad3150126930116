"""Builders of resources as the engine sends them to a policy pack, for the policy scenario tables.

Each builder returns a :class:`infra.engine.resource.Resource` with azure-native's input names (camelCase) and a
URN of the usual shape. ``UNKNOWN`` is the value the engine sends for an input unknown at preview.
"""

from __future__ import annotations

import copy
from typing import Any

from pulumi.runtime.rpc import UNKNOWN

from infra.engine.resource import Resource
from tests.harness import SUBSCRIPTION_ID, Run

__all__ = ["UNKNOWN"]

PREFIX = "urn:pulumi:dev::azure-maas::"
ENDPOINT = "azure-native:machinelearningservices:ServerlessEndpoint"
SUBSCRIPTION = "azure-native:machinelearningservices:MarketplaceSubscription"
WORKSPACE = "azure-native:machinelearningservices:Workspace"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
SUBSCRIPTION_ALIAS = "azure-native:subscription:Alias"
FOUNDRY_ACCOUNT = "azure-native:cognitiveservices:Account"
FOUNDRY_PROJECT = "azure-native:cognitiveservices:Project"
FOUNDRY_DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
RAI_POLICY = "azure-native:cognitiveservices:RaiPolicy"

MINISTRAL = "azureml://registries/azureml-mistral/models/Ministral-3B"
LARGE_2411 = "azureml://registries/azureml-mistral/models/mistral-medium-2505"
LARGE_2402 = "azureml://registries/azureml-mistral/models/Mistral-large"
PHI_4 = "azureml://registries/azureml/models/Phi-4"
TAGS = {"environment": "test", "cost-center": "ai"}

SUBSCRIPTION_SCOPE = f"/subscriptions/{SUBSCRIPTION_ID}"
RG_SCOPE = f"{SUBSCRIPTION_SCOPE}/resourceGroups/rg"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
AI_DEVELOPER = "64702f94-c441-49e6-a78b-ef80e0188fee"
MARKETPLACE_ACTIONS = [
    "Microsoft.MarketplaceOrdering/agreements/offers/plans/read",
    "Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action",
    "Microsoft.MarketplaceOrdering/offerTypes/publishers/offers/plans/agreements/read",
    "Microsoft.Marketplace/offerTypes/publishers/offers/plans/agreements/read",
    "Microsoft.SaaS/register/action",
]


def urn(type_: str, name: str) -> str:
    return f"{PREFIX}{type_}::{name}"


def role_id(guid: str) -> str:
    return f"{SUBSCRIPTION_SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _resource(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    *,
    depends: tuple[Resource, ...] = (),
    property_dependencies: dict[str, tuple[Resource, ...]] | None = None,
) -> Resource:
    return Resource(
        urn=urn(type_, name),
        type=type_,
        name=name,
        inputs=inputs,
        dependencies=tuple(d.urn for d in depends),
        property_dependencies={k: tuple(r.urn for r in v) for k, v in (property_dependencies or {}).items()},
    )


def resource_group(name: str = "rg", **inputs: Any) -> Resource:
    return _resource(RESOURCE_GROUP, name, {"resourceGroupName": name, "location": "eastus2", **inputs})


def workspace(
    name: str = "ws", *, location: Any = "eastus2", kind: str = "Project", tags: Any = None, **options: Any
) -> Resource:
    inputs = {"workspaceName": name, "resourceGroupName": "rg", "location": location, "kind": kind}
    inputs["tags"] = TAGS if tags is None else tags
    return _resource(WORKSPACE, name, inputs, **options)


def subscription(
    name: str = "sub", model: Any = MINISTRAL, *, workspace_name: Any = "ws", rg: Any = "rg", **options: Any
) -> Resource:
    inputs = {"name": name, "workspaceName": workspace_name, "resourceGroupName": rg, "properties": {"modelId": model}}
    return _resource(SUBSCRIPTION, name, inputs, **options)


def endpoint(
    name: Any = "chat",
    model: Any = MINISTRAL,
    *,
    logical: str | None = None,
    workspace_name: Any = "ws",
    rg: Any = "rg",
    location: Any = "eastus2",
    content_safety: Any = "Enabled",
    tags: Any = None,
    **options: Any,
) -> Resource:
    properties: dict[str, Any] = {"authMode": "Key", "modelSettings": {"modelId": model}}
    if content_safety is not None:
        properties["contentSafety"] = {"contentSafetyStatus": content_safety}
    inputs: dict[str, Any] = {
        "workspaceName": workspace_name,
        "resourceGroupName": rg,
        "location": location,
        "properties": properties,
        "sku": {"name": "Consumption"},
        "tags": TAGS if tags is None else tags,
    }
    if name is not None:
        inputs["name"] = name
    return _resource(ENDPOINT, logical or str(name), inputs, **options)


def deployment(
    name: str = "chat", model: str = MINISTRAL, workspace_name: str = "ws", **options: Any
) -> list[Resource]:
    """A compliant marketplace subscription and the endpoint that depends on it."""
    sub = subscription(f"{name}-subscription", model, workspace_name=workspace_name)
    return [sub, endpoint(name, model, workspace_name=workspace_name, depends=(sub,), **options)]


def role_definition(
    name: str, guid: Any, actions: Any, *, not_actions: Any = None, permissions: Any = None
) -> Resource:
    """A custom role definition granting ``actions`` minus ``not_actions``; ``permissions`` replaces the whole
    permission list when given."""
    block: dict[str, Any] = {"actions": actions}
    if not_actions is not None:
        block["notActions"] = not_actions
    inputs = {
        "roleDefinitionId": guid,
        "roleName": name,
        "permissions": [block] if permissions is None else permissions,
        "assignableScopes": [SUBSCRIPTION_SCOPE],
        "scope": SUBSCRIPTION_SCOPE,
    }
    return _resource(ROLE_DEFINITION, name, inputs)


def role_assignment(name: str, role: Any, scope: Any, **options: Any) -> Resource:
    inputs = {"principalId": "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c", "roleDefinitionId": role, "scope": scope}
    return _resource(ROLE_ASSIGNMENT, name, inputs, **options)


def foundry_account(
    name: str = "foundry",
    *,
    location: Any = "eastus2",
    kind: Any = "AIServices",
    rg: Any = "rg",
    disable_local_auth: Any = True,
    allow_project_management: Any = True,
    identity: Any = "SystemAssigned",
    tags: Any = None,
    **options: Any,
) -> Resource:
    """A Foundry resource as azure-maas creates it (``None`` leaves an input out)."""
    properties: dict[str, Any] = {"customSubDomainName": f"{name}-a1b2c3", "publicNetworkAccess": "Enabled"}
    if allow_project_management is not None:
        properties["allowProjectManagement"] = allow_project_management
    if disable_local_auth is not None:
        properties["disableLocalAuth"] = disable_local_auth
    inputs: dict[str, Any] = {
        "accountName": name,
        "resourceGroupName": rg,
        "location": location,
        "sku": {"name": "S0"},
        "properties": properties,
        "tags": TAGS if tags is None else tags,
    }
    if kind is not None:
        inputs["kind"] = kind
    if identity is not None:
        inputs["identity"] = {"type": identity}
    return _resource(FOUNDRY_ACCOUNT, name, inputs, **options)


def foundry_project(
    name: str = "proj", *, account: Any = "foundry", rg: Any = "rg", location: Any = "eastus2", **options: Any
) -> Resource:
    inputs = {
        "accountName": account,
        "projectName": name,
        "resourceGroupName": rg,
        "location": location,
        "identity": {"type": "SystemAssigned"},
        "properties": {"displayName": name, "description": ""},
        "tags": TAGS,
    }
    return _resource(FOUNDRY_PROJECT, f"{account if isinstance(account, str) else 'foundry'}-{name}", inputs, **options)


HARM_FILTERS = ("Hate", "Sexual", "Selfharm", "Violence")


def content_filters(threshold: str = "Medium", **changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The content filters azure-maas writes: every harm category on Prompt and Completion, enabled and blocking at
    ``threshold``, plus Jailbreak and protected material. ``changes`` maps ``<Category>_<Source>`` to the keys to
    change in that filter (a value of ``None`` removes the key; ``drop=...`` leaves the filter out)."""
    filters: list[dict[str, Any]] = []
    for source in ("Prompt", "Completion"):
        for category in HARM_FILTERS:
            entry: dict[str, Any] = {
                "name": category,
                "source": source,
                "severityThreshold": threshold,
                "blocking": True,
                "enabled": True,
            }
            change = changes.get(f"{category}_{source}", {})
            if "drop" in change:
                continue
            entry.update(change)
            filters.append({k: v for k, v in entry.items() if v is not None})
    filters.append({"name": "Jailbreak", "source": "Prompt", "blocking": True, "enabled": True})
    filters.append({"name": "Protected Material Text", "source": "Completion", "blocking": True, "enabled": True})
    return filters


def rai_policy(
    name: str = "strict", *, account: Any = "foundry", rg: Any = "rg", filters: Any = None, **options: Any
) -> Resource:
    """A content filter (RAI) policy; ``filters`` replaces :func:`content_filters`."""
    inputs = {
        "accountName": account,
        "raiPolicyName": name,
        "resourceGroupName": rg,
        "properties": {
            "basePolicyName": "Microsoft.DefaultV2",
            "mode": "Blocking",
            "contentFilters": content_filters() if filters is None else filters,
        },
    }
    return _resource(RAI_POLICY, f"{account if isinstance(account, str) else 'foundry'}-{name}", inputs, **options)


def foundry_deployment(
    name: Any = "chat",
    *,
    account: Any = "foundry",
    rg: Any = "rg",
    model_format: Any = "Mistral AI",
    model: Any = "mistral-small-2503",
    version: Any = "1",
    sku: Any = "GlobalStandard",
    capacity: int = 1,
    rai_policy: Any = "Microsoft.DefaultV2",
    logical: str | None = None,
    **options: Any,
) -> Resource:
    """A model deployment on a Foundry resource (``None`` leaves ``sku`` or ``raiPolicyName`` out)."""
    properties: dict[str, Any] = {
        "model": {"format": model_format, "name": model, "version": version},
        "versionUpgradeOption": "OnceNewDefaultVersionAvailable",
    }
    if rai_policy is not None:
        properties["raiPolicyName"] = rai_policy
    inputs: dict[str, Any] = {
        "accountName": account,
        "deploymentName": name,
        "resourceGroupName": rg,
        "properties": properties,
    }
    if sku is not None:
        inputs["sku"] = {"name": sku, "capacity": capacity}
    return _resource(
        FOUNDRY_DEPLOYMENT, logical or f"{account if isinstance(account, str) else 'foundry'}-{name}", inputs, **options
    )


def chained(*deployments: Resource) -> list[Resource]:
    """``deployments`` with each depending on the one before it (as azure-maas chains a Foundry resource's)."""
    out: list[Resource] = []
    for deployment in deployments:
        extra = (out[-1].urn,) if out else ()
        out.append(
            Resource(
                urn=deployment.urn,
                type=deployment.type,
                name=deployment.name,
                inputs=deployment.inputs,
                dependencies=(*deployment.dependencies, *extra),
                property_dependencies=deployment.property_dependencies,
            )
        )
    return out


def with_input(resource: Resource, value: Any, *path: str) -> Resource:
    """``resource`` with the input at ``path`` (dotted into objects, created as needed) set to ``value``."""
    inputs = copy.deepcopy(dict(resource.inputs))
    target = inputs
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return Resource(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        inputs=inputs,
        dependencies=resource.dependencies,
        property_dependencies=resource.property_dependencies,
    )


def from_run(run: Run) -> list[Resource]:
    """What the engine would send the pack for a program run recorded by :mod:`tests.harness`."""
    return run.resources
