"""The Pulumi program: load settings, plan, build components, export outputs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from infra import catalog as catalog_module
from infra.components import Access, ModelDeployment, Workspace
from infra.desired import Desired, plan
from infra.settings import ConfigError, load_settings


class InvalidStackConfig(pulumi.RunError):
    """The stack config is invalid (the message lists every problem with its key); nothing was registered."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))
        self.error = error


def main(today: dt.date | None = None) -> None:
    """Validate the whole config before registering anything, then declare the stack."""
    try:
        settings = load_settings(today)
    except ConfigError as error:
        raise InvalidStackConfig(error) from None
    client = authorization.get_client_config()
    catalog = catalog_module.load()
    try:
        desired = plan(
            settings,
            catalog,
            project=pulumi.get_project(),
            stack=pulumi.get_stack(),
            subscription_id=client.subscription_id,
        )
    except ConfigError as error:  # names that collide only in the deploying subscription (its IDs in the config)
        raise InvalidStackConfig(error) from None
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

    common: dict[str, Any] = {
        "resource_group_name": rg_name,
        "location": desired.location,
        "tags": desired.tags,
        "tenant_id": tenant_id,
    }
    hub = Workspace(desired.hub, **common) if desired.hub else None
    workspaces = {ws.key: Workspace(ws, hub_id=hub.id if hub else None, **common) for ws in desired.workspaces}
    deployments = {
        ep.name: ModelDeployment(
            ep,
            workspace=workspaces[ep.workspace],
            location=desired.location,
            tags=desired.tags,
            opts=pulumi.ResourceOptions(parent=workspaces[ep.workspace]),
        )
        for ep in desired.endpoints
    }
    if desired.role_assignments:
        Access(
            "access",
            definitions=desired.role_definitions,
            assignments=desired.role_assignments,
            subscription_id=subscription_id,
            scopes={
                "subscription": f"/subscriptions/{subscription_id}",
                "resourceGroup": rg_id,
                **{key: ws.id for key, ws in workspaces.items()},
            },
            resource_group=rg_resource,
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
