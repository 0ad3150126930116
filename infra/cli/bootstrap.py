"""Facts the one-time pipeline bootstrap (``scripts/bootstrap.sh``) needs, printed from their one source.

The shell script creates the state storage, the secrets key and the pipeline identities with ``az``; the
role definitions and the role-assignment condition it passes to ``az`` come from here, so the permission
lists live once (``infra/roles.py``, the policy pack's facts, and the program's own desired state) and not
again in shell.

    python -m infra.cli.bootstrap deploy-role --subscription ID --name NAME
    python -m infra.cli.bootstrap deployer-roles --subscription ID --resource-group NAME --repo OWNER/NAME
    python -m infra.cli.bootstrap deployer-roles-config --subscription ID --repo OWNER/NAME
    python -m infra.cli.bootstrap preview-role --scope ID --name NAME
    python -m infra.cli.bootstrap decrypt-role --scope ID --name NAME
    python -m infra.cli.bootstrap check-stacks --subscription ID --resource-group NAME --repo OWNER/NAME \
        --project-dir DIR --stacks LIST
    python -m infra.cli.bootstrap rbac-condition ... --at subscription|resourceGroup --deploy-principal ID \
        --exclude-principal ID [...]
    python -m infra.cli.bootstrap condition-update --condition TEXT < assignment.json

What each pipeline identity may do, and why (docs/security.md):

- The **deploy** identity holds no role-definition write anywhere (whoever may write a custom role assigned to
  them can rewrite it to ``*``). The three ``deployer`` custom roles (``infra/roles.py``) are created here, once
  per repository, under GUIDs derived from the subscription, the repository and the role's key
  (:func:`deployer_role_guids`), so a re-run updates them in place; a stack that uses ``role: deployer`` must name
  them in ``azure-maas:deployerRoles`` (the program then creates no role definition), or the bootstrap refuses it.
- It may create and delete role assignments only of the role definitions the stacks' ``azure-maas:access``
  entries produce, computed by the program's own ``infra.desired.compute`` for each ``Pulumi.<stack>.yaml``
  (built-in roles by GUID, the ``deployer`` roles by the GUIDs above), only for the principal types those entries
  use, and never for a pipeline identity, with one exception: a stack may grant the deploy identity itself its
  data-plane ``developer`` role (Azure AI Developer on the resource group or a workspace; Foundry User on a
  Foundry resource or project), which ``maas smoke`` needs after each deploy to call endpoints with Entra ID
  tokens; the condition allows the deploy identity exactly the ``developer`` role definitions its stacks grant it
  (its own branch), and the bootstrap refuses any other role for it and any role for the other pipeline
  identities. That adds no capability: Contributor on the stacks' resource group already lets it list every key
  there and turn key authentication back on. The condition is an allow-list in condition syntax 2.0
  (:func:`rbac_condition`). Role-assignment conditions cannot test the scope (the only attributes are the role
  definition, principal ID and principal type), so the scope is limited by where the RBAC Administrator role is
  assigned: at the subscription, allowing only the Marketplace Subscriber ``deployer`` role (the one role the
  program assigns there); at the stacks' resource group, allowing everything else. A stack that assigns a role
  anywhere else (an existing workspace outside that group) is refused.
- The **preview** identity reads state and decrypts secrets; it writes nothing, because ``pulumi preview`` on
  the Blob (DIY) backend writes nothing. Sources, pulumi/pulumi ``pkg/backend/diy/backend.go`` at
  002d849298513ad2419f5c500f737534d7b83920: ``Preview`` goes straight to ``apply`` with ``DryRun: true`` and
  takes no lock (``Update``, ``Import``, ``Refresh``, ``Destroy`` call ``b.Lock``, which writes
  ``.pulumi/locks/...``; previews stopped locking in pulumi/pulumi#8642); ``apply`` creates the snapshot
  persister (checkpoint writes) only when ``kind != PreviewUpdate && !opts.DryRun``, and writes history and
  the checkpoint backup only ``if !opts.DryRun``. ``pulumi preview --refresh`` is the same dry run. Only
  ``pulumi login`` may write, once: ``ensurePulumiMeta`` (``pkg/backend/diy/meta.go``) writes
  ``.pulumi/meta.yaml`` when the container has none, which the first ``pulumi login`` of whoever creates the
  stack does. The permalink a preview prints is a user-delegation SAS (``generateUserDelegationKey``, part of
  Storage Blob Data Reader); a failure there is only a warning. So: Storage Blob Data Reader on the container,
  no write role and no storage condition.
- Secrets: the ``azurekeyvault://`` secrets provider decrypts the stack's data key with Key Vault's
  ``decrypt`` operation (gocloud.dev ``secrets/azurekeyvault/akv.go``, ``keeper.Decrypt`` calls
  ``client.Decrypt`` with RSA-OAEP-256; not ``unwrapKey``), then encrypts and decrypts secret values locally
  with that data key (pulumi/pulumi ``pkg/secrets/cloud/manager.go``: ``keeper.Encrypt`` runs only when a new
  data key is made, at ``pulumi stack init`` or ``change-secrets-provider``). No built-in role grants decrypt
  without encrypt, wrap and sign (Key Vault Crypto Service Encryption User has wrap/unwrap only, which the
  provider does not use), hence :func:`decrypt_role`.
"""

from __future__ import annotations

import argparse
import contextvars
import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azure_maas_policy.facts import PRIVILEGED_ROLES
from infra import names
from infra.errors import ExitCode, UserError
from infra.roles import AZURE_AI_DEVELOPER, DEPLOYER_ROLES, FOUNDRY_USER

if TYPE_CHECKING:
    from infra.settings import Settings

# The program's modules (settings, desired state, the stack-file reader) are imported where a stack is read:
# the role commands run several times per bootstrap and need none of them.

__all__ = [
    "DECRYPT_DATA_ACTIONS",
    "PREVIEW_ACTIONS",
    "PRINCIPAL_TYPES",
    "BootstrapError",
    "Grant",
    "condition_update",
    "decrypt_role",
    "deploy_role",
    "deployer_role_definitions",
    "deployer_role_guids",
    "deployer_roles_config",
    "main",
    "preview_role",
    "rbac_condition",
    "stack_grants",
    "stacks_grants",
]

PREVIEW_ACTIONS = ("Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/listKeys/action",)
"""A preview of an existing stack reads the endpoint keys (the program exports them as secrets); Reader
does not include this action."""

DECRYPT_DATA_ACTIONS = ("Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/decrypt/action")
"""Decrypting a stack's data key: the key's metadata and Key Vault's ``decrypt`` operation, nothing else."""

PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal")
"""The values of the role-assignment ``PrincipalType`` condition attribute, in the order Microsoft lists them
(conditions-authorization-actions-attributes.md); also the ``principalType`` values a stack may use."""


class BootstrapError(UserError):
    """A stack the bootstrap cannot delegate for; the message is one line naming the file and key."""


@dataclass(frozen=True, order=True)
class Grant:
    """One role definition (GUID, lower case) that a stack assigns to one principal type."""

    role: str
    principal_type: str
    deployer_role: str | None = None
    """The key of the ``deployer`` custom role (``marketplace``, ``saas``, ``serverless``), or None for a
    built-in role (or an existing role named by GUID)."""
    at: str = "resourceGroup"
    """Which RBAC Administrator assignment allows it: ``subscription`` (only the Marketplace Subscriber role, which
    the program assigns at the subscription) or ``resourceGroup`` (the stacks' group: every other assignment)."""
    principal: str | None = None
    """The deploy identity's principal ID (lower case) when the grant is its own data-plane ``developer`` role,
    which the condition allows for that principal alone; None for a grant to any principal of
    ``principal_type`` other than the pipeline identities."""


def _custom_role(
    name: str, description: str, scope: str, actions: Sequence[str] = (), data_actions: Sequence[str] = ()
) -> dict[str, Any]:
    """A custom role in the form ``az role definition create --role-definition`` reads."""
    return {
        "Name": name,
        "IsCustom": True,
        "Description": description,
        "Actions": list(actions),
        "NotActions": [],
        "DataActions": list(data_actions),
        "NotDataActions": [],
        "AssignableScopes": [scope],
    }


def _marketplace_actions() -> tuple[str, ...]:
    (role,) = (role for role in DEPLOYER_ROLES if role.key == "marketplace")
    return role.actions


def deploy_role(subscription_id: str, name: str) -> dict[str, Any]:
    """The custom role the deploy identity holds at the subscription: the Marketplace actions of the
    ``deployer`` role (subscribing a workspace to an offer signs its terms for the subscription), and no
    role-definition action (the ``deployer`` roles are the bootstrap's, :func:`deployer_role_definitions`)."""
    description = "azure-maas deploy pipeline: subscribe workspaces to Marketplace model offers."
    return _custom_role(name, description, f"/subscriptions/{subscription_id}", _marketplace_actions())


def deployer_role_guids(subscription_id: str, repo: str) -> dict[str, str]:
    """The role definition GUID of each ``deployer`` role (key to GUID), UUIDv5 of ``deployer-role``, the
    subscription and the repository: the same on every run, so a re-run updates the roles in place."""
    subscription = f"/subscriptions/{subscription_id}"
    return {
        role.key: names.deterministic_guid("deployer-role", subscription, repo, role.key) for role in DEPLOYER_ROLES
    }


def deployer_role_definitions(subscription_id: str, resource_group: str, repo: str) -> dict[str, dict[str, Any]]:
    """The ``deployer`` roles of ``infra/roles.py`` as ``PUT .../roleDefinitions/<GUID>`` bodies, by GUID: the
    Marketplace Subscriber assignable at the subscription, the others at the stacks' ``resource_group`` (their
    workspaces and Foundry resources are in it: the bootstrap refuses a stack that assigns roles outside it)."""
    subscription = f"/subscriptions/{subscription_id}"
    scopes = {"subscription": subscription, "resourceGroup": f"{subscription}/resourceGroups/{resource_group}"}
    guids = deployer_role_guids(subscription_id, repo)
    return {
        guids[role.key]: {
            "properties": {
                "roleName": f"{role.title} ({repo})",
                "description": role.description,
                "type": "CustomRole",
                "permissions": [
                    {"actions": list(role.actions), "notActions": [], "dataActions": [], "notDataActions": []}
                ],
                "assignableScopes": [scopes["subscription" if role.scope == "subscription" else "resourceGroup"]],
            }
        }
        for role in DEPLOYER_ROLES
    }


def deployer_roles_config(subscription_id: str, repo: str) -> str:
    """The ``azure-maas:deployerRoles`` value a stack that uses ``role: deployer`` puts in its stack file."""
    guids = deployer_role_guids(subscription_id, repo)
    return "\n".join(["azure-maas:deployerRoles:", *(f"  {key}: {guid}" for key, guid in guids.items())])


def preview_role(scope: str, name: str) -> dict[str, Any]:
    """The custom role the preview identity holds next to Reader, at the deployment resource group."""
    description = "azure-maas preview pipeline: read serverless endpoint keys during pulumi preview."
    return _custom_role(name, description, scope, PREVIEW_ACTIONS)


def decrypt_role(scope: str, name: str) -> dict[str, Any]:
    """The preview identity's data role on the secrets key (assignable in the state resource group ``scope``):
    decrypt a stack's data key, and nothing the ``azurekeyvault`` provider does not need during a preview."""
    description = (
        "azure-maas preview pipeline: decrypt a stack's data key with the Key Vault key "
        "(no encrypt, wrap, unwrap or sign)."
    )
    return _custom_role(name, description, scope, data_actions=DECRYPT_DATA_ACTIONS)


# ---------------------------------------------------------------------------------------------------
# What the stacks assign, from the program's own desired state.


def _settings(config: dict[str, str]) -> Settings:
    """The stack's settings, read from its config as the program reads the engine's (``pulumi_config_values``),
    without environment overrides or global state: the config is set in a copied context."""
    import pulumi.runtime

    from infra.settings import Settings, pulumi_config_values

    def read() -> Settings:
        pulumi.runtime.set_all_config(config)
        return Settings.model_validate(pulumi_config_values())

    return contextvars.copy_context().run(read)


def _role_guid(role_definition_id: str) -> str:
    return role_definition_id.rsplit("/", 1)[-1].lower()


def stack_grants(
    directory: Path,
    stack: str,
    *,
    subscription_id: str,
    resource_group: str,
    repo: str,
    excluded: Iterable[str] = (),
    deploy_principal: str | None = None,
    today: dt.date | None = None,
) -> frozenset[Grant]:
    """Every (role definition, principal type, scope class) that ``Pulumi.<stack>.yaml`` in ``directory``
    assigns, as the program's :func:`infra.desired.compute` computes its role assignments for ``subscription_id``;
    a grant to ``deploy_principal`` (the deploy identity) carries it in :attr:`Grant.principal`.
    Raises :class:`BootstrapError` when the file is missing or invalid, deploys to another resource group than
    ``resource_group``, uses ``deployer`` without ``azure-maas:deployerRoles`` naming this ``repo``'s roles (or
    names other roles there), grants a privileged role, assigns a role outside ``resource_group``, grants anything
    to an ``excluded`` principal (the other pipeline identities), or grants the deploy identity anything but
    ``developer`` (as a ``ServicePrincipal``, which a managed identity is)."""
    from pydantic import ValidationError

    from infra import catalog as catalog_module
    from infra.desired import compute
    from infra.engine.stack_files import StackFileError, read_project, read_stack_file
    from infra.settings import ROLE_KINDS, ConfigError, check, key_path, validation_issues

    try:
        project_file = read_project(directory)
    except StackFileError as error:
        raise BootstrapError(str(error).splitlines()[0]) from None
    project = project_file.name
    path = project_file.stack_file(stack)
    if not path.is_file():
        raise BootstrapError(
            f"{path.name} not found in {path.parent}: create the stack file first; the bootstrap reads its "
            "azure-maas:access to decide which roles the deploy identity may grant"
        )
    try:
        config = read_stack_file(path, project_file).config  # with Pulumi.yaml's config, as the engine merges it
    except StackFileError as error:
        raise BootstrapError(str(error).splitlines()[0]) from None
    invalid = f"{path.name}: invalid stack config (uv run maas plan --stack {stack} lists every problem)"
    try:
        settings = _settings(config)
    except ValidationError as error:
        first = ConfigError(validation_issues(error)).lines[0]  # as maas plan reports it, in key order
        raise BootstrapError(f"{invalid}: {first}") from None
    catalog = catalog_module.load()
    issues = check(settings, catalog, today or dt.date.today())
    if issues:
        raise BootstrapError(f"{invalid}: {issues[0].render()}")

    expected = deployer_role_guids(subscription_id, repo)
    wanted = ", ".join(f"{key}: {guid}" for key, guid in expected.items())
    if settings.deployer_roles is not None:
        for key, guid in expected.items():
            given = getattr(settings.deployer_roles, key)
            if given is not None and given != guid:  # an optional role left out: settings say when it is needed
                title = next(role.title for role in DEPLOYER_ROLES if role.key == key)
                raise BootstrapError(
                    f"{path.name}: {key_path(('deployerRoles', key))}: {given} is not the bootstrap's {title} "
                    f"role ({guid}); set azure-maas:deployerRoles to {{{wanted}}}"
                )
    else:
        uses = next((i for i, grant in enumerate(settings.access) if grant.role == "deployer"), None)
        if uses is not None:
            raise BootstrapError(
                f"{path.name}: {key_path(('access', uses, 'role'))}: 'deployer' needs azure-maas:deployerRoles "
                f"(the deploy identity cannot create role definitions): add azure-maas:deployerRoles: {{{wanted}}}"
            )
    deploy = deploy_principal.lower() if deploy_principal else None
    pipeline = {principal.lower() for principal in excluded} - {deploy}
    for i, grant in enumerate(settings.access):
        if grant.principal_id in pipeline:
            raise BootstrapError(
                f"{path.name}: {key_path(('access', i, 'principalId'))}: {grant.principal_id} is a pipeline "
                "identity that no stack may grant a role (only the deploy identity, and only 'developer'): remove "
                "the entry"
            )
        if grant.principal_id == deploy and grant.role != "developer":
            raise BootstrapError(
                f"{path.name}: {key_path(('access', i, 'role'))}: {grant.role!r} for the deploy identity "
                f"({deploy}): a stack may grant it only 'developer', the data-plane role its smoke test after each "
                "deploy needs"
            )
        if grant.principal_id == deploy and grant.principal_type != "ServicePrincipal":
            raise BootstrapError(
                f"{path.name}: {key_path(('access', i, 'principalType'))}: {grant.principal_type!r} for the deploy "
                f"identity ({deploy}), a managed identity: use 'ServicePrincipal'"
            )
        if grant.role not in ROLE_KINDS and grant.role in PRIVILEGED_ROLES:
            raise BootstrapError(
                f"{path.name}: {key_path(('access', i, 'role'))}: {PRIVILEGED_ROLES[grant.role]} ({grant.role}) "
                "is privileged; the deploy identity is never allowed to grant it"
            )
    desired = compute(settings, catalog, project=project, stack=stack, subscription_id=subscription_id)
    if desired.resource_group.name.lower() != resource_group.lower():
        raise BootstrapError(
            f"{path.name}: the stack deploys to resource group {desired.resource_group.name!r}, but "
            f"--deploy-resource-group is {resource_group!r}, the only group the deploy identity may change"
        )
    rg_id = desired.resource_group.id.lower()
    grants = set()
    for assignment in desired.role_assignments:
        scope = assignment.scope
        if scope.kind == "subscription":
            at = "subscription"  # only the Marketplace Subscriber deployer role (infra/desired.py)
        elif scope.id.lower() == rg_id or scope.id.lower().startswith(f"{rg_id}/"):
            at = "resourceGroup"
        else:
            raise BootstrapError(
                f"{path.name}: {key_path(assignment.origin)}: assigns a role at {SCOPE_WORDS[scope.kind]} {scope.label!r} "
                f"({scope.id}), outside --deploy-resource-group {resource_group!r}, the only group where the deploy "
                "identity may grant roles"
            )
        own = assignment.principal_id if assignment.principal_id == deploy else None
        grants.add(
            Grant(_role_guid(assignment.role_definition_id), assignment.principal_type, assignment.custom_role, at, own)
        )
    return frozenset(grants)


SCOPE_WORDS = {
    "subscription": "subscription",
    "resourceGroup": "resource group",
    "workspace": "workspace",
    "foundry": "Foundry resource",
    "foundryProject": "Foundry project",
}
"""How a message names each kind of ``access[].scope``."""


def stacks_grants(
    directory: Path,
    stacks: Sequence[str],
    *,
    subscription_id: str,
    resource_group: str,
    repo: str,
    excluded: Iterable[str] = (),
    deploy_principal: str | None = None,
) -> dict[str, frozenset[Grant]]:
    """:func:`stack_grants` of each stack, in order."""
    excluded = tuple(excluded)
    return {
        stack: stack_grants(
            directory,
            stack,
            subscription_id=subscription_id,
            resource_group=resource_group,
            repo=repo,
            excluded=excluded,
            deploy_principal=deploy_principal,
        )
        for stack in stacks
    }


# ---------------------------------------------------------------------------------------------------
# The condition on the deploy identity's Role Based Access Control Administrator assignment.
#
# Syntax and attributes, as Microsoft documents them (MicrosoftDocs/azure-docs,
# articles/role-based-access-control/):
# - conditions-authorization-actions-attributes.md (d6649ade03b60772e39df7b75b66a444d6eb0334): the action
#   Microsoft.Authorization/roleAssignments/write has the *request* attributes, .../delete the *resource*
#   attributes Microsoft.Authorization/roleAssignments:RoleDefinitionId (GUID), :PrincipalId (GUID) and
#   :PrincipalType (string: User, ServicePrincipal, Group).
# - delegate-role-assignments-examples.md (0b8729eaf7eb0aabc6390cb17348d19761285f12), "Constrain roles and
#   principal types": one condition per action, @Request for write and @Resource for delete, with
#   ForAnyOfAnyValues:GuidEquals {...} and ForAnyOfAnyValues:StringEqualsIgnoreCase {'User', 'Group'};
#   "Allow most roles..." uses ForAnyOfAllValues:GuidNotEquals {...} ("not any of these").
# - conditions-format.md (b3afb5471aae6d9ffe383aa62d6ae767b70bd25c): ForAnyOfAnyValues is true when a value on
#   the left matches at least one on the right; ForAnyOfAllValues when a value on the left satisfies the
#   comparison with every value on the right; GUID comparison is case-insensitive; AND/OR need parentheses.
#   An action's expressions may be several, joined with OR: the deploy identity's own `developer` grants are a
#   second, explicit branch (PrincipalId ForAnyOfAnyValues:GuidEquals {deploy} AND RoleDefinitionId
#   ForAnyOfAnyValues:GuidEquals {the developer roles granted to it}), so the first branch keeps excluding every
#   pipeline identity for every other role.


def _condition_for(
    action: str,
    source: str,
    roles: Sequence[str],
    types: Sequence[str],
    excluded: Sequence[str],
    deploy: str | None,
    deploy_roles: Sequence[str],
) -> str:
    """One action's half of the condition."""
    attribute = f"@{source}[Microsoft.Authorization/roleAssignments:"
    quoted = ", ".join(f"'{t}'" for t in types)
    branches = []
    if roles:
        branches.append(
            f"({attribute}RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{', '.join(roles)}}}"
            f" AND {attribute}PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{{quoted}}}"
            f" AND {attribute}PrincipalId] ForAnyOfAllValues:GuidNotEquals {{{', '.join(excluded)}}})"
        )
    if deploy_roles:
        branches.append(
            f"({attribute}PrincipalId] ForAnyOfAnyValues:GuidEquals {{{deploy}}}"
            f" AND {attribute}RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{', '.join(deploy_roles)}}})"
        )
    return f"((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR {' OR '.join(branches)})"


def rbac_condition(grants: Iterable[Grant], excluded: Iterable[str], deploy: str | None = None) -> str:
    """The condition (version 2.0) on one of the deploy identity's Role Based Access Control Administrator
    assignments: it may create (write) and delete role assignments only of the role definitions in ``grants``,
    only for their principal types, and never for an ``excluded`` principal or the ``deploy`` identity (the
    pipeline identities), except the ``deploy`` identity's own grants (:attr:`Grant.principal`, its
    ``developer`` role), which a branch of their own allows for that principal and those role definitions only.
    Empty when there is nothing to grant: the bootstrap then gives no role-assignment rights there.
    The caller passes the grants of one scope class (:attr:`Grant.at`): conditions cannot test the scope."""
    grants = frozenset(grants)
    deploy = deploy.lower() if deploy else None
    excluded = sorted({principal.lower() for principal in excluded} | ({deploy} if deploy else set()))
    if not grants:
        return ""
    if not excluded:
        raise ValueError("the pipeline identities' principal IDs are needed to exclude them")
    for option, principal in [
        *(("--exclude-principal", p) for p in excluded if p != deploy),
        ("--deploy-principal", deploy),
    ]:
        if principal is not None and not names.GUID.pattern.fullmatch(principal):
            raise BootstrapError(f"{option}: {names.GUID.problem(principal)}")
    own = {grant for grant in grants if grant.principal is not None}
    if any(grant.principal != deploy for grant in own):
        raise ValueError("a grant to a pipeline identity other than the deploy identity")
    others = grants - own
    roles = sorted({grant.role for grant in others})
    used = {grant.principal_type for grant in others}
    types = [t for t in PRINCIPAL_TYPES if t in used]
    deploy_roles = sorted({grant.role for grant in own})
    write = _condition_for("write", "Request", roles, types, excluded, deploy, deploy_roles)
    delete = _condition_for("delete", "Resource", roles, types, excluded, deploy, deploy_roles)
    return f"{write} AND {delete}"


def condition_update(assignment: dict[str, Any], condition: str) -> dict[str, Any] | None:
    """The role assignment as ``az role assignment update --role-assignment`` takes it (the whole assignment;
    only ``condition``, ``conditionVersion`` and ``description`` may change), with ``condition``; None when it
    has that condition already."""
    if assignment.get("condition") == condition and assignment.get("conditionVersion") == "2.0":
        return None
    return {**assignment, "condition": condition, "conditionVersion": "2.0"}


BUILT_IN_ROLE_NAMES = {AZURE_AI_DEVELOPER: "Azure AI Developer", FOUNDRY_USER: "Foundry User"}
"""The data-plane roles ``developer`` maps to (infra/desired.py), by name in the bootstrap's summary."""


def _summary(stack: str, grants: frozenset[Grant]) -> str:
    """``dev: Azure AI Developer and 3 deployer roles, to Group and ServicePrincipal; to the deploy identity:
    Foundry User`` (the last part only when the stack grants the deploy identity its ``developer`` role)."""
    if not grants:
        return f"{stack}: grants no roles"
    others = {g for g in grants if g.principal is None}
    own = sorted({BUILT_IN_ROLE_NAMES.get(g.role, g.role) for g in grants if g.principal is not None})
    built_in = sorted({g.role for g in others if g.deployer_role is None})
    parts = [BUILT_IN_ROLE_NAMES.get(guid, guid) for guid in built_in]
    custom = {g.role for g in others if g.deployer_role is not None}
    if custom:
        parts.append(f"{len(custom)} deployer role{'s' if len(custom) != 1 else ''}")
    used = {grant.principal_type for grant in others}
    text = f"{_listing(parts)}, to {_listing([t for t in PRINCIPAL_TYPES if t in used])}" if others else ""
    if own:
        text += f"{'; ' if text else ''}to the deploy identity: {_listing(own)}"
    return f"{stack}: {text}"


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cli.bootstrap", description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser("deploy-role", help="the deploy identity's custom role (JSON)")
    deploy.add_argument("--subscription", required=True, help="subscription ID")
    deploy.add_argument("--name", required=True, help="role name (unique in the tenant)")
    deployer = commands.add_parser(
        "deployer-roles", help="the three deployer roles, one line each: GUID and the PUT body (JSON)"
    )
    deployer.add_argument("--subscription", required=True, help="subscription ID")
    deployer.add_argument("--resource-group", required=True, help="the stacks' resource group")
    deployer.add_argument("--repo", required=True, help="OWNER/NAME of the repository")
    config = commands.add_parser("deployer-roles-config", help="the azure-maas:deployerRoles value for stack files")
    config.add_argument("--subscription", required=True, help="subscription ID")
    config.add_argument("--repo", required=True, help="OWNER/NAME of the repository")
    for command, what, scope in (
        ("preview-role", "the preview identity's custom role at the stacks' resource group", "resource group ID"),
        ("decrypt-role", "the preview identity's decrypt-only role on the secrets key", "state resource group ID"),
    ):
        role = commands.add_parser(command, help=f"{what} (JSON)")
        role.add_argument("--scope", required=True, help=f"{scope} (assignable scope)")
        role.add_argument("--name", required=True, help="role name (unique in the tenant)")
    for command, what in (
        ("check-stacks", "read every stack's access and print what it grants, one line per stack"),
        ("rbac-condition", "the condition on the deploy identity's RBAC Administrator role (empty: no grants)"),
    ):
        stacks = commands.add_parser(command, help=what)
        stacks.add_argument("--subscription", required=True, help="subscription ID")
        stacks.add_argument("--resource-group", required=True, help="the stacks' resource group")
        stacks.add_argument("--repo", required=True, help="OWNER/NAME (names the deployer roles)")
        stacks.add_argument("--project-dir", type=Path, default=Path(), help="directory of Pulumi.yaml")
        stacks.add_argument("--stacks", required=True, help="comma-separated stack names")
        stacks.add_argument(
            "--deploy-principal",
            required=command == "rbac-condition",
            help="the deploy identity's principal ID: a stack may grant it its developer role, nothing else",
        )
        stacks.add_argument(
            "--exclude-principal",
            action="append",
            default=[],
            required=command == "rbac-condition",
            help="another pipeline identity's principal ID, which no stack may grant a role (repeat)",
        )
        if command == "rbac-condition":
            stacks.add_argument(
                "--at",
                required=True,
                choices=("subscription", "resourceGroup"),
                help="which RBAC Administrator assignment: at the subscription or at the stacks' resource group",
            )
    update = commands.add_parser("condition-update", help="a role assignment (JSON on stdin) with a new condition")
    update.add_argument("--condition", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "deploy-role":
            print(json.dumps(deploy_role(args.subscription, args.name), indent=2))
        elif args.command == "deployer-roles":
            for guid, body in deployer_role_definitions(args.subscription, args.resource_group, args.repo).items():
                print(guid, json.dumps(body, separators=(",", ":")))
        elif args.command == "deployer-roles-config":
            print(deployer_roles_config(args.subscription, args.repo))
        elif args.command == "preview-role":
            print(json.dumps(preview_role(args.scope, args.name), indent=2))
        elif args.command == "decrypt-role":
            print(json.dumps(decrypt_role(args.scope, args.name), indent=2))
        elif args.command == "condition-update":
            updated = condition_update(json.load(sys.stdin), args.condition)
            print(json.dumps(updated, indent=2) if updated is not None else "")
        else:
            found = stacks_grants(
                args.project_dir,
                args.stacks.split(","),
                subscription_id=args.subscription,
                resource_group=args.resource_group,
                repo=args.repo,
                excluded=args.exclude_principal,
                deploy_principal=args.deploy_principal,
            )
            if args.command == "check-stacks":
                print("\n".join(_summary(stack, grants) for stack, grants in found.items()))
            else:
                grants = [grant for grant in frozenset().union(*found.values()) if grant.at == args.at]
                print(rbac_condition(grants, args.exclude_principal, args.deploy_principal))
    except UserError as error:
        print(f"bootstrap: {error}", file=sys.stderr)
        return error.exit_code
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
