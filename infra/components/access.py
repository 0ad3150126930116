"""Access: the role definitions and assignments of the ``access`` config list."""

from __future__ import annotations

import pulumi

from infra.azure_native import authorization
from infra.components.args import AccessArgs


class Access(pulumi.ComponentResource):
    """Custom ``deployer`` roles (created at the subscription, assignable only where needed; none when the config
    names existing ones in ``deployerRoles``) and every role assignment, named by UUIDv5 of scope, principal and
    role so re-runs are no-ops.

    ``args.scopes`` maps each scope label of the specs (``subscription``, ``resourceGroup`` or a workspace's
    config name) to its resource ID, as an output of the resource that creates it where there is one,
    so each assignment waits for its scope.
    """

    TYPE = "azure-maas:index:Access"

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        subscription_id, scopes, resource_group = args.subscription_id, args.scopes, args.resource_group
        created: dict[str, authorization.RoleDefinition] = {}
        for definition in args.definitions:
            # Assignable scopes are plain IDs: wait for the resource group this stack creates, or
            # Azure rejects a scope that does not exist yet.
            created[definition.key] = authorization.RoleDefinition(
                f"{name}-{definition.key}-role",
                role_definition_id=definition.guid,
                role_name=definition.role_name,
                description=definition.description,
                role_type="CustomRole",
                permissions=[authorization.PermissionArgs(actions=list(definition.actions))],
                assignable_scopes=list(definition.assignable_scopes),
                scope=f"/subscriptions/{subscription_id}",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[resource_group] if resource_group else []),
            )
        for assignment in args.assignments:
            # A deployer role this stack creates is referenced by its output (the assignment waits for it); an
            # existing one (``deployerRoles``) and every other role by its ID.
            custom = created.get(assignment.custom_role) if assignment.custom_role else None
            role_id: pulumi.Input[str] = custom.id if custom is not None else assignment.role_definition_id
            authorization.RoleAssignment(
                f"{name}-{assignment.logical_name}",
                role_assignment_name=assignment.name,
                principal_id=assignment.principal_id,
                principal_type=assignment.principal_type,
                role_definition_id=role_id,
                scope=scopes[assignment.scope.label],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"roleDefinitions": {k: d.id for k, d in created.items()}})
