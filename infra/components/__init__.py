"""Pulumi components: desired state (``infra.desired``) turned into azure-native resources. Each takes
``(name, args, opts)`` with a typed ``...Args`` (:mod:`infra.components.args`)."""

from infra.components.access import Access
from infra.components.args import AccessArgs, FoundryArgs, ModelDeploymentArgs, Placement, WorkspaceArgs
from infra.components.deployment import ModelDeployment
from infra.components.foundry import Foundry
from infra.components.workspace import Workspace

__all__ = [
    "Access",
    "AccessArgs",
    "Foundry",
    "FoundryArgs",
    "ModelDeployment",
    "ModelDeploymentArgs",
    "Placement",
    "Workspace",
    "WorkspaceArgs",
]
