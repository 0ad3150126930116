"""Desired state: what to create, with final Azure names, computed purely from validated settings.

No Pulumi types here: every function is a plain function of its arguments, so the whole desired state can
be checked exhaustively and fast. Its records are ``...Spec`` s (what one resource should be); "plan" is the
``maas plan`` command's word. Components (``infra/components``) turn it into resources.

Every record that comes from a config entry keeps that entry's key path (``origin``), so :func:`collisions`
can name both entries of two that would share a logical name (URN) or an Azure name. Settings validation runs
it on the desired state for a placeholder subscription before anything is registered; :func:`compute` runs it
again for
the deploying subscription, whose IDs a config can spell out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from infra import names, roles
from infra.catalog import Api, Catalog
from infra.settings import ConfigError, FoundryDeploymentConfig, Issue, Settings, key_path, resolve_model
from infra.settings import Path as KeyPath
from infra.settings.model import BUILT_IN_CONTENT_FILTERS
from infra.settings.rules import default_sku

PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
"""The subscription settings validation computes the desired state for: the deploying one is known only once the program runs."""

WorkspaceKind = Literal["Hub", "Project", "Default"]


@dataclass(frozen=True)
class ResourceGroupSpec:
    name: str
    create: bool
    id: str


@dataclass(frozen=True)
class WorkspaceSpec:
    """A hub, project, standalone workspace, or an existing workspace that is only referenced."""

    key: str
    """The config name: logical names and ``access[].scope`` refer to it."""
    name: str
    """The Azure workspace name."""
    resource_group: str
    id: str
    kind: WorkspaceKind | None
    """None for an existing workspace (nothing is created)."""
    origin: KeyPath
    """The config entry: ``("hub",)`` or ``("workspaces", i)``."""
    storage_account: str | None = None
    key_vault: str | None = None

    @property
    def created(self) -> bool:
        return self.kind is not None


@dataclass(frozen=True)
class SubscriptionSpec:
    """A marketplace subscription of one workspace to one model's offer."""

    workspace: str
    name: str
    model_id: str


@dataclass(frozen=True)
class EndpointSpec:
    workspace: str
    name: str
    model_id: str
    catalog_key: str | None
    auth_mode: Literal["Key", "AAD", "KeyAndAAD"]
    content_safety: bool
    subscription: SubscriptionSpec | None
    """The subscription the endpoint depends on; None for models in Microsoft's own registry."""
    origin: KeyPath
    """The config entry: ``("workspaces", i, "deployments", j)``."""
    api: Api = "chat"
    """What the model answers (the catalog's ``api``; a model outside the catalog is taken as chat)."""

    @property
    def has_keys(self) -> bool:
        return self.auth_mode in ("Key", "KeyAndAAD")


@dataclass(frozen=True)
class FoundryProjectSpec:
    name: str
    description: str
    origin: KeyPath

    def id(self, account_id: str) -> str:
        return f"{account_id}/projects/{self.name}"


@dataclass(frozen=True)
class ContentFilterSpec:
    """A content-filter (RAI) policy: the four harm categories on prompts and completions at one threshold."""

    name: str
    base_policy: str
    severity_threshold: Literal["Low", "Medium", "High"]
    jailbreak: bool
    protected_material: bool
    origin: KeyPath


@dataclass(frozen=True)
class FoundryDeploymentSpec:
    name: str
    format: str
    model_name: str
    version: str
    catalog_key: str | None
    api: Api
    sku: str
    capacity: int
    version_upgrade: str
    content_filter: str
    """The RAI policy's name: one of the resource's ``content_filters`` or a built-in."""
    origin: KeyPath

    @property
    def custom_filter(self) -> bool:
        return self.content_filter not in BUILT_IN_CONTENT_FILTERS


@dataclass(frozen=True)
class FoundrySpec:
    """A Foundry resource (created, or existing and only referenced) with what the stack creates on it."""

    key: str
    """The config name: logical names, outputs and ``access[].scope`` refer to it."""
    name: str
    """The Azure account name."""
    resource_group: str
    id: str
    created: bool
    subdomain: str
    local_auth: bool
    public_network_access: Literal["Enabled", "Disabled"]
    projects: tuple[FoundryProjectSpec, ...]
    content_filters: tuple[ContentFilterSpec, ...]
    deployments: tuple[FoundryDeploymentSpec, ...]
    """In config order: the component creates them one after the other."""
    origin: KeyPath

    @property
    def endpoint(self) -> str:
        return f"https://{self.subdomain}.services.ai.azure.com/"

    @property
    def openai_base_url(self) -> str:
        return f"https://{self.subdomain}.openai.azure.com/openai/v1"


@dataclass(frozen=True)
class RoleDefinitionSpec:
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
    """Where a role is assigned: the subscription, the resource group, a workspace, a Foundry resource or a
    Foundry project (by config name: ``<foundry>/<project>``)."""

    kind: Literal["subscription", "resourceGroup", "workspace", "foundry", "foundryProject"]
    id: str
    workspace: str | None = None
    """The config name of the workspace, Foundry resource or project; None for the subscription and group."""

    @property
    def label(self) -> str:
        return self.workspace if self.workspace is not None else self.kind


@dataclass(frozen=True)
class RoleAssignmentSpec:
    logical_name: str
    name: str
    """UUIDv5 of scope, principal and role definition: re-runs are no-ops."""
    principal_id: str
    principal_type: str
    role_definition_id: str
    custom_role: str | None
    """Key of the ``deployer`` role the assignment grants (``marketplace``, ``saas``, ``serverless``), if any: one
    of ``Desired.role_definitions`` when the stack creates them, else an existing one (``deployerRoles``)."""
    scope: ScopeRef
    origin: KeyPath
    """The config entry: ``("access", i)``."""


@dataclass(frozen=True)
class Desired:
    location: str
    tags: dict[str, str]
    resource_group: ResourceGroupSpec
    hub: WorkspaceSpec | None
    workspaces: tuple[WorkspaceSpec, ...]
    subscriptions: tuple[SubscriptionSpec, ...]
    endpoints: tuple[EndpointSpec, ...]
    role_definitions: tuple[RoleDefinitionSpec, ...]
    role_assignments: tuple[RoleAssignmentSpec, ...]
    foundries: tuple[FoundrySpec, ...] = ()


def standard_tags(settings: Settings, project: str, stack: str) -> dict[str, str]:
    """The tag rule: config ``tags`` plus ``managed-by``, ``pulumi-project`` and ``pulumi-stack`` on every
    taggable resource (settings validation forbids the reserved keys in ``tags``)."""
    return {**settings.tags, "managed-by": "pulumi", "pulumi-project": project, "pulumi-stack": stack}


def _resource_id(subscription_id: str, resource_group: str, resource_type: str, name: str) -> str:
    """``/subscriptions/<s>/resourceGroups/<g>/providers/<resource_type>/<name>``."""
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{resource_type}/{name}"


def _existing(key: str | None, resource_id: str, origin: KeyPath) -> WorkspaceSpec:
    """An existing workspace; ``key`` defaults to its Azure name (an existing hub has no config name)."""
    resource_group, name = names.workspace_id_parts(resource_id)  # settings validation checked the shape
    return WorkspaceSpec(key or name, name, resource_group, resource_id, None, origin)


def _created(
    key: str,
    kind: WorkspaceKind,
    rg: ResourceGroupSpec,
    subscription_id: str,
    scope: tuple[str, ...],
    origin: KeyPath,
) -> WorkspaceSpec:
    own_storage = kind in ("Hub", "Default")
    return WorkspaceSpec(
        key=key,
        name=key,
        resource_group=rg.name,
        id=_resource_id(subscription_id, rg.name, "Microsoft.MachineLearningServices/workspaces", key),
        kind=kind,
        origin=origin,
        storage_account=names.storage_account_name(*scope, workspace=key) if own_storage else None,
        key_vault=names.key_vault_name(*scope, workspace=key) if own_storage else None,
    )


def _endpoints(settings: Settings, catalog: Catalog) -> tuple[tuple[SubscriptionSpec, ...], tuple[EndpointSpec, ...]]:
    subscriptions: dict[tuple[str, str], SubscriptionSpec] = {}
    endpoints: list[EndpointSpec] = []
    for i, ws in enumerate(settings.workspaces):
        for j, deployment in enumerate(ws.deployments):
            resolved = resolve_model(deployment, catalog)
            if resolved is None:  # settings validation guarantees a model
                raise ValueError(f"deployment {deployment.name!r} has no model")
            subscription = None
            if names.needs_marketplace_subscription(resolved.model_id):
                subscription = subscriptions.setdefault(
                    (ws.name, resolved.model_id.lower()),
                    SubscriptionSpec(
                        ws.name, names.marketplace_subscription_name(resolved.model_id), resolved.model_id
                    ),
                )
            endpoints.append(
                EndpointSpec(
                    workspace=ws.name,
                    name=deployment.name,
                    model_id=resolved.model_id,
                    catalog_key=resolved.entry.key if resolved.entry else None,
                    auth_mode=deployment.auth_mode,
                    content_safety=deployment.content_safety,
                    subscription=subscription,
                    origin=("workspaces", i, "deployments", j),
                    api=resolved.entry.api if resolved.entry else "chat",
                )
            )
    return tuple(subscriptions.values()), tuple(endpoints)


def _foundry_deployment(
    settings: Settings, catalog: Catalog, deployment: FoundryDeploymentConfig, origin: KeyPath
) -> FoundryDeploymentSpec:
    entry = catalog.get(deployment.model) if deployment.model is not None else None
    if entry is None and deployment.format is not None and deployment.model_name is not None:
        entry = catalog.by_foundry_model(deployment.format, deployment.model_name)
    channel = entry.foundry if entry is not None else None
    format_: str | None
    model_name: str | None
    version: str | None
    sku: str | None
    if channel is not None:
        format_, model_name, version = channel.format, channel.name, deployment.version or channel.version
        sku = deployment.sku or default_sku(channel, settings.location)
    else:
        format_, model_name, version = deployment.format, deployment.model_name, deployment.version
        sku = deployment.sku or "GlobalStandard"
    if format_ is None or model_name is None or version is None or sku is None:
        raise ValueError(f"deployment {deployment.name!r} has no model")  # settings validation guarantees one
    return FoundryDeploymentSpec(
        name=deployment.name,
        format=format_,
        model_name=model_name,
        version=version,
        catalog_key=entry.key if entry is not None else None,
        api=entry.api if entry is not None else "chat",
        sku=sku,
        capacity=deployment.capacity,
        version_upgrade=deployment.version_upgrade,
        content_filter=deployment.content_filter,
        origin=origin,
    )


def _foundries(
    settings: Settings, catalog: Catalog, rg: ResourceGroupSpec, subscription_id: str
) -> tuple[FoundrySpec, ...]:
    specs = []
    for i, foundry in enumerate(settings.foundries):
        origin: KeyPath = ("foundries", i)
        if foundry.id is not None:
            resource_group, name = names.foundry_id_parts(foundry.id)
            resource_id, created = foundry.id, False
        else:
            resource_group, name = rg.name, foundry.name
            resource_id, created = (
                _resource_id(subscription_id, rg.name, "Microsoft.CognitiveServices/accounts", foundry.name),
                True,
            )
        subdomain = foundry.subdomain or names.foundry_subdomain(subscription_id, rg.name, account=foundry.name)
        specs.append(
            FoundrySpec(
                key=foundry.name,
                name=name,
                resource_group=resource_group,
                id=resource_id,
                created=created,
                subdomain=subdomain,
                local_auth=foundry.local_auth,
                public_network_access=foundry.public_network_access,
                projects=tuple(
                    FoundryProjectSpec(p.name, p.description, (*origin, "projects", j))
                    for j, p in enumerate(foundry.projects)
                ),
                content_filters=tuple(
                    ContentFilterSpec(
                        f.name,
                        f.base_policy,
                        f.severity_threshold,
                        f.jailbreak,
                        f.protected_material,
                        (*origin, "contentFilters", j),
                    )
                    for j, f in enumerate(foundry.content_filters)
                ),
                deployments=tuple(
                    _foundry_deployment(settings, catalog, d, (*origin, "deployments", j))
                    for j, d in enumerate(foundry.deployments)
                ),
                origin=origin,
            )
        )
    return tuple(specs)


def _role_definitions(
    rg: ResourceGroupSpec,
    workspaces: tuple[WorkspaceSpec, ...],
    foundries: tuple[FoundrySpec, ...],
    subscription_id: str,
    project: str,
    stack: str,
) -> tuple[RoleDefinitionSpec, ...]:
    """One set per stack: role names are unique per tenant, so they name project, stack and group. The Foundry
    Deployer only in a stack with Foundry resources."""
    subscription_scope = f"/subscriptions/{subscription_id}"
    outside_rg = tuple(ws.id for ws in workspaces if ws.resource_group.lower() != rg.name.lower())
    foundries_outside = tuple(f.id for f in foundries if f.resource_group.lower() != rg.name.lower())
    scopes = {
        "subscription": (subscription_scope,),
        "resourceGroup": (rg.id,),
        "workspace": (rg.id, *outside_rg),
        "foundry": (rg.id, *foundries_outside),
    }
    specs = []
    for spec in roles.DEPLOYER_ROLES:
        if spec.scope == "foundry" and not foundries:
            continue
        guid = names.deterministic_guid("role-definition", rg.id, project, stack, spec.key)
        specs.append(
            RoleDefinitionSpec(
                key=spec.key,
                guid=guid,
                id=roles.role_definition_id(subscription_id, guid),
                role_name=f"{spec.title} ({project}/{stack}, {rg.name}, {subscription_id[:8]})",
                description=spec.description,
                actions=spec.actions,
                assignable_scopes=scopes[spec.scope],
            )
        )
    return tuple(specs)


def _assignment(
    principal_id: str,
    principal_type: str,
    role_id: str,
    custom: str | None,
    scope: ScopeRef,
    label: str,
    origin: KeyPath,
) -> RoleAssignmentSpec:
    return RoleAssignmentSpec(
        logical_name=f"{principal_id}-{label}-{scope.label}",
        name=names.deterministic_guid(scope.id, principal_id, role_id),
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=role_id,
        custom_role=custom,
        scope=scope,
        origin=origin,
    )


def _scopes(
    rg: ResourceGroupSpec, workspaces: tuple[WorkspaceSpec, ...], foundries: tuple[FoundrySpec, ...]
) -> dict[str, ScopeRef]:
    """Every ``access[].scope`` label and where it is."""
    scopes = {"resourceGroup": ScopeRef("resourceGroup", rg.id)}
    scopes |= {ws.key: ScopeRef("workspace", ws.id, ws.key) for ws in workspaces}
    for foundry in foundries:
        scopes[foundry.key] = ScopeRef("foundry", foundry.id, foundry.key)
        for project in foundry.projects:
            label = f"{foundry.key}/{project.name}"
            scopes[label] = ScopeRef("foundryProject", project.id(foundry.id), label)
    return scopes


def _role_assignments(
    settings: Settings,
    rg: ResourceGroupSpec,
    workspaces: tuple[WorkspaceSpec, ...],
    foundries: tuple[FoundrySpec, ...],
    deployer_ids: dict[str, str],
    subscription_id: str,
) -> tuple[RoleAssignmentSpec, ...]:
    """``deployer_ids``: the role definition ID of each ``deployer`` role (created by the stack or existing).
    ``developer`` is Azure AI Developer at the resource group or a workspace, Foundry User at a Foundry scope."""
    scopes = _scopes(rg, workspaces, foundries)
    rg_scope = scopes["resourceGroup"]
    specs: list[RoleAssignmentSpec] = []
    for i, grant in enumerate(settings.access):
        origin: KeyPath = ("access", i)
        target = scopes[grant.scope]
        if grant.role == "deployer":
            # Each permission at the scope the Azure docs name for it.
            everywhere = target.kind == "resourceGroup"
            targets = {
                "subscription": [ScopeRef("subscription", f"/subscriptions/{subscription_id}")],
                "resourceGroup": [rg_scope],
                "workspace": [target]
                if target.kind == "workspace"
                else [ScopeRef("workspace", ws.id, ws.key) for ws in workspaces if everywhere],
                "foundry": [target]
                if target.kind == "foundry"
                else [ScopeRef("foundry", f.id, f.key) for f in foundries if everywhere],
            }
            for spec in roles.DEPLOYER_ROLES:
                for scope in targets[spec.scope]:  # none for a role the stack has no resource for
                    specs.append(
                        _assignment(
                            grant.principal_id,
                            grant.principal_type,
                            deployer_ids[spec.key],
                            spec.key,
                            scope,
                            f"deployer-{spec.key}",
                            origin,
                        )
                    )
            continue
        foundry_scope = target.kind in ("foundry", "foundryProject")
        developer = roles.FOUNDRY_USER if foundry_scope else roles.AZURE_AI_DEVELOPER
        guid = developer if grant.role == "developer" else grant.role
        label = "developer" if grant.role == "developer" else f"role-{grant.role}"
        role_id = roles.role_definition_id(subscription_id, guid)
        specs.append(_assignment(grant.principal_id, grant.principal_type, role_id, None, target, label, origin))
    return tuple(specs)


def compute(settings: Settings, catalog: Catalog, *, project: str, stack: str, subscription_id: str) -> Desired:
    """Everything the stack creates, from validated settings and the deploying subscription's ID.

    Raises :class:`ConfigError` when two entries would share a logical or an Azure name in this subscription
    (settings validation finds the rest before the subscription is known), so no caller gets a state that the
    engine or Azure would refuse.
    """
    desired = _compute(settings, catalog, project=project, stack=stack, subscription_id=subscription_id)
    issues = collisions(desired)
    if issues:
        raise ConfigError(issues)
    return desired


def config_collisions(settings: Settings, catalog: Catalog, *, project: str, stack: str) -> list[Issue]:
    """:func:`collisions` of the desired state for :data:`PLACEHOLDER_SUBSCRIPTION`: every collision that does
    not depend on which subscription deploys (settings validation runs this once each entry is valid)."""
    return collisions(
        _compute(settings, catalog, project=project, stack=stack, subscription_id=PLACEHOLDER_SUBSCRIPTION)
    )


def _compute(settings: Settings, catalog: Catalog, *, project: str, stack: str, subscription_id: str) -> Desired:
    if settings.location is None:  # settings validation guarantees a location
        raise ValueError("location is not set")
    rg_name = settings.resource_group.name or f"rg-{project}-{stack}"
    rg = ResourceGroupSpec(
        rg_name, settings.resource_group.create, f"/subscriptions/{subscription_id}/resourceGroups/{rg_name}"
    )
    scope = (subscription_id, rg_name)

    hub = None
    if settings.hub is not None:
        if settings.hub.id is not None:
            hub = _existing(None, settings.hub.id, ("hub",))
        elif settings.hub.name is not None:
            hub = _created(settings.hub.name, "Hub", rg, subscription_id, scope, ("hub",))

    kinds: dict[str, WorkspaceKind] = {"project": "Project", "workspace": "Default"}
    workspaces = tuple(
        _existing(ws.name, ws.id, ("workspaces", i))
        if ws.kind == "existing" and ws.id is not None
        else _created(ws.name, kinds[ws.kind], rg, subscription_id, scope, ("workspaces", i))
        for i, ws in enumerate(settings.workspaces)
    )
    subscriptions, endpoints = _endpoints(settings, catalog)
    foundries = _foundries(settings, catalog, rg, subscription_id)
    uses_deployer = any(grant.role == "deployer" for grant in settings.access)
    definitions: tuple[RoleDefinitionSpec, ...] = ()
    if settings.deployer_roles is not None:
        # Existing role definitions (the bootstrap's): the program creates none and needs no role-definition write.
        given = {spec.key: getattr(settings.deployer_roles, spec.key) for spec in roles.DEPLOYER_ROLES}
        deployer_ids = {key: roles.role_definition_id(subscription_id, guid) for key, guid in given.items() if guid}
    else:
        definitions = (
            _role_definitions(rg, workspaces, foundries, subscription_id, project, stack) if uses_deployer else ()
        )
        deployer_ids = {d.key: d.id for d in definitions}
    return Desired(
        location=settings.location,
        tags=standard_tags(settings, project, stack),
        resource_group=rg,
        hub=hub,
        workspaces=workspaces,
        subscriptions=subscriptions,
        endpoints=endpoints,
        role_definitions=definitions,
        role_assignments=_role_assignments(settings, rg, workspaces, foundries, deployer_ids, subscription_id),
        foundries=foundries,
    )


# ---------------------------------------------------------------------------------------------------
# Collisions: two entries that would share a logical name (URN) or an Azure name.


@dataclass(frozen=True)
class _Claim:
    """A name that a config entry's resource would hold; two claims of one ``kind`` and ``name`` collide."""

    kind: str
    """The rule (and message) the name falls under."""
    family: str
    """Collisions of one family between two entries are one line, of the first kind found."""
    name: tuple[str, ...]
    """What must be unique, normalized as Azure or the engine compares it."""
    origin: KeyPath
    shown: str
    """The shared name as the message shows it."""
    about: str = ""
    """What the entry's resource is, when the message needs it."""


def _role_text(assignment: RoleAssignmentSpec) -> str:
    if assignment.custom_role is not None:
        return next(spec.title for spec in roles.DEPLOYER_ROLES if spec.key == assignment.custom_role)
    guid = assignment.role_definition_id.rsplit("/", 1)[-1]
    return f"{guid} (Azure AI Developer)" if guid == roles.AZURE_AI_DEVELOPER else guid


def _claims(desired: Desired) -> Iterator[_Claim]:
    """Every name the components register, Azure names first, each with the entry it comes from.

    Logical names follow the components: a workspace component is named by its key, a deployment component by
    its endpoint name, a role assignment by its ``logical_name``; their children derive their names from these.
    A URN is qualified by type, so only names of one type are compared.
    """
    workspaces = (desired.hub, *desired.workspaces) if desired.hub else desired.workspaces
    for ws in workspaces:
        yield _Claim("workspace", "workspace", (ws.id.lower(),), ws.origin, ws.id)
    for ws in workspaces:
        yield _Claim("logical name", "workspace", ("Workspace", ws.key), ws.origin, ws.key)
        if ws.storage_account is not None:
            yield _Claim("storage account", "storage", (ws.storage_account.lower(),), ws.origin, ws.storage_account)
        if ws.key_vault is not None:
            yield _Claim("key vault", "key vault", (ws.key_vault.lower(),), ws.origin, ws.key_vault)
    by_key = {ws.key: ws for ws in workspaces}
    for endpoint in desired.endpoints:
        # Unique per region, and the deployment component's logical name (endpoint names are unique in the stack).
        yield _Claim("endpoint", "endpoint", (endpoint.name.lower(),), endpoint.origin, endpoint.name)
        if endpoint.subscription is not None:
            # Each deployment component creates the subscription it needs; names are unique per Azure workspace.
            yield _Claim(
                "marketplace subscription",
                "marketplace subscription",
                (by_key[endpoint.workspace].id.lower(), endpoint.subscription.name.lower()),
                endpoint.origin,
                f"{endpoint.subscription.name!r} in workspace {endpoint.workspace!r}",
                endpoint.subscription.model_id,
            )
    for foundry in desired.foundries:
        yield _Claim("foundry", "foundry", (foundry.id.lower(),), foundry.origin, foundry.id)
        yield _Claim("subdomain", "foundry", (foundry.subdomain.lower(),), foundry.origin, foundry.subdomain)
        yield _Claim("logical name", "foundry", ("Foundry", foundry.key), foundry.origin, foundry.key)
    for assignment in desired.role_assignments:
        yield _Claim(
            "role assignment",
            "access",
            (assignment.name,),
            assignment.origin,
            assignment.principal_id,
            f"role {_role_text(assignment)}, scope {assignment.scope.label}",
        )
    for assignment in desired.role_assignments:
        yield _Claim(
            "logical name",
            "access",
            ("RoleAssignment", assignment.logical_name),
            assignment.origin,
            assignment.logical_name,
        )


def _message(kind: str, other: str, shared: list[tuple[_Claim, _Claim]]) -> str:  # noqa: PLR0911 - one per kind
    """The line for one entry that shares names of one kind with ``other`` (``shared``: first and later claim)."""
    first, later = shared[0]
    if kind == "role assignment":
        if len(shared) == 1:
            what, details = "role assignment", f", {first.about}"
        else:
            what, details = "role assignments", "".join(f"; {f.about}" for f, _ in shared)
        return (
            f"grants the same {what} as {other} (principal {first.shown}{details}); "
            "Azure allows one assignment per principal, role and scope"
        )
    if kind == "workspace":
        return f"is the same Azure workspace as {other} ({first.shown}); list each workspace once"
    if kind == "marketplace subscription":
        return (
            f"would share the marketplace subscription name {later.shown} with {other} (models {later.about} and "
            f"{first.about}); subscription names are unique per workspace: deploy one of these models in another "
            "workspace"
        )
    if kind == "foundry":
        return f"is the same Foundry resource as {other} ({first.shown}); list each Foundry resource once"
    if kind == "subdomain":
        return (
            f"would share the custom subdomain {first.shown!r} with {other}; subdomains are globally unique: set "
            "another 'subdomain'"
        )
    if kind == "endpoint":
        return f"would share the endpoint name {first.shown!r} with {other}; endpoint names are unique per region"
    if kind in ("storage account", "key vault"):
        return (
            f"would share the {kind} name {first.shown!r} with {other}; {kind} names are globally unique: rename one "
            "of the workspaces"
        )
    shown = ", ".join(repr(f.shown) for f, _ in shared)
    return f"would share the logical name {shown} with {other}; the engine refuses two resources with one URN"


def collisions(desired: Desired) -> list[Issue]:
    """One issue per pair of entries (and kind of name) that would share a name, at the later entry's key and
    naming the earlier one; empty when every logical and Azure name is unique."""
    first_claims: dict[tuple[str, tuple[str, ...]], _Claim] = {}
    pairs: dict[tuple[KeyPath, KeyPath, str], tuple[str, list[tuple[_Claim, _Claim]]]] = {}
    for claim in _claims(desired):
        first = first_claims.setdefault((claim.kind, claim.name), claim)
        if first is claim:
            continue
        kind, shared = pairs.setdefault((claim.origin, first.origin, claim.family), (claim.kind, []))
        if kind == claim.kind:
            shared.append((first, claim))
    return [
        Issue(later, _message(kind, key_path(first) if first != later else "itself", shared))
        for (later, first, _), (kind, shared) in pairs.items()
    ]
