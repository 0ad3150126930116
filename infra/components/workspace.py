"""Workspace: a Foundry hub, a Foundry project, a standalone Azure ML workspace, or an existing one."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import keyvault, machinelearningservices, storage

from infra.desired import WorkspacePlan


class Workspace(pulumi.ComponentResource):
    """One Azure ML workspace and what it needs.

    ``Hub`` and ``Default`` (standalone) workspaces get their own storage account and key vault (RBAC
    authorization, soft delete, TLS 1.2, no public blob access); a ``Project`` uses its hub's. An
    existing workspace is referenced by ID: nothing is created, the component only carries its name.
    """

    TYPE = "azure-maas:index:Workspace"

    id: pulumi.Output[str]
    """The workspace's resource ID."""
    workspace_name: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]

    def __init__(
        self,
        plan: WorkspacePlan,
        *,
        resource_group_name: pulumi.Input[str],
        location: str,
        tags: Mapping[str, str],
        tenant_id: str,
        hub_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(self.TYPE, plan.key, None, opts)
        if plan.kind is None:
            self.id = pulumi.Output.from_input(plan.id)
            self.workspace_name = pulumi.Output.from_input(plan.name)
            self.resource_group_name = pulumi.Output.from_input(plan.resource_group)
        else:
            child = pulumi.ResourceOptions(parent=self)
            storage_id: pulumi.Input[str] | None = None
            vault_id: pulumi.Input[str] | None = None
            if plan.storage_account is not None and plan.key_vault is not None:
                account = storage.StorageAccount(
                    f"{plan.key}-storage",
                    account_name=plan.storage_account,
                    resource_group_name=resource_group_name,
                    location=location,
                    kind=storage.Kind.STORAGE_V2,
                    sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
                    allow_blob_public_access=False,
                    enable_https_traffic_only=True,
                    minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
                    tags=dict(tags),
                    opts=child,
                )
                vault = keyvault.Vault(
                    f"{plan.key}-keyvault",
                    vault_name=plan.key_vault,
                    resource_group_name=resource_group_name,
                    location=location,
                    properties=keyvault.VaultPropertiesArgs(
                        tenant_id=tenant_id,
                        sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                        enable_rbac_authorization=True,
                        enable_soft_delete=True,
                    ),
                    tags=dict(tags),
                    opts=child,
                )
                storage_id, vault_id = account.id, vault.id
            workspace = machinelearningservices.Workspace(
                f"{plan.key}-workspace",
                workspace_name=plan.name,
                resource_group_name=resource_group_name,
                location=location,
                kind=plan.kind,
                friendly_name=plan.name,
                identity=machinelearningservices.ManagedServiceIdentityArgs(
                    type=machinelearningservices.ManagedServiceIdentityType.SYSTEM_ASSIGNED
                ),
                sku=machinelearningservices.SkuArgs(name="Basic", tier=machinelearningservices.SkuTier.BASIC),
                storage_account=storage_id,
                key_vault=vault_id,
                hub_resource_id=hub_id if plan.kind == "Project" else None,
                tags=dict(tags),
                opts=child,
            )
            self.id = workspace.id
            self.workspace_name = workspace.name
            self.resource_group_name = pulumi.Output.from_input(resource_group_name)
        self.register_outputs(
            {"id": self.id, "workspaceName": self.workspace_name, "resourceGroupName": self.resource_group_name}
        )
