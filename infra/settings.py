"""The stack config contract: one typed model of the ``azure-maas`` config namespace.

Values come from the Pulumi stack config (``Pulumi.<stack>.yaml``), with ``AZURE_MAAS_*`` environment
overrides for the scalar keys, through pydantic-settings sources. :func:`load_settings` validates the
whole config, shape first (pydantic), then the rules that span keys (catalog, lifecycle, regions,
uniqueness), then collisions (two entries that would share a logical name or an Azure name, found on the
desired state itself), and raises :class:`ConfigError` listing every problem with its key path before
anything is registered with Pulumi.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pulumi
import pulumi.runtime
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from azure_maas_policy.facts import shown
from infra import catalog as catalog_module
from infra import names, roles
from infra.catalog import Catalog

NAMESPACE = "azure-maas"
"""The Pulumi config namespace of every key below."""

ENV_PREFIX = "AZURE_MAAS_"
ENV_OVERRIDES: Mapping[str, tuple[str, ...]] = {
    "AZURE_MAAS_LOCATION": ("location",),
    "AZURE_MAAS_RESOURCE_GROUP_NAME": ("resourceGroup", "name"),
    "AZURE_MAAS_RESOURCE_GROUP_CREATE": ("resourceGroup", "create"),
}
"""Environment variables that override scalar keys (a pipeline overrides without editing files)."""

RESERVED_TAGS = ("managed-by", "pulumi-project", "pulumi-stack")
"""Tags azure-maas sets on every taggable resource; config ``tags`` may not set them."""

ROLE_KINDS = ("developer", "deployer")

Path = tuple[str | int, ...]


# ---------------------------------------------------------------------------------------------------
# Field types: each check's message comes from the rule it checks.


def _rule(rule: names.NameRule) -> AfterValidator:
    def check(value: str) -> str:
        problem = rule.problem(value)
        if problem:
            raise PydanticCustomError("invalid_name", "{problem}", {"problem": problem})
        return value

    return AfterValidator(check)


def _check_model_id(value: str) -> str:
    problem = names.model_id_problem(value)
    if problem:
        raise PydanticCustomError("invalid_model_id", "{problem}", {"problem": problem})
    return value


def _check_role(value: str) -> str:
    if value in ROLE_KINDS:
        return value
    if names.GUID.pattern.fullmatch(value):
        return value.lower()
    problem = (
        f"{shown(value)} is not a role: use 'developer' (built-in Azure AI Developer), 'deployer' "
        "(least-privilege custom roles) or a role definition GUID"
    )
    raise PydanticCustomError("invalid_role", "{problem}", {"problem": problem})


def _lower(value: str) -> str:
    return value.lower()


EndpointName = Annotated[str, _rule(names.ENDPOINT_NAME)]
WorkspaceName = Annotated[str, _rule(names.WORKSPACE_NAME)]
ResourceGroupName = Annotated[str, _rule(names.RESOURCE_GROUP_NAME)]
Guid = Annotated[str, _rule(names.GUID), AfterValidator(_lower)]
WorkspaceId = Annotated[str, _rule(names.WORKSPACE_ID)]
ModelId = Annotated[str, AfterValidator(_check_model_id)]
Role = Annotated[str, AfterValidator(_check_role)]
Region = Annotated[str, AfterValidator(names.normalize_region)]


class _Config(BaseModel):
    # Keys are the camelCase names only: a snake_case spelling is an unknown key, not a synonym.
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=False)


class ResourceGroupConfig(_Config):
    """``resourceGroup``: the group every created resource goes into."""

    name: ResourceGroupName | None = None
    """Default ``rg-<project>-<stack>``."""
    create: bool = True
    """``false`` uses an existing group of that name."""


class HubConfig(_Config):
    """``hub``: a Foundry hub to create (``name``) or an existing one (``id``); exactly one of the two."""

    name: WorkspaceName | None = None
    id: WorkspaceId | None = None


class DeploymentConfig(_Config):
    """``workspaces[i].deployments[j]``: one serverless endpoint."""

    name: EndpointName
    """Endpoint name: part of the endpoint URL, unique per region."""
    model: str | None = None
    """A catalog key, e.g. ``mistral-large-2411``."""
    model_id: ModelId | None = None
    """A full ``azureml://registries/<registry>/models/<name>`` (instead of ``model``)."""
    auth_mode: Literal["Key", "AAD", "KeyAndAAD"] = "Key"
    content_safety: bool = True
    allow_retired: bool = False
    """Deploy a deprecated or retired model anyway (it will fail or return 404 in Azure)."""


class WorkspaceConfig(_Config):
    """``workspaces[i]``: a Foundry project, a standalone Azure ML workspace or an existing one."""

    name: WorkspaceName
    kind: Literal["project", "workspace", "existing"]
    id: WorkspaceId | None = None
    """Resource ID of the existing workspace (``kind: existing`` only)."""
    deployments: tuple[DeploymentConfig, ...] = ()


class AccessConfig(_Config):
    """``access[i]``: a role assignment for a person, group or pipeline identity."""

    principal_id: Guid
    principal_type: Literal["User", "Group", "ServicePrincipal"]
    role: Role
    scope: str = "resourceGroup"
    """``resourceGroup`` or the name of one of ``workspaces``."""


class DeployerRolesConfig(_Config):
    """``deployerRoles``: existing role definitions (GUIDs) that ``role: deployer`` assigns instead of the custom
    roles the program would create; ``scripts/bootstrap.sh`` creates them once per repository and prints this."""

    marketplace: Guid
    """Assigned at the subscription: the Marketplace actions (``infra/roles.py``)."""
    saas: Guid
    """Assigned at the resource group: the SaaS resource actions."""
    serverless: Guid
    """Assigned at each workspace: marketplace model subscriptions and serverless endpoints."""


def _default_regions() -> tuple[str, ...]:
    return catalog_module.load().serverless.regions


# ---------------------------------------------------------------------------------------------------
# Sources: the Pulumi stack config, and environment overrides on top of it.


def _parse_config_value(raw: Any) -> Any:
    """Pulumi hands structured config values to programs as JSON text."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def pulumi_config_values() -> dict[str, Any]:
    """Every ``azure-maas:*`` key of the running stack, plus ``azure-native:location`` as the location default."""
    keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.get_config_env())
    prefix = f"{NAMESPACE}:"
    values = {
        key[len(prefix) :]: _parse_config_value(pulumi.runtime.get_config(key))
        for key in sorted(keys)
        if key.startswith(prefix)
    }
    provider_location = pulumi.runtime.get_config("azure-native:location")
    if "location" not in values and provider_location:
        values["location"] = provider_location
    return values


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """``AZURE_MAAS_*`` variables in ``environ`` (all of them: an unknown one is reported, not ignored)."""
    return {key: value for key, value in environ.items() if key.startswith(ENV_PREFIX)}


class PulumiConfigSource(PydanticBaseSettingsSource):
    """Reads the ``azure-maas`` namespace of the Pulumi stack config."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads the whole namespace at once

    def __call__(self) -> dict[str, Any]:
        return pulumi_config_values()


class EnvOverrideSource(PydanticBaseSettingsSource):
    """Applies ``AZURE_MAAS_LOCATION``, ``AZURE_MAAS_RESOURCE_GROUP_NAME`` and ``AZURE_MAAS_RESOURCE_GROUP_CREATE``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads every override at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for variable, value in env_overrides(os.environ).items():
            path = ENV_OVERRIDES.get(variable)
            if path is None:
                continue  # reported by load_settings, which knows the valid names
            target = values
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        return values


class Settings(BaseSettings):
    """The ``azure-maas`` config namespace. Field docs are the README's config reference."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=False, validate_default=True
    )

    location: Region | None = None
    """Region of every created resource; required unless ``azure-native:location`` is set."""
    resource_group: ResourceGroupConfig = ResourceGroupConfig()
    hub: HubConfig | None = None
    workspaces: tuple[WorkspaceConfig, ...] = Field(min_length=1)
    access: tuple[AccessConfig, ...] = ()
    deployer_roles: DeployerRolesConfig | None = None
    """Role definitions ``deployer`` assigns; unset: the program creates them (needs role-definition write)."""
    allowed_regions: tuple[Region, ...] = Field(default_factory=_default_regions, min_length=1)
    tags: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, EnvOverrideSource(settings_cls), PulumiConfigSource(settings_cls))


# ---------------------------------------------------------------------------------------------------
# Errors that name the key.


@dataclass(frozen=True, order=True)
class Issue:
    """One config problem: the key path it is at and what is wrong and valid."""

    path: Path
    message: str

    def render(self, env_paths: Mapping[Path, str] | None = None) -> str:
        if not self.path:  # a problem outside the config file, e.g. an environment variable
            return self.message
        variable = (env_paths or {}).get(self.path)
        origin = f" (set by {variable})" if variable else ""
        return f"{key_path(self.path)}{origin}: {self.message}"


def key_path(path: Path) -> str:
    """``("workspaces", 1, "deployments", 0, "name")`` -> ``azure-maas:workspaces[1].deployments[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"{NAMESPACE}:{text}" if text else NAMESPACE


class ConfigError(pulumi.RunError):
    """The stack config is invalid; ``issues`` lists every problem, each with its key path.

    A :class:`pulumi.RunError`, so a program that lets it escape ends with the message and no traceback."""

    def __init__(self, issues: list[Issue], env_paths: Mapping[Path, str] | None = None) -> None:
        self.issues = sorted(issues, key=_issue_order)
        self.lines = [issue.render(env_paths) for issue in self.issues]
        count = len(self.lines)
        head = f"invalid stack config ({count} problem{'s' if count != 1 else ''}); nothing was created"
        super().__init__("\n".join([head, *(f"  {line}" for line in self.lines)]))


def _issue_order(issue: Issue) -> tuple[tuple[tuple[int, str], ...], str]:
    return tuple((0, f"{p:09d}") if isinstance(p, int) else (1, p) for p in issue.path), issue.message


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``X | None``, ``tuple[X, ...]``, ``Annotated[X, ...]``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        elif origin in (tuple, list):
            annotation = get_args(annotation)[0]
        else:
            return annotation


def _model_at(path: Path) -> type[BaseModel] | None:
    """The config model that owns the keys at ``path`` (for listing the valid keys)."""
    model: type[BaseModel] = Settings
    for part in path:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return None
        inner = _unwrap(field.annotation)
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return None
        model = inner
    return model


def _valid_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _issue_from_pydantic(error: Mapping[str, Any]) -> Issue | None:
    loc: Path = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        valid = _valid_keys(owner) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean {close[0]!r}? Valid" if close else "valid"
        return Issue(loc, f"unknown key; {hint} keys here: {', '.join(valid)}")
    if kind == "missing":
        return Issue(loc, "required key is missing")
    if kind in ("invalid_name", "invalid_model_id", "invalid_role"):
        return Issue(loc, str(error["msg"]))
    if kind == "too_short":
        # pydantic also reports a list whose items all failed as too short: those items say why.
        return Issue(loc, "must list at least one entry") if not value else None
    return Issue(loc, f"got {shown(value)}: {error['msg']}")


def validation_issues(error: ValidationError) -> list[Issue]:
    """The shape problems pydantic found in the config, each at its key path with the message of its rule."""
    return [issue for item in error.errors(include_url=False) if (issue := _issue_from_pydantic(item))]


# ---------------------------------------------------------------------------------------------------
# Rules that span keys.


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
    issues = [
        Issue(
            ("allowedRegions", i),
            f"{region!r} does not offer serverless models; valid: {', '.join(catalog.serverless.regions)}",
        )
        for i, region in enumerate(settings.allowed_regions)
        if region not in catalog.serverless.regions
    ]
    allowed = ", ".join(settings.allowed_regions)
    if settings.location is None:
        issues.append(
            Issue(("location",), f"required (or set azure-native:location); one of allowedRegions: {allowed}")
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


def _check_access(settings: Settings) -> list[Issue]:
    # Two grants of one role assignment, however spelled, are collisions (desired.collisions).
    workspaces = {ws.name for ws in settings.workspaces}
    valid_scopes = ", ".join(["resourceGroup", *sorted(workspaces)])
    return [
        Issue(("access", i, "scope"), f"{grant.scope!r} is not a scope; valid: {valid_scopes}")
        for i, grant in enumerate(settings.access)
        if grant.scope != "resourceGroup" and grant.scope not in workspaces
    ]


def _check_deployer_roles(settings: Settings) -> list[Issue]:
    given = settings.deployer_roles
    if given is None:
        return []
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for key in (spec.key for spec in roles.DEPLOYER_ROLES):
        guid = getattr(given, key)
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
        *_check_access(settings),
        *_check_deployer_roles(settings),
        *_check_tags(settings),
    ]
    if issues:
        return issues
    # The names come from the desired state itself (one source of truth), which imports this module.
    from infra import desired

    return desired.config_collisions(settings, catalog, project=project, stack=stack)


def load_settings(today: dt.date | None = None) -> Settings:
    """Read and validate the whole stack config; raise :class:`ConfigError` naming every bad key.

    ``today`` is the day deprecation and retirement are judged on (tests inject it).
    """
    catalog = catalog_module.load()
    overrides = env_overrides(os.environ)
    env_paths: dict[Path, str] = {ENV_OVERRIDES[v]: v for v in overrides if v in ENV_OVERRIDES}
    unknown = [
        Issue((), f"{v}: not a known environment override; valid: {', '.join(ENV_OVERRIDES)}")
        for v in sorted(overrides)
        if v not in ENV_OVERRIDES
    ]
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigError(unknown + validation_issues(error), env_paths) from None
    # Outside a running program (unit tests) the project and stack are unset; no collision found here depends on them.
    project, stack = pulumi.get_project() or "project", pulumi.get_stack() or "stack"
    issues = unknown + check(settings, catalog, today or dt.date.today(), project=project, stack=stack)
    if issues:
        raise ConfigError(issues, env_paths)
    return settings


__all__ = [
    "AccessConfig",
    "ConfigError",
    "DeployerRolesConfig",
    "DeploymentConfig",
    "HubConfig",
    "Issue",
    "ResolvedModel",
    "ResourceGroupConfig",
    "Settings",
    "WorkspaceConfig",
    "key_path",
    "load_settings",
    "resolve_model",
    "validation_issues",
]
