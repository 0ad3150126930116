"""The stack config contract, in four parts: :mod:`~infra.settings.model` (the typed shape),
:mod:`~infra.settings.sources` (Pulumi stack config and ``AZURE_MAAS_*`` overrides),
:mod:`~infra.settings.rules` (what spans keys) and :mod:`~infra.settings.errors` (problems at key paths).

:func:`load_settings` validates the whole config, shape first, then the rules that span keys (catalog,
lifecycle, regions, uniqueness), then collisions (two entries that would share a logical name or an Azure
name, found on the desired state itself), and raises :class:`ConfigError` listing every problem with its key
path before anything is registered with Pulumi.
"""

from __future__ import annotations

import datetime as dt
import os

import pulumi
from pydantic import ValidationError

from infra import catalog as catalog_module
from infra.settings.errors import MISSING, ConfigError, Issue, Path, key_path, validation_issues
from infra.settings.model import (
    ROLE_KINDS,
    AccessConfig,
    ContentFilterConfig,
    DeployerRolesConfig,
    DeploymentConfig,
    FoundryConfig,
    FoundryDeploymentConfig,
    FoundryProjectConfig,
    HubConfig,
    ResourceGroupConfig,
    Settings,
    WorkspaceConfig,
)
from infra.settings.rules import RESERVED_TAGS, ResolvedModel, check, resolve_model
from infra.settings.sources import ENV_OVERRIDES, NAMESPACE, env_overrides, pulumi_config_keys, pulumi_config_values
from infra.suggest import closest


def misspelled_namespaces(keys: list[str], project: str | None = None) -> list[Issue]:
    """Keys whose namespace looks like ``azure-maas`` but is not (``azure-mass:location``), and azure-maas keys
    in the namespace of a project renamed from ``azure-maas`` (``my-project:location``, from an unqualified
    ``location:``): the engine hands them to the program like any other key, and the program would never read
    them."""
    ours = {field.alias or name for name, field in Settings.model_fields.items()}
    issues = []
    for key in keys:
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            continue
        if namespace == project and name in ours:
            issues.append(
                Issue(
                    (),
                    f"{key}: azure-maas reads its keys from the {NAMESPACE!r} namespace, not the project's "
                    f"({project!r}, where a key without a namespace goes); write '{NAMESPACE}:{name}'",
                )
            )
        elif closest(namespace, [NAMESPACE]):
            issues.append(
                Issue((), f"{key}: unknown config namespace {namespace!r}; did you mean '{NAMESPACE}:{name}'?")
            )
    return issues


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
    ] + misspelled_namespaces(pulumi_config_keys(), pulumi.get_project())
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
    "ENV_OVERRIDES",
    "MISSING",
    "NAMESPACE",
    "RESERVED_TAGS",
    "ROLE_KINDS",
    "AccessConfig",
    "ConfigError",
    "ContentFilterConfig",
    "DeployerRolesConfig",
    "DeploymentConfig",
    "FoundryConfig",
    "FoundryDeploymentConfig",
    "FoundryProjectConfig",
    "HubConfig",
    "Issue",
    "Path",
    "ResolvedModel",
    "ResourceGroupConfig",
    "Settings",
    "WorkspaceConfig",
    "check",
    "key_path",
    "load_settings",
    "misspelled_namespaces",
    "pulumi_config_values",
    "resolve_model",
    "validation_issues",
]
