"""Typed arguments of the components, one class per component (as pulumi-eks ships ``...Args``), plus the one
thing every component shares: :class:`Placement`.

Tag rule, for every component: each taggable child gets exactly the stack's tags (``Placement.tags``: the
``tags`` config merged with the reserved ``managed-by``, ``pulumi-project`` and ``pulumi-stack``); no child adds
or drops one, so a resource's tags say which stack owns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

from infra.desired import EndpointSpec, FoundrySpec, RoleAssignmentSpec, RoleDefinitionSpec, WorkspaceSpec

if TYPE_CHECKING:
    from infra.components.workspace import Workspace


@dataclass(frozen=True)
class Placement:
    """Where a component's resources go and what they carry."""

    location: str
    """The Azure region of every created resource."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (the rule above)."""


@dataclass(frozen=True)
class WorkspaceArgs:
    """Arguments of :class:`~infra.components.workspace.Workspace`."""

    spec: WorkspaceSpec
    """Required. The workspace to create (hub, project, standalone) or to reference (existing)."""
    resource_group_name: pulumi.Input[str]
    """Required. The resource group a created workspace, its storage account and key vault go into."""
    placement: Placement
    """Required. Region and tags."""
    tenant_id: str
    """Required. The Entra tenant of the key vault a hub or standalone workspace gets."""
    hub_id: pulumi.Input[str] | None = None
    """Conditional: the hub's resource ID, required for a ``Project``; ignored otherwise."""


@dataclass(frozen=True)
class ModelDeploymentArgs:
    """Arguments of :class:`~infra.components.deployment.ModelDeployment`."""

    spec: EndpointSpec
    """Required. The serverless endpoint and, when its model is sold through Azure Marketplace, its subscription."""
    workspace: Workspace
    """Required. The workspace the endpoint (and subscription) live in; it is also the component's parent."""
    placement: Placement
    """Required. Region and tags of the endpoint."""


@dataclass(frozen=True)
class FoundryArgs:
    """Arguments of :class:`~infra.components.foundry.Foundry`."""

    spec: FoundrySpec
    """Required. The Foundry resource to create (or reference), its projects, content filters and deployments."""
    resource_group_name: pulumi.Input[str]
    """Required. The resource group a created Foundry resource goes into (an existing one stays in its own)."""
    placement: Placement
    """Required. Region and tags of every created resource."""


@dataclass(frozen=True)
class AccessArgs:
    """Arguments of :class:`~infra.components.access.Access`."""

    subscription_id: str
    """Required. The deploying subscription: custom role definitions are created at its scope."""
    scopes: Mapping[str, pulumi.Input[str]]
    """Required. Resource ID of each scope label the specs use (``subscription``, ``resourceGroup``, a workspace's
    config name), as an output of the resource that creates it where there is one, so assignments wait for it."""
    assignments: Sequence[RoleAssignmentSpec]
    """Required. Every role assignment, named by UUIDv5 of scope, principal and role."""
    definitions: Sequence[RoleDefinitionSpec] = ()
    """Optional. The custom ``deployer`` roles to create (none when ``deployerRoles`` names existing ones)."""
    resource_group: pulumi.Resource | None = None
    """Optional. The resource group this stack creates: role definitions whose assignable scopes name it wait
    for it, or Azure rejects a scope that does not exist yet."""
