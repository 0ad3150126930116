"""The rules that span keys: regions, the hub, workspaces, deployments against the catalog and its lifecycle,
access scopes, deployer roles and tags; then the collisions of the desired state. Each returns
:class:`~infra.settings.errors.Issue` s at the key they are about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic.alias_generators import to_camel

from infra import catalog as catalog_module
from infra import names, roles
from infra.catalog import Catalog
from infra.settings.errors import Issue, Path, key_path
from infra.settings.model import BUILT_IN_CONTENT_FILTERS, DeploymentConfig, FoundryDeploymentConfig, Settings

RESERVED_TAGS = ("managed-by", "pulumi-project", "pulumi-stack")
"""Tags azure-maas sets on every taggable resource; config ``tags`` may not set them."""


@dataclass(frozen=True)
class ResolvedModel:
    """The model a deployment asks for: its ID and, when the catalog knows it, the catalog row."""

    model_id: str
    entry: catalog_module.Model | None


def resolve_model(deployment: DeploymentConfig, catalog: Catalog) -> ResolvedModel | None:
    """The model of a deployment; None when its ``model`` is not a catalog key."""
    if deployment.model_id is not None:
        entry = catalog.by_model_id(deployment.model_id)
        return ResolvedModel(entry.model_id if entry and entry.model_id else deployment.model_id, entry)
    if deployment.model is not None:
        entry = catalog.get(deployment.model)
        if entry is None:
            return None
        # A model offered on no azureml:// channel keeps its key as ID; validation rejects it by channel.
        return ResolvedModel(entry.model_id or entry.key, entry)
    return None


def _check_location(settings: Settings, catalog: Catalog) -> list[Issue]:
    offered = sorted({*catalog.serverless.regions, *catalog.foundry_regions})
    issues = [
        Issue(
            ("allowedRegions", i),
            f"{region!r} offers neither serverless models nor Foundry deployments; valid: {', '.join(offered)}",
        )
        for i, region in enumerate(settings.allowed_regions)
        if region not in offered
    ]
    if not settings.workspaces and not settings.foundries:
        issues.append(
            Issue(
                ("workspaces",),
                "a stack needs at least one workspace, or one Foundry resource in 'foundries'",
                missing=True,
            )
        )
    allowed = ", ".join(settings.allowed_regions)
    if settings.location is None:
        issues.append(
            Issue(
                ("location",),
                f"required (or set azure-native:location); one of allowedRegions: {allowed}",
                missing=True,
            )
        )
    elif settings.location not in settings.allowed_regions:
        issues.append(Issue(("location",), f"{settings.location!r} is not in allowedRegions; valid: {allowed}"))
    return issues


def _check_hub(settings: Settings) -> list[Issue]:
    hub = settings.hub
    if hub is not None and (hub.name is None) == (hub.id is None):
        return [Issue(("hub",), "set exactly one of 'name' (create a Foundry hub) or 'id' (use an existing hub)")]
    return []


def _check_workspaces(settings: Settings) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    hub_name = settings.hub.name if settings.hub else None
    if settings.hub is not None and settings.hub.id is not None:
        hub_name = names.workspace_id_parts(settings.hub.id)[1]
    for i, ws in enumerate(settings.workspaces):
        first = seen.setdefault(ws.name.lower(), i)
        if first != i:
            issues.append(Issue(("workspaces", i, "name"), f"{ws.name!r} is already the name of workspaces[{first}]"))
        elif hub_name is not None and ws.name.lower() == hub_name.lower():
            issues.append(Issue(("workspaces", i, "name"), f"{ws.name!r} is already the name of the hub"))
        elif ws.name.lower() in ("resourcegroup", "subscription"):
            issues.append(
                Issue(("workspaces", i, "name"), f"{ws.name!r} is reserved: access[].scope uses it as a keyword")
            )
        if ws.kind == "project" and settings.hub is None:
            issues.append(
                Issue(
                    ("workspaces", i, "kind"),
                    "'project' needs a Foundry hub: set 'hub' ({name} or {id}), or use kind 'workspace'",
                )
            )
        if ws.kind == "existing" and ws.id is None:
            issues.append(Issue(("workspaces", i, "id"), "required for kind 'existing': the workspace's resource ID"))
        if ws.kind != "existing" and ws.id is not None:
            issues.append(
                Issue(
                    ("workspaces", i, "id"), f"only valid for kind 'existing'; a {ws.kind!r} is created by this stack"
                )
            )
    return issues


def _model_key(at: Path, deployment: DeploymentConfig) -> Path:
    """The key a model problem is reported at: whichever of ``model`` and ``modelId`` was set."""
    return (*at, "model") if deployment.model is not None else (*at, "modelId")


def _check_deployment(
    settings: Settings, catalog: Catalog, today: dt.date, at: Path, deployment: DeploymentConfig
) -> tuple[list[Issue], ResolvedModel | None]:
    if (deployment.model is None) == (deployment.model_id is None):
        return [
            Issue(
                at,
                "set exactly one of 'model' (a catalog key) or 'modelId' (azureml://registries/<registry>/models/<name>)",
            )
        ], None
    resolved = resolve_model(deployment, catalog)
    key = _model_key(at, deployment)
    if resolved is None:
        close = catalog.close_matches(deployment.model or "")
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        return [
            Issue(
                key,
                f"{deployment.model!r} is not in the model catalog; {hint}See policies/azure_maas_policy/catalog.yaml, or give a full 'modelId'",
            )
        ], None
    entry = resolved.entry
    if entry is None:
        return [], resolved
    if entry.serverless is None:
        return [
            Issue(
                key,
                f"{entry.label} is not offered as a serverless API, only as: {catalog_module.channels_text(entry)}; "
                "choose a serverless model (`maas models --channel serverless`)",
            )
        ], resolved
    issues: list[Issue] = []
    verdict = catalog_module.judge(entry, today, catalog)
    if verdict.blocked and not deployment.allow_retired:
        issues.append(Issue(key, f"{verdict.reason}; set allowRetired: true to deploy it anyway"))
    regions = catalog.serverless_regions(entry)
    if settings.location in settings.allowed_regions and settings.location not in regions:
        issues.append(
            Issue(
                key,
                f"{entry.name} is not offered as a serverless API in {settings.location!r}; regions: {', '.join(regions)}",
            )
        )
    return issues, resolved


def _check_deployments(settings: Settings, catalog: Catalog, today: dt.date) -> list[Issue]:
    issues: list[Issue] = []
    endpoint_names: dict[str, Path] = {}
    for i, ws in enumerate(settings.workspaces):
        models: dict[str, Path] = {}
        for j, deployment in enumerate(ws.deployments):
            at: Path = ("workspaces", i, "deployments", j)
            found, resolved = _check_deployment(settings, catalog, today, at, deployment)
            issues += found
            other = endpoint_names.setdefault(deployment.name.lower(), at)
            if other != at:
                issues.append(
                    Issue(
                        (*at, "name"),
                        f"{deployment.name!r} is already used by {key_path(other)}; endpoint names are unique per region",
                    )
                )
            if resolved is not None:
                first = models.setdefault(resolved.model_id.lower(), at)
                if first != at:
                    issues.append(
                        Issue(
                            _model_key(at, deployment),
                            f"{resolved.model_id} is already deployed in workspace {ws.name!r} by {key_path(first)}; "
                            "Azure allows one deployment per model per workspace",
                        )
                    )
    return issues


def _unique(names_: list[str], prefix: Path, key: str) -> list[Issue]:
    """An issue at ``<prefix>.<key>[i].name`` for each entry whose name (case-insensitive) an earlier one has."""
    seen: dict[str, int] = {}
    issues = []
    for i, name in enumerate(names_):
        first = seen.setdefault(name.lower(), i)
        if first != i:
            issues.append(
                Issue(
                    (*prefix, key, i, "name"), f"{name!r} is already the name of {key}[{first}]; names are unique here"
                )
            )
    return issues


EXISTING_ONLY_KEYS = ("public_network_access",)
"""Keys of a Foundry resource that only a created one can have."""


def _check_foundry_model(
    settings: Settings, catalog: Catalog, today: dt.date, at: Path, deployment: FoundryDeploymentConfig
) -> list[Issue]:
    raw = (deployment.format, deployment.model_name)
    if (deployment.model is None) == all(part is None for part in raw) or (deployment.model is None and None in raw):
        return [
            Issue(
                at,
                "set exactly one of 'model' (a catalog key) or 'format' with 'modelName' (and 'version') as the "
                "Models API names them",
            )
        ]
    key: Path = (*at, "model") if deployment.model is not None else (*at, "modelName")
    if deployment.model is not None:
        entry = catalog.get(deployment.model)
        if entry is None:
            close = catalog.close_matches(deployment.model)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            return [
                Issue(
                    key,
                    f"{deployment.model!r} is not in the model catalog; {hint}`maas models --channel foundry` lists "
                    "the Foundry models, or give 'format', 'modelName' and 'version'",
                )
            ]
    else:
        entry = catalog.by_foundry_model(deployment.format or "", deployment.model_name or "")
        if entry is None:
            if deployment.version is None:
                return [
                    Issue((*at, "version"), "required with 'format' and 'modelName' (the catalog does not know them)")
                ]
            return []  # a model outside the catalog is deployed as given
    if entry.foundry is None:
        return [
            Issue(
                key,
                f"{entry.label} is not offered on Foundry resources, only as: {catalog_module.channels_text(entry)}; "
                "choose a Foundry model (`maas models --channel foundry`)",
            )
        ]
    issues: list[Issue] = []
    verdict = catalog_module.judge(entry, today, catalog, "foundry")
    if verdict.blocked and not deployment.allow_retired:
        issues.append(Issue(key, f"{verdict.reason}; set allowRetired: true to deploy it anyway"))
    skus = entry.foundry.skus
    sku = deployment.sku or default_sku(entry.foundry, settings.location)
    if deployment.sku is not None and deployment.sku not in skus:
        issues.append(
            Issue((*at, "sku"), f"{entry.name} is not offered as {deployment.sku!r}; offered: {', '.join(skus)}")
        )
    elif settings.location in settings.allowed_regions and (sku is None or settings.location not in skus[sku]):
        offered = ", ".join(f"{name} in {', '.join(regions)}" for name, regions in skus.items())
        issues.append(
            Issue(
                (*at, "sku") if deployment.sku is not None else key,
                f"{entry.name} is not offered in {settings.location!r}"
                + (f" as {deployment.sku!r}" if deployment.sku is not None else "")
                + f"; offered: {offered}",
            )
        )
    return issues


def default_sku(channel: catalog_module.FoundryChannel, location: str | None) -> str | None:
    """The deployment type a deployment without ``sku`` gets: ``GlobalStandard`` when the model offers it in
    ``location``, else the first type that does; None when none does."""
    offered = [name for name, regions in channel.skus.items() if location in regions]
    return "GlobalStandard" if "GlobalStandard" in offered else (offered[0] if offered else None)


def _check_foundries(settings: Settings, catalog: Catalog, today: dt.date) -> list[Issue]:
    issues = _unique([f.name for f in settings.foundries], (), "foundries")
    taken = {ws.name.lower() for ws in settings.workspaces}
    if settings.hub is not None and settings.hub.name is not None:
        taken.add(settings.hub.name.lower())
    for i, foundry in enumerate(settings.foundries):
        at: Path = ("foundries", i)
        if foundry.name.lower() in taken:
            issues.append(
                Issue((*at, "name"), f"{foundry.name!r} is already a workspace's name; access[].scope names both")
            )
        elif foundry.name.lower() in ("resourcegroup", "subscription"):
            issues.append(Issue((*at, "name"), f"{foundry.name!r} is reserved: access[].scope uses it as a keyword"))
        if foundry.id is not None:
            if foundry.subdomain is None:
                issues.append(
                    Issue(
                        (*at, "subdomain"),
                        "required with 'id': the existing resource's custom subdomain, as in "
                        "https://<subdomain>.services.ai.azure.com",
                    )
                )
            issues += [
                Issue((*at, to_camel(key)), "only valid for a Foundry resource this stack creates (no 'id')")
                for key in EXISTING_ONLY_KEYS
                if key in foundry.model_fields_set
            ]
        issues += _unique([p.name for p in foundry.projects], at, "projects")
        issues += _unique([f.name for f in foundry.content_filters], at, "contentFilters")
        issues += _unique([d.name for d in foundry.deployments], at, "deployments")
        filters = {f.name for f in foundry.content_filters}
        for j, deployment in enumerate(foundry.deployments):
            where: Path = (*at, "deployments", j)
            if deployment.content_filter not in filters and deployment.content_filter not in BUILT_IN_CONTENT_FILTERS:
                valid = ", ".join([*sorted(filters), *BUILT_IN_CONTENT_FILTERS])
                issues.append(
                    Issue(
                        (*where, "contentFilter"),
                        f"{deployment.content_filter!r} is not a content filter of {foundry.name!r}; valid: {valid}",
                    )
                )
            issues += _check_foundry_model(settings, catalog, today, where, deployment)
    return issues


def access_scopes(settings: Settings) -> dict[str, str]:
    """Every valid ``access[].scope`` and what it is: ``resourceGroup``, ``workspace``, ``foundry`` (a Foundry
    resource's name) or ``foundryProject`` (``<foundry>/<project>``)."""
    scopes = {"resourceGroup": "resourceGroup"}
    scopes |= {ws.name: "workspace" for ws in settings.workspaces}
    for foundry in settings.foundries:
        scopes[foundry.name] = "foundry"
        scopes |= {f"{foundry.name}/{project.name}": "foundryProject" for project in foundry.projects}
    return scopes


def _check_access(settings: Settings) -> list[Issue]:
    # Two grants of one role assignment, however spelled, are collisions (desired.collisions).
    scopes = access_scopes(settings)
    issues = []
    for i, grant in enumerate(settings.access):
        kind = scopes.get(grant.scope)
        if kind is None:
            issues.append(Issue(("access", i, "scope"), f"{grant.scope!r} is not a scope; valid: {', '.join(scopes)}"))
        elif grant.role == "deployer" and kind == "foundryProject":
            foundry = grant.scope.split("/", 1)[0]
            issues.append(
                Issue(
                    ("access", i, "scope"),
                    f"'deployer' at project {grant.scope!r}: deployments are the Foundry resource's, not a project's; "
                    f"use scope {foundry!r}",
                )
            )
    return issues


def deployer_covers_foundry(settings: Settings) -> int | None:
    """The index of the first ``deployer`` grant that covers a Foundry resource of the stack (at the resource
    group, which holds them, or at a Foundry resource), or None."""
    if not settings.foundries:
        return None
    foundries = {f.name for f in settings.foundries}
    return next(
        (
            i
            for i, grant in enumerate(settings.access)
            if grant.role == "deployer" and (grant.scope == "resourceGroup" or grant.scope in foundries)
        ),
        None,
    )


def _check_deployer_roles(settings: Settings) -> list[Issue]:
    given = settings.deployer_roles
    if given is None:
        return []
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    covering = deployer_covers_foundry(settings)
    if given.foundry is None and covering is not None:
        issues.append(
            Issue(
                ("deployerRoles", "foundry"),
                f"required: 'deployer' at {key_path(('access', covering))} covers the stack's Foundry resources; "
                "set it to the bootstrap's Foundry Deployer role (scripts/bootstrap.sh prints it)",
            )
        )
    for key in (spec.key for spec in roles.DEPLOYER_ROLES):
        guid = getattr(given, key)
        if guid is None:
            continue
        first = seen.setdefault(guid, key)
        if first != key:
            issues.append(
                Issue(
                    ("deployerRoles", key),
                    f"{guid} is already deployerRoles.{first}; each deployer role is its own role definition",
                )
            )
    return issues


def _check_tags(settings: Settings) -> list[Issue]:
    issues: list[Issue] = []
    for name, value in settings.tags.items():
        if name.lower() in RESERVED_TAGS:
            issues.append(Issue(("tags", name), f"reserved: azure-maas sets {', '.join(RESERVED_TAGS)} itself"))
        elif not 1 <= len(name) <= 512 or any(c in name for c in "<>%&\\?/"):
            issues.append(Issue(("tags", name), "tag names are 1-512 characters without < > % & \\ ? /"))
        if len(value) > 256:
            issues.append(Issue(("tags", name), f"tag values are at most 256 characters (got {len(value)})"))
    return issues


def check(
    settings: Settings, catalog: Catalog, today: dt.date, *, project: str = "project", stack: str = "stack"
) -> list[Issue]:
    """Every rule that spans keys, in one pass, then (once every entry is valid on its own) the collisions of
    the desired state; empty when the config is valid. ``project`` and ``stack`` name the stack planned for."""
    issues = [
        *_check_location(settings, catalog),
        *_check_hub(settings),
        *_check_workspaces(settings),
        *_check_deployments(settings, catalog, today),
        *_check_foundries(settings, catalog, today),
        *_check_access(settings),
        *_check_deployer_roles(settings),
        *_check_tags(settings),
    ]
    if issues:
        return issues
    # The names come from the desired state itself (one source of truth), which imports this module.
    from infra import desired

    return desired.config_collisions(settings, catalog, project=project, stack=stack)
