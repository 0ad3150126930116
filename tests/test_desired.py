"""Desired state as pure data: the access plan for scopes the dev stack does not use, and the config entry every
record comes from, which collisions name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pulumi.runtime

from infra import catalog, names, roles
from infra.desired import collisions, compute
from infra.settings import key_path, load_settings
from tests.conftest import minimal

SUB = "11111111-2222-3333-4444-555555555555"
SP = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
OTHER_WS = (
    "/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/resourceGroups/rg-ml"
    "/providers/Microsoft.MachineLearningServices/workspaces/mlw-shared"
)


def desired(**keys: Any) -> Any:
    pulumi.runtime.set_all_config(minimal(**keys))
    return compute(load_settings(), catalog.load(), project="azure-maas", stack="dev", subscription_id=SUB)


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


def test_every_record_names_the_config_entry_it_comes_from(dev_config: dict[str, str]) -> None:
    pulumi.runtime.set_all_config(dev_config)
    state = compute(load_settings(), catalog.load(), project="azure-maas", stack="dev", subscription_id=SUB)

    assert state.hub is not None
    assert [key_path(w.origin) for w in (state.hub, *state.workspaces)] == [
        "azure-maas:hub",
        "azure-maas:workspaces[0]",
        "azure-maas:workspaces[1]",
    ]
    assert [(e.name, key_path(e.origin)) for e in state.endpoints] == [
        ("chat-mistral-medium", "azure-maas:workspaces[0].deployments[0]"),
        ("chat-ministral", "azure-maas:workspaces[0].deployments[1]"),
        ("eval-phi4", "azure-maas:workspaces[1].deployments[0]"),
    ]
    assert [key_path(a.origin) for a in state.role_assignments] == [
        "azure-maas:access[0]",
        *["azure-maas:access[1]"] * 4,  # deployer: subscription, resource group, each of two workspaces
        "azure-maas:access[2]",
    ]
    assert collisions(state) == []


def test_names_no_config_can_repeat_are_checked_too() -> None:
    """Validation rejects two workspaces or endpoints of one name before the desired state is built; the collision
    check still covers every name the state holds, so a change to how names are derived cannot slip past it."""
    state = desired()
    workspace, endpoint = state.workspaces[0], state.endpoints[0]
    twin = replace(workspace, id=f"{workspace.id}-twin", origin=("workspaces", 1))
    echo = replace(endpoint, name="SMALL", origin=("workspaces", 0, "deployments", 1))

    found = collisions(replace(state, workspaces=(workspace, twin), endpoints=(endpoint, echo)))

    assert [issue.render() for issue in found] == [
        "azure-maas:workspaces[1]: would share the logical name 'ws-main' with azure-maas:workspaces[0]; the engine "
        "refuses two resources with one URN",
        f"azure-maas:workspaces[1]: would share the storage account name '{workspace.storage_account}' with "
        "azure-maas:workspaces[0]; storage account names are globally unique: rename one of the workspaces",
        f"azure-maas:workspaces[1]: would share the key vault name '{workspace.key_vault}' with "
        "azure-maas:workspaces[0]; key vault names are globally unique: rename one of the workspaces",
        "azure-maas:workspaces[0].deployments[1]: would share the endpoint name 'small' with "
        "azure-maas:workspaces[0].deployments[0]; endpoint names are unique per region",
        "azure-maas:workspaces[0].deployments[1]: would share the marketplace subscription name 'mistral-small-2503' "
        "in workspace 'ws-main' with azure-maas:workspaces[0].deployments[0] (models "
        "azureml://registries/azureml-mistral/models/mistral-small-2503 and "
        "azureml://registries/azureml-mistral/models/mistral-small-2503); subscription names are unique per "
        "workspace: deploy one of these models in another workspace",
    ]


def test_an_entry_that_collides_with_itself_says_so() -> None:
    """Two config workspaces that are one Azure workspace make a resource-group ``deployer`` grant assign the
    serverless role there twice."""
    state = desired(access=[{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}])
    workspace = state.workspaces[0]
    alias = replace(workspace, key="alias", kind=None, storage_account=None, key_vault=None, origin=("workspaces", 1))
    serverless = next(a for a in state.role_assignments if a.custom_role == "serverless")
    again = replace(serverless, logical_name=f"{SP}-deployer-serverless-alias")

    found = collisions(replace(state, workspaces=(workspace, alias), role_assignments=(*state.role_assignments, again)))

    assert [issue.render() for issue in found] == [
        f"azure-maas:workspaces[1]: is the same Azure workspace as azure-maas:workspaces[0] ({workspace.id}); "
        "list each workspace once",
        f"azure-maas:access[0]: grants the same role assignment as itself (principal {SP}, role azure-maas "
        "Serverless Deployer, scope ws-main); Azure allows one assignment per principal, role and scope",
    ]


DEPLOYER_GUIDS = {
    "marketplace": "0fc6114f-d1ba-5963-b15f-5d7deed1e9db",
    "saas": "635bd9e0-7716-59e5-b2ad-648892f80768",
    "serverless": "cc128442-e27e-54cd-b386-18d0b519b0c2",
}
"""``deployerRoles`` as the bootstrap prints it (the values are only GUIDs here)."""


def test_deployer_roles_assign_the_given_role_definitions_and_create_none() -> None:
    """With ``deployerRoles`` the stack creates no role definition (no role-definition write is needed) and the
    ``deployer`` entry assigns exactly the given ones, at the scopes it always had."""
    access = [{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}]
    rg_id = f"/subscriptions/{SUB}/resourceGroups/rg-azure-maas-dev"
    upper = {key: guid.upper() for key, guid in DEPLOYER_GUIDS.items()}
    state = desired(access=access, deployerRoles=upper)

    assert state.role_definitions == ()
    assert [(a.custom_role, a.role_definition_id, a.scope.id, a.logical_name) for a in state.role_assignments] == [
        (
            key,
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{DEPLOYER_GUIDS[key]}",
            scope,
            f"{SP}-deployer-{key}-{label}",
        )
        for key, scope, label in (
            ("marketplace", f"/subscriptions/{SUB}", "subscription"),
            ("saas", rg_id, "resourceGroup"),
            ("serverless", f"{rg_id}/providers/Microsoft.MachineLearningServices/workspaces/ws-main", "ws-main"),
        )
    ]
    assert [a.name for a in state.role_assignments] == [
        names.deterministic_guid(a.scope.id, SP, a.role_definition_id) for a in state.role_assignments
    ]
    assert collisions(state) == []


def test_without_deployer_roles_the_stack_creates_its_own_as_before() -> None:
    access = [{"principalId": SP, "principalType": "ServicePrincipal", "role": "deployer"}]
    state = desired(access=access)

    assert [d.key for d in state.role_definitions] == ["marketplace", "saas", "serverless"]
    assert [a.role_definition_id for a in state.role_assignments] == [d.id for d in state.role_definitions]


def test_deployer_roles_without_a_deployer_entry_change_nothing() -> None:
    developer = [{"principalId": SP, "principalType": "ServicePrincipal", "role": "developer"}]

    assert desired(access=developer, deployerRoles=DEPLOYER_GUIDS) == desired(access=developer)
