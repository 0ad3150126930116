"""Role facts: the built-in roles azure-maas grants (Azure AI Developer on hubs and workspaces, Foundry User on
Foundry resources; both from the pack's facts) and the permissions of its least-privilege ``deployer`` roles.

Source: the Azure docs for deploying Mistral and AI21 models as serverless APIs ("Prerequisites": Azure
AI Developer on the resource group, or a custom role with these permissions at these scopes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from azure_maas_policy.facts import AZURE_AI_DEVELOPER, FOUNDRY_USER

__all__ = ["AZURE_AI_DEVELOPER", "DEPLOYER_ROLES", "FOUNDRY_USER", "CustomRole", "role_definition_id"]


@dataclass(frozen=True)
class CustomRole:
    key: str
    title: str
    description: str
    scope: Literal["subscription", "resourceGroup", "workspace", "foundry"]
    """Where the permissions are granted (and where the role is assignable)."""
    actions: tuple[str, ...]


DEPLOYER_ROLES: tuple[CustomRole, ...] = (
    CustomRole(
        key="marketplace",
        title="azure-maas Marketplace Subscriber",
        description="Subscribe a workspace or project to a model's Azure Marketplace offer (granted at the subscription).",
        scope="subscription",
        actions=(
            "Microsoft.MarketplaceOrdering/agreements/offers/plans/read",
            "Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action",
            "Microsoft.MarketplaceOrdering/offerTypes/publishers/offers/plans/agreements/read",
            "Microsoft.Marketplace/offerTypes/publishers/offers/plans/agreements/read",
            "Microsoft.SaaS/register/action",
        ),
    ),
    CustomRole(
        key="saas",
        title="azure-maas SaaS Resource Writer",
        description="Create the SaaS resource of a model subscription (granted at the resource group).",
        scope="resourceGroup",
        actions=("Microsoft.SaaS/resources/read", "Microsoft.SaaS/resources/write"),
    ),
    CustomRole(
        key="serverless",
        title="azure-maas Serverless Deployer",
        description="Manage marketplace model subscriptions and serverless endpoints (granted at each workspace).",
        scope="workspace",
        actions=(
            "Microsoft.MachineLearningServices/workspaces/marketplaceModelSubscriptions/*",
            "Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/*",
        ),
    ),
    CustomRole(
        key="foundry",
        title="azure-maas Foundry Deployer",
        description="Manage model deployments and content filters of a Foundry resource (granted at each Foundry "
        "resource).",
        scope="foundry",
        # Deploying needs accounts/deployments/write at the Foundry resource (AZURE_FACTS.md section 6, "RBAC",
        # as of 2026-11-24);
        # a deployment names a content filter (RAI policy) of the resource. The Marketplace and SaaS actions a
        # partner model's deployment needs are the other deployer roles'.
        actions=(
            "Microsoft.CognitiveServices/accounts/read",
            "Microsoft.CognitiveServices/accounts/deployments/*",
            "Microsoft.CognitiveServices/accounts/raiPolicies/*",
        ),
    ),
)
"""Only a stack with Foundry resources creates or assigns the ``foundry`` role."""


def role_definition_id(subscription_id: str, guid: str) -> str:
    """The resource ID role assignments use for a role definition."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
