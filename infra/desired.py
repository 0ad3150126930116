"""Desired state: what to create, with final Azure names, computed purely from validated settings.

No Pulumi types here: every function is a plain function of its arguments, so the whole plan can be
checked exhaustively and fast. Components (``infra/components``) turn it into resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infra import names, roles
from infra.catalog import Api, Catalog
from infra.settings import Settings, resolve_model

WorkspaceKind = Literal["Hub", "Project", "Default"]


@dataclass(frozen=True)
class ResourceGroupPlan:
    name: str
    create: bool
    id: str


@dataclass(frozen=True)
class WorkspacePlan:
    """A hub, project, standalone workspace, or an existing workspace that is only referenced."""

    key: str
    """The config name: logical names and ``access[].scope`` refer to it."""
    name: str
    """The Azure workspace name."""
    resource_group: str
    id: str
    kind: WorkspaceKind | None
    """None for an existing workspace (nothing is created)."""
    storage_account: str | None = None
    key_vault: str | None = None

    @property
    def created(self) -> bool:
        return self.kind is not None


@dataclass(frozen=True)
class SubscriptionPlan:
    """A marketplace subscription of one workspace to one model's offer."""

    workspace: str
    name: str
    model_id: str


@dataclass(frozen=True)
class EndpointPlan:
    workspace: str
    name: str
    model_id: str
    catalog_key: str | None
    auth_mode: Literal["Key", "AAD", "KeyAndAAD"]
    content_safety: bool
    subscription: SubscriptionPlan | None
    """The subscription the endpoint depends on; None for models in Microsoft's own registry."""
    api: Api = "chat"
    """What the model answers (the catalog's ``api``; a model outside the catalog is taken as chat)."""

    @property
    def has_keys(self) -> bool:
        return self.auth_mode in ("Key", "KeyAndAAD")


@dataclass(frozen=True)
class RoleDefinitionPlan:
    """A least-privilege custom role of the ``deployer`` set, created at the subscription."""

    key: str
    guid: str
    id: str
    role_name: str
    description: str
    actions: tuple[str, ...]
    assignable_scopes: tuple[str, ...]


@dataclass(frozen=True)
class ScopeRef:
    """Where a role is assigned: the subscription, the resource group or a workspace (by config name)."""

    kind: Literal["subscription", "resourceGroup", "workspace"]
    id: str
    workspace: str | None = None

    @property
    def label(self) -> str:
        return self.workspace if self.workspace is not None else self.kind


@dataclass(frozen=True)
class RoleAssignmentPlan:
    logical_name: str
    name: str
    """UUIDv5 of scope, principal and role definition: re-runs are no-ops."""
    principal_id: str
    principal_type: str
    role_definition_id: str
    custom_role: str | None
    """Key of the custom role definition the assignment needs, if any."""
    scope: ScopeRef


@dataclass(frozen=True)
class Desired:
    location: str
    tags: dict[str, str]
    resource_group: ResourceGroupPlan
    hub: WorkspacePlan | None
    workspaces: tuple[WorkspacePlan, ...]
    subscriptions: tuple[SubscriptionPlan, ...]
    endpoints: tuple[EndpointPlan, ...]
    role_definitions: tuple[RoleDefinitionPlan, ...]
    role_assignments: tuple[RoleAssignmentPlan, ...]


def standard_tags(settings: Settings, project: str, stack: str) -> dict[str, str]:
    """The tag rule: config ``tags`` plus ``managed-by``, ``pulumi-project`` and ``pulumi-stack`` on every
    taggable resource (settings validation forbids the reserved keys in ``tags``)."""
    return {**settings.tags, "managed-by": "pulumi", "pulumi-project": project, "pulumi-stack": stack}


def _workspace_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{name}"
    )


def _existing(key: str | None, resource_id: str) -> WorkspacePlan:
    """An existing workspace; ``key`` defaults to its Azure name (an existing hub has no config name)."""
    resource_group, name = names.workspace_id_parts(resource_id)  # settings validation checked the shape
    return WorkspacePlan(key or name, name, resource_group, resource_id, None)


def _created(
    key: str, kind: WorkspaceKind, rg: ResourceGroupPlan, subscription_id: str, scope: tuple[str, ...]
) -> WorkspacePlan:
    own_storage = kind in ("Hub", "Default")
    return WorkspacePlan(
        key=key,
        name=key,
        resource_group=rg.name,
        id=_workspace_id(subscription_id, rg.name, key),
        kind=kind,
        storage_account=names.storage_account_name(*scope, workspace=key) if own_storage else None,
        key_vault=names.key_vault_name(*scope, workspace=key) if own_storage else None,
    )


def _endpoints(settings: Settings, catalog: Catalog) -> tuple[tuple[SubscriptionPlan, ...], tuple[EndpointPlan, ...]]:
    subscriptions: dict[tuple[str, str], SubscriptionPlan] = {}
    endpoints: list[EndpointPlan] = []
    for ws in settings.workspaces:
        for deployment in ws.deployments:
            resolved = resolve_model(deployment, catalog)
            if resolved is None:  # settings validation guarantees a model
                raise ValueError(f"deployment {deployment.name!r} has no model")
            subscription = None
            if names.needs_marketplace_subscription(resolved.model_id):
                subscription = subscriptions.setdefault(
                    (ws.name, resolved.model_id.lower()),
                    SubscriptionPlan(
                        ws.name, names.marketplace_subscription_name(resolved.model_id), resolved.model_id
                    ),
                )
            endpoints.append(
                EndpointPlan(
                    workspace=ws.name,
                    name=deployment.name,
                    model_id=resolved.model_id,
                    catalog_key=resolved.entry.key if resolved.entry else None,
                    auth_mode=deployment.auth_mode,
                    content_safety=deployment.content_safety,
                    subscription=subscription,
                    api=resolved.entry.api if resolved.entry else "chat",
                )
            )
    return tuple(subscriptions.values()), tuple(endpoints)


def _role_definitions(
    rg: ResourceGroupPlan, workspaces: tuple[WorkspacePlan, ...], subscription_id: str, project: str, stack: str
) -> tuple[RoleDefinitionPlan, ...]:
    """One set per stack: role names are unique per tenant, so they name project, stack and group."""
    subscription_scope = f"/subscriptions/{subscription_id}"
    outside_rg = tuple(ws.id for ws in workspaces if ws.resource_group.lower() != rg.name.lower())
    scopes = {
        "subscription": (subscription_scope,),
        "resourceGroup": (rg.id,),
        "workspace": (rg.id, *outside_rg),
    }
    plans = []
    for spec in roles.DEPLOYER_ROLES:
        guid = names.deterministic_guid("role-definition", rg.id, project, stack, spec.key)
        plans.append(
            RoleDefinitionPlan(
                key=spec.key,
                guid=guid,
                id=roles.role_definition_id(subscription_id, guid),
                role_name=f"{spec.title} ({project}/{stack}, {rg.name}, {subscription_id[:8]})",
                description=spec.description,
                actions=spec.actions,
                assignable_scopes=scopes[spec.scope],
            )
        )
    return tuple(plans)


def _assignment(
    principal_id: str, principal_type: str, role_id: str, custom: str | None, scope: ScopeRef, label: str
) -> RoleAssignmentPlan:
    return RoleAssignmentPlan(
        logical_name=f"{principal_id}-{label}-{scope.label}",
        name=names.deterministic_guid(scope.id, principal_id, role_id),
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=role_id,
        custom_role=custom,
        scope=scope,
    )


def _role_assignments(
    settings: Settings,
    rg: ResourceGroupPlan,
    workspaces: tuple[WorkspacePlan, ...],
    definitions: tuple[RoleDefinitionPlan, ...],
    subscription_id: str,
) -> tuple[RoleAssignmentPlan, ...]:
    by_key = {ws.key: ws for ws in workspaces}
    custom = {d.key: d for d in definitions}
    rg_scope = ScopeRef("resourceGroup", rg.id)
    plans: list[RoleAssignmentPlan] = []
    for grant in settings.access:
        target = (
            rg_scope if grant.scope == "resourceGroup" else ScopeRef("workspace", by_key[grant.scope].id, grant.scope)
        )
        if grant.role == "deployer":
            # Each permission at the scope the Azure docs name for it.
            targets = {
                "subscription": [ScopeRef("subscription", f"/subscriptions/{subscription_id}")],
                "resourceGroup": [rg_scope],
                "workspace": [target]
                if target.kind == "workspace"
                else [ScopeRef("workspace", ws.id, ws.key) for ws in workspaces],
            }
            for spec in roles.DEPLOYER_ROLES:
                definition = custom[spec.key]
                for scope in targets[spec.scope]:
                    plans.append(
                        _assignment(
                            grant.principal_id,
                            grant.principal_type,
                            definition.id,
                            spec.key,
                            scope,
                            f"deployer-{spec.key}",
                        )
                    )
            continue
        guid = roles.AZURE_AI_DEVELOPER if grant.role == "developer" else grant.role
        label = "developer" if grant.role == "developer" else f"role-{grant.role}"
        role_id = roles.role_definition_id(subscription_id, guid)
        plans.append(_assignment(grant.principal_id, grant.principal_type, role_id, None, target, label))
    return tuple(plans)


def plan(settings: Settings, catalog: Catalog, *, project: str, stack: str, subscription_id: str) -> Desired:
    """Everything the stack creates, from validated settings and the deploying subscription's ID."""
    if settings.location is None:  # settings validation guarantees a location
        raise ValueError("location is not set")
    rg_name = settings.resource_group.name or f"rg-{project}-{stack}"
    rg = ResourceGroupPlan(
        rg_name, settings.resource_group.create, f"/subscriptions/{subscription_id}/resourceGroups/{rg_name}"
    )
    scope = (subscription_id, rg_name)

    hub = None
    if settings.hub is not None:
        if settings.hub.id is not None:
            hub = _existing(None, settings.hub.id)
        elif settings.hub.name is not None:
            hub = _created(settings.hub.name, "Hub", rg, subscription_id, scope)

    kinds: dict[str, WorkspaceKind] = {"project": "Project", "workspace": "Default"}
    workspaces = tuple(
        _existing(ws.name, ws.id)
        if ws.kind == "existing" and ws.id is not None
        else _created(ws.name, kinds[ws.kind], rg, subscription_id, scope)
        for ws in settings.workspaces
    )
    subscriptions, endpoints = _endpoints(settings, catalog)
    needs_custom_roles = any(grant.role == "deployer" for grant in settings.access)
    definitions = _role_definitions(rg, workspaces, subscription_id, project, stack) if needs_custom_roles else ()
    return Desired(
        location=settings.location,
        tags=standard_tags(settings, project, stack),
        resource_group=rg,
        hub=hub,
        workspaces=workspaces,
        subscriptions=subscriptions,
        endpoints=endpoints,
        role_definitions=definitions,
        role_assignments=_role_assignments(settings, rg, workspaces, definitions, subscription_id),
    )
