"""The config contract: one typed model of the ``azure-maas`` config namespace (pydantic), each field with its
rule. Shape only; the rules that span keys are in :mod:`infra.settings.rules`."""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from azure_maas_policy.facts import DEPLOYMENT_TYPES, shown
from infra import catalog as catalog_module
from infra import names
from infra.settings.sources import EnvOverrideSource, PulumiConfigSource

ROLE_KINDS = ("developer", "deployer")


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
FoundryName = Annotated[str, _rule(names.FOUNDRY_NAME)]
Subdomain = Annotated[str, _rule(names.SUBDOMAIN)]
FoundryProjectName = Annotated[str, _rule(names.FOUNDRY_PROJECT_NAME)]
FoundryDeploymentName = Annotated[str, _rule(names.FOUNDRY_DEPLOYMENT_NAME)]
ContentFilterName = Annotated[str, _rule(names.CONTENT_FILTER_NAME)]
FoundryId = Annotated[str, _rule(names.FOUNDRY_ID)]
Guid = Annotated[str, _rule(names.GUID), AfterValidator(_lower)]
WorkspaceId = Annotated[str, _rule(names.WORKSPACE_ID)]
ModelId = Annotated[str, AfterValidator(_check_model_id)]
Role = Annotated[str, AfterValidator(_check_role)]
Region = Annotated[str, AfterValidator(names.normalize_region)]


class _Config(BaseModel):
    # Keys are the camelCase names only: a snake_case spelling is an unknown key, not a synonym. Each field's
    # docstring is its description in the generated config reference (docs/configuration.md).
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=False, use_attribute_docstrings=True
    )


class ResourceGroupConfig(_Config):
    """``resourceGroup``: the group every created resource goes into."""

    name: ResourceGroupName | None = None
    """The resource group's name. Default: ``rg-<project>-<stack>``."""
    create: bool = True
    """``true`` creates the group; ``false`` uses an existing group of that name (the deploying identity then
    needs no rights at the subscription beyond the Marketplace actions)."""


class HubConfig(_Config):
    """``hub``: a Foundry hub to create (``name``) or an existing one (``id``); exactly one of the two."""

    name: WorkspaceName | None = None
    """Create a Foundry hub of this name (with its own storage account and key vault)."""
    id: WorkspaceId | None = None
    """Use the existing hub with this resource ID."""


class DeploymentConfig(_Config):
    """``workspaces[i].deployments[j]``: one serverless endpoint."""

    name: EndpointName
    """Endpoint name: part of the endpoint URL, unique per region."""
    model: str | None = None
    """A catalog key (``maas models`` lists them), e.g. ``mistral-medium-2505``; exactly one of ``model`` and
    ``modelId``."""
    model_id: ModelId | None = None
    """A full ``azureml://registries/<registry>/models/<name>``, instead of ``model``."""
    auth_mode: Literal["Key", "AAD", "KeyAndAAD"] = "Key"
    """How callers authenticate: endpoint keys (exported as secrets), Entra ID tokens, or both."""
    content_safety: bool = True
    """Azure AI Content Safety on the endpoint; the policy pack requires it unless its config says otherwise."""
    allow_retired: bool = False
    """Deploy a deprecated or retired model anyway (Azure refuses or answers 410 Gone)."""


class WorkspaceConfig(_Config):
    """``workspaces[i]``: a Foundry project, a standalone Azure ML workspace or an existing one."""

    name: WorkspaceName
    """The workspace's Azure name; ``access[].scope`` refers to it."""
    kind: Literal["project", "workspace", "existing"]
    """``project``: a Foundry project of ``hub``; ``workspace``: a standalone Azure ML workspace; ``existing``:
    use the workspace at ``id``, create nothing."""
    id: WorkspaceId | None = None
    """Resource ID of the existing workspace (``kind: existing`` only)."""
    deployments: tuple[DeploymentConfig, ...] = ()
    """The serverless endpoints of this workspace, one per model."""


BUILT_IN_CONTENT_FILTERS = ("Microsoft.DefaultV2", "Microsoft.Default")
"""Content-filter (RAI) policies every Foundry resource has; a deployment may name one instead of its own."""


def _check_deployment_type(value: str) -> str:
    if value in DEPLOYMENT_TYPES:
        return value
    problem = f"{shown(value)} is not a deployment type; valid: {', '.join(DEPLOYMENT_TYPES)}"
    raise PydanticCustomError("invalid_choice", "{problem}", {"problem": problem})


DeploymentType = Annotated[str, AfterValidator(_check_deployment_type)]
"""A Foundry deployment's sku name: one of the pack's ``DEPLOYMENT_TYPES``."""


class ContentFilterConfig(_Config):
    """``foundries[i].contentFilters[j]``: a content-filter (RAI) policy of the Foundry resource."""

    name: ContentFilterName
    """The policy's name; deployments name it in ``contentFilter``."""
    base_policy: Literal["Microsoft.DefaultV2", "Microsoft.Default"] = "Microsoft.DefaultV2"
    """The built-in policy it starts from."""
    severity_threshold: Literal["Low", "Medium", "High"] = "Medium"
    """Blocks Hate, Sexual, Self-harm and Violence content in prompts and completions from this severity up:
    ``Low`` is the strictest."""
    jailbreak: bool = True
    """Blocks jailbreak attempts in prompts."""
    protected_material: bool = True
    """Blocks protected material (text and code) in completions."""


class FoundryDeploymentConfig(_Config):
    """``foundries[i].deployments[j]``: one model deployment on the Foundry resource (shared by its projects)."""

    name: FoundryDeploymentName
    """The deployment name, unique on the resource; clients send it as ``model``."""
    model: str | None = None
    """A catalog key offered on Foundry resources (``maas models --channel foundry``); or give ``format``,
    ``modelName`` and ``version``."""
    format: str | None = None
    """The model format (its publisher as Azure names it, e.g. ``Mistral AI``), instead of ``model``."""
    model_name: str | None = None
    """The model name as the Models API lists it, instead of ``model``."""
    version: str | None = None
    """The model version; default: the catalog's version (required with ``format`` and ``modelName``)."""
    sku: DeploymentType | None = None
    """The deployment type; default: ``GlobalStandard`` when the model offers it in ``location``, else the first
    type that does."""
    capacity: int = Field(default=1, ge=1, le=10_000)
    """Units of the sku (for Standard types, thousands of tokens per minute)."""
    version_upgrade: Literal["OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade"] = (
        "OnceNewDefaultVersionAvailable"
    )
    """When Azure moves the deployment to a newer model version."""
    content_filter: str = "Microsoft.DefaultV2"
    """The content-filter policy: one of the resource's ``contentFilters`` or a built-in
    (``Microsoft.DefaultV2``, ``Microsoft.Default``)."""
    allow_retired: bool = False
    """Deploy a deprecated or retired model anyway (Azure refuses it or it answers 410 Gone)."""


class FoundryProjectConfig(_Config):
    """``foundries[i].projects[j]``: a Foundry project (where teams build; deployments are the resource's)."""

    name: FoundryProjectName
    """The project's name, unique on the resource; ``access[].scope`` names it ``<foundry>/<project>``."""
    description: str = ""
    """Shown in the Foundry portal."""


class FoundryConfig(_Config):
    """``foundries[i]``: a Microsoft Foundry resource (``Microsoft.CognitiveServices/accounts``, kind
    ``AIServices``) to create, or an existing one (``id``), with its projects, content filters and deployments."""

    name: FoundryName
    """The resource's name (created), or its label in this stack (``id`` set); ``access[].scope`` refers to it."""
    id: FoundryId | None = None
    """Use the existing Foundry resource with this ID: nothing is created for the resource itself."""
    subdomain: Subdomain | None = None
    """The custom subdomain of its endpoints (unique in Azure). Default for a created resource: the name
    lowercased plus 6 hex characters of a hash of subscription, resource group and name; required with ``id``
    (the existing resource's, as in ``https://<subdomain>.services.ai.azure.com``)."""
    local_auth: bool = False
    """Allow API keys (exported as secrets); by default only Entra ID tokens are accepted. With ``id``: whether the
    existing resource accepts keys (they are then read and exported as secrets)."""
    public_network_access: Literal["Enabled", "Disabled"] = "Enabled"
    """Whether the endpoints are reachable from public networks (a created resource only)."""
    projects: tuple[FoundryProjectConfig, ...] = ()
    """The projects of the resource."""
    content_filters: tuple[ContentFilterConfig, ...] = ()
    """Content-filter policies deployments may name."""
    deployments: tuple[FoundryDeploymentConfig, ...] = ()
    """Model deployments; Azure takes them one at a time, so they are created in this order."""


class AccessConfig(_Config):
    """``access[i]``: a role assignment for a person, group or pipeline identity."""

    principal_id: Guid
    """The Entra object ID of the user, group or service principal."""
    principal_type: Literal["User", "Group", "ServicePrincipal"]
    """The principal's kind (Azure needs it to assign a role to a principal that was just created)."""
    role: Role
    """``developer`` (built-in Azure AI Developer), ``deployer`` (least-privilege roles for a pipeline that runs
    ``pulumi up``) or a role definition GUID."""
    scope: str = "resourceGroup"
    """``resourceGroup``, the name of one of ``workspaces`` or ``foundries``, or ``<foundry>/<project>``."""


class DeployerRolesConfig(_Config):
    """``deployerRoles``: existing role definitions (GUIDs) that ``role: deployer`` assigns instead of the custom
    roles the program would create; ``scripts/bootstrap.sh`` creates them once per repository and prints this."""

    marketplace: Guid
    """Assigned at the subscription: the Marketplace actions (``infra/roles.py``)."""
    saas: Guid
    """Assigned at the resource group: the SaaS resource actions."""
    serverless: Guid
    """Assigned at each workspace: marketplace model subscriptions and serverless endpoints."""
    foundry: Guid | None = None
    """Assigned at each Foundry resource: model deployments and content filters; required when ``deployer``
    covers a Foundry resource of the stack."""


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The config model inside a field's type (``X | None``, ``tuple[X, ...]``, ``Annotated[X, ...]``), or None
    for a field that holds no model."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        elif origin is tuple:
            annotation = get_args(annotation)[0]
        else:
            return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _default_regions() -> tuple[str, ...]:
    return catalog_module.load().serverless.regions


class Settings(BaseSettings):
    """The ``azure-maas`` config namespace. Field docstrings are the generated config reference."""

    model_config = SettingsConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=False,
        validate_default=True,
        use_attribute_docstrings=True,
    )

    location: Region | None = None
    """Region of every created resource; required unless ``azure-native:location`` is set. Override:
    ``AZURE_MAAS_LOCATION``."""
    resource_group: ResourceGroupConfig = ResourceGroupConfig()
    """The resource group. Overrides: ``AZURE_MAAS_RESOURCE_GROUP_NAME``, ``AZURE_MAAS_RESOURCE_GROUP_CREATE``."""
    hub: HubConfig | None = None
    """A Foundry hub for ``kind: project`` workspaces."""
    workspaces: tuple[WorkspaceConfig, ...] = ()
    """Workspaces and hub projects whose models are serverless endpoints (the classic channel)."""
    foundries: tuple[FoundryConfig, ...] = ()
    """Foundry resources whose models are deployments (the channel Azure recommends). A stack has at least one
    workspace or one Foundry resource."""
    access: tuple[AccessConfig, ...] = ()
    """Role assignments for people and pipelines."""
    deployer_roles: DeployerRolesConfig | None = None
    """Role definitions ``deployer`` assigns; unset: the program creates them (needs role-definition write)."""
    allowed_regions: tuple[Region, ...] = Field(default_factory=_default_regions, min_length=1)
    """Regions ``location`` may be. Default: every region the catalog lists for serverless models."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every taggable resource, besides ``managed-by``, ``pulumi-project`` and ``pulumi-stack``."""

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
