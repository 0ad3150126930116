"""The policy pack on the Foundry resource channel: scenario tables run through the analyzer protocol exactly as the
Pulumi engine drives it (one pack process for the module; each scenario configures it and analyzes its resources).

Each row lists every diagnostic it must produce, as ``(policy, URN, enforcement level)``: a compliant row lists
none, and any extra diagnostic fails the row. ``MESSAGES`` holds the exact text of the violations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from azure_maas_policy import facts
from infra import catalog as program_catalog
from infra.engine.analyzer import Diagnostic, PolicyPackSession, StackInfo, open_session, parse_policy_config
from infra.engine.resource import Resource
from tests import stacks as s
from tests.stacks import UNKNOWN

Want = tuple[str, str, str]

ACCOUNT_SCOPE = f"{s.RG_SCOPE}/providers/Microsoft.CognitiveServices/accounts/foundry"
FOUNDRY_USER = "53ca6127-db72-4b80-b1b0-d745d6d5456d"
FOUNDRY_OWNER = "c883944f-8b7b-4483-af10-35834be79c4a"
FOUNDRY_ACCOUNT_OWNER = "e47c6f54-e4a2-4754-9501-8e0985b135e1"
CS_CONTRIBUTOR = "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68"
PIPELINE = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
TODAY = {"no-retired-models": {"today": "2026-11-24"}}

FOUNDRY_POLICIES = {
    "foundry-region-allowlist",
    "foundry-deployment-types",
    "foundry-content-filters",
    "foundry-deployments-serialized",
    "foundry-local-auth-disabled",
    "foundry-project-management",
}
EXTENDED_POLICIES = {"one-deployment-per-model", "approved-models", "no-retired-models", "rbac-least-privilege"}


def want(policy: str, resource: Resource, level: str = "mandatory") -> Want:
    return (policy, resource.urn, level)


@dataclass
class Scenario:
    id: str
    resources: list[Resource]
    expect: list[Want]
    config: dict[str, Any] = field(default_factory=dict)


def replaced(resource: Resource, **changes: Any) -> Resource:
    """``resource`` with other dependencies or property dependencies (URNs of ``Resource`` values)."""
    depends = changes.get("depends")
    props = changes.get("property_dependencies")
    return Resource(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        inputs=resource.inputs,
        dependencies=tuple(d.urn for d in depends) if depends is not None else resource.dependencies,
        property_dependencies=(
            {k: tuple(r.urn for r in v) for k, v in props.items()}
            if props is not None
            else resource.property_dependencies
        ),
    )


def assignment(name: str, role: str, scope: Any, principal: Any = None, **options: Any) -> Resource:
    granted = s.role_assignment(name, s.role_id(role), scope, **options)
    return s.with_input(granted, principal, "principalId") if principal is not None else granted


def _base() -> list[Resource]:
    """A compliant Foundry stack: resource, project, content filter policy, two chained deployments naming it,
    and Foundry User for a developer group on the resource."""
    strict = s.rai_policy()
    chat = s.foundry_deployment("chat", rai_policy="strict", depends=(strict,))
    ocr = s.foundry_deployment("ocr", model="mistral-document-ai-2512", rai_policy="strict", depends=(strict,))
    user = assignment("developers", FOUNDRY_USER, ACCOUNT_SCOPE)
    return [s.foundry_account(), s.foundry_project(), strict, *s.chained(chat, ocr), user]


BASE = _base()
ACCOUNT, PROJECT, STRICT, CHAT, OCR, USER = BASE


def _region_scenarios() -> Iterator[Scenario]:
    narrow = {"foundry-region-allowlist": {"allowedRegions": ["eastus2", "swedencentral"]}}
    west = s.foundry_account(location="westeurope")
    west_project = s.foundry_project(location="westeurope")
    yield Scenario(
        "foundry-region: resource, project and deployment outside allowedRegions",
        [west, west_project, STRICT, CHAT, OCR],
        [
            want("foundry-region-allowlist", west),
            want("foundry-region-allowlist", west_project),
            want("foundry-region-allowlist", CHAT),
            want("foundry-region-allowlist", OCR),
        ],
        narrow,
    )
    asia = s.foundry_account("asia", location="eastasia")
    yield Scenario(
        "foundry-region: the default allows every region the catalog lists for Foundry models",
        [asia, ACCOUNT, s.foundry_account("zurich", location="switzerlandnorth")],
        [want("foundry-region-allowlist", asia)],
    )
    spaced = s.foundry_account(location="West Europe")
    yield Scenario(
        "foundry-region: 'West Europe' equals westeurope",
        [spaced, STRICT, CHAT],
        [],
        {"foundry-region-allowlist": {"allowedRegions": ["westeurope"]}},
    )
    yield Scenario(
        "foundry-region: unknown locations are skipped, and so are deployments on them",
        [s.foundry_account(location=UNKNOWN), s.foundry_project(location=UNKNOWN), STRICT, CHAT],
        [],
        narrow,
    )
    by_dependency = s.foundry_deployment(
        "late", account=UNKNOWN, rai_policy="Microsoft.DefaultV2", property_dependencies={"accountName": (west,)}
    )
    yield Scenario(
        "foundry-region: a deployment with an unknown accountName is judged by the resource it comes from",
        [west, by_dependency],
        [want("foundry-region-allowlist", west), want("foundry-region-allowlist", by_dependency)],
        narrow,
    )
    numbered = s.foundry_account(location=42)
    yield Scenario(
        "foundry-region: a location that is not a string is reported",
        [numbered, STRICT, CHAT],
        [want("foundry-region-allowlist", numbered)],
    )


def _ambiguous_account_scenarios() -> Iterator[Scenario]:
    narrow = {"foundry-region-allowlist": {"allowedRegions": ["eastus2", "swedencentral"]}}
    west = s.foundry_account(location="westeurope")
    twin = s.with_input(s.foundry_account("twin", location="westeurope", rg=UNKNOWN), "foundry", "accountName")
    solo = s.foundry_account("solo", location="westeurope")
    on_both = s.chained(s.foundry_deployment("both"), s.foundry_deployment("anyrg", rg=UNKNOWN))
    on_solo = s.foundry_deployment("single", account="solo")
    yield Scenario(
        "foundry-region: a deployment that two Foundry resources of the stack may be on is judged by neither",
        [west, twin, solo, *on_both, on_solo],
        [
            want("foundry-region-allowlist", west),
            want("foundry-region-allowlist", twin),
            want("foundry-region-allowlist", solo),
            want("foundry-region-allowlist", on_solo),
        ],
        narrow,
    )
    shared = s.foundry_account("shared", kind="OpenAI")
    shared2 = s.with_input(s.foundry_account("shared2", kind="OpenAI", rg="rg2"), "shared", "accountName")
    projects = [
        s.foundry_project("p1", account="shared"),
        s.foundry_project("pany", account="shared", rg=UNKNOWN),
        s.foundry_project("p2", account="shared", rg="rg2"),
        s.foundry_project("p3", account="shared"),
    ]
    yield Scenario(
        "foundry-projects: a project is matched to a Foundry resource only when exactly one of the stack may be it",
        [shared, shared2, *projects],
        [want("foundry-project-management", shared), want("foundry-project-management", shared2)],
    )


def _deployment_type_scenarios() -> Iterator[Scenario]:
    yield Scenario(
        "foundry-types: a Global type outside allowedDeploymentTypes",
        BASE,
        [want("foundry-deployment-types", CHAT), want("foundry-deployment-types", OCR)],
        {"foundry-deployment-types": {"allowedDeploymentTypes": ["DataZoneStandard", "Standard"]}},
    )
    ocr_zone = s.foundry_deployment("ocr", model="mistral-document-ai-2512", sku="DataZoneStandard")
    yield Scenario(
        "foundry-types: a Data Zone type the model offers in the region passes",
        [ACCOUNT, ocr_zone],
        [],
        {"foundry-deployment-types": {"allowedDeploymentTypes": ["DataZoneStandard"]}},
    )
    zone_small = s.foundry_deployment("small", sku="DataZoneStandard")
    yield Scenario(
        "foundry-types: a type the catalog does not list for the model",
        [ACCOUNT, zone_small],
        [want("foundry-deployment-types", zone_small)],
    )
    west2 = s.foundry_account(location="westus2")
    doc_global = s.foundry_deployment("doc", model="mistral-document-ai-2512")
    eu_only = s.foundry_deployment("medium", model="mistral-medium-3-5", sku="DataZoneStandard")
    yield Scenario(
        "foundry-types: a type the catalog does not list in the resource's region",
        [west2, *s.chained(doc_global, eu_only)],
        [want("foundry-deployment-types", doc_global), want("foundry-deployment-types", eu_only)],
    )
    no_sku = s.foundry_deployment("nosku", sku=None)
    pending = s.foundry_deployment("pending", sku=UNKNOWN)
    number = s.foundry_deployment("number", sku=7)
    lower = s.foundry_deployment("lower", sku="globalstandard", model_format="mistral ai", model="MISTRAL-SMALL-2503")
    acme = s.foundry_deployment("acme", model_format="Acme", model="acme-1", sku="ProvisionedManaged")
    yield Scenario(
        "foundry-types: unset sku reported, unknown skipped, unreadable reported; case and non-catalog models",
        [ACCOUNT, *s.chained(no_sku, pending, number, lower, acme)],
        [want("foundry-deployment-types", no_sku), want("foundry-deployment-types", number)],
    )
    unknown_model = s.foundry_deployment("unknown", model=UNKNOWN, sku="DataZoneStandard")
    yield Scenario("foundry-types: an unknown model is not judged against the catalog", [ACCOUNT, unknown_model], [])


def _content_filter_scenarios() -> Iterator[Scenario]:
    lax = s.rai_policy(
        "lax",
        filters=s.content_filters(
            Hate_Completion={"blocking": False},
            Violence_Prompt={"severityThreshold": "High"},
            Selfharm_Prompt={"drop": True},
            Sexual_Completion={"enabled": False},
        ),
    )
    on_lax = s.foundry_deployment("onlax", rai_policy="lax", depends=(lax,))
    yield Scenario(
        "foundry-filters: a policy with filters missing, disabled, not blocking or too lax, and its deployment",
        [ACCOUNT, lax, on_lax],
        [want("foundry-content-filters", lax), want("foundry-content-filters", on_lax)],
    )
    yield Scenario(
        "foundry-filters: maxSeverityThreshold Low rejects Medium",
        BASE,
        [
            want("foundry-content-filters", STRICT),
            want("foundry-content-filters", CHAT),
            want("foundry-content-filters", OCR),
        ],
        {"foundry-content-filters": {"maxSeverityThreshold": "Low"}},
    )
    high = s.rai_policy("high", filters=s.content_filters("High"))
    yield Scenario(
        "foundry-filters: maxSeverityThreshold High accepts High",
        [ACCOUNT, high, s.foundry_deployment("onhigh", rai_policy="high", depends=(high,))],
        [],
        {"foundry-content-filters": {"maxSeverityThreshold": "High"}},
    )
    spelled = s.rai_policy(
        "spelled",
        filters=[
            {"name": name, "source": source, "severityThreshold": "low", "blocking": True, "enabled": True}
            for name in ("hate", "SEXUAL", "Self-harm", "self_harm", "Violence ")
            for source in ("prompt", "Completion")
        ],
    )
    yield Scenario(
        "foundry-filters: filter names, sources and thresholds compare normalized",
        [ACCOUNT, spelled, s.foundry_deployment("spelled", rai_policy=" SPELLED ", depends=(spelled,))],
        [],
    )
    unnamed = s.foundry_deployment("unnamed", rai_policy=None)
    yield Scenario(
        "foundry-filters: a deployment without raiPolicyName",
        [ACCOUNT, unnamed],
        [want("foundry-content-filters", unnamed)],
    )
    default = s.foundry_deployment("default")
    yield Scenario("foundry-filters: a built-in policy passes by default", [ACCOUNT, default], [])
    yield Scenario(
        "foundry-filters: allowBuiltInPolicies false rejects a built-in policy",
        [ACCOUNT, default],
        [want("foundry-content-filters", default)],
        {"foundry-content-filters": {"allowBuiltInPolicies": False}},
    )
    elsewhere = s.foundry_deployment("elsewhere", rai_policy="corporate")
    yield Scenario(
        "foundry-filters: a policy neither built in nor in the stack",
        [ACCOUNT, elsewhere],
        [want("foundry-content-filters", elsewhere)],
    )
    yield Scenario(
        "foundry-filters: externalPolicies accepts a policy managed elsewhere",
        [ACCOUNT, elsewhere],
        [],
        {"foundry-content-filters": {"externalPolicies": ["Corporate"]}},
    )
    other_account = s.rai_policy("strict", account="other")
    wrong_account = s.foundry_deployment("wrongacct", rai_policy="strict", depends=(other_account,))
    yield Scenario(
        "foundry-filters: a policy of another Foundry resource does not count",
        [ACCOUNT, s.foundry_account("other"), other_account, wrong_account],
        [want("foundry-content-filters", wrong_account)],
    )
    no_dep = s.foundry_deployment("nodep", rai_policy="strict")
    yield Scenario(
        "foundry-filters: a deployment that does not depend on its policy",
        [ACCOUNT, STRICT, no_dep],
        [want("foundry-content-filters", no_dep)],
    )
    by_dep = s.foundry_deployment("bydep", rai_policy=UNKNOWN, property_dependencies={"properties": (lax,)})
    blind = s.foundry_deployment("blind", rai_policy=UNKNOWN)
    unknown_name = s.rai_policy(UNKNOWN)
    maybe = s.foundry_deployment("maybe", rai_policy="pending")
    yield Scenario(
        "foundry-filters: an unknown raiPolicyName is judged by the policy its properties come from",
        [ACCOUNT, lax, unknown_name, *s.chained(by_dep, blind, maybe)],
        [want("foundry-content-filters", lax), want("foundry-content-filters", by_dep)],
    )
    partly = s.rai_policy(
        "partly",
        filters=s.content_filters(Hate_Prompt={"enabled": UNKNOWN}, Violence_Completion={"name": UNKNOWN}),
    )
    yield Scenario(
        "foundry-filters: filter values unknown at preview are skipped",
        [ACCOUNT, partly, s.foundry_deployment("partly", rai_policy="partly", depends=(partly,))],
        [],
    )
    as_text = s.rai_policy("astext", filters="Hate,Sexual")
    yes = s.rai_policy(
        "yes", filters=s.content_filters(Hate_Prompt={"enabled": "yes"}, Sexual_Prompt={"severityThreshold": "Severe"})
    )
    number = s.foundry_deployment("number", rai_policy=42)
    nameless = s.rai_policy("nameless", filters=[{"source": "Prompt", "enabled": False}, *s.content_filters()])
    numbered = s.with_input(s.rai_policy("numbered"), 42, "raiPolicyName")
    guess = s.foundry_deployment("guess", rai_policy="numbered", depends=(numbered,))
    yield Scenario(
        "foundry-filters: filters and names that cannot be read are reported",
        [ACCOUNT, as_text, yes, nameless, numbered, *s.chained(number, guess)],
        [
            want("foundry-content-filters", as_text),
            want("foundry-content-filters", yes),
            want("foundry-content-filters", yes),
            want("foundry-content-filters", nameless),
            want("foundry-content-filters", numbered),
            want("foundry-content-filters", number),
        ],
    )


def _filter_lookup_scenarios() -> Iterator[Scenario]:
    pending_other = s.rai_policy(UNKNOWN, account="other")
    named = s.foundry_deployment("named", rai_policy="pending")
    first_lax = s.with_input(
        s.rai_policy("firstlax", rg=UNKNOWN, filters=s.content_filters(Hate_Prompt={"enabled": False})),
        "strict",
        "raiPolicyName",
    )
    second = s.rai_policy()
    on_second = s.foundry_deployment("onsecond", rai_policy="strict", depends=(second,))
    yield Scenario(
        "foundry-filters: a name is looked up among the policies of the deployment's Foundry resource; of two, the "
        "first counts",
        [ACCOUNT, s.foundry_account("other"), pending_other, first_lax, second, *s.chained(named, on_second)],
        [
            want("foundry-content-filters", first_lax),
            want("foundry-content-filters", named),
            want("foundry-content-filters", on_second),
            want("foundry-content-filters", on_second),
        ],
    )
    r1 = s.foundry_deployment("r1", rai_policy="strict")
    r2 = s.foundry_deployment("r2", rai_policy="strict", depends=(STRICT,))
    r3 = s.foundry_deployment("r3", rai_policy="strict")
    chain = s.chained(r1, r2, r3)
    r4 = s.foundry_deployment("r4", rai_policy="strict", depends=(chain[0],))
    yield Scenario(
        "foundry-filters: a dependency on the policy through earlier deployments counts",
        [ACCOUNT, STRICT, *chain, r4],
        [
            want("foundry-content-filters", chain[0]),
            want("foundry-content-filters", r4),
            want("foundry-deployments-serialized", r4),
        ],
    )


def _lifecycle_and_approval_scenarios() -> Iterator[Scenario]:
    retired = s.foundry_deployment("doc", model_format="mistral ai", model="MISTRAL-DOCUMENT-AI-2505")
    yield Scenario(
        "foundry-lifecycle: a retired model (format and name compare case-insensitively)",
        [ACCOUNT, retired],
        [want("no-retired-models", retired)],
        TODAY,
    )
    yield Scenario(
        "foundry-lifecycle: living and non-catalog models pass",
        [ACCOUNT, STRICT, *s.chained(CHAT, OCR, s.foundry_deployment("acme", model_format="Acme", model="acme-1"))],
        [],
        TODAY,
    )
    num_format = s.foundry_deployment("numformat", model_format=3)
    yield Scenario(
        "foundry-lifecycle: a model format that is not a string is reported by every rule that reads it",
        [ACCOUNT, num_format],
        [
            want("no-retired-models", num_format),
            want("foundry-deployment-types", num_format),
            want("approved-models", num_format),
            want("one-deployment-per-model", num_format),
        ],
        {
            **TODAY,
            "approved-models": {"approvedFoundryModels": ["Mistral AI/mistral-small-2503"]},
            "one-deployment-per-model": {"foundryAccounts": True},
        },
    )
    yield Scenario(
        "foundry-approved: approvedFoundryModels, compared case-insensitively",
        BASE,
        [want("approved-models", OCR)],
        {"approved-models": {"approvedFoundryModels": [" mistral ai/MISTRAL-SMALL-2503 "]}},
    )
    ministral = s.foundry_deployment("ministral", model="Ministral-3B")
    small = s.foundry_deployment("small")
    yield Scenario(
        "foundry-approved: a model ID in approvedModels approves the same catalog model on Foundry resources",
        [ACCOUNT, *s.chained(ministral, small)],
        [want("approved-models", small)],
        {"approved-models": {"approvedModels": [s.MINISTRAL]}},
    )
    yield Scenario(
        "foundry-approved: unknown models are skipped",
        [ACCOUNT, s.foundry_deployment("later", model=UNKNOWN)],
        [],
        {"approved-models": {"approvedFoundryModels": ["Mistral AI/mistral-small-2503"]}},
    )


def _serialized_scenarios() -> Iterator[Scenario]:
    a, b, c = (s.foundry_deployment(name) for name in ("a", "b", "c"))
    yield Scenario(
        "foundry-serialized: three parallel deployments on one resource",
        [ACCOUNT, a, b, c],
        [want("foundry-deployments-serialized", b), want("foundry-deployments-serialized", c)],
    )
    middle = replaced(s.resource_group("middle"), depends=(a,))
    through = replaced(c, depends=(middle,))
    yield Scenario(
        "foundry-serialized: a dependency through another resource counts", [ACCOUNT, a, middle, through], []
    )
    yield Scenario(
        "foundry-serialized: deployments on different resources or resource groups may run in parallel",
        [
            ACCOUNT,
            s.foundry_account("second"),
            a,
            s.foundry_deployment("a", account="second"),
            s.foundry_deployment("a2", rg="rg2"),
        ],
        [],
    )
    pending = s.foundry_account("pending")
    pending = s.with_input(pending, UNKNOWN, "accountName")
    on_pending = [
        s.foundry_deployment(
            f"p{i}", account=UNKNOWN, logical=f"p{i}", property_dependencies={"accountName": (pending,)}
        )
        for i in (1, 2)
    ]
    loose = [s.foundry_deployment(f"x{i}", account=UNKNOWN, logical=f"x{i}") for i in (1, 2)]
    yield Scenario(
        "foundry-serialized: unknown account names grouped by the resource they come from; no dependency: skipped",
        [pending, *on_pending, *loose],
        [want("foundry-deployments-serialized", on_pending[1])],
    )
    twice = s.chained(s.foundry_deployment("one"), s.foundry_deployment("two"))
    yield Scenario("foundry-one-deployment: several deployments of a model pass by default", [ACCOUNT, *twice], [])
    yield Scenario(
        "foundry-one-deployment: foundryAccounts allows one deployment per model on a resource",
        [ACCOUNT, *twice, s.foundry_deployment("three", account="second")],
        [want("one-deployment-per-model", twice[1])],
        {"one-deployment-per-model": {"foundryAccounts": True}},
    )


def _ordering_scenarios() -> Iterator[Scenario]:
    a, c = s.foundry_deployment("a"), s.foundry_deployment("c")
    b = s.foundry_deployment("b", depends=(a,))
    d = s.foundry_deployment("d", depends=(b,))
    yield Scenario(
        "foundry-serialized: partly ordered deployments each name the earlier ones nothing orders them with",
        [ACCOUNT, a, b, c, d],
        [want("foundry-deployments-serialized", c), want("foundry-deployments-serialized", d)],
    )
    x = s.foundry_deployment("x")
    y = s.foundry_deployment("y", rg="rg2")
    z = s.foundry_deployment("z", rg=UNKNOWN)
    w = s.foundry_deployment("w", rg="rg2", depends=(z,))
    yield Scenario(
        "foundry-serialized: an unknown resource group is ordered against every resource group of the name",
        [ACCOUNT, x, y, z, w],
        [want("foundry-deployments-serialized", z), want("foundry-deployments-serialized", w)],
    )
    first, middle, last = s.chained(*(s.foundry_deployment(f"k{i}") for i in (1, 2, 3)))
    loner = s.foundry_deployment("loner")
    yield Scenario(
        "foundry-serialized: what orders deployments is their dependencies, not the order the stack lists them in",
        [ACCOUNT, last, middle, first, loner],
        [want("foundry-deployments-serialized", loner)],
    )
    ring_a = s.foundry_deployment("ringa", depends=(s.foundry_deployment("ringb"),))
    ring_b = s.foundry_deployment("ringb", depends=(ring_a,))
    apart = s.foundry_deployment("apart")
    yield Scenario(
        "foundry-serialized: a dependency cycle (which the engine never sends) orders the deployments in it",
        [ACCOUNT, ring_a, ring_b, apart],
        [want("foundry-deployments-serialized", apart)],
    )
    one_model = s.chained(
        s.foundry_deployment("t1"),
        s.foundry_deployment("t2", rg="rg2"),
        s.foundry_deployment("t3", rg=UNKNOWN),
        s.foundry_deployment("t4", rg="rg2"),
        s.foundry_deployment("t5"),
    )
    yield Scenario(
        "foundry-one-deployment: later deployments of a model are reported against the first they may share a "
        "resource with",
        [ACCOUNT, *one_model],
        [want("one-deployment-per-model", one_model[i]) for i in (2, 3, 4)],
        {"one-deployment-per-model": {"foundryAccounts": True}},
    )


def _account_scenarios() -> Iterator[Scenario]:
    keys = s.foundry_account("keys", disable_local_auth=False)
    unset = s.foundry_account("unset", disable_local_auth=None)
    later = s.foundry_account("later", disable_local_auth=UNKNOWN)
    text = s.foundry_account("text", disable_local_auth="true")
    yield Scenario(
        "foundry-local-auth: keys on or unset; unknown skipped; not a boolean reported",
        [keys, unset, later, text],
        [
            want("foundry-local-auth-disabled", keys),
            want("foundry-local-auth-disabled", unset),
            want("foundry-local-auth-disabled", text),
        ],
    )
    yield Scenario(
        "foundry-local-auth: allowLocalAuth accepts keys",
        [keys, unset],
        [],
        {"foundry-local-auth-disabled": {"allowLocalAuth": True}},
    )
    openai = s.foundry_account("openai", kind="OpenAI", allow_project_management=False, identity=None)
    plain = s.foundry_account("plain", allow_project_management=None, identity="None")
    yield Scenario(
        "foundry-projects: a resource with projects must be AIServices, allow projects and have an identity",
        [
            openai,
            s.foundry_project("p1", account="openai"),
            s.foundry_project("p2", account="openai"),
            plain,
            s.foundry_project(account="plain"),
            s.foundry_account("noprojects", kind="OpenAI", allow_project_management=False),
        ],
        [want("foundry-project-management", openai), want("foundry-project-management", plain)],
    )
    unnamed = s.with_input(s.foundry_account("unnamed", allow_project_management=False), UNKNOWN, "accountName")
    attached = s.foundry_project(account=UNKNOWN, property_dependencies={"accountName": (unnamed,)})
    yield Scenario(
        "foundry-projects: a project with an unknown accountName is matched by property dependency",
        [unnamed, attached],
        [want("foundry-project-management", unnamed)],
    )
    yield Scenario(
        "foundry-projects: unknown settings and projects of resources outside the stack are skipped",
        [
            s.foundry_account(kind=UNKNOWN, allow_project_management=UNKNOWN, identity=UNKNOWN),
            s.foundry_project(),
            s.foundry_project(account="existing"),
        ],
        [],
    )


def _rbac_scenarios() -> Iterator[Scenario]:
    owner = assignment("account-owner", FOUNDRY_ACCOUNT_OWNER, ACCOUNT_SCOPE)
    contributor = assignment("cs-contributor", CS_CONTRIBUTOR, s.SUBSCRIPTION_SCOPE)
    yield Scenario(
        "foundry-rbac: Foundry manager roles for principals that do not deploy",
        [ACCOUNT, USER, owner, contributor],
        [want("rbac-least-privilege", owner), want("rbac-least-privilege", contributor)],
    )
    deployers = {"rbac-least-privilege": {"deployerPrincipals": [PIPELINE.upper()]}}
    pipeline_owner = assignment("pipeline-owner", FOUNDRY_OWNER, ACCOUNT_SCOPE + "/projects/proj", PIPELINE)
    pipeline_rg = assignment("pipeline-rg", FOUNDRY_ACCOUNT_OWNER, s.RG_SCOPE, PIPELINE)
    from_account = assignment(
        "from-account", FOUNDRY_ACCOUNT_OWNER, UNKNOWN, PIPELINE, property_dependencies={"scope": (ACCOUNT,)}
    )
    rg = s.resource_group()
    from_rg = assignment("from-rg", FOUNDRY_ACCOUNT_OWNER, UNKNOWN, PIPELINE, property_dependencies={"scope": (rg,)})
    yield Scenario(
        "foundry-rbac: a deployer principal holds them only at a Foundry resource",
        [ACCOUNT, rg, pipeline_owner, pipeline_rg, from_account, from_rg, owner],
        [
            want("rbac-least-privilege", pipeline_rg),
            want("rbac-least-privilege", from_rg),
            want("rbac-least-privilege", owner),
        ],
        deployers,
    )
    identity = assignment("identity", FOUNDRY_ACCOUNT_OWNER, ACCOUNT_SCOPE, UNKNOWN)
    yield Scenario(
        "foundry-rbac: an unknown principal is judged at update time when deployers are configured",
        [ACCOUNT, identity],
        [],
        deployers,
    )
    yield Scenario(
        "foundry-rbac: an unknown principal may not hold a manager role when nobody may",
        [ACCOUNT, identity],
        [want("rbac-least-privilege", identity)],
    )
    yield Scenario(
        "foundry-rbac: foundryManagerRoles from config",
        [ACCOUNT, owner, contributor],
        [want("rbac-least-privilege", contributor)],
        {"rbac-least-privilege": {"foundryManagerRoles": [FOUNDRY_OWNER]}},
    )
    bad_principal = assignment("bad-principal", FOUNDRY_OWNER, ACCOUNT_SCOPE, "pipeline")
    yield Scenario(
        "foundry-rbac: a principal ID that cannot be read is reported",
        [ACCOUNT, bad_principal],
        [want("rbac-least-privilege", bad_principal)],
        deployers,
    )


def _scenarios() -> Iterator[Scenario]:
    yield Scenario("compliant: Foundry resource, project, content filters, chained deployments, Foundry User", BASE, [])
    yield from _region_scenarios()
    yield from _ambiguous_account_scenarios()
    yield from _deployment_type_scenarios()
    yield from _content_filter_scenarios()
    yield from _filter_lookup_scenarios()
    yield from _lifecycle_and_approval_scenarios()
    yield from _serialized_scenarios()
    yield from _ordering_scenarios()
    yield from _account_scenarios()
    yield from _rbac_scenarios()
    yield Scenario(
        "config: all advisory",
        [s.foundry_account(disable_local_auth=False), s.foundry_deployment("unnamed", rai_policy=None)],
        [
            want("foundry-local-auth-disabled", s.foundry_account(), "advisory"),
            want("foundry-content-filters", s.foundry_deployment("unnamed"), "advisory"),
        ],
        {"all": "advisory"},
    )


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


def test_every_foundry_policy_fires_and_passes_somewhere() -> None:
    fired = {policy for sc in SCENARIOS for policy, _, _ in sc.expect}
    assert fired == FOUNDRY_POLICIES | EXTENDED_POLICIES
    assert not SCENARIOS[0].expect


def by_id(prefix: str) -> Scenario:
    (found,) = [sc for sc in SCENARIOS if sc.id.startswith(prefix)]
    return found


MESSAGES: dict[tuple[str, str], str] = {
    ("foundry-region: resource, project and deployment outside allowedRegions", "foundry-region-allowlist"): (
        "Foundry resource 'foundry' is in 'westeurope'; allowed regions: eastus2, swedencentral. Move it to one "
        "of them (a resource's location cannot change in place: it is replaced), or add the region to "
        "allowedRegions in the policy config.\n"
        "Foundry project 'proj' is in 'westeurope'; allowed regions: eastus2, swedencentral. Move it to one of "
        "them (a resource's location cannot change in place: it is replaced), or add the region to allowedRegions"
        " in the policy config.\n"
        "Foundry deployment 'chat' runs in 'westeurope', the region of Foundry resource 'foundry'; allowed "
        "regions: eastus2, swedencentral. Deploy it on a Foundry resource in one of them, or add the region to "
        "allowedRegions in the policy config.\n"
        "Foundry deployment 'ocr' runs in 'westeurope', the region of Foundry resource 'foundry'; allowed "
        "regions: eastus2, swedencentral. Deploy it on a Foundry resource in one of them, or add the region to "
        "allowedRegions in the policy config."
    ),
    (
        "foundry-region: the default allows every region the catalog lists for Foundry models",
        "foundry-region-allowlist",
    ): (
        "Foundry resource 'asia' is in 'eastasia'; allowed regions: australiaeast, brazilsouth, canadacentral, "
        "canadaeast, centralus, eastus, eastus2, francecentral, germanywestcentral, italynorth, japaneast, "
        "japanwest, koreacentral, northcentralus, norwayeast, polandcentral, southafricanorth, southcentralus, "
        "southindia, spaincentral, swedencentral, switzerlandnorth, switzerlandwest, uaenorth, uksouth, ukwest, "
        "westcentralus, westeurope, westus, westus2, westus3. Move it to one of them (a resource's location "
        "cannot change in place: it is replaced), or add the region to allowedRegions in the policy config."
    ),
    (
        "foundry-region: a deployment with an unknown accountName is judged by the resource it comes from",
        "foundry-region-allowlist",
    ): (
        "Foundry resource 'foundry' is in 'westeurope'; allowed regions: eastus2, swedencentral. Move it to one "
        "of them (a resource's location cannot change in place: it is replaced), or add the region to "
        "allowedRegions in the policy config.\n"
        "Foundry deployment 'late' runs in 'westeurope', the region of Foundry resource 'foundry'; allowed "
        "regions: eastus2, swedencentral. Deploy it on a Foundry resource in one of them, or add the region to "
        "allowedRegions in the policy config."
    ),
    ("foundry-region: a location that is not a string is reported", "foundry-region-allowlist"): (
        "Foundry resource 'foundry': location is a number (42), not a string, so the policy cannot read it. Set "
        "it to one of the allowed regions: australiaeast, brazilsouth, canadacentral, canadaeast, centralus, "
        "eastus, eastus2, francecentral, germanywestcentral, italynorth, japaneast, japanwest, koreacentral, "
        "northcentralus, norwayeast, polandcentral, southafricanorth, southcentralus, southindia, spaincentral, "
        "swedencentral, switzerlandnorth, switzerlandwest, uaenorth, uksouth, ukwest, westcentralus, westeurope, "
        "westus, westus2, westus3."
    ),
    ("foundry-types: a Global type outside allowedDeploymentTypes", "foundry-deployment-types"): (
        "Foundry deployment 'chat' is of deployment type 'GlobalStandard'; allowed deployment types: "
        "DataZoneStandard, Standard. Use one of them, or add the type to allowedDeploymentTypes in the policy "
        "config.\n"
        "Foundry deployment 'ocr' is of deployment type 'GlobalStandard'; allowed deployment types: "
        "DataZoneStandard, Standard. Use one of them, or add the type to allowedDeploymentTypes in the policy "
        "config."
    ),
    ("foundry-types: a type the catalog does not list for the model", "foundry-deployment-types"): (
        "Foundry deployment 'small' deploys Mistral Small 25.03 (Mistral AI/mistral-small-2503) as "
        "'DataZoneStandard', a deployment type the catalog (as of 2026-11-24) does not list for it; offered: "
        "GlobalStandard. Azure refuses it: use one of those types (or update the pack's catalog.yaml if Azure now"
        " offers it)."
    ),
    ("foundry-types: a type the catalog does not list in the resource's region", "foundry-deployment-types"): (
        "Foundry deployment 'doc' deploys Mistral Document AI 25.12 (Mistral AI/mistral-document-ai-2512) as "
        "GlobalStandard in 'westus2' (the region of Foundry resource 'foundry'), where the catalog (as of "
        "2026-11-24) does not list that type for it; GlobalStandard regions: australiaeast, brazilsouth, "
        "canadaeast, eastus, eastus2, francecentral, germanywestcentral, italynorth, japaneast, koreacentral, "
        "northcentralus, norwayeast, polandcentral, southafricanorth, southcentralus, southindia, spaincentral, "
        "swedencentral, switzerlandnorth, switzerlandwest, uaenorth, uksouth, westeurope, westus, westus3. Azure "
        "refuses it: use a Foundry resource in one of them, or deploy it as DataZoneStandard, which the catalog "
        "lists there (or update the pack's catalog.yaml if Azure now offers it there).\n"
        "Foundry deployment 'medium' deploys Mistral Medium 3.5 (Mistral AI/mistral-medium-3-5) as "
        "DataZoneStandard in 'westus2' (the region of Foundry resource 'foundry'), where the catalog (as of "
        "2026-11-24) does not list that type for it; DataZoneStandard regions: francecentral, germanywestcentral,"
        " italynorth, polandcentral, spaincentral, swedencentral, westeurope. Azure refuses it: use a Foundry "
        "resource in one of them (or update the pack's catalog.yaml if Azure now offers it there)."
    ),
    (
        "foundry-types: unset sku reported, unknown skipped, unreadable reported; case and non-catalog models",
        "foundry-deployment-types",
    ): (
        "Foundry deployment 'nosku' has no sku.name; allowed deployment types: GlobalStandard, DataZoneStandard, "
        "Standard, GlobalProvisionedManaged, DataZoneProvisionedManaged, ProvisionedManaged, GlobalBatch, "
        "DataZoneBatch, DeveloperTier. Set sku.name to one of them: the deployment type decides where Azure may "
        "process the data.\n"
        "Foundry deployment 'number': sku.name is a number (7), not a string, so the policy cannot read it. Set "
        "it to one of the allowed deployment types: GlobalStandard, DataZoneStandard, Standard, "
        "GlobalProvisionedManaged, DataZoneProvisionedManaged, ProvisionedManaged, GlobalBatch, DataZoneBatch, "
        "DeveloperTier."
    ),
    (
        "foundry-filters: a policy with filters missing, disabled, not blocking or too lax, and its deployment",
        "foundry-content-filters",
    ): (
        "content filter policy 'lax' on Foundry resource 'foundry' in resource group 'rg': Violence on Prompt "
        "blocks only from severity 'High'; Hate on Completion does not block; Sexual on Completion is disabled; "
        "it has no Selfharm filter on Prompt. Every Hate, Sexual, Selfharm and Violence filter on Prompt and "
        "Completion must be enabled, blocking, at severityThreshold 'Low' or 'Medium' (Low is the strictest): fix"
        " properties.contentFilters.\n"
        "Foundry deployment 'onlax' uses content filter policy 'lax', whose filters fall short: Violence on "
        "Prompt blocks only from severity 'High'; Hate on Completion does not block; Sexual on Completion is "
        "disabled; it has no Selfharm filter on Prompt; every Hate, Sexual, Selfharm and Violence filter on "
        "Prompt and Completion must be enabled, blocking, at severityThreshold 'Low' or 'Medium' (Low is the "
        "strictest). Fix that policy, or name one that meets this."
    ),
    ("foundry-filters: maxSeverityThreshold Low rejects Medium", "foundry-content-filters"): (
        "content filter policy 'strict' on Foundry resource 'foundry' in resource group 'rg': Hate on Prompt "
        "blocks only from severity 'Medium'; Sexual on Prompt blocks only from severity 'Medium'; Selfharm on "
        "Prompt blocks only from severity 'Medium'; Violence on Prompt blocks only from severity 'Medium'; Hate "
        "on Completion blocks only from severity 'Medium'; Sexual on Completion blocks only from severity "
        "'Medium'; Selfharm on Completion blocks only from severity 'Medium'; Violence on Completion blocks only "
        "from severity 'Medium'. Every Hate, Sexual, Selfharm and Violence filter on Prompt and Completion must "
        "be enabled, blocking, at severityThreshold 'Low' (Low is the strictest): fix "
        "properties.contentFilters.\n"
        "Foundry deployment 'chat' uses content filter policy 'strict', whose filters fall short: Hate on Prompt "
        "blocks only from severity 'Medium'; Sexual on Prompt blocks only from severity 'Medium'; Selfharm on "
        "Prompt blocks only from severity 'Medium'; Violence on Prompt blocks only from severity 'Medium'; Hate "
        "on Completion blocks only from severity 'Medium'; Sexual on Completion blocks only from severity "
        "'Medium'; Selfharm on Completion blocks only from severity 'Medium'; Violence on Completion blocks only "
        "from severity 'Medium'; every Hate, Sexual, Selfharm and Violence filter on Prompt and Completion must "
        "be enabled, blocking, at severityThreshold 'Low' (Low is the strictest). Fix that policy, or name one "
        "that meets this.\n"
        "Foundry deployment 'ocr' uses content filter policy 'strict', whose filters fall short: Hate on Prompt "
        "blocks only from severity 'Medium'; Sexual on Prompt blocks only from severity 'Medium'; Selfharm on "
        "Prompt blocks only from severity 'Medium'; Violence on Prompt blocks only from severity 'Medium'; Hate "
        "on Completion blocks only from severity 'Medium'; Sexual on Completion blocks only from severity "
        "'Medium'; Selfharm on Completion blocks only from severity 'Medium'; Violence on Completion blocks only "
        "from severity 'Medium'; every Hate, Sexual, Selfharm and Violence filter on Prompt and Completion must "
        "be enabled, blocking, at severityThreshold 'Low' (Low is the strictest). Fix that policy, or name one "
        "that meets this."
    ),
    ("foundry-filters: a deployment without raiPolicyName", "foundry-content-filters"): (
        "Foundry deployment 'unnamed' names no content filter policy (properties.raiPolicyName is not set), so "
        "Azure applies its default one, which this stack did not choose. Set properties.raiPolicyName to a "
        "content filter policy (RaiPolicy) of its Foundry resource or a built-in one (Microsoft.DefaultV2, "
        "Microsoft.Default)."
    ),
    ("foundry-filters: allowBuiltInPolicies false rejects a built-in policy", "foundry-content-filters"): (
        "Foundry deployment 'default' uses the built-in content filter policy 'Microsoft.DefaultV2'; the policy "
        "config (allowBuiltInPolicies: false) requires one of the stack's own. Create a content filter policy "
        "(RaiPolicy) on its Foundry resource where every Hate, Sexual, Selfharm and Violence filter on Prompt and"
        " Completion must be enabled, blocking, at severityThreshold 'Low' or 'Medium' (Low is the strictest), "
        "and name it in properties.raiPolicyName."
    ),
    ("foundry-filters: a policy neither built in nor in the stack", "foundry-content-filters"): (
        "Foundry deployment 'elsewhere' names content filter policy 'corporate', which is neither built in nor a "
        "content filter policy of Foundry resource 'foundry' in resource group 'rg' in this stack, so the pack "
        "cannot check its filters (and Azure refuses a name that does not exist). Define it as a RaiPolicy of "
        "that Foundry resource in this stack, or list it under externalPolicies in the policy config if it is "
        "managed elsewhere."
    ),
    ("foundry-filters: a policy of another Foundry resource does not count", "foundry-content-filters"): (
        "Foundry deployment 'wrongacct' names content filter policy 'strict', which is neither built in nor a "
        "content filter policy of Foundry resource 'foundry' in resource group 'rg' in this stack, so the pack "
        "cannot check its filters (and Azure refuses a name that does not exist). Define it as a RaiPolicy of "
        "that Foundry resource in this stack, or list it under externalPolicies in the policy config if it is "
        "managed elsewhere."
    ),
    ("foundry-filters: a deployment that does not depend on its policy", "foundry-content-filters"): (
        "Foundry deployment 'nodep' does not depend on content filter policy 'strict', which it names; Azure "
        "refuses a deployment whose content filter policy does not exist yet. Add depends_on=[policy] to the "
        "deployment, or set raiPolicyName from the policy's name output."
    ),
    (
        "foundry-filters: an unknown raiPolicyName is judged by the policy its properties come from",
        "foundry-content-filters",
    ): (
        "content filter policy 'lax' on Foundry resource 'foundry' in resource group 'rg': Violence on Prompt "
        "blocks only from severity 'High'; Hate on Completion does not block; Sexual on Completion is disabled; "
        "it has no Selfharm filter on Prompt. Every Hate, Sexual, Selfharm and Violence filter on Prompt and "
        "Completion must be enabled, blocking, at severityThreshold 'Low' or 'Medium' (Low is the strictest): fix"
        " properties.contentFilters.\n"
        "Foundry deployment 'bydep' uses content filter policy 'lax', whose filters fall short: Violence on "
        "Prompt blocks only from severity 'High'; Hate on Completion does not block; Sexual on Completion is "
        "disabled; it has no Selfharm filter on Prompt; every Hate, Sexual, Selfharm and Violence filter on "
        "Prompt and Completion must be enabled, blocking, at severityThreshold 'Low' or 'Medium' (Low is the "
        "strictest). Fix that policy, or name one that meets this."
    ),
    ("foundry-filters: filters and names that cannot be read are reported", "foundry-content-filters"): (
        "content filter policy 'astext': properties.contentFilters is a string ('Hate,Sexual'), not a list, so "
        "the policy cannot read it. Set it to a list of content filters, each an object with name, source, "
        "enabled, blocking and severityThreshold.\n"
        "content filter policy 'yes': properties.contentFilters[0].enabled is a string ('yes'), not a boolean, so"
        " the policy cannot read it. Set it to true.\n"
        "content filter policy 'yes': properties.contentFilters[1].severityThreshold 'Severe' is not one of "
        "'Low', 'Medium', 'High', so the policy cannot read it. Set it to 'Low' or 'Medium'.\n"
        "content filter policy 'nameless': properties.contentFilters[0].name is not set, so the policy cannot "
        "read it. Set it to a content filter name, such as 'Hate'.\n"
        "content filter policy 'foundry-numbered': raiPolicyName is a number (42), not a string, so the policy "
        "cannot read it. Set it to the name of a content filter policy.\n"
        "Foundry deployment 'number': properties.raiPolicyName is a number (42), not a string, so the policy "
        "cannot read it. Set it to the name of a content filter policy (RaiPolicy) of its Foundry resource or a "
        "built-in one (Microsoft.DefaultV2, Microsoft.Default)."
    ),
    ("foundry-lifecycle: a retired model (format and name compare case-insensitively)", "no-retired-models"): (
        "Foundry deployment 'doc' deploys Mistral Document AI 25.05 (mistral ai/MISTRAL-DOCUMENT-AI-2505), "
        "retired since 2026-07-15: its deployments answer 410 Gone (judged on 2026-11-24; catalog as of "
        "2026-11-24). Move to Mistral Document AI 25.12 (Mistral AI/mistral-document-ai-2512)."
    ),
    (
        "foundry-lifecycle: a model format that is not a string is reported by every rule that reads it",
        "no-retired-models",
    ): (
        "Foundry deployment 'numformat': properties.model.format is a number (3), not a string, so the policy "
        "cannot read it. Set it to a model format, such as 'Mistral AI'."
    ),
    (
        "foundry-lifecycle: a model format that is not a string is reported by every rule that reads it",
        "foundry-deployment-types",
    ): (
        "Foundry deployment 'numformat': properties.model.format is a number (3), not a string, so the policy "
        "cannot read it. Set it to a model format, such as 'Mistral AI'."
    ),
    (
        "foundry-lifecycle: a model format that is not a string is reported by every rule that reads it",
        "approved-models",
    ): (
        "Foundry deployment 'numformat': properties.model.format is a number (3), not a string, so the policy "
        "cannot read it. Set it to a model format, such as 'Mistral AI'."
    ),
    (
        "foundry-lifecycle: a model format that is not a string is reported by every rule that reads it",
        "one-deployment-per-model",
    ): (
        "Foundry deployment 'numformat': properties.model.format is a number (3), not a string, so the policy "
        "cannot read it. Set it to a model format, such as 'Mistral AI'."
    ),
    ("foundry-approved: approvedFoundryModels, compared case-insensitively", "approved-models"): (
        "Foundry deployment 'ocr' deploys Mistral AI/mistral-document-ai-2512, which is not approved; approved "
        "Foundry models: mistral ai/MISTRAL-SMALL-2503; approved model IDs (their catalog models are approved on "
        "Foundry resources too): (none). Deploy an approved model, or have 'Mistral AI/mistral-document-ai-2512' "
        "added to approvedFoundryModels in the policy config."
    ),
    (
        "foundry-approved: a model ID in approvedModels approves the same catalog model on Foundry resources",
        "approved-models",
    ): (
        "Foundry deployment 'small' deploys Mistral AI/mistral-small-2503, which is not approved; approved "
        "Foundry models: (none); approved model IDs (their catalog models are approved on Foundry resources too):"
        " azureml://registries/azureml-mistral/models/Ministral-3B. Deploy an approved model, or have 'Mistral "
        "AI/mistral-small-2503' added to approvedFoundryModels in the policy config."
    ),
    ("foundry-serialized: three parallel deployments on one resource", "foundry-deployments-serialized"): (
        "Foundry deployment 'b' and Foundry deployment 'a' on Foundry resource 'foundry' in resource group 'rg' "
        "can be sent to Azure at the same time (no dependency, direct or through other resources, orders them). "
        "Azure takes one deployment at a time per Foundry resource and answers 409 RequestConflict ('Another "
        "operation is being performed on the parent resource') to the others. Make each deployment depend on the "
        "previous one of the same Foundry resource (depends_on=[previous]).\n"
        "Foundry deployment 'c' and Foundry deployments 'a' and 'b' on Foundry resource 'foundry' in resource "
        "group 'rg' can be sent to Azure at the same time (no dependency, direct or through other resources, "
        "orders them). Azure takes one deployment at a time per Foundry resource and answers 409 RequestConflict "
        "('Another operation is being performed on the parent resource') to the others. Make each deployment "
        "depend on the previous one of the same Foundry resource (depends_on=[previous])."
    ),
    (
        "foundry-serialized: unknown account names grouped by the resource they come from; no dependency: skipped",
        "foundry-deployments-serialized",
    ): (
        "Foundry deployment 'p2' and Foundry deployment 'p1' on Foundry resource 'pending' (name known after "
        "create) in resource group 'rg' can be sent to Azure at the same time (no dependency, direct or through "
        "other resources, orders them). Azure takes one deployment at a time per Foundry resource and answers 409"
        " RequestConflict ('Another operation is being performed on the parent resource') to the others. Make "
        "each deployment depend on the previous one of the same Foundry resource (depends_on=[previous])."
    ),
    (
        "foundry-one-deployment: foundryAccounts allows one deployment per model on a resource",
        "one-deployment-per-model",
    ): (
        "Foundry deployment 'one' and Foundry deployment 'two' both deploy Mistral AI/mistral-small-2503 on "
        "Foundry resource 'foundry' in resource group 'rg'; the policy config (foundryAccounts: true) allows one "
        "deployment per model on each Foundry resource (Azure itself takes several). Remove Foundry deployment "
        "'two' and call Foundry deployment 'one' instead, or set foundryAccounts to false."
    ),
    ("foundry-local-auth: keys on or unset; unknown skipped; not a boolean reported", "foundry-local-auth-disabled"): (
        "Foundry resource 'keys' has properties.disableLocalAuth false, so it accepts API keys: whoever holds one"
        " of its two keys calls every deployment, without a role and unnamed in the logs. Set "
        "properties.disableLocalAuth to true (callers then use Entra ID tokens and the Foundry User role; "
        "azure-maas: leave localAuth at its default, false), or set allowLocalAuth in the policy config for "
        "stacks that must accept keys.\n"
        "Foundry resource 'unset' does not set properties.disableLocalAuth, so it accepts API keys: whoever holds"
        " one of its two keys calls every deployment, without a role and unnamed in the logs. Set "
        "properties.disableLocalAuth to true (callers then use Entra ID tokens and the Foundry User role; "
        "azure-maas: leave localAuth at its default, false), or set allowLocalAuth in the policy config for "
        "stacks that must accept keys.\n"
        "Foundry resource 'text': properties.disableLocalAuth is a string ('true'), not a boolean, so the policy "
        "cannot read it. Set it to true."
    ),
    (
        "foundry-projects: a resource with projects must be AIServices, allow projects and have an identity",
        "foundry-project-management",
    ): (
        "Foundry resource 'openai' has Foundry project 'p1' and Foundry project 'p2' in this stack, but its kind "
        "is 'OpenAI'; properties.allowProjectManagement is false; it has no managed identity. Azure creates "
        "projects only on a Foundry resource of kind 'AIServices' with properties.allowProjectManagement true and"
        " a managed identity: set them (allowProjectManagement cannot be changed after creation, so an existing "
        "resource must be recreated).\n"
        "Foundry resource 'plain' has Foundry project 'proj' in this stack, but properties.allowProjectManagement"
        " is not set (Azure reads false); it has no managed identity. Azure creates projects only on a Foundry "
        "resource of kind 'AIServices' with properties.allowProjectManagement true and a managed identity: set "
        "them (allowProjectManagement cannot be changed after creation, so an existing resource must be "
        "recreated)."
    ),
    (
        "foundry-projects: a project with an unknown accountName is matched by property dependency",
        "foundry-project-management",
    ): (
        "Foundry resource 'unnamed' has Foundry project 'proj' in this stack, but "
        "properties.allowProjectManagement is false. Azure creates projects only on a Foundry resource of kind "
        "'AIServices' with properties.allowProjectManagement true and a managed identity: set them "
        "(allowProjectManagement cannot be changed after creation, so an existing resource must be recreated)."
    ),
    ("foundry-rbac: Foundry manager roles for principals that do not deploy", "rbac-least-privilege"): (
        "role assignment 'account-owner' grants Foundry Account Owner (e47c6f54-e4a2-4754-9501-8e0985b135e1) to "
        "principal 3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c; roles that manage Foundry resources (Cognitive Services "
        "Contributor, Cognitive Services OpenAI Contributor, Foundry Account Owner, Foundry Owner) are only for "
        "the pipeline that deploys, listed in deployerPrincipals (none are configured, so nobody may hold them). "
        "Grant Foundry User (53ca6127-db72-4b80-b1b0-d745d6d5456d) to people and applications that call models, "
        "or list the pipeline's principal under deployerPrincipals in the policy config.\n"
        "role assignment 'cs-contributor' grants Cognitive Services Contributor "
        "(25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68) to principal 3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c; roles that "
        "manage Foundry resources (Cognitive Services Contributor, Cognitive Services OpenAI Contributor, Foundry"
        " Account Owner, Foundry Owner) are only for the pipeline that deploys, listed in deployerPrincipals "
        "(none are configured, so nobody may hold them). Grant Foundry User "
        "(53ca6127-db72-4b80-b1b0-d745d6d5456d) to people and applications that call models, or list the "
        "pipeline's principal under deployerPrincipals in the policy config."
    ),
    ("foundry-rbac: a deployer principal holds them only at a Foundry resource", "rbac-least-privilege"): (
        "role assignment 'pipeline-rg' grants Foundry Account Owner (e47c6f54-e4a2-4754-9501-8e0985b135e1) to "
        "deployer principal 7c9e6679-7425-40de-944b-e07fc1f90ae7 at scope "
        "'/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg'; a deployer holds it only on the"
        " Foundry resource it deploys to. Assign it with the Foundry resource's ID as scope.\n"
        "role assignment 'from-rg' grants Foundry Account Owner (e47c6f54-e4a2-4754-9501-8e0985b135e1) to "
        "deployer principal 7c9e6679-7425-40de-944b-e07fc1f90ae7 at a scope that comes from no Foundry resource; "
        "a deployer holds it only on the Foundry resource it deploys to. Assign it with the Foundry resource's ID"
        " as scope.\n"
        "role assignment 'account-owner' grants Foundry Account Owner (e47c6f54-e4a2-4754-9501-8e0985b135e1) to "
        "principal 3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c, which is not one of deployerPrincipals "
        "(7c9e6679-7425-40de-944b-e07fc1f90ae7); roles that manage Foundry resources (Cognitive Services "
        "Contributor, Cognitive Services OpenAI Contributor, Foundry Account Owner, Foundry Owner) are only for "
        "the pipeline that deploys, listed in deployerPrincipals. Grant Foundry User "
        "(53ca6127-db72-4b80-b1b0-d745d6d5456d) to people and applications that call models, or list the "
        "pipeline's principal under deployerPrincipals in the policy config."
    ),
    ("foundry-rbac: an unknown principal may not hold a manager role when nobody may", "rbac-least-privilege"): (
        "role assignment 'identity' grants Foundry Account Owner (e47c6f54-e4a2-4754-9501-8e0985b135e1) to a "
        "principal not known before the update; roles that manage Foundry resources (Cognitive Services "
        "Contributor, Cognitive Services OpenAI Contributor, Foundry Account Owner, Foundry Owner) are only for "
        "the pipeline that deploys, listed in deployerPrincipals (none are configured, so nobody may hold them). "
        "Grant Foundry User (53ca6127-db72-4b80-b1b0-d745d6d5456d) to people and applications that call models, "
        "or list the pipeline's principal under deployerPrincipals in the policy config."
    ),
    ("foundry-rbac: foundryManagerRoles from config", "rbac-least-privilege"): (
        "role assignment 'cs-contributor' is at the subscription "
        "'/subscriptions/11111111-2222-3333-4444-555555555555'; nothing broader than a resource group is allowed,"
        " except a marketplace-ordering role (only Microsoft.MarketplaceOrdering/*, Microsoft.Marketplace/* and "
        "Microsoft.SaaS/register/action) at the subscription. Assign it on the resource group or the workspace, "
        "or list a marketplace role managed elsewhere under subscriptionScopeRoles."
    ),
    ("foundry-rbac: a principal ID that cannot be read is reported", "rbac-least-privilege"): (
        "role assignment 'bad-principal': principalId 'pipeline' is not a GUID, so the policy cannot read it. Set"
        " it to a GUID (8-4-4-4-12 hexadecimal digits)."
    ),
    ("foundry-region: a deployment that two", "foundry-region-allowlist"): (
        "Foundry resource 'foundry' is in 'westeurope'; allowed regions: eastus2, swedencentral. Move it to one of "
        "them (a resource's location cannot change in place: it is replaced), or add the region to allowedRegions in "
        "the policy config.\n"
        "Foundry resource 'foundry' is in 'westeurope'; allowed regions: eastus2, swedencentral. Move it to one of "
        "them (a resource's location cannot change in place: it is replaced), or add the region to allowedRegions in "
        "the policy config.\n"
        "Foundry resource 'solo' is in 'westeurope'; allowed regions: eastus2, swedencentral. Move it to one of them "
        "(a resource's location cannot change in place: it is replaced), or add the region to allowedRegions in the "
        "policy config.\n"
        "Foundry deployment 'single' runs in 'westeurope', the region of Foundry resource 'solo'; allowed regions: "
        "eastus2, swedencentral. Deploy it on a Foundry resource in one of them, or add the region to allowedRegions "
        "in the policy config."
    ),
    ("foundry-projects: a project is matched", "foundry-project-management"): (
        "Foundry resource 'shared' has Foundry project 'p1' and Foundry project 'p3' in this stack, but its kind is "
        "'OpenAI'. Azure creates projects only on a Foundry resource of kind 'AIServices' with "
        "properties.allowProjectManagement true and a managed identity: set them (allowProjectManagement cannot be "
        "changed after creation, so an existing resource must be recreated).\n"
        "Foundry resource 'shared' has Foundry project 'p2' in this stack, but its kind is 'OpenAI'. Azure creates "
        "projects only on a Foundry resource of kind 'AIServices' with properties.allowProjectManagement true and a "
        "managed identity: set them (allowProjectManagement cannot be changed after creation, so an existing "
        "resource must be recreated)."
    ),
    ("foundry-filters: a name is looked up", "foundry-content-filters"): (
        "content filter policy 'strict' on Foundry resource 'foundry': Hate on Prompt is disabled. Every Hate, "
        "Sexual, Selfharm and Violence filter on Prompt and Completion must be enabled, blocking, at "
        "severityThreshold 'Low' or 'Medium' (Low is the strictest): fix properties.contentFilters.\n"
        "Foundry deployment 'named' names content filter policy 'pending', which is neither built in nor a content "
        "filter policy of Foundry resource 'foundry' in resource group 'rg' in this stack, so the pack cannot check "
        "its filters (and Azure refuses a name that does not exist). Define it as a RaiPolicy of that Foundry "
        "resource in this stack, or list it under externalPolicies in the policy config if it is managed elsewhere.\n"
        "Foundry deployment 'onsecond' does not depend on content filter policy 'strict', which it names; Azure "
        "refuses a deployment whose content filter policy does not exist yet. Add depends_on=[policy] to the "
        "deployment, or set raiPolicyName from the policy's name output.\n"
        "Foundry deployment 'onsecond' uses content filter policy 'strict', whose filters fall short: Hate on Prompt "
        "is disabled; every Hate, Sexual, Selfharm and Violence filter on Prompt and Completion must be enabled, "
        "blocking, at severityThreshold 'Low' or 'Medium' (Low is the strictest). Fix that policy, or name one that "
        "meets this."
    ),
    ("foundry-filters: a dependency on the policy through", "foundry-content-filters"): (
        "Foundry deployment 'r1' does not depend on content filter policy 'strict', which it names; Azure refuses a "
        "deployment whose content filter policy does not exist yet. Add depends_on=[policy] to the deployment, or "
        "set raiPolicyName from the policy's name output.\n"
        "Foundry deployment 'r4' does not depend on content filter policy 'strict', which it names; Azure refuses a "
        "deployment whose content filter policy does not exist yet. Add depends_on=[policy] to the deployment, or "
        "set raiPolicyName from the policy's name output."
    ),
    ("foundry-filters: a dependency on the policy through", "foundry-deployments-serialized"): (
        "Foundry deployment 'r4' and Foundry deployments 'r2' and 'r3' on Foundry resource 'foundry' in resource "
        "group 'rg' can be sent to Azure at the same time (no dependency, direct or through other resources, orders "
        "them). Azure takes one deployment at a time per Foundry resource and answers 409 RequestConflict ('Another "
        "operation is being performed on the parent resource') to the others. Make each deployment depend on the "
        "previous one of the same Foundry resource (depends_on=[previous])."
    ),
    ("foundry-serialized: partly", "foundry-deployments-serialized"): (
        "Foundry deployment 'c' and Foundry deployments 'a' and 'b' on Foundry resource 'foundry' in resource group "
        "'rg' can be sent to Azure at the same time (no dependency, direct or through other resources, orders them). "
        "Azure takes one deployment at a time per Foundry resource and answers 409 RequestConflict ('Another "
        "operation is being performed on the parent resource') to the others. Make each deployment depend on the "
        "previous one of the same Foundry resource (depends_on=[previous]).\n"
        "Foundry deployment 'd' and Foundry deployment 'c' on Foundry resource 'foundry' in resource group 'rg' can "
        "be sent to Azure at the same time (no dependency, direct or through other resources, orders them). Azure "
        "takes one deployment at a time per Foundry resource and answers 409 RequestConflict ('Another operation is "
        "being performed on the parent resource') to the others. Make each deployment depend on the previous one of "
        "the same Foundry resource (depends_on=[previous])."
    ),
    ("foundry-serialized: an unknown resource group", "foundry-deployments-serialized"): (
        "Foundry deployment 'z' and Foundry deployments 'x' and 'y' on Foundry resource 'foundry' can be sent to "
        "Azure at the same time (no dependency, direct or through other resources, orders them). Azure takes one "
        "deployment at a time per Foundry resource and answers 409 RequestConflict ('Another operation is being "
        "performed on the parent resource') to the others. Make each deployment depend on the previous one of the "
        "same Foundry resource (depends_on=[previous]).\n"
        "Foundry deployment 'w' and Foundry deployment 'y' on Foundry resource 'foundry' in resource group 'rg2' can "
        "be sent to Azure at the same time (no dependency, direct or through other resources, orders them). Azure "
        "takes one deployment at a time per Foundry resource and answers 409 RequestConflict ('Another operation is "
        "being performed on the parent resource') to the others. Make each deployment depend on the previous one of "
        "the same Foundry resource (depends_on=[previous])."
    ),
    ("foundry-serialized: what orders", "foundry-deployments-serialized"): (
        "Foundry deployment 'loner' and Foundry deployments 'k3', 'k2' and 'k1' on Foundry resource 'foundry' in "
        "resource group 'rg' can be sent to Azure at the same time (no dependency, direct or through other "
        "resources, orders them). Azure takes one deployment at a time per Foundry resource and answers 409 "
        "RequestConflict ('Another operation is being performed on the parent resource') to the others. Make each "
        "deployment depend on the previous one of the same Foundry resource (depends_on=[previous])."
    ),
    ("foundry-serialized: a dependency cycle", "foundry-deployments-serialized"): (
        "Foundry deployment 'apart' and Foundry deployments 'ringa' and 'ringb' on Foundry resource 'foundry' in "
        "resource group 'rg' can be sent to Azure at the same time (no dependency, direct or through other "
        "resources, orders them). Azure takes one deployment at a time per Foundry resource and answers 409 "
        "RequestConflict ('Another operation is being performed on the parent resource') to the others. Make each "
        "deployment depend on the previous one of the same Foundry resource (depends_on=[previous])."
    ),
    ("foundry-one-deployment: later", "one-deployment-per-model"): (
        "Foundry deployment 't1' and Foundry deployment 't3' both deploy Mistral AI/mistral-small-2503 on Foundry "
        "resource 'foundry'; the policy config (foundryAccounts: true) allows one deployment per model on each "
        "Foundry resource (Azure itself takes several). Remove Foundry deployment 't3' and call Foundry deployment "
        "'t1' instead, or set foundryAccounts to false.\n"
        "Foundry deployment 't2' and Foundry deployment 't4' both deploy Mistral AI/mistral-small-2503 on Foundry "
        "resource 'foundry' in resource group 'rg2'; the policy config (foundryAccounts: true) allows one deployment "
        "per model on each Foundry resource (Azure itself takes several). Remove Foundry deployment 't4' and call "
        "Foundry deployment 't2' instead, or set foundryAccounts to false.\n"
        "Foundry deployment 't1' and Foundry deployment 't5' both deploy Mistral AI/mistral-small-2503 on Foundry "
        "resource 'foundry' in resource group 'rg'; the policy config (foundryAccounts: true) allows one deployment "
        "per model on each Foundry resource (Azure itself takes several). Remove Foundry deployment 't5' and call "
        "Foundry deployment 't1' instead, or set foundryAccounts to false."
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
    assert "\n".join(d.detail for d in diagnostics) == MESSAGES[(prefix, policy)]


def test_every_violating_scenario_has_its_messages() -> None:
    """No violation of a Foundry scenario goes without its exact text in MESSAGES."""
    keyed = {(sc.id, policy) for sc in SCENARIOS for policy, _, level in sc.expect if not sc.id.startswith("config:")}
    covered = {(by_id(prefix).id, policy) for prefix, policy in MESSAGES}
    assert keyed == covered


# --- the pack's metadata and facts for the channel ----------------------------------------------------------------


def test_foundry_policies_are_documented(session: PolicyPackSession) -> None:
    by_name = {p.name: p for p in session.policies}
    assert set(by_name) >= FOUNDRY_POLICIES | EXTENDED_POLICIES
    for name in FOUNDRY_POLICIES:
        policy = by_name[name]
        assert policy.description.endswith("."), name
        assert policy.remediation_steps, name
        assert policy.url.startswith("https://learn.microsoft.com/azure/"), name
        for key, schema in (policy.config_schema.get("properties") or {}).items():
            assert "default" in schema, (name, key)
            assert schema.get("description"), (name, key)


def test_foundry_defaults(session: PolicyPackSession) -> None:
    config = session.configure()
    assert config["foundry-region-allowlist"].properties == {
        "allowedRegions": sorted(
            {r for m in program_catalog.load().models.values() if m.foundry for r in m.foundry.regions}
        )
    }
    assert config["foundry-deployment-types"].properties == {
        "allowedDeploymentTypes": list(program_catalog.DEPLOYMENT_TYPES)
    }
    assert config["foundry-content-filters"].properties == {
        "maxSeverityThreshold": "Medium",
        "allowBuiltInPolicies": True,
        "externalPolicies": [],
    }
    assert config["foundry-local-auth-disabled"].properties == {"allowLocalAuth": False}
    assert config["foundry-deployments-serialized"].properties == {}
    assert config["foundry-project-management"].properties == {}
    assert config["one-deployment-per-model"].properties == {"foundryAccounts": False}
    assert config["approved-models"].properties == {"approvedModels": [], "approvedFoundryModels": []}
    rbac = config["rbac-least-privilege"].properties
    assert rbac["deployerPrincipals"] == []
    assert {facts.FOUNDRY_ROLE_NAMES[g] for g in rbac["foundryManagerRoles"]} == {
        "Foundry Owner",
        "Foundry Account Owner",
        "Cognitive Services Contributor",
        "Cognitive Services OpenAI Contributor",
    }


def test_deployment_types_are_the_programs() -> None:
    assert facts.DEPLOYMENT_TYPES == program_catalog.DEPLOYMENT_TYPES


def test_pack_reads_the_catalogs_foundry_channel() -> None:
    strict, plain = program_catalog.load(), facts.catalog_facts()
    for key, model in strict.models.items():
        offer = plain.models[key].foundry
        if model.foundry is None:
            assert offer is None, key
            continue
        assert offer is not None, key
        assert (offer.format, offer.name, offer.version, offer.marketplace) == (
            model.foundry.format,
            model.foundry.name,
            model.foundry.version,
            model.foundry.marketplace,
        )
        assert dict(offer.skus) == {sku: tuple(regions) for sku, regions in model.foundry.skus.items()}


@pytest.mark.parametrize(
    ("scope", "foundry"),
    [
        (ACCOUNT_SCOPE, True),
        (ACCOUNT_SCOPE.upper() + "/", True),
        (ACCOUNT_SCOPE + "/projects/proj", True),
        (ACCOUNT_SCOPE.replace("/accounts/", "//accounts//"), True),
        (s.RG_SCOPE, False),
        (s.SUBSCRIPTION_SCOPE, False),
        (f"{s.RG_SCOPE}/providers/Microsoft.MachineLearningServices/workspaces/ws", False),
        (f"{s.RG_SCOPE}/providers/Microsoft.CognitiveServices/accounts", False),
    ],
)
def test_is_foundry_scope(scope: str, foundry: bool) -> None:
    assert facts.is_foundry_scope(scope) is foundry
