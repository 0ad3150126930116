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

from infra.policy_pack import (
    Diagnostic,
    PolicyPackSession,
    Resource,
    StackInfo,
    open_session,
    parse_policy_config,
)
from tests import stacks as s
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
        "true).\n"
        "serverless endpoint 'unset' has no properties.contentSafety.contentSafetyStatus; only 'Enabled' is allowed. "
        "Set properties.contentSafety.contentSafetyStatus to 'Enabled' (azure-maas: leave contentSafety at its "
        "default, true)."
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
