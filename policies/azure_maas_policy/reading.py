"""Reading resources as the engine sends them, with values unknown at preview handled on purpose.

The Pulumi policy SDK hands policies their properties through a proxy that raises ``UnknownValueError`` on
any value unknown during preview; left alone, that aborts the whole policy with an advisory "can't run
during preview" note. :func:`read` turns it into the :data:`UNKNOWN` marker instead, so each policy decides
per value: skip it, or judge it from the resource's property dependencies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL
from pulumi_policy import PolicyConfigSchema, PolicyResource
from pulumi_policy.proxy import UnknownValueError


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


MISSING: Final = _Marker("MISSING")
"""The property is not set."""
UNKNOWN: Final = _Marker("UNKNOWN")
"""The property's value is not known yet (preview of a value computed by another resource)."""


def read(value: Any, *path: str | int) -> Any:
    """The value at ``path`` below ``value``, or :data:`MISSING` or :data:`UNKNOWN`; never raises."""
    for key in path:
        try:
            if isinstance(key, int):
                if isinstance(value, str | bytes) or not isinstance(value, Sequence) or key >= len(value):
                    return MISSING
            elif not isinstance(value, Mapping):
                return MISSING
            value = value[key]
        except (KeyError, IndexError):
            return MISSING
        except UnknownValueError:
            return UNKNOWN
    if value is None:
        return MISSING
    return UNKNOWN if value == UNKNOWN_SENTINEL else value


def read_str(value: Any, *path: str | int) -> str | _Marker:
    """Like :func:`read`, with anything other than a string read as :data:`MISSING`."""
    found = read(value, *path)
    return found if isinstance(found, str | _Marker) else MISSING


def items(value: Any, *path: str | int) -> Iterator[Any]:
    """The elements of the list at ``path`` (each possibly :data:`UNKNOWN`); nothing when it is not a list."""
    found = read(value, *path)
    if isinstance(found, Sequence) and not isinstance(found, str | bytes):
        for index in range(len(found)):
            yield read(found, index)


# --- resource types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceType:
    """An azure-native resource type, matched in its default and its explicit API-version modules
    (``azure-native:machinelearningservices/v20250101preview:ServerlessEndpoint``)."""

    module: str
    name: str
    label: str

    def matches(self, type_token: str) -> bool:
        return re.fullmatch(rf"azure-native:{self.module}(?:/v[0-9a-z]+)?:{self.name}", type_token) is not None


SERVERLESS_ENDPOINT = ResourceType("machinelearningservices", "ServerlessEndpoint", "serverless endpoint")
MARKETPLACE_SUBSCRIPTION = ResourceType(
    "machinelearningservices", "MarketplaceSubscription", "marketplace subscription"
)
WORKSPACE = ResourceType("machinelearningservices", "Workspace", "ML workspace")
RESOURCE_GROUP = ResourceType("resources", "ResourceGroup", "resource group")
ROLE_ASSIGNMENT = ResourceType("authorization", "RoleAssignment", "role assignment")
ROLE_DEFINITION = ResourceType("authorization", "RoleDefinition", "role definition")


def type_of(type_token: str, *candidates: ResourceType) -> ResourceType | None:
    """The first of ``candidates`` that ``type_token`` is, or None."""
    return next((t for t in candidates if t.matches(type_token)), None)


def arm_name(resource_type: ResourceType, props: Any) -> str | _Marker:
    """The Azure name of a resource: its name input (``workspaceName`` for a workspace, ``name`` otherwise)."""
    return read_str(props, "workspaceName" if resource_type is WORKSPACE else "name")


def describe(resource_type: ResourceType, props: Any, logical_name: str) -> str:
    """``serverless endpoint 'chat'``, by its Azure name when known, else by its Pulumi name."""
    name = arm_name(resource_type, props)
    return f"{resource_type.label} {name if isinstance(name, str) else logical_name!r}"


# --- config ---------------------------------------------------------------------------------------------


def config_of(given: Mapping[str, Any] | None, schema: PolicyConfigSchema) -> dict[str, Any]:
    """The policy's config: the schema defaults (the engine applies them too) under what was configured."""
    merged = {key: spec["default"] for key, spec in schema.properties.items() if "default" in spec}
    merged.update(given or {})
    return merged


# --- where a resource lives -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a workspace's identity: a known name (lowercase) or the URN of the resource it comes from."""

    key: str
    label: str


def _part(resource: PolicyResource, prop: str, source: ResourceType, source_prop: str) -> Part | None:
    value = read_str(resource.props, prop)
    if isinstance(value, str):
        return Part(value.lower(), repr(value))
    if value is UNKNOWN:
        origins = [d for d in resource.property_dependencies.get(prop, []) if source.matches(d.resource_type)]
        if len(origins) == 1:
            origin = origins[0]
            name = read_str(origin.props, source_prop)
            if isinstance(name, str):
                return Part(name.lower(), repr(name))
            return Part(f"urn:{origin.urn}", f"{source.label} {origin.name!r} (name known after create)")
    return None


@dataclass(frozen=True)
class Placement:
    """The workspace a subscription or an endpoint belongs to, as far as the stack tells."""

    workspace: Part
    resource_group: Part | None

    def same_as(self, other: Placement) -> bool:
        """Same workspace name (or source URN); resource groups must agree when both are known."""
        if self.workspace.key != other.workspace.key:
            return False
        if self.resource_group is None or other.resource_group is None:
            return True
        return self.resource_group.key == other.resource_group.key

    def __str__(self) -> str:
        where = f"workspace {self.workspace.label}"
        return f"{where} in resource group {self.resource_group.label}" if self.resource_group else where


def placement(resource: PolicyResource) -> Placement | None:
    """Where ``resource`` lives: ``workspaceName`` when known, otherwise the workspace resource its
    ``workspaceName`` comes from (by that resource's name input, or its URN); None when neither is known."""
    workspace = _part(resource, "workspaceName", WORKSPACE, "workspaceName")
    if workspace is None:
        return None
    return Placement(workspace, _part(resource, "resourceGroupName", RESOURCE_GROUP, "resourceGroupName"))


def depends_on(resource: PolicyResource, target: PolicyResource) -> bool:
    """Whether ``resource`` depends on ``target``, directly or through other resources."""
    seen: set[str] = set()
    stack = [resource]
    while stack:
        current = stack.pop()
        upstream = list(current.dependencies)
        for deps in current.property_dependencies.values():
            upstream.extend(deps)
        for dep in upstream:
            if dep.urn == target.urn:
                return True
            if dep.urn not in seen:
                seen.add(dep.urn)
                stack.append(dep)
    return False
