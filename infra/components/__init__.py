"""Pulumi components: desired state (``infra.desired``) turned into azure-native resources."""

from infra.components.access import Access
from infra.components.deployment import ModelDeployment
from infra.components.workspace import Workspace

__all__ = ["Access", "ModelDeployment", "Workspace"]
