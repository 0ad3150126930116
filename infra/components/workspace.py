"""Workspace: a Foundry hub, a Foundry project, a standalone Azure ML workspace, or an existing one."""

from __future__ import annotations

import pulumi

from infra.azure_native import keyvault, machinelearningservices, storage
from infra.components.args import WorkspaceArgs


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

    def __init__(self, name: str, args: WorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        spec, resource_group_name = args.spec, args.resource_group_name
        location, tags = args.placement.location, args.placement.tags
        if spec.kind is None:
            self.id = pulumi.Output.from_input(spec.id)
            self.workspace_name = pulumi.Output.from_input(spec.name)
            self.resource_group_name = pulumi.Output.from_input(spec.resource_group)
        else:
            child = pulumi.ResourceOptions(parent=self)
            storage_id: pulumi.Input[str] | None = None
            vault_id: pulumi.Input[str] | None = None
            if spec.storage_account is not None and spec.key_vault is not None:
                account = storage.StorageAccount(
                    f"{name}-storage",
                    account_name=spec.storage_account,
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
                    f"{name}-keyvault",
                    vault_name=spec.key_vault,
                    resource_group_name=resource_group_name,
                    location=location,
                    properties=keyvault.VaultPropertiesArgs(
                        tenant_id=args.tenant_id,
                        sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                        enable_rbac_authorization=True,
                        enable_soft_delete=True,
                    ),
                    tags=dict(tags),
                    opts=child,
                )
                storage_id, vault_id = account.id, vault.id
            workspace = machinelearningservices.Workspace(
                f"{name}-workspace",
                workspace_name=spec.name,
                resource_group_name=resource_group_name,
                location=location,
                kind=spec.kind,
                friendly_name=spec.name,
                identity=machinelearningservices.ManagedServiceIdentityArgs(
                    type=machinelearningservices.ManagedServiceIdentityType.SYSTEM_ASSIGNED
                ),
                sku=machinelearningservices.SkuArgs(name="Basic", tier=machinelearningservices.SkuTier.BASIC),
                storage_account=storage_id,
                key_vault=vault_id,
                hub_resource_id=args.hub_id if spec.kind == "Project" else None,
                tags=dict(tags),
                opts=child,
            )
            self.id = workspace.id
            # The name is the config's, known at preview (a policy exception or a report can name the workspace),
            # and the output still carries the dependency on the workspace: the URN is known once registered.
            name = spec.name
            self.workspace_name = workspace.urn.apply(lambda _: name)
            self.resource_group_name = pulumi.Output.from_input(resource_group_name)
        self.register_outputs(
            {"id": self.id, "workspaceName": self.workspace_name, "resourceGroupName": self.resource_group_name}
        )
