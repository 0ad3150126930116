"""Desired state as pure data: the access plan for scopes the dev stack does not use."""

from __future__ import annotations

from typing import Any

import pulumi.runtime

from infra import catalog, names, roles
from infra.desired import plan
from infra.settings import load_settings
from tests.conftest import minimal

SUB = "11111111-2222-3333-4444-555555555555"
SP = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
OTHER_WS = (
    "/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/resourceGroups/rg-ml"
    "/providers/Microsoft.MachineLearningServices/workspaces/mlw-shared"
)


def desired(**keys: Any) -> Any:
    pulumi.runtime.set_all_config(minimal(**keys))
    return plan(load_settings(), catalog.load(), project="azure-maas", stack="dev", subscription_id=SUB)


def test_deployer_scoped_to_a_workspace_gets_the_serverless_role_only_there() -> None:
    state = desired(
        workspaces=[
            {"name": "ws-main", "kind": "workspace", "deployments": [{"name": "small", "model": "mistral-small-2503"}]},
            {"name": "shared", "kind": "existing", "id": OTHER_WS},
        ],
        access=[{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer", "scope": "shared"}],
    )

    assert [(a.custom_role, a.scope.kind, a.scope.id) for a in state.role_assignments] == [
        ("marketplace", "subscription", f"/subscriptions/{SUB}"),
        ("saas", "resourceGroup", f"/subscriptions/{SUB}/resourceGroups/rg-azure-maas-dev"),
        ("serverless", "workspace", OTHER_WS),
    ]
    serverless = next(d for d in state.role_definitions if d.key == "serverless")
    # A workspace outside the stack's resource group must be an assignable scope of the role.
    assert serverless.assignable_scopes == (f"/subscriptions/{SUB}/resourceGroups/rg-azure-maas-dev", OTHER_WS)
    assert serverless.actions == next(r for r in roles.DEPLOYER_ROLES if r.key == "serverless").actions
    assert serverless.guid == names.deterministic_guid(
        "role-definition", f"/subscriptions/{SUB}/resourceGroups/rg-azure-maas-dev", "azure-maas", "dev", "serverless"
    )


def test_two_principals_share_one_set_of_custom_roles_with_distinct_assignment_names() -> None:
    other = "0f8fad5b-d9cb-469f-a165-70867728950e"
    state = desired(
        access=[
            {"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"},
            {"principalId": other, "principalType": "User", "role": "deployer"},
        ]
    )

    assert [d.key for d in state.role_definitions] == ["marketplace", "saas", "serverless"]
    assert len(state.role_assignments) == 6
    assert len({a.name for a in state.role_assignments}) == 6
    assert len({a.logical_name for a in state.role_assignments}) == 6


def test_endpoints_of_microsoft_models_have_no_subscription() -> None:
    state = desired(
        workspaces=[
            {
                "name": "ws-main",
                "kind": "workspace",
                "deployments": [{"name": "phi", "model": "phi-4"}, {"name": "nemo", "model": "codestral-2501"}],
            }
        ]
    )

    assert [(e.name, e.subscription.name if e.subscription else None) for e in state.endpoints] == [
        ("phi", None),
        ("nemo", "Codestral-2501"),
    ]
    assert [s.name for s in state.subscriptions] == ["Codestral-2501"]
