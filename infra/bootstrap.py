"""Facts the one-time pipeline bootstrap (``scripts/bootstrap.sh``) needs, printed from their one source.

The shell script creates the state storage, the secrets key and the pipeline identities with ``az``; the
role definitions and the role-assignment condition it passes to ``az`` come from here, so the permission
lists live once (``infra/roles.py`` and the policy pack's facts) and not again in shell.

    python -m infra.bootstrap deploy-role --subscription ID --name NAME
    python -m infra.bootstrap preview-role --scope ID --name NAME
    python -m infra.bootstrap rbac-condition
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from azure_maas_policy.facts import PRIVILEGED_ROLES
from infra.roles import DEPLOYER_ROLES

__all__ = ["DEPLOY_ROLE_DEFINITION_ACTIONS", "PREVIEW_ACTIONS", "deploy_role", "main", "preview_role", "rbac_condition"]

DEPLOY_ROLE_DEFINITION_ACTIONS = (
    "Microsoft.Authorization/roleDefinitions/read",
    "Microsoft.Authorization/roleDefinitions/write",
    "Microsoft.Authorization/roleDefinitions/delete",
)
"""The deploy identity creates the ``deployer`` custom roles of a stack (they live at the subscription)."""

PREVIEW_ACTIONS = ("Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/listKeys/action",)
"""A preview of an existing stack reads the endpoint keys (the program exports them as secrets); Reader
does not include this action."""


def _marketplace_actions() -> tuple[str, ...]:
    (role,) = (role for role in DEPLOYER_ROLES if role.key == "marketplace")
    return role.actions


def _custom_role(name: str, description: str, actions: Sequence[str], scope: str) -> dict[str, Any]:
    """A custom role in the form ``az role definition create --role-definition`` reads."""
    return {
        "Name": name,
        "IsCustom": True,
        "Description": description,
        "Actions": list(actions),
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": [scope],
    }


def deploy_role(subscription_id: str, name: str) -> dict[str, Any]:
    """The custom role the deploy identity holds at the subscription: the Marketplace actions of the
    ``deployer`` role (subscribing a workspace to an offer signs its terms for the subscription) and the
    role-definition actions the ``deployer`` custom roles need."""
    description = (
        "azure-maas deploy pipeline: subscribe workspaces to Marketplace model offers and manage the "
        "stack's custom role definitions."
    )
    actions = [*_marketplace_actions(), *DEPLOY_ROLE_DEFINITION_ACTIONS]
    return _custom_role(name, description, actions, f"/subscriptions/{subscription_id}")


def preview_role(scope: str, name: str) -> dict[str, Any]:
    """The custom role the preview identity holds next to Reader, at the deployment resource group."""
    description = "azure-maas preview pipeline: read serverless endpoint keys during pulumi preview."
    return _custom_role(name, description, PREVIEW_ACTIONS, scope)


def rbac_condition() -> str:
    """The condition (version 2.0) on the deploy identity's Role Based Access Control Administrator
    assignment: it may create and delete role assignments of any role except the privileged ones the
    policy pack forbids (Owner, Contributor, User Access Administrator, RBAC Administrator)."""
    guids = ", ".join(sorted(PRIVILEGED_ROLES))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals {{{guids}}}))"
        " AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals {{{guids}}}))"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bootstrap", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser("deploy-role", help="the deploy identity's custom role (JSON)")
    deploy.add_argument("--subscription", required=True, help="subscription ID")
    deploy.add_argument("--name", required=True, help="role name (unique in the tenant)")
    preview = commands.add_parser("preview-role", help="the preview identity's custom role (JSON)")
    preview.add_argument("--scope", required=True, help="resource group ID")
    preview.add_argument("--name", required=True, help="role name (unique in the tenant)")
    commands.add_parser("rbac-condition", help="the condition on the deploy identity's RBAC Administrator role")
    args = parser.parse_args(argv)
    if args.command == "deploy-role":
        print(json.dumps(deploy_role(args.subscription, args.name), indent=2))
    elif args.command == "preview-role":
        print(json.dumps(preview_role(args.scope, args.name), indent=2))
    else:
        print(rbac_condition())
    return 0


if __name__ == "__main__":
    sys.exit(main())
