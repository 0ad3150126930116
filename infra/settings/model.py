"""The config contract: one typed model of the ``azure-maas`` config namespace (pydantic), each field with its
rule. Shape only; the rules that span keys are in :mod:`infra.settings.rules`."""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from azure_maas_policy.facts import shown
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
    workspaces: tuple[WorkspaceConfig, ...] = Field(min_length=1)
    """Where the models live: at least one workspace."""
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
