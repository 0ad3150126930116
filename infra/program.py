"""The Pulumi program: load settings, compute the desired state, build components, export outputs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pulumi

from infra import catalog as catalog_module
from infra.azure_native import authorization, resources
from infra.components import (
    Access,
    AccessArgs,
    Foundry,
    FoundryArgs,
    ModelDeployment,
    ModelDeploymentArgs,
    Placement,
    Workspace,
    WorkspaceArgs,
)
from infra.desired import Desired, FoundryDeploymentSpec, FoundrySpec, WorkspaceSpec, compute
from infra.names import CHAT_ROUTE
from infra.settings import load_settings


def main(today: dt.date | None = None) -> None:
    """Validate the whole config before registering anything, then declare the stack."""
    settings = load_settings(today)  # a ConfigError (a pulumi.RunError) ends the run with every problem listed
    client = authorization.get_client_config()
    catalog = catalog_module.load()
    # Raises ConfigError for names that collide only in the deploying subscription (its IDs in the config).
    desired = compute(
        settings,
        catalog,
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        subscription_id=client.subscription_id,
    )
    build(desired, catalog, subscription_id=client.subscription_id, tenant_id=client.tenant_id)


def build(desired: Desired, catalog: catalog_module.Catalog, *, subscription_id: str, tenant_id: str) -> None:
    """Turn desired state into resources and stack outputs."""
    rg = desired.resource_group
    rg_resource = None
    rg_name: pulumi.Input[str] = rg.name
    rg_id: pulumi.Input[str] = rg.id
    if rg.create:
        rg_resource = resources.ResourceGroup(
            rg.name, resource_group_name=rg.name, location=desired.location, tags=desired.tags
        )
        rg_name, rg_id = rg_resource.name, rg_resource.id

    placement = Placement(location=desired.location, tags=desired.tags)

    def workspace(spec: WorkspaceSpec, hub_id: pulumi.Input[str] | None = None) -> Workspace:
        args = WorkspaceArgs(spec, rg_name, placement, tenant_id=tenant_id, hub_id=hub_id)
        return Workspace(spec.key, args)

    hub = workspace(desired.hub) if desired.hub else None
    workspaces = {ws.key: workspace(ws, hub.id if hub else None) for ws in desired.workspaces}
    deployments = {
        ep.name: ModelDeployment(ep.name, ModelDeploymentArgs(ep, workspaces[ep.workspace], placement))
        for ep in desired.endpoints
    }
    foundries = {spec.key: Foundry(spec.key, FoundryArgs(spec, rg_name, placement)) for spec in desired.foundries}
    if desired.role_assignments:
        scopes: dict[str, pulumi.Input[str]] = {
            "subscription": f"/subscriptions/{subscription_id}",
            "resourceGroup": rg_id,
            **{key: ws.id for key, ws in workspaces.items()},
            **{key: foundry.id for key, foundry in foundries.items()},
            **{
                f"{key}/{project}": project_id
                for key, foundry in foundries.items()
                for project, project_id in foundry.project_ids.items()
            },
        }
        Access(
            "access",
            AccessArgs(
                subscription_id,
                scopes,
                desired.role_assignments,
                desired.role_definitions,
                resource_group=rg_resource,
            ),
        )

    limits = catalog.serverless.rate_limits
    pulumi.export("resourceGroup", {"name": rg_name, "id": rg_id})
    pulumi.export("hub", {"name": hub.workspace_name, "id": hub.id} if hub else None)
    pulumi.export(
        "workspaces",
        {key: {"name": ws.workspace_name, "id": ws.id} for key, ws in workspaces.items()},
    )
    pulumi.export(
        "endpoints",
        {
            ep.name: {
                "workspace": ep.workspace,
                "modelId": ep.model_id,
                "api": ep.api,
                "inferenceUri": deployments[ep.name].inference_uri,
                "chatCompletionsUrl": deployments[ep.name].chat_completions_url,
                "nativeChatCompletionsUrl": deployments[ep.name].native_chat_completions_url,
                "authMode": ep.auth_mode,
                "contentSafety": ep.content_safety,
                "rateLimits": {
                    "tokensPerMinute": limits.tokens_per_minute,
                    "requestsPerMinute": limits.requests_per_minute,
                },
            }
            for ep in desired.endpoints
        },
    )
    pulumi.export(
        "endpointKeys",
        pulumi.Output.secret(
            {
                name: {"primaryKey": d.primary_key, "secondaryKey": d.secondary_key}
                for name, d in deployments.items()
                if d.primary_key is not None
            }
        ),
    )
    pulumi.export("foundries", {spec.key: _foundry_output(spec, foundries[spec.key]) for spec in desired.foundries})
    pulumi.export(
        "foundryDeployments",
        {
            f"{spec.key}/{deployment.name}": _deployment_output(spec, deployment)
            for spec in desired.foundries
            for deployment in spec.deployments
        },
    )
    pulumi.export(
        "foundryKeys",
        pulumi.Output.secret(
            {
                key: {"key1": foundry.key1, "key2": foundry.key2}
                for key, foundry in foundries.items()
                if foundry.key1 is not None
            }
        ),
    )


def _foundry_output(spec: FoundrySpec, foundry: Foundry) -> dict[str, Any]:
    return {
        "name": foundry.account_name,
        "id": foundry.id,
        "endpoint": spec.endpoint,
        "projects": {
            project.name: {
                "name": project.name,
                "id": foundry.project_ids[project.name],
                "endpoint": f"{spec.endpoint}api/projects/{project.name}",
            }
            for project in spec.projects
        },
    }


def _deployment_output(spec: FoundrySpec, deployment: FoundryDeploymentSpec) -> dict[str, Any]:
    return {
        "foundry": spec.key,
        "deployment": deployment.name,
        "format": deployment.format,
        "modelName": deployment.model_name,
        "version": deployment.version,
        "api": deployment.api,
        "baseUrl": spec.openai_base_url,
        "chatCompletionsUrl": f"{spec.openai_base_url}{CHAT_ROUTE}" if deployment.api == "chat" else None,
        "authMode": "KeyAndAAD" if spec.local_auth else "AAD",
        "contentFilter": deployment.content_filter,
        "sku": deployment.sku,
        "capacity": deployment.capacity,
    }
