"""Where the config comes from: the ``azure-maas`` namespace of the running stack's Pulumi config, and
``AZURE_MAAS_*`` environment overrides of scalar keys on top of it (pydantic-settings sources)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.runtime
from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

NAMESPACE = "azure-maas"
"""The Pulumi config namespace of every key."""

ENV_PREFIX = "AZURE_MAAS_"
ENV_OVERRIDES: Mapping[str, tuple[str, ...]] = {
    "AZURE_MAAS_LOCATION": ("location",),
    "AZURE_MAAS_RESOURCE_GROUP_NAME": ("resourceGroup", "name"),
    "AZURE_MAAS_RESOURCE_GROUP_CREATE": ("resourceGroup", "create"),
}
"""Environment variables that override scalar keys (a pipeline overrides without editing files)."""


def _parse_config_value(raw: Any) -> Any:
    """Pulumi hands structured config values to programs as JSON text."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def pulumi_config_keys() -> list[str]:
    """Every config key of the running stack, in every namespace, sorted."""
    return sorted(set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.get_config_env()))


def pulumi_config_values() -> dict[str, Any]:
    """Every ``azure-maas:*`` key of the running stack, plus ``azure-native:location`` as the location default."""
    prefix = f"{NAMESPACE}:"
    values = {
        key[len(prefix) :]: _parse_config_value(pulumi.runtime.get_config(key))
        for key in pulumi_config_keys()
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
