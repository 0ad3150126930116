"""The policy pack's scenario table, run through the analyzer protocol exactly as the Pulumi engine drives it.

One pack process serves the whole module; each scenario configures it (explicit levels and properties,
defaults applied) and analyzes its resources. Each row lists every diagnostic it must produce, as
``(policy, URN, enforcement level)``: a compliant row lists none, and any extra diagnostic fails the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.engine.analyzer import (
    Diagnostic,
    PolicyPackSession,
    StackInfo,
    open_session,
    parse_policy_config,
)
from infra.engine.resource import Resource
from tests import stacks as s
from tests.harness import SUBSCRIPTION_ID
from tests.stacks import UNKNOWN

Want = tuple[str, str, str]


def want(policy: str, resource: Resource, level: str = "mandatory") -> Want:
    return (policy, resource.urn, level)


@dataclass
class Scenario:
    id: str
    resources: list[Resource]
    expect: list[Want]
    config: dict[str, Any] = field(default_factory=dict)


def _scenarios() -> Iterator[Scenario]:
    ws = s.workspace()
    base = [ws, *s.deployment()]
    yield Scenario("compliant: workspace, subscription and endpoint", base, [])

    # 1. serverless-region-allowlist
    outside = s.endpoint(location="westeurope", depends=(base[1],))
    yield Scenario("region: endpoint outside", [ws, base[1], outside], [want("serverless-region-allowlist", outside)])
    spaced = s.workspace(location="East US 2")
    yield Scenario("region: 'East US 2' equals eastus2", [spaced, *s.deployment()], [])
    hub = s.workspace("hub", kind="Hub", location="West Europe")
    yield Scenario("region: hub outside", [hub, *base], [want("serverless-region-allowlist", hub)])
    unknown_location = s.endpoint(location=UNKNOWN, depends=(base[1],))
    yield Scenario("region: unknown location is skipped", [ws, base[1], unknown_location], [])
    yield Scenario(
        "region: allowedRegions from config",
        [ws, base[1], outside],
        [want("serverless-region-allowlist", ws)],
        {"serverless-region-allowlist": {"allowedRegions": ["West Europe"]}},
    )

    loc_list = s.workspace("loclist", location=["eastus2"])
    loc_number = s.endpoint("locnum", s.PHI_4, location=42)
    yield Scenario(
        "region: a location that is not a string is reported",
        [loc_list, loc_number],
        [
            want("serverless-region-allowlist", loc_list),
            want("serverless-region-allowlist", loc_number),
            want("endpoint-name", loc_number),
        ],
    )

    # 2. one-deployment-per-model
    first = s.deployment("first")
    second_sub = s.subscription("second-subscription", MINISTRAL_PINNED)
    second = s.endpoint(
        "second",
        MINISTRAL_PINNED.upper().replace("AZUREML://REGISTRIES", "azureml://registries"),
        depends=(second_sub,),
    )
    yield Scenario(
        "one-deployment: same model (case, /versions/N) in one workspace",
        [ws, *first, second_sub, second],
        [want("one-deployment-per-model", second)],
    )
    yield Scenario(
        "one-deployment: same model in two workspaces",
        [ws, *s.deployment("a", workspace_name="ws"), *s.deployment("b", workspace_name="ws2")],
        [],
    )
    known_ws = s.workspace("proj")
    by_dep = [
        s.endpoint(f"dep{i}", s.PHI_4, workspace_name=UNKNOWN, property_dependencies={"workspaceName": (known_ws,)})
        for i in (1, 2)
    ]
    yield Scenario(
        "one-deployment: unknown workspaceName resolved to the workspace's name input",
        [known_ws, *by_dep],
        [want("one-deployment-per-model", by_dep[1])],
    )
    mixed = s.endpoint("named", s.PHI_4, workspace_name="proj")
    yield Scenario(
        "one-deployment: a known name and a resolved dependency name meet",
        [known_ws, by_dep[0], mixed],
        [want("one-deployment-per-model", mixed)],
    )
    ws_a, ws_b = (s.workspace(name) for name in ("a", "b"))
    ws_a = Resource(ws_a.urn, ws_a.type, ws_a.name, {**ws_a.inputs, "workspaceName": UNKNOWN})
    ws_b = Resource(ws_b.urn, ws_b.type, ws_b.name, {**ws_b.inputs, "workspaceName": UNKNOWN})
    on_a = [
        s.endpoint(f"a{i}", s.PHI_4, workspace_name=UNKNOWN, property_dependencies={"workspaceName": (ws_a,)})
        for i in (1, 2)
    ]
    on_b = s.endpoint("b1", s.PHI_4, workspace_name=UNKNOWN, property_dependencies={"workspaceName": (ws_b,)})
    yield Scenario(
        "one-deployment: unknown names grouped by the workspace URN",
        [ws_a, ws_b, *on_a, on_b],
        [want("one-deployment-per-model", on_a[1])],
    )
    yield Scenario(
        "one-deployment: unknown workspace without dependencies is skipped",
        [s.endpoint(f"x{i}", s.PHI_4, workspace_name=UNKNOWN) for i in (1, 2)],
        [],
    )
    yield Scenario(
        "one-deployment: unknown model ID is skipped",
        [s.endpoint(f"m{i}", UNKNOWN) for i in (1, 2)],
        [],
    )

    phi_first = s.endpoint("p1", s.PHI_4)
    phi_again = s.endpoint("p2", " AZUREML://Registries/azureml//models/Phi-4/ ", workspace_name=" WS ")
    yield Scenario(
        "one-deployment: model IDs and workspace names compare after normalization",
        [ws, phi_first, phi_again],
        [want("one-deployment-per-model", phi_again)],
    )
    triple = [s.endpoint(f"triple{i}", s.PHI_4) for i in (1, 2, 3)]
    yield Scenario(
        "one-deployment: a third endpoint of a model is reported against the first",
        [ws, *triple],
        [want("one-deployment-per-model", triple[1]), want("one-deployment-per-model", triple[2])],
    )
    mini = "azureml://registries/azureml/models/Phi-4-mini-instruct"
    groups = [
        s.endpoint("g1", s.PHI_4, rg="rg1"),
        s.endpoint("g2", s.PHI_4, rg="rg2"),
        s.endpoint("gany", s.PHI_4, rg=UNKNOWN),
        s.endpoint("g2b", s.PHI_4, rg="rg2"),
        s.endpoint("g3", s.PHI_4, rg="rg3"),
        s.endpoint("many", mini, rg=UNKNOWN),
        s.endpoint("m1", mini, rg="rg1"),
        s.endpoint("m2", mini, rg="rg2"),
    ]
    yield Scenario(
        "one-deployment: an unknown resource group matches every one; known ones must agree",
        [ws, *groups],
        [want("one-deployment-per-model", groups[i]) for i in (2, 3, 6, 7)],
    )
    num_model = s.endpoint("nummodel", 42)
    dict_model = s.subscription("dictsub", {"id": s.MINISTRAL})
    yield Scenario(
        "model IDs: values that are not strings are reported by every rule that reads them",
        [ws, num_model, dict_model],
        [
            want("one-deployment-per-model", num_model),
            want("marketplace-subscription-required", dict_model),
            want("marketplace-subscription-required", num_model),
            want("approved-models", num_model),
            want("approved-models", dict_model),
            want("no-retired-models", num_model),
        ],
        {"approved-models": {"approvedModels": [s.PHI_4]}},
    )
    dotted = s.endpoint("dotted", "azureml://registries/azureml/models/../models/Phi-4")
    labelled = s.subscription("labelled", s.MINISTRAL + "/labels/latest")
    yield Scenario(
        "model IDs: forms that cannot be read are reported by every rule that reads them",
        [ws, dotted, labelled],
        [
            want("one-deployment-per-model", dotted),
            want("marketplace-subscription-required", labelled),
            want("marketplace-subscription-required", dotted),
            want("approved-models", dotted),
            want("approved-models", labelled),
            want("no-retired-models", dotted),
        ],
        {"approved-models": {"approvedModels": [s.PHI_4]}},
    )
    upper = s.endpoint("upper", "AZUREML://REGISTRIES/azureml-mistral/models/Ministral-3B")
    large_sub = s.subscription("large-sub", s.LARGE_2402, workspace_name="ws2")
    large = s.endpoint(
        "large",
        "azureml://registries/azureml-mistral//models/Mistral-large/",
        workspace_name="ws2",
        depends=(large_sub,),
    )
    yield Scenario(
        "model IDs: upper-case prefixes, doubled and trailing slashes are judged after normalization",
        [ws, upper, large_sub, large],
        [want("marketplace-subscription-required", upper), want("no-retired-models", large)],
        {
            "approved-models": {"approvedModels": [s.MINISTRAL, s.LARGE_2402]},
            "no-retired-models": {"today": "2026-11-24"},
        },
    )
    padded_sub = s.subscription("padded-sub", workspace_name=" WS ", rg="RG")
    padded = s.endpoint("padded", depends=(padded_sub,))
    num_ws = s.endpoint("numws", workspace_name=7)
    list_rg = s.subscription("listrg", rg=["rg"])
    yield Scenario(
        "workspaces: names compare trimmed and case-insensitively; names that are not strings are reported",
        [ws, padded_sub, padded, num_ws, list_rg],
        [
            want("one-deployment-per-model", num_ws),
            want("marketplace-subscription-required", list_rg),
            want("marketplace-subscription-required", num_ws),
        ],
    )

    # 3. marketplace-subscription-required
    lonely = s.endpoint("lonely")
    yield Scenario(
        "marketplace: partner model without subscription",
        [ws, lonely],
        [want("marketplace-subscription-required", lonely)],
    )
    yield Scenario("marketplace: Microsoft model needs none", [ws, s.endpoint("phi", s.PHI_4)], [])
    sub = s.subscription()
    no_dep = s.endpoint("nodep")
    yield Scenario(
        "marketplace: subscription but no dependency",
        [ws, sub, no_dep],
        [want("marketplace-subscription-required", no_dep)],
    )
    elsewhere = s.subscription(workspace_name="other")
    wrong_ws = s.endpoint("wrongws", depends=(elsewhere,))
    yield Scenario(
        "marketplace: subscription in another workspace",
        [ws, elsewhere, wrong_ws],
        [want("marketplace-subscription-required", wrong_ws)],
    )
    other_rg = s.subscription(rg="rg2")
    wrong_rg = s.endpoint("wrongrg", depends=(other_rg,))
    yield Scenario(
        "marketplace: subscription in a same-named workspace of another resource group",
        [ws, other_rg, wrong_rg],
        [want("marketplace-subscription-required", wrong_rg)],
    )
    middle = s.resource_group("middle")
    middle = Resource(middle.urn, middle.type, middle.name, middle.inputs, dependencies=(sub.urn,))
    transitive = s.endpoint("transitive", depends=(middle,))
    yield Scenario("marketplace: a transitive dependency counts", [ws, sub, middle, transitive], [])
    yield Scenario(
        "marketplace: externalSubscriptions accepts one managed elsewhere",
        [ws, lonely],
        [],
        {
            "marketplace-subscription-required": {
                "externalSubscriptions": [{"workspaceName": "WS", "modelId": MINISTRAL_PINNED}]
            }
        },
    )
    resolved_sub = s.subscription(workspace_name=UNKNOWN, property_dependencies={"workspaceName": (ws,)})
    resolved = s.endpoint("resolved", depends=(resolved_sub,))
    yield Scenario(
        "marketplace: subscription's unknown workspace resolved by dependency", [ws, resolved_sub, resolved], []
    )

    by_group = [
        s.subscription("sa", rg="rg2"),
        s.subscription("sb", rg=UNKNOWN),
        s.subscription("sc"),
        s.subscription("sd", workspace_name="ws2"),
        s.subscription("se", workspace_name="ws2", rg=UNKNOWN),
    ]
    sa, sc = by_group[0], by_group[2]
    on_groups = [
        s.endpoint("viasc", depends=(sc,)),
        s.endpoint("nodeps"),
        s.endpoint("anyrg", rg=UNKNOWN, depends=(sa,)),
        s.endpoint("viasa", depends=(sa,)),
        s.endpoint("lone2", workspace_name="ws2"),
    ]
    yield Scenario(
        "marketplace: of several matching subscriptions any dependency counts, and the first is named",
        [ws, *by_group, *on_groups],
        [
            want("marketplace-subscription-required", on_groups[1]),
            want("marketplace-subscription-required", on_groups[3]),
            want("marketplace-subscription-required", on_groups[4]),
            want("one-deployment-per-model", on_groups[1]),
            want("one-deployment-per-model", on_groups[2]),
            want("one-deployment-per-model", on_groups[3]),
        ],
    )

    # 4. endpoint-name
    bad_start = s.endpoint("9chat", s.PHI_4, workspace_name="ws1")
    too_long = s.endpoint("a" * 53, s.PHI_4, logical="long", workspace_name="ws3")
    yield Scenario(
        "endpoint-name: ARM rule",
        [ws, bad_start, too_long, s.endpoint("a" * 52, s.PHI_4, workspace_name="ws2")],
        [want("endpoint-name", bad_start), want("endpoint-name", too_long)],
    )
    twin = s.endpoint("chat", s.PHI_4, logical="twin", workspace_name="ws2", location="East US 2")
    yield Scenario("endpoint-name: one name twice in a region", [ws, *base[1:], twin], [want("endpoint-name", twin)])
    yield Scenario(
        "endpoint-name: one name in two regions",
        [ws, *base[1:], s.endpoint("chat", s.PHI_4, logical="west", workspace_name="ws2", location="westus")],
        [],
    )
    yield Scenario(
        "endpoint-name: unknown or unset names are skipped",
        [s.endpoint(UNKNOWN, s.PHI_4, logical="u1"), s.endpoint(None, s.PHI_4, logical="u2", workspace_name="ws2")],
        [],
    )

    num_name = s.endpoint(42, s.PHI_4, logical="numname")
    yield Scenario(
        "endpoint-name: a name that is not a string is reported", [num_name], [want("endpoint-name", num_name)]
    )

    # 5. content-safety-enabled
    disabled = s.endpoint("disabled", s.PHI_4, content_safety="Disabled", workspace_name="ws1")
    unset = s.endpoint("unset", s.PHI_4, content_safety=None, workspace_name="ws2")
    yield Scenario(
        "content-safety: disabled and unset",
        [
            disabled,
            unset,
            s.endpoint("lower", s.PHI_4, content_safety="enabled", workspace_name="ws3"),
            s.endpoint("unknown", s.PHI_4, content_safety=UNKNOWN, workspace_name="ws4"),
        ],
        [want("content-safety-enabled", disabled), want("content-safety-enabled", unset)],
    )

    yield Scenario(
        "content-safety: an exception by workspace and endpoint name, case-insensitive",
        [disabled, unset],
        [want("content-safety-enabled", unset)],
        {"content-safety-enabled": {"exceptions": {"WS1/Disabled": "red-team evaluation of raw outputs"}}},
    )
    yield Scenario(
        "content-safety: an exception names the workspace too",
        [disabled],
        [want("content-safety-enabled", disabled)],
        {"content-safety-enabled": {"exceptions": {"ws2/disabled": "red-team evaluation of raw outputs"}}},
    )

    bool_status = s.endpoint("boolstatus", s.PHI_4, content_safety=True, workspace_name="ws1")
    string_block = s.with_input(
        s.endpoint("stringblock", s.PHI_4, workspace_name="ws2"), "Enabled", "properties", "contentSafety"
    )
    yield Scenario(
        "content-safety: a status that cannot be read is reported as such",
        [bool_status, string_block],
        [want("content-safety-enabled", bool_status), want("content-safety-enabled", string_block)],
    )

    # 6. approved-models and no-retired-models
    yield Scenario(
        "approved-models: listed (other case) passes",
        base,
        [],
        {"approved-models": {"approvedModels": [MINISTRAL_PINNED.lower()]}},
    )
    yield Scenario(
        "approved-models: not listed, endpoint and subscription",
        base,
        [want("approved-models", base[1]), want("approved-models", base[2])],
        {"approved-models": {"approvedModels": [s.LARGE_2411]}},
    )
    retired = s.deployment("old", s.LARGE_2402)
    yield Scenario(
        "no-retired-models: retired model",
        [ws, *retired],
        [want("no-retired-models", retired[1])],
        {"no-retired-models": {"today": "2026-11-24"}},
    )
    raw = s.deployment("raw", "azureml://registries/azureml-acme/models/Acme-1")
    yield Scenario("no-retired-models: a model outside the catalog passes", [ws, *raw], [])

    # 7. rbac-least-privilege
    owner = s.role_assignment("owner", s.role_id(s.OWNER), s.RG_SCOPE)
    contributor = s.role_assignment("contributor", s.role_id(s.CONTRIBUTOR.upper()), s.RG_SCOPE + "/providers/x/y/z")
    dev_rg = s.role_assignment("dev-rg", s.role_id(s.AI_DEVELOPER), s.RG_SCOPE)
    dev_sub = s.role_assignment("dev-sub", s.role_id(s.AI_DEVELOPER), s.SUBSCRIPTION_SCOPE)
    yield Scenario(
        "rbac: owner-like roles anywhere, AI Developer at the subscription",
        [owner, contributor, dev_rg, dev_sub],
        [
            want("rbac-least-privilege", owner),
            want("rbac-least-privilege", contributor),
            want("rbac-least-privilege", dev_sub),
        ],
    )
    market = s.role_definition("market", "0c8a1f3e-0000-4000-8000-000000000001", s.MARKETPLACE_ACTIONS)
    market_at_sub = s.role_assignment(
        "market-sub", UNKNOWN, s.SUBSCRIPTION_SCOPE, property_dependencies={"roleDefinitionId": (market,)}
    )
    market_by_guid = s.role_assignment(
        "market-guid", s.role_id("0C8A1F3E-0000-4000-8000-000000000001"), s.SUBSCRIPTION_SCOPE
    )
    market_at_mg = s.role_assignment(
        "market-mg",
        s.role_id("0c8a1f3e-0000-4000-8000-000000000001"),
        "/providers/Microsoft.Management/managementGroups/corp",
    )
    yield Scenario(
        "rbac: the marketplace-ordering role at the subscription, not at a management group",
        [market, market_at_sub, market_by_guid, market_at_mg],
        [want("rbac-least-privilege", market_at_mg)],
    )
    star = s.role_definition("star", "0c8a1f3e-0000-4000-8000-000000000002", ["*"])
    star_at_rg = s.role_assignment("star-rg", UNKNOWN, s.RG_SCOPE, property_dependencies={"roleDefinitionId": (star,)})
    serverless = s.role_definition(
        "serverless",
        "0c8a1f3e-0000-4000-8000-000000000003",
        ["Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/*"],
    )
    serverless_at_sub = s.role_assignment(
        "serverless-sub", UNKNOWN, s.SUBSCRIPTION_SCOPE, property_dependencies={"roleDefinitionId": (serverless,)}
    )
    grant = s.role_definition(
        "grant", "0c8a1f3e-0000-4000-8000-000000000004", ["Microsoft.Authorization/roleAssignments/*"]
    )
    grant_at_rg = s.role_assignment("grant-rg", s.role_id("0c8a1f3e-0000-4000-8000-000000000004"), s.RG_SCOPE)
    reader = s.role_definition(
        "reader", "0c8a1f3e-0000-4000-8000-000000000005", ["Microsoft.Authorization/*/read", "*/read"]
    )
    reader_at_rg = s.role_assignment("reader-rg", s.role_id("0c8a1f3e-0000-4000-8000-000000000005"), s.RG_SCOPE)
    yield Scenario(
        "rbac: custom roles: '*' anywhere, non-marketplace actions at the subscription",
        [star, star_at_rg, serverless, serverless_at_sub, grant, grant_at_rg, reader, reader_at_rg],
        [
            want("rbac-least-privilege", star_at_rg),
            want("rbac-least-privilege", serverless_at_sub),
            want("rbac-least-privilege", grant_at_rg),
        ],
    )
    rg = s.resource_group()
    alias = Resource(s.urn(s.SUBSCRIPTION_ALIAS, "sub"), s.SUBSCRIPTION_ALIAS, "sub", {"aliasName": "sub"})
    from_rg = s.role_assignment("from-rg", s.role_id(s.AI_DEVELOPER), UNKNOWN, property_dependencies={"scope": (rg,)})
    from_alias = s.role_assignment(
        "from-alias", s.role_id(s.AI_DEVELOPER), UNKNOWN, property_dependencies={"scope": (alias,)}
    )
    role_unknown = s.role_assignment("role-unknown", UNKNOWN, s.SUBSCRIPTION_SCOPE)
    yield Scenario(
        "rbac: unknown scope judged from dependencies; unknown role at the subscription skipped",
        [rg, alias, from_rg, from_alias, role_unknown],
        [want("rbac-least-privilege", from_alias)],
    )
    yield Scenario(
        "rbac: subscriptionScopeRoles accepts a role managed elsewhere",
        [dev_sub],
        [],
        {"rbac-least-privilege": {"subscriptionScopeRoles": [s.AI_DEVELOPER]}},
    )

    num_scope = s.role_assignment("num-scope", s.role_id(s.AI_DEVELOPER), 42)
    dict_role = s.role_assignment("dict-role", {"id": s.role_id(s.OWNER)}, s.RG_SCOPE)
    list_guid = s.role_definition("list-guid", [custom(6)], ["*/read"])
    yield Scenario(
        "rbac: scopes, role definition IDs and role GUIDs that are not strings are reported",
        [num_scope, dict_role, list_guid],
        [
            want("rbac-least-privilege", num_scope),
            want("rbac-least-privilege", dict_role),
            want("rbac-least-privilege", list_guid),
        ],
    )
    sub_id = SUBSCRIPTION_ID
    braced_owner = s.role_assignment(
        "braced-owner",
        f" /Subscriptions/{sub_id}/providers/microsoft.authorization/ROLEDEFINITIONS/{{{s.OWNER.upper()}}}/ ",
        s.RG_SCOPE,
    )
    doubled_sub = s.role_assignment("doubled-sub", s.role_id(s.AI_DEVELOPER), f"/subscriptions//{sub_id}/")
    odd_rg = s.role_assignment(
        "odd-rg", s.role_id(s.AI_DEVELOPER), f" /SUBSCRIPTIONS/{{{sub_id}}}/RESOURCEGROUPS/rg// "
    )
    odd_mg = s.role_assignment(
        "odd-mg", s.role_id(s.AI_DEVELOPER), "/providers//microsoft.management/MANAGEMENTGROUPS/corp/"
    )
    braced_star = s.role_definition("braced-star", f" {{{custom(7).upper()}}} ", ["*"])
    star_by_guid = s.role_assignment("star-guid", s.role_id(custom(7)), s.RG_SCOPE)
    yield Scenario(
        "rbac: scopes and role IDs with odd casing, braces, whitespace and slashes are judged after normalization",
        [braced_owner, doubled_sub, odd_rg, odd_mg, braced_star, star_by_guid],
        [
            want("rbac-least-privilege", braced_owner),
            want("rbac-least-privilege", doubled_sub),
            want("rbac-least-privilege", odd_mg),
            want("rbac-least-privilege", star_by_guid),
        ],
    )
    unreadable = [
        s.role_assignment("dotted-scope", s.role_id(s.AI_DEVELOPER), s.RG_SCOPE + "/../.."),
        s.role_assignment("encoded-scope", s.role_id(s.AI_DEVELOPER), s.RG_SCOPE + "/%2e%2e/%2e%2e"),
        s.role_assignment("named-sub", s.role_id(s.AI_DEVELOPER), "/subscriptions/my-subscription/resourceGroups/rg"),
        s.role_assignment("dotted-role", s.role_id(s.OWNER) + "/..", s.RG_SCOPE),
        s.role_assignment("role-name", "Owner", s.RG_SCOPE),
    ]
    yield Scenario(
        "rbac: scopes and role IDs that cannot be read are reported",
        unreadable,
        [want("rbac-least-privilege", a) for a in unreadable],
    )
    writers = [
        s.role_definition("def-writer", custom(8), ["Microsoft.Authorization/roleDefinitions/write"]),
        s.role_definition("def-star", custom(9), ["MICROSOFT.AUTHORIZATION/ROLEDEFINITIONS/*"]),
        s.role_definition(
            "half-removed", custom(10), ["*"], not_actions=["Microsoft.Authorization/roleAssignments/write"]
        ),
        s.role_definition(
            "literal-not",
            custom(11),
            ["Microsoft.Authorization/*"],
            not_actions=["Microsoft.Authorization/roleDefinitions/writ?", "Microsoft.Authorization/roleAssignments/*"],
        ),
        s.role_definition(
            "other-block",
            custom(12),
            None,
            permissions=[
                {"actions": ["Microsoft.Authorization/*/write"]},
                {"actions": ["*/read"], "notActions": ["Microsoft.Authorization/*"]},
            ],
        ),
    ]
    writer_grants = [assigned(d) for d in writers]
    yield Scenario(
        "rbac: custom roles that can write role definitions or assignments are owner-like",
        [*writers, *writer_grants],
        [want("rbac-least-privilege", a) for a in writer_grants],
    )
    no_writes = s.role_definition(
        "no-writes", custom(13), ["Microsoft.Authorization/*"], not_actions=["Microsoft.Authorization/*/write"]
    )
    clone = s.role_definition(
        "contributor-clone",
        custom(14),
        ["*"],
        not_actions=["Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"],
    )
    clone_grant = assigned(clone)
    yield Scenario(
        "rbac: notActions that remove the role writes are honoured; '*' stays as broad as Contributor",
        [no_writes, assigned(no_writes), clone, clone_grant],
        [want("rbac-least-privilege", clone_grant)],
    )
    unreadable_roles = [
        s.role_definition("string-actions", custom(15), "*"),
        s.role_definition("number-action", custom(16), ["*/read", 1]),
        s.role_definition("dict-not", custom(17), ["*/read"], not_actions={"x": "y"}),
        s.role_definition("string-perms", custom(18), None, permissions="all"),
        s.role_definition("spaced-action", custom(19), [" Microsoft.Authorization/*"]),
    ]
    unreadable_grants = [assigned(d) for d in unreadable_roles]
    yield Scenario(
        "rbac: permissions that cannot be read are reported",
        [*unreadable_roles, *unreadable_grants],
        [want("rbac-least-privilege", a) for a in unreadable_grants],
    )

    pending = s.role_definition("pending", custom(20), ["*/read"], not_actions=UNKNOWN)
    pending_items = s.role_definition("pending-items", custom(21), [UNKNOWN])
    yield Scenario(
        "rbac: permissions unknown at preview are skipped, not reported",
        [pending, assigned(pending), pending_items, assigned(pending_items)],
        [],
    )

    # 8. required-tags (advisory)
    bare = s.workspace("bare", tags={})
    cased = s.endpoint("cased", s.PHI_4, tags={"Environment": "x", "COST-CENTER": "y"})
    yield Scenario(
        "required-tags: missing is advisory; names compare case-insensitively; unknown tags skipped",
        [bare, cased, s.endpoint("tagsunknown", s.PHI_4, tags=UNKNOWN, workspace_name="ws2")],
        [want("required-tags", bare, "advisory")],
    )
    yield Scenario(
        "required-tags: requiredTags from config",
        [ws],
        [want("required-tags", ws, "advisory")],
        {"required-tags": {"requiredTags": ["owner"]}},
    )

    listed = s.endpoint("listtags", s.PHI_4, tags=["environment", "cost-center"], workspace_name="ws5")
    yield Scenario(
        "required-tags: tags that are not an object are reported as such",
        [listed],
        [want("required-tags", listed, "advisory")],
    )

    # Config overrides
    yield Scenario(
        "config: all advisory",
        [ws, lonely, disabled],
        [
            want("marketplace-subscription-required", lonely, "advisory"),
            want("content-safety-enabled", disabled, "advisory"),
        ],
        {"all": "advisory"},
    )
    yield Scenario(
        "config: one policy disabled, another advisory, all mandatory",
        [ws, lonely, disabled, bare],
        [want("content-safety-enabled", disabled, "advisory"), want("required-tags", bare, "mandatory")],
        {
            "all": "mandatory",
            "marketplace-subscription-required": "disabled",
            "content-safety-enabled": {"enforcementLevel": "advisory"},
        },
    )


def custom(n: int) -> str:
    """The GUID of the n-th custom role definition of the scenarios."""
    return f"0c8a1f3e-0000-4000-8000-{n:012d}"


def assigned(definition: Resource) -> Resource:
    """An assignment of ``definition`` on the resource group, by its role definition ID."""
    return s.role_assignment(f"{definition.name}-rg", s.role_id(definition.inputs["roleDefinitionId"]), s.RG_SCOPE)


MINISTRAL_PINNED = s.MINISTRAL + "/versions/2"
SCENARIOS = list(_scenarios())


@pytest.fixture(scope="module")
def session() -> Iterator[PolicyPackSession]:
    with open_session(stack=StackInfo(project="azure-maas", stack="dev")) as running:
        yield running


def run(session: PolicyPackSession, scenario: Scenario) -> list[Diagnostic]:
    session.configure(parse_policy_config(scenario.config))
    return list(session.analyze(scenario.resources).diagnostics)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[sc.id for sc in SCENARIOS])
def test_scenario(session: PolicyPackSession, scenario: Scenario) -> None:
    found = sorted((d.policy_name, d.urn, d.enforcement_level.value) for d in run(session, scenario))
    assert found == sorted(scenario.expect), "\n".join(d.message for d in run(session, scenario))


def test_every_policy_fires_and_passes_somewhere() -> None:
    fired = {policy for sc in SCENARIOS for policy, _, _ in sc.expect}
    assert fired == {
        "serverless-region-allowlist",
        "one-deployment-per-model",
        "marketplace-subscription-required",
        "endpoint-name",
        "content-safety-enabled",
        "approved-models",
        "no-retired-models",
        "rbac-least-privilege",
        "required-tags",
    }


def _only(session: PolicyPackSession, scenario: Scenario, policy: str) -> Diagnostic:
    matches = [d for d in run(session, scenario) if d.policy_name == policy]
    assert len(matches) == 1, matches
    return matches[0]


def by_id(prefix: str) -> Scenario:
    return next(sc for sc in SCENARIOS if sc.id.startswith(prefix))


MESSAGES = {
    ("region: endpoint outside", "serverless-region-allowlist"): (
        "serverless endpoint 'chat' is in 'westeurope'; allowed regions: eastus, eastus2, northcentralus, "
        "southcentralus, westus, westus3, swedencentral. Move it to one of them (a resource's location cannot change "
        "in place: it is replaced), or add the region to allowedRegions in the policy config once Azure offers "
        "serverless models there."
    ),
    ("region: hub outside", "serverless-region-allowlist"): (
        "ML workspace 'hub' (kind Hub) is in 'West Europe'; allowed regions: eastus, eastus2, northcentralus, "
        "southcentralus, westus, westus3, swedencentral. Move it to one of them (a resource's location cannot change "
        "in place: it is replaced), or add the region to allowedRegions in the policy config once Azure offers "
        "serverless models there."
    ),
    ("one-deployment: same model", "one-deployment-per-model"): (
        "serverless endpoint 'first' and serverless endpoint 'second' both deploy "
        "azureml://registries/AZUREML-MISTRAL/MODELS/MINISTRAL-3B/VERSIONS/2 into workspace 'ws' in resource group "
        "'rg'; a workspace or project holds one deployment per model, so Azure refuses the second. Remove serverless "
        "endpoint 'second', or deploy it into another workspace or project."
    ),
    ("one-deployment: unknown names grouped", "one-deployment-per-model"): (
        "serverless endpoint 'a1' and serverless endpoint 'a2' both deploy azureml://registries/azureml/models/Phi-4 "
        "into workspace ML workspace 'a' (name known after create) in resource group 'rg'; a workspace or project "
        "holds one deployment per model, so Azure refuses the second. Remove serverless endpoint 'a2', or deploy it "
        "into another workspace or project."
    ),
    ("one-deployment: a third endpoint", "one-deployment-per-model"): (
        "serverless endpoint 'triple1' and serverless endpoint 'triple2' both deploy "
        "azureml://registries/azureml/models/Phi-4 into workspace 'ws' in resource group 'rg'; a workspace or project "
        "holds one deployment per model, so Azure refuses the second. Remove serverless endpoint 'triple2', or deploy "
        "it into another workspace or project.\n"
        "serverless endpoint 'triple1' and serverless endpoint 'triple3' both deploy "
        "azureml://registries/azureml/models/Phi-4 into workspace 'ws' in resource group 'rg'; a workspace or project "
        "holds one deployment per model, so Azure refuses the second. Remove serverless endpoint 'triple3', or deploy "
        "it into another workspace or project."
    ),
    ("one-deployment: an unknown resource group", "one-deployment-per-model"): (
        "serverless endpoint 'g1' and serverless endpoint 'gany' both deploy "
        "azureml://registries/azureml/models/Phi-4 into workspace 'ws'; a workspace or project holds one "
        "deployment per model, so Azure refuses the second. Remove serverless endpoint 'gany', or deploy it "
        "into another workspace or project.\n"
        "serverless endpoint 'g2' and serverless endpoint 'g2b' both "
        "deploy azureml://registries/azureml/models/Phi-4 into workspace 'ws' in resource group 'rg2'; a "
        "workspace or project holds one deployment per model, so Azure refuses the second. Remove serverless "
        "endpoint 'g2b', or deploy it into another workspace or project.\n"
        "serverless endpoint 'many' and "
        "serverless endpoint 'm1' both deploy azureml://registries/azureml/models/Phi-4-mini-instruct into "
        "workspace 'ws' in resource group 'rg1'; a workspace or project holds one deployment per model, so "
        "Azure refuses the second. Remove serverless endpoint 'm1', or deploy it into another workspace or "
        "project.\n"
        "serverless endpoint 'many' and serverless endpoint 'm2' both deploy "
        "azureml://registries/azureml/models/Phi-4-mini-instruct into workspace 'ws' in resource group 'rg2'; "
        "a workspace or project holds one deployment per model, so Azure refuses the second. Remove serverless "
        "endpoint 'm2', or deploy it into another workspace or project."
    ),
    ("marketplace: of several matching", "one-deployment-per-model"): (
        "serverless endpoint 'viasc' and serverless endpoint 'nodeps' both deploy "
        "azureml://registries/azureml-mistral/models/Ministral-3B into workspace 'ws' in resource group 'rg'; "
        "a workspace or project holds one deployment per model, so Azure refuses the second. Remove serverless "
        "endpoint 'nodeps', or deploy it into another workspace or project.\n"
        "serverless endpoint 'viasc' and "
        "serverless endpoint 'anyrg' both deploy azureml://registries/azureml-mistral/models/Ministral-3B into "
        "workspace 'ws'; a workspace or project holds one deployment per model, so Azure refuses the second. "
        "Remove serverless endpoint 'anyrg', or deploy it into another workspace or project.\n"
        "serverless "
        "endpoint 'viasc' and serverless endpoint 'viasa' both deploy "
        "azureml://registries/azureml-mistral/models/Ministral-3B into workspace 'ws' in resource group 'rg'; "
        "a workspace or project holds one deployment per model, so Azure refuses the second. Remove serverless "
        "endpoint 'viasa', or deploy it into another workspace or project."
    ),
    ("marketplace: of several matching", "marketplace-subscription-required"): (
        "serverless endpoint 'nodeps' does not depend on marketplace subscription 'sb'; without the dependency "
        "the endpoint can be created before the subscription exists, and the subscription deleted while the "
        "endpoint still uses it. Add depends_on=[subscription] to the endpoint.\n"
        "serverless endpoint 'viasa' "
        "does not depend on marketplace subscription 'sb'; without the dependency the endpoint can be created "
        "before the subscription exists, and the subscription deleted while the endpoint still uses it. Add "
        "depends_on=[subscription] to the endpoint.\n"
        "serverless endpoint 'lone2' does not depend on "
        "marketplace subscription 'sd'; without the dependency the endpoint can be created before the "
        "subscription exists, and the subscription deleted while the endpoint still uses it. Add "
        "depends_on=[subscription] to the endpoint."
    ),
    ("marketplace: partner model without", "marketplace-subscription-required"): (
        "serverless endpoint 'lonely' deploys azureml://registries/azureml-mistral/models/Ministral-3B, which is sold "
        "through Azure Marketplace, but workspace 'ws' in resource group 'rg' has no marketplace subscription to it in "
        "this stack. Add a MarketplaceSubscription with this modelId in that workspace and make the endpoint depend on "
        "it, or list the subscription under externalSubscriptions in the policy config if it is managed elsewhere."
    ),
    ("marketplace: subscription but no dependency", "marketplace-subscription-required"): (
        "serverless endpoint 'nodep' does not depend on marketplace subscription 'sub'; without the dependency the "
        "endpoint can be created before the subscription exists, and the subscription deleted while the endpoint "
        "still uses it. Add depends_on=[subscription] to the endpoint."
    ),
    ("endpoint-name: one name twice", "endpoint-name"): (
        "serverless endpoint 'chat' (Pulumi name 'twin') has the same name as serverless endpoint 'chat' (Pulumi name "
        "'chat'), and both are in eastus2; the name is the host of https://chat.eastus2.models.ai.azure.com, so it "
        "must be unique in the region. Rename one of them."
    ),
    ("content-safety: disabled and unset", "content-safety-enabled"): (
        "serverless endpoint 'disabled' has content safety 'Disabled'; only 'Enabled' is allowed. Set "
        "properties.contentSafety.contentSafetyStatus to 'Enabled' (azure-maas: leave contentSafety at its default, "
        "true), or list the endpoint under this policy's exceptions as '<workspace>/<endpoint>' with the reason.\n"
        "serverless endpoint 'unset' has no properties.contentSafety.contentSafetyStatus; only 'Enabled' is allowed. "
        "Set properties.contentSafety.contentSafetyStatus to 'Enabled' (azure-maas: leave contentSafety at its "
        "default, true), or list the endpoint under this policy's exceptions as '<workspace>/<endpoint>' with the "
        "reason."
    ),
    ("approved-models: not listed", "approved-models"): (
        "marketplace subscription 'chat-subscription' uses azureml://registries/azureml-mistral/models/Ministral-3B, "
        "which is not approved; approved models: azureml://registries/azureml-mistral/models/mistral-medium-2505. Use "
        "an approved model, or have it added to approvedModels in the policy config.\n"
        "serverless endpoint 'chat' uses azureml://registries/azureml-mistral/models/Ministral-3B, which is not "
        "approved; approved models: azureml://registries/azureml-mistral/models/mistral-medium-2505. Use an approved "
        "model, or have it added to approvedModels in the policy config."
    ),
    ("no-retired-models: retired model", "no-retired-models"): (
        "serverless endpoint 'old' deploys Mistral Large (2402) (azureml://registries/azureml-mistral/models/"
        "Mistral-large), retired since 2025-04-15: its endpoints answer 410 Gone (judged on 2026-11-24; catalog as of "
        "2026-11-24). Move to Mistral Medium 3 (25.05) (azureml://registries/azureml-mistral/models/mistral-medium-2505)."
    ),
    ("rbac: owner-like", "rbac-least-privilege"): (
        "role assignment 'owner' grants Owner (8e3af657-a8ff-443c-a75c-2fe8c4bcb635); forbidden roles: Contributor, "
        "Owner, Role Based Access Control Administrator, User Access Administrator. Grant Azure AI Developer "
        "(64702f94-c441-49e6-a78b-ef80e0188fee) on the resource group, or least-privilege custom roles.\n"
        "role assignment 'contributor' grants Contributor (b24988ac-6180-42a0-ab88-20f7382dd24c); forbidden roles: "
        "Contributor, Owner, Role Based Access Control Administrator, User Access Administrator. Grant Azure AI "
        "Developer (64702f94-c441-49e6-a78b-ef80e0188fee) on the resource group, or least-privilege custom roles.\n"
        "role assignment 'dev-sub' is at the subscription '/subscriptions/11111111-2222-3333-4444-555555555555'; "
        "nothing broader than a resource group is allowed, except a marketplace-ordering role (only "
        "Microsoft.MarketplaceOrdering/*, Microsoft.Marketplace/* and Microsoft.SaaS/register/action) at the "
        "subscription. Assign it on the resource group or the workspace, or list a marketplace role managed elsewhere "
        "under subscriptionScopeRoles."
    ),
    ("rbac: custom roles", "rbac-least-privilege"): (
        "role assignment 'star-rg' grants custom role 'star', whose action '*' is as broad as Owner or User Access "
        "Administrator. List only the actions the role needs.\n"
        "role assignment 'serverless-sub' is at the subscription '/subscriptions/11111111-2222-3333-4444-555555555555'; "
        "nothing broader than a resource group is allowed, except a marketplace-ordering role (only "
        "Microsoft.MarketplaceOrdering/*, Microsoft.Marketplace/* and Microsoft.SaaS/register/action) at the "
        "subscription. Assign it on the resource group or the workspace, or list a marketplace role managed elsewhere "
        "under subscriptionScopeRoles.\n"
        "role assignment 'grant-rg' grants custom role 'grant', whose action 'Microsoft.Authorization/roleAssignments/*' "
        "is as broad as Owner or User Access Administrator. List only the actions the role needs."
    ),
    ("required-tags: missing", "required-tags"): (
        "ML workspace 'bare' lacks the tags cost-center, environment (has: (none)). Add them (azure-maas: the 'tags' "
        "key applies to every resource)."
    ),
    ("region: a location that is not a string", "serverless-region-allowlist"): (
        "ML workspace 'loclist' (kind Project): location is a list, not a string, so the policy cannot read it. Set "
        "it to one of the allowed regions: eastus, eastus2, northcentralus, southcentralus, westus, westus3, "
        "swedencentral.\n"
        "serverless endpoint 'locnum': location is a number (42), not a string, so the policy cannot read it. Set it "
        "to one of the allowed regions: eastus, eastus2, northcentralus, southcentralus, westus, westus3, "
        "swedencentral."
    ),
    ("region: a location that is not a string", "endpoint-name"): (
        "serverless endpoint 'locnum': location is a number (42), not a string, so the policy cannot read it. Set it "
        "to a region name, such as 'eastus2'."
    ),
    ("one-deployment: model IDs and workspace names", "one-deployment-per-model"): (
        "serverless endpoint 'p1' and serverless endpoint 'p2' both deploy "
        "AZUREML://Registries/azureml//models/Phi-4/ into workspace 'WS' in resource group 'rg'; a workspace or "
        "project holds one deployment per model, so Azure refuses the second. Remove serverless endpoint 'p2', or "
        "deploy it into another workspace or project."
    ),
    ("model IDs: values that are not strings", "one-deployment-per-model"): (
        "serverless endpoint 'nummodel': properties.modelSettings.modelId is a number (42), not a string, so the "
        "policy cannot read it. Set it to a model ID, azureml://registries/<registry>/models/<name>."
    ),
    ("model IDs: values that are not strings", "marketplace-subscription-required"): (
        "marketplace subscription 'dictsub': properties.modelId is an object, not a string, so the policy cannot read "
        "it. Set it to a model ID, azureml://registries/<registry>/models/<name>.\n"
        "serverless endpoint 'nummodel': properties.modelSettings.modelId is a number (42), not a string, so the "
        "policy cannot read it. Set it to a model ID, azureml://registries/<registry>/models/<name>."
    ),
    ("model IDs: values that are not strings", "approved-models"): (
        "serverless endpoint 'nummodel': properties.modelSettings.modelId is a number (42), not a string, so the "
        "policy cannot read it. Set it to a model ID, azureml://registries/<registry>/models/<name>.\n"
        "marketplace subscription 'dictsub': properties.modelId is an object, not a string, so the policy cannot read "
        "it. Set it to a model ID, azureml://registries/<registry>/models/<name>."
    ),
    ("model IDs: values that are not strings", "no-retired-models"): (
        "serverless endpoint 'nummodel': properties.modelSettings.modelId is a number (42), not a string, so the "
        "policy cannot read it. Set it to a model ID, azureml://registries/<registry>/models/<name>."
    ),
    ("model IDs: forms that cannot be read", "one-deployment-per-model"): (
        "serverless endpoint 'dotted': properties.modelSettings.modelId "
        "'azureml://registries/azureml/models/../models/Phi-4' has a '..' segment, so the policy cannot read it. Set "
        "it to a model ID, azureml://registries/<registry>/models/<name>."
    ),
    ("model IDs: forms that cannot be read", "marketplace-subscription-required"): (
        "marketplace subscription 'labelled': properties.modelId "
        "'azureml://registries/azureml-mistral/models/Ministral-3B/labels/latest' is not of the form "
        "azureml://registries/<registry>/models/<name>[/versions/<version>], so the policy cannot read it. Set it to "
        "a model ID, azureml://registries/<registry>/models/<name>.\n"
        "serverless endpoint 'dotted': properties.modelSettings.modelId "
        "'azureml://registries/azureml/models/../models/Phi-4' has a '..' segment, so the policy cannot read it. Set "
        "it to a model ID, azureml://registries/<registry>/models/<name>."
    ),
    ("model IDs: upper-case prefixes", "marketplace-subscription-required"): (
        "serverless endpoint 'upper' deploys AZUREML://REGISTRIES/azureml-mistral/models/Ministral-3B, which is sold "
        "through Azure Marketplace, but workspace 'ws' in resource group 'rg' has no marketplace subscription to it "
        "in this stack. Add a MarketplaceSubscription with this modelId in that workspace and make the endpoint "
        "depend on it, or list the subscription under externalSubscriptions in the policy config if it is managed "
        "elsewhere."
    ),
    ("model IDs: upper-case prefixes", "no-retired-models"): (
        "serverless endpoint 'large' deploys Mistral Large (2402) "
        "(azureml://registries/azureml-mistral//models/Mistral-large/), retired since 2025-04-15: its endpoints "
        "answer 410 Gone (judged on 2026-11-24; catalog as of 2026-11-24). Move to Mistral Medium 3 (25.05) "
        "(azureml://registries/azureml-mistral/models/mistral-medium-2505)."
    ),
    ("workspaces: names compare trimmed", "one-deployment-per-model"): (
        "serverless endpoint 'numws': workspaceName is a number (7), not a string, so the policy cannot read it. Set "
        "it to the name of a workspace or project."
    ),
    ("workspaces: names compare trimmed", "marketplace-subscription-required"): (
        "marketplace subscription 'listrg': resourceGroupName is a list, not a string, so the policy cannot read it. "
        "Set it to the name of a resource group.\n"
        "serverless endpoint 'numws': workspaceName is a number (7), not a string, so the policy cannot read it. Set "
        "it to the name of a workspace or project."
    ),
    ("endpoint-name: a name that is not a string", "endpoint-name"): (
        "serverless endpoint 'numname': name is a number (42), not a string, so the policy cannot read it. Set it to "
        "an endpoint name: 1-52 characters, starting with a letter, then letters, digits or '-', not ending with '-'."
    ),
    ("content-safety: a status that cannot be read", "content-safety-enabled"): (
        "serverless endpoint 'boolstatus': properties.contentSafety.contentSafetyStatus is a boolean (true), not a "
        "string, so the policy cannot read it. Set it to 'Enabled'.\n"
        "serverless endpoint 'stringblock': properties.contentSafety is a string ('Enabled'), not an object, so the "
        "policy cannot read it. Set it to an object with contentSafetyStatus: 'Enabled'."
    ),
    ("rbac: scopes, role definition IDs and role GUIDs", "rbac-least-privilege"): (
        "role definition 'list-guid': roleDefinitionId is a list, not a string, so the policy cannot read it. Set it "
        "to a GUID (8-4-4-4-12 hexadecimal digits).\n"
        "role assignment 'num-scope': scope is a number (42), not a string, so the policy cannot read it. Set it to "
        "an ARM scope: /subscriptions/<subscription GUID>[/resourceGroups/<name>[/providers/...]] or "
        "/providers/Microsoft.Management/managementGroups/<name>.\n"
        "role assignment 'dict-role': roleDefinitionId is an object, not a string, so the policy cannot read it. Set "
        "it to a role definition ID, /subscriptions/<subscription "
        "GUID>/providers/Microsoft.Authorization/roleDefinitions/<role GUID>."
    ),
    ("rbac: scopes and role IDs with odd casing", "rbac-least-privilege"): (
        "role assignment 'braced-owner' grants Owner (8e3af657-a8ff-443c-a75c-2fe8c4bcb635); forbidden roles: "
        "Contributor, Owner, Role Based Access Control Administrator, User Access Administrator. Grant Azure AI "
        "Developer (64702f94-c441-49e6-a78b-ef80e0188fee) on the resource group, or least-privilege custom roles.\n"
        "role assignment 'doubled-sub' is at the subscription "
        "'/subscriptions//11111111-2222-3333-4444-555555555555/'; nothing broader than a resource group is allowed, "
        "except a marketplace-ordering role (only Microsoft.MarketplaceOrdering/*, Microsoft.Marketplace/* and "
        "Microsoft.SaaS/register/action) at the subscription. Assign it on the resource group or the workspace, or "
        "list a marketplace role managed elsewhere under subscriptionScopeRoles.\n"
        "role assignment 'odd-mg' is at the management group "
        "'/providers//microsoft.management/MANAGEMENTGROUPS/corp/'; nothing broader than a resource group is allowed, "
        "except a marketplace-ordering role (only Microsoft.MarketplaceOrdering/*, Microsoft.Marketplace/* and "
        "Microsoft.SaaS/register/action) at the subscription. Assign it on the resource group or the workspace, or "
        "list a marketplace role managed elsewhere under subscriptionScopeRoles.\n"
        "role assignment 'star-guid' grants custom role 'braced-star', whose action '*' is as broad as Owner or User "
        "Access Administrator. List only the actions the role needs."
    ),
    ("rbac: scopes and role IDs that cannot be read", "rbac-least-privilege"): (
        "role assignment 'dotted-scope': scope "
        "'/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/../..' has a '..' segment, so the "
        "policy cannot read it. Set it to an ARM scope: /subscriptions/<subscription "
        "GUID>[/resourceGroups/<name>[/providers/...]] or /providers/Microsoft.Management/managementGroups/<name>.\n"
        "role assignment 'encoded-scope': scope "
        "'/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/%2e%2e/%2e%2e' has '%', which no "
        "Azure resource ID contains, so the policy cannot read it. Set it to an ARM scope: "
        "/subscriptions/<subscription GUID>[/resourceGroups/<name>[/providers/...]] or "
        "/providers/Microsoft.Management/managementGroups/<name>.\n"
        "role assignment 'named-sub': scope '/subscriptions/my-subscription/resourceGroups/rg' has 'my-subscription' "
        "where the subscription GUID belongs, so the policy cannot read it. Set it to an ARM scope: "
        "/subscriptions/<subscription GUID>[/resourceGroups/<name>[/providers/...]] or "
        "/providers/Microsoft.Management/managementGroups/<name>.\n"
        "role assignment 'dotted-role': roleDefinitionId "
        "'/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/..' "
        "has a '..' segment, so the policy cannot read it. Set it to a role definition ID, "
        "/subscriptions/<subscription GUID>/providers/Microsoft.Authorization/roleDefinitions/<role GUID>.\n"
        "role assignment 'role-name': roleDefinitionId 'Owner' does not end in "
        "/providers/Microsoft.Authorization/roleDefinitions/<role GUID>, so the policy cannot read it. Set it to a "
        "role definition ID, /subscriptions/<subscription "
        "GUID>/providers/Microsoft.Authorization/roleDefinitions/<role GUID>."
    ),
    ("rbac: custom roles that can write", "rbac-least-privilege"): (
        "role assignment 'def-writer-rg' grants custom role 'def-writer', whose action "
        "'Microsoft.Authorization/roleDefinitions/write' is as broad as Owner or User Access Administrator. List only "
        "the actions the role needs.\n"
        "role assignment 'def-star-rg' grants custom role 'def-star', whose action "
        "'MICROSOFT.AUTHORIZATION/ROLEDEFINITIONS/*' is as broad as Owner or User Access Administrator. List only the "
        "actions the role needs.\n"
        "role assignment 'half-removed-rg' grants custom role 'half-removed', whose action '*' is as broad as Owner "
        "or User Access Administrator. List only the actions the role needs.\n"
        "role assignment 'literal-not-rg' grants custom role 'literal-not', whose action 'Microsoft.Authorization/*' "
        "is as broad as Owner or User Access Administrator. List only the actions the role needs.\n"
        "role assignment 'other-block-rg' grants custom role 'other-block', whose action "
        "'Microsoft.Authorization/*/write' is as broad as Owner or User Access Administrator. List only the actions "
        "the role needs."
    ),
    ("rbac: notActions that remove", "rbac-least-privilege"): (
        "role assignment 'contributor-clone-rg' grants custom role 'contributor-clone', whose action '*' allows every "
        "action of every resource provider, which is as broad as Contributor. List only the actions the role needs."
    ),
    ("rbac: permissions that cannot be read", "rbac-least-privilege"): (
        "role assignment 'string-actions-rg' grants custom role 'string-actions': permissions[0].actions is a string "
        "('*'), not a list, so the policy cannot read it. Set it to a list of actions, such as "
        "'Microsoft.Authorization/roleAssignments/read'.\n"
        "role assignment 'number-action-rg' grants custom role 'number-action': permissions[0].actions[1] is a number "
        "(1), not a string, so the policy cannot read it. Set it to an action, such as "
        "'Microsoft.Authorization/roleAssignments/read'.\n"
        "role assignment 'dict-not-rg' grants custom role 'dict-not': permissions[0].notActions is an object, not a "
        "list, so the policy cannot read it. Set it to a list of actions, such as "
        "'Microsoft.Authorization/roleAssignments/read'.\n"
        "role assignment 'string-perms-rg' grants custom role 'string-perms': permissions is a string ('all'), not a "
        "list, so the policy cannot read it. Set it to a list of permissions, each an object with actions, "
        "notActions, dataActions and notDataActions.\n"
        "role assignment 'spaced-action-rg' grants custom role 'spaced-action': permissions[0].actions[0] ' "
        "Microsoft.Authorization/*' has white space, so the policy cannot read it. Set it to an action, such as "
        "'Microsoft.Authorization/roleAssignments/read'."
    ),
    ("required-tags: tags that are not an object", "required-tags"): (
        "serverless endpoint 'listtags': tags is a list, not an object, so the policy cannot read it. Set it to an "
        "object of tag names to values, with the tags cost-center, environment."
    ),
}


@pytest.mark.parametrize(("prefix", "policy"), list(MESSAGES), ids=[f"{k[1]}: {k[0]}" for k in MESSAGES])
def test_messages(session: PolicyPackSession, prefix: str, policy: str) -> None:
    """Each violation says what was found, what is allowed and how to fix it; the SDK puts the policy's
    description on the first line."""
    diagnostics = [d for d in run(session, by_id(prefix)) if d.policy_name == policy]
    assert diagnostics
    description = next(p.description for p in session.policies if p.name == policy)
    for d in diagnostics:
        assert d.message == f"{description}\n{d.detail}"
        assert d.description == description
        assert d.policy_pack_name == "azure-maas"
        assert d.policy_pack_version == "0.1.0"
    assert "\n".join(d.detail for d in diagnostics) == MESSAGES[(prefix, policy)]
