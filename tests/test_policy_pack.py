"""The policy pack as a whole and the driver that runs it: metadata, config reconciliation, the program's
own stacks under the pack, lifecycle dates, the pack's catalog, and process handling on every failure."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from azure_maas_policy import facts
from infra import catalog as program_catalog
from infra.engine.analyzer import (
    DEFAULT_PACK_DIR,
    EnforcementLevel,
    GivenConfig,
    PolicyConfig,
    PolicyConfigError,
    PolicyPackError,
    PolicyPackSession,
    Severity,
    StackInfo,
    analyze,
    load_policy_config,
    open_session,
    parse_policy_config,
    reconcile,
)
from tests import stacks as s
from tests.conftest import minimal
from tests.docs import blocks, pack_readme, section
from tests.harness import run_program

REGIONS = ["eastus", "eastus2", "northcentralus", "southcentralus", "westus", "westus3", "swedencentral"]
FORBIDDEN = sorted(facts.PRIVILEGED_ROLES)


@pytest.fixture(scope="module")
def session() -> Iterator[PolicyPackSession]:
    with open_session() as running:
        yield running


# --- metadata ----------------------------------------------------------------------------------------------


def test_pack_metadata(session: PolicyPackSession) -> None:
    assert (session.pack_name, session.pack_version) == ("azure-maas", "0.1.0")
    table = [(p.name, p.kind, p.enforcement_level, p.severity) for p in session.policies]
    assert table == [
        ("serverless-region-allowlist", "resource", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("one-deployment-per-model", "stack", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("marketplace-subscription-required", "stack", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("endpoint-name", "stack", EnforcementLevel.MANDATORY, Severity.MEDIUM),
        ("content-safety-enabled", "resource", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("approved-models", "resource", EnforcementLevel.MANDATORY, Severity.MEDIUM),
        ("no-retired-models", "resource", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("rbac-least-privilege", "stack", EnforcementLevel.MANDATORY, Severity.CRITICAL),
        ("required-tags", "resource", EnforcementLevel.ADVISORY, Severity.LOW),
        ("foundry-region-allowlist", "stack", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("foundry-deployment-types", "stack", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("foundry-content-filters", "stack", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("foundry-deployments-serialized", "stack", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("foundry-local-auth-disabled", "resource", EnforcementLevel.MANDATORY, Severity.HIGH),
        ("foundry-project-management", "stack", EnforcementLevel.MANDATORY, Severity.HIGH),
    ]
    for policy in session.policies:
        assert policy.description.endswith("."), policy.name
        assert policy.remediation_steps, policy.name
        assert policy.url.startswith("https://learn.microsoft.com/azure/"), policy.name


def test_defaults_are_applied_for_every_policy(session: PolicyPackSession) -> None:
    config = session.configure()
    assert config == {
        "approved-models": PolicyConfig(
            EnforcementLevel.MANDATORY, {"approvedModels": [], "approvedFoundryModels": []}
        ),
        "content-safety-enabled": PolicyConfig(EnforcementLevel.MANDATORY, {"exceptions": {}}),
        "endpoint-name": PolicyConfig(EnforcementLevel.MANDATORY, {}),
        "marketplace-subscription-required": PolicyConfig(EnforcementLevel.MANDATORY, {"externalSubscriptions": []}),
        "no-retired-models": PolicyConfig(EnforcementLevel.MANDATORY, {"allowDeprecated": False}),
        "one-deployment-per-model": PolicyConfig(EnforcementLevel.MANDATORY, {"foundryAccounts": False}),
        "rbac-least-privilege": PolicyConfig(
            EnforcementLevel.MANDATORY,
            {
                "forbiddenRoles": FORBIDDEN,
                "subscriptionScopeRoles": [],
                "foundryManagerRoles": sorted(facts.FOUNDRY_MANAGER_ROLES),
                "deployerPrincipals": [],
            },
        ),
        "foundry-region-allowlist": PolicyConfig(
            EnforcementLevel.MANDATORY, {"allowedRegions": list(facts.catalog_facts().foundry_regions)}
        ),
        "foundry-deployment-types": PolicyConfig(
            EnforcementLevel.MANDATORY, {"allowedDeploymentTypes": list(facts.DEPLOYMENT_TYPES)}
        ),
        "foundry-content-filters": PolicyConfig(
            EnforcementLevel.MANDATORY,
            {"maxSeverityThreshold": "Medium", "allowBuiltInPolicies": True, "externalPolicies": []},
        ),
        "foundry-deployments-serialized": PolicyConfig(EnforcementLevel.MANDATORY, {}),
        "foundry-local-auth-disabled": PolicyConfig(EnforcementLevel.MANDATORY, {"allowLocalAuth": False}),
        "foundry-project-management": PolicyConfig(EnforcementLevel.MANDATORY, {}),
        "required-tags": PolicyConfig(EnforcementLevel.ADVISORY, {"requiredTags": ["cost-center", "environment"]}),
        "serverless-region-allowlist": PolicyConfig(EnforcementLevel.MANDATORY, {"allowedRegions": REGIONS}),
    }


def test_region_default_is_the_catalogs_serverless_regions(session: PolicyPackSession) -> None:
    assert list(program_catalog.load().serverless.regions) == REGIONS
    region_policy = next(p for p in session.policies if p.name == "serverless-region-allowlist")
    assert region_policy.config_schema["properties"]["allowedRegions"]["default"] == REGIONS


def test_all_then_per_policy_levels_and_properties(session: PolicyPackSession) -> None:
    given = parse_policy_config(
        {
            "all": "advisory",
            "endpoint-name": "mandatory",
            "required-tags": {"enforcementLevel": "disabled", "requiredTags": ["owner"]},
            "serverless-region-allowlist": {"allowedRegions": ["westeurope"]},
        }
    )
    config = reconcile(session.policies, {}, given)
    assert {name: c.enforcement_level.value for name, c in config.items()} == {
        "approved-models": "advisory",
        "content-safety-enabled": "advisory",
        "endpoint-name": "mandatory",
        "marketplace-subscription-required": "advisory",
        "no-retired-models": "advisory",
        "one-deployment-per-model": "advisory",
        "rbac-least-privilege": "advisory",
        "required-tags": "disabled",
        "serverless-region-allowlist": "advisory",
        "foundry-region-allowlist": "advisory",
        "foundry-deployment-types": "advisory",
        "foundry-content-filters": "advisory",
        "foundry-deployments-serialized": "advisory",
        "foundry-local-auth-disabled": "advisory",
        "foundry-project-management": "advisory",
    }
    assert config["required-tags"].properties == {"requiredTags": ["owner"]}
    assert config["serverless-region-allowlist"].properties == {"allowedRegions": ["westeurope"]}


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (
            {"content-safety": "advisory"},
            [
                "content-safety: no such policy in the pack; policies: approved-models, content-safety-enabled, "
                "endpoint-name, foundry-content-filters, foundry-deployment-types, foundry-deployments-serialized, "
                "foundry-local-auth-disabled, foundry-project-management, foundry-region-allowlist, "
                "marketplace-subscription-required, no-retired-models, one-deployment-per-model, "
                "rbac-least-privilege, required-tags, serverless-region-allowlist"
            ],
        ),
        (
            {"required-tags": {"requiredTag": ["owner"]}},
            ["required-tags: unknown property 'requiredTag'; did you mean 'requiredTags'? properties: requiredTags"],
        ),
        (
            {"content-safty-enabled": "advisory"},
            [
                "content-safty-enabled: no such policy in the pack; did you mean 'content-safety-enabled'? policies: "
                "approved-models, content-safety-enabled, "
                "endpoint-name, foundry-content-filters, foundry-deployment-types, foundry-deployments-serialized, "
                "foundry-local-auth-disabled, foundry-project-management, foundry-region-allowlist, "
                "marketplace-subscription-required, no-retired-models, one-deployment-per-model, "
                "rbac-least-privilege, required-tags, serverless-region-allowlist"
            ],
        ),
        (
            {"endpoint-name": {"maxLength": 10}},
            ["endpoint-name: unknown property 'maxLength'; properties: none (this policy takes only enforcementLevel)"],
        ),
        (
            {"content-safety-enabled": {"exceptions": {"chat": "short"}}},
            [
                "content-safety-enabled.exceptions: 'chat' does not match '^[^/]+/[^/]+$'",
                "content-safety-enabled.exceptions.chat: 'short' is too short",
            ],
        ),
        (
            {"serverless-region-allowlist": {"allowedRegions": []}},
            ["serverless-region-allowlist.allowedRegions: [] should be non-empty"],
        ),
        (
            {"no-retired-models": {"today": "23.11.2026", "allowDeprecated": "yes"}},
            [
                "no-retired-models.allowDeprecated: 'yes' is not of type 'boolean'",
                "no-retired-models.today: '23.11.2026' does not match "
                "'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'",
            ],
        ),
        (
            {"marketplace-subscription-required": {"externalSubscriptions": [{"workspaceName": "ws"}]}},
            ["marketplace-subscription-required.externalSubscriptions.0: 'modelId' is a required property"],
        ),
        ({"all": {"allowedRegions": ["eastus"]}}, ["all: takes only an enforcement level; set properties per policy"]),
    ],
    ids=[
        "unknown policy",
        "unknown property",
        "misspelled policy",
        "policy without properties",
        "exceptions",
        "empty list",
        "types",
        "required",
        "all",
    ],
)
def test_invalid_config_names_each_problem(
    session: PolicyPackSession, data: dict[str, object], problems: list[str]
) -> None:
    with pytest.raises(PolicyConfigError) as raised:
        session.configure(parse_policy_config(data), "policy.json")
    assert list(raised.value.problems) == problems
    assert str(raised.value) == "invalid policy pack config policy.json: " + "; ".join(problems)


def test_invalid_enforcement_level() -> None:
    with pytest.raises(PolicyConfigError) as raised:
        parse_policy_config({"endpoint-name": "warn"}, "policy.json")
    assert str(raised.value) == (
        "invalid policy pack config  (policy.json): endpoint-name: 'warn' is not an enforcement level; "
        "valid: advisory, mandatory, remediate, disabled"
    )


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps({"all": "advisory", "approved-models": {"approvedModels": [s.PHI_4]}}))
    assert load_policy_config(path) == {
        "all": GivenConfig(EnforcementLevel.ADVISORY, {}),
        "approved-models": GivenConfig(None, {"approvedModels": [s.PHI_4]}),
    }
    (tmp_path / "empty.json").write_text("  \n")
    assert load_policy_config(tmp_path / "empty.json") == {}
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(PolicyConfigError) as raised:
        load_policy_config(tmp_path / "broken.json")
    assert str(raised.value) == (
        f"invalid policy pack config {tmp_path / 'broken.json'}: not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )
    with pytest.raises(PolicyConfigError) as raised:
        load_policy_config(tmp_path / "missing.json")
    assert (
        str(raised.value)
        == f"invalid policy pack config {tmp_path / 'missing.json'}: cannot read the policy config: No such file or directory"
    )


# --- the program's stacks under the pack --------------------------------------------------------------------


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_dev_stack_is_compliant(session: PolicyPackSession, dev_config: dict[str, str], preview: bool) -> None:
    resources = s.from_run(run_program(dev_config, preview=preview))
    session.configure()
    report = session.analyze(resources)
    assert report.diagnostics == ()
    # The pack judged what matters here: the marketplace role at the subscription and, at preview, values
    # that are unknown (the assignment's role definition ID comes from the role definition created with it).
    market = next(r for r in resources if r.name == "access-marketplace-role")
    at_subscription = [
        r for r in resources if r.type == s.ROLE_ASSIGNMENT and r.inputs["scope"] == s.SUBSCRIPTION_SCOPE
    ]
    assert [r.property_dependencies["roleDefinitionId"] for r in at_subscription] == [(market.urn,)]
    if preview:
        assert s.UNKNOWN in json.dumps([r.inputs for r in resources])


def test_program_stack_violations_are_caught(session: PolicyPackSession) -> None:
    config = minimal(
        workspaces=[
            {
                "name": "ws-unsafe",
                "kind": "workspace",
                "deployments": [{"name": "unsafe", "model": "ministral-3b", "contentSafety": False}],
            }
        ],
        access=[{"principalId": "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c", "principalType": "User", "role": s.OWNER}],
    )
    run = run_program(config)
    session.configure()
    report = session.analyze(s.from_run(run))
    found = sorted((d.policy_name, d.urn.rsplit("::", 1)[-1], d.enforcement_level.value) for d in report.diagnostics)
    owner = next(r.name for r in run.resources if r.type == s.ROLE_ASSIGNMENT)
    assert found == [
        ("content-safety-enabled", "unsafe-endpoint", "mandatory"),
        ("rbac-least-privilege", owner, "mandatory"),
        ("required-tags", "unsafe-endpoint", "advisory"),
        ("required-tags", "ws-unsafe-workspace", "advisory"),
    ]
    assert sorted(d.policy_name for d in report.mandatory) == ["content-safety-enabled", "rbac-least-privilege"]


# --- lifecycle dates ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deprecating_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the pack whose catalog announces Ministral-3B's deprecation and retirement."""
    pack = tmp_path_factory.mktemp("pack") / "policies"
    shutil.copytree(DEFAULT_PACK_DIR, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    path = pack / "azure_maas_policy" / "catalog.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["models"]["ministral-3b"]["lifecycle"] = {
        "stage": "GenerallyAvailable",
        "deprecationDate": dt.date(2026, 12, 1),
        "retirementDate": dt.date(2027, 3, 1),
        "replacement": "mistral-medium-2505",
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return pack


@pytest.mark.parametrize(
    ("today", "allow_deprecated", "expected"),
    [
        ("2026-11-30", False, None),
        (
            "2026-12-01",
            False,
            "serverless endpoint 'chat' deploys Ministral-3B (azureml://registries/azureml-mistral/models/Ministral-3B), "
            "deprecated since 2026-12-01: Azure accepts no new deployments, existing ones keep working until "
            "2027-03-01 (judged on 2026-12-01; catalog as of 2026-11-24). Move to Mistral Medium 3 (25.05) "
            "(azureml://registries/azureml-mistral/models/mistral-medium-2505), or set allowDeprecated in the policy "
            "config to keep an existing deployment until it retires.",
        ),
        ("2027-02-28", True, None),
        (
            "2027-03-01",
            True,
            "serverless endpoint 'chat' deploys Ministral-3B (azureml://registries/azureml-mistral/models/Ministral-3B), "
            "retired since 2027-03-01: its endpoints answer 410 Gone (judged on 2027-03-01; catalog as of 2026-11-24). "
            "Move to Mistral Medium 3 (25.05) (azureml://registries/azureml-mistral/models/mistral-medium-2505).",
        ),
    ],
)
def test_lifecycle_judged_on_the_configured_day(
    deprecating_pack: Path, today: str, allow_deprecated: bool, expected: str | None
) -> None:
    resources = [s.workspace(), *s.deployment()]
    config = {"no-retired-models": GivenConfig(None, {"today": today, "allowDeprecated": allow_deprecated})}
    report = analyze(resources, pack_dir=deprecating_pack, config=config)
    details = [(d.policy_name, d.urn, d.detail) for d in report.diagnostics]
    assert details == ([("no-retired-models", resources[2].urn, expected)] if expected else [])


# --- the pack's catalog is the program's catalog ----------------------------------------------------------------


def test_pack_and_program_read_the_same_catalog() -> None:
    assert program_catalog.CATALOG_PATH == facts.CATALOG_PATH == DEFAULT_PACK_DIR / "azure_maas_policy" / "catalog.yaml"
    strict, plain = program_catalog.load(), facts.catalog_facts()
    assert plain.as_of == strict.as_of
    assert plain.serverless_regions == strict.serverless.regions
    assert {
        key: (m.name, m.model_id, m.stage, m.deprecation_date, m.retirement_date, m.replacement)
        for key, m in plain.models.items()
    } == {
        key: (
            m.name,
            m.model_id,
            m.lifecycle.stage,
            m.lifecycle.deprecation_date,
            m.lifecycle.retirement_date,
            m.lifecycle.replacement,
        )
        for key, m in strict.models.items()
    }
    days = [strict.as_of + dt.timedelta(days=n) for n in range(-1000, 1000, 7)]
    for key, model in strict.models.items():
        assert [plain.models[key].stage_on(d) for d in days] == [model.lifecycle.stage_on(d) for d in days], key


def test_the_pack_finds_catalog_models_as_a_scan_of_the_catalog_in_order_would() -> None:
    """``by_model_id`` and ``by_foundry_model`` answer from indexes built once; the answers are those of comparing
    with every model in catalog order (the first match wins), for every catalog model written as policies meet it:
    in other cases, with a version, with white space and slashes, and for IDs and names the catalog does not hold."""
    catalog = facts.catalog_facts()
    models = list(catalog.models.values())
    ids = [m.model_id for m in models if m.model_id]
    asked = [
        *ids,
        *(i.upper() for i in ids),
        *(f"  {i}/versions/3/ " for i in ids),
        *(i.replace("/models/", "//models/") for i in ids),
        "azureml://registries/azureml-acme/models/model-0000",
        "azureml://registries/azureml/models",
        "https://example.com/models/x",
        "",
    ]
    for model_id in asked:
        wanted = facts.canonical_model_id(model_id)
        scan = next((m for m in models if m.model_id and facts.canonical_model_id(m.model_id) == wanted), None)
        assert catalog.by_model_id(model_id) is scan, model_id
    offers = [(m.foundry.format, m.foundry.name) for m in models if m.foundry]
    for format_, name in [*offers, *((f" {f.upper()} ", n.upper()) for f, n in offers), ("Mistral AI", "nothing")]:
        wanted_key = facts.foundry_model_key(format_, name)
        found = next(
            (
                m
                for m in models
                if m.foundry and facts.foundry_model_key(m.foundry.format, m.foundry.name) == wanted_key
            ),
            None,
        )
        assert catalog.by_foundry_model(format_, name) is found, (format_, name)
    assert sum(catalog.by_model_id(i) is not None for i in ids) == len(ids)


# --- how the rules read IDs (facts, shared by every rule) ---------------------------------------------------

GUID = "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("scope", "breadth"),
    [
        ("/", "tenant root"),
        (f" /Subscriptions/{{{GUID.upper()}}}// ", "subscription"),
        (f"subscriptions/{GUID}", "subscription"),
        (f"/subscriptions/{GUID}/RESOURCEGROUPS/rg/", None),
        (f"/subscriptions/{GUID}/providers/Microsoft.Authorization/roleDefinitions/{GUID}", None),
        ("/providers//MICROSOFT.MANAGEMENT/managementgroups/corp/", "management group"),
        (
            "/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/x/y",
            "management group",
        ),
        ("/providers/Microsoft.Capacity/reservationOrders/order", None),
        ("", ValueError("is empty")),
        (f"/subscriptions/{GUID}/resourceGroups/rg/..", ValueError("has a '..' segment")),
        (f"/subscriptions/{GUID}/./resourceGroups/rg", ValueError("has a '.' segment")),
        (f"/subscriptions/{GUID}/resourceGroups/rg/%2e%2e", ValueError("has '%', which no Azure resource ID contains")),
        (f"/subscriptions/{GUID}?/resourceGroups/rg", ValueError("has '?', which no Azure resource ID contains")),
        ("/subscriptions", ValueError("has nothing where the subscription GUID belongs")),
        (f"/subscriptions/{GUID}/resourceGroups", ValueError("has nothing where the resource group name belongs")),
        (
            f"/subscriptions/{GUID}/locations/eastus",
            ValueError("has 'locations' after the subscription, where resourceGroups or providers belongs"),
        ),
        (f"/subscriptions/{GUID}/providers/x", ValueError("has no resource provider, type and name after providers")),
        ("/tenants/x", ValueError("starts with 'tenants', where subscriptions or providers belongs")),
    ],
)
def test_scope_breadth(scope: str, breadth: str | ValueError | None) -> None:
    if isinstance(breadth, ValueError):
        with pytest.raises(ValueError, match=f"^{re.escape(str(breadth))}$"):
            facts.scope_breadth(scope)
    else:
        assert facts.scope_breadth(scope) == breadth


@pytest.mark.parametrize(
    ("role", "guid"),
    [
        (GUID.upper(), GUID),
        (f" {{{GUID}}} ", GUID),
        (f"/providers/Microsoft.Authorization/roleDefinitions/{GUID}", GUID),
        (f"/subscriptions/{GUID}/resourceGroups/rg/providers/microsoft.authorization/ROLEDEFINITIONS/{GUID}/", GUID),
        ("Owner", ValueError("does not end in /providers/Microsoft.Authorization/roleDefinitions/<role GUID>")),
        (
            f"/providers/Microsoft.Authorization/roleDefinitions/{GUID}x",
            ValueError(f"ends in '{GUID}x', which is not a GUID"),
        ),
        (
            f"/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/{GUID}",
            ValueError("has 'sub' where the subscription GUID belongs"),
        ),
    ],
)
def test_role_definition_guid(role: str, guid: str | ValueError) -> None:
    if isinstance(guid, ValueError):
        with pytest.raises(ValueError, match=f"^{re.escape(str(guid))}$"):
            facts.role_definition_guid(role)
    else:
        assert facts.role_definition_guid(role) == guid


SHAPE = "is not of the form azureml://registries/<registry>/models/<name>[/versions/<version>]"


@pytest.mark.parametrize(
    ("model_id", "key"),
    [
        (s.PHI_4, "azureml://registries/azureml/models/phi-4"),
        (" AZUREML://Registries/azureml//models/Phi-4/versions/7/ ", "azureml://registries/azureml/models/phi-4"),
        (
            "azureml:///registries/azureml-mistral/MODELS/Ministral-3B",
            "azureml://registries/azureml-mistral/models/ministral-3b",
        ),
        ("azureml://registries/azureml/models/../models/Phi-4", ValueError("has a '..' segment")),
        ("https://registries/azureml/models/Phi-4", ValueError(SHAPE)),
        ("azureml://registries/azureml/models/Phi-4/labels/latest", ValueError(SHAPE)),
        ("azureml://registries/azure ml/models/Phi-4", ValueError(SHAPE)),
        ("Phi-4", ValueError(SHAPE)),
    ],
)
def test_parse_model_id(model_id: str, key: str | ValueError) -> None:
    if isinstance(key, ValueError):
        with pytest.raises(ValueError, match=f"^{re.escape(str(key))}$"):
            facts.parse_model_id(model_id)
    else:
        assert facts.parse_model_id(model_id).key == key == facts.canonical_model_id(model_id)


@pytest.mark.parametrize(
    ("actions", "not_actions", "writing"),
    [
        (["*"], [], "*"),
        (["*/write"], [], "*/write"),
        (["Microsoft.Authorization/*"], [], "Microsoft.Authorization/*"),
        (["microsoft.authorization/*/WRITE"], [], "microsoft.authorization/*/WRITE"),
        (["Microsoft.Authorization/role*/write"], [], "Microsoft.Authorization/role*/write"),
        (["Microsoft.Authorization/roleDefinitions/write"], [], "Microsoft.Authorization/roleDefinitions/write"),
        (["*"], ["Microsoft.Authorization/*/write"], None),
        (["*"], ["Microsoft.Authorization/roleAssignments/write"], "*"),
        (["*"], ["*/Write"], None),
        (
            ["Microsoft.Authorization/*"],
            ["Microsoft.Authorization/role?ssignments/write", "*/roleDefinitions/*"],
            "Microsoft.Authorization/*",
        ),
        (["Microsoft.Authorization/*/read", "*/read"], [], None),
        (["Microsoft.Authorization/roleAssignments/delete"], [], None),
    ],
)
def test_role_writing_action(actions: list[str], not_actions: list[str], writing: str | None) -> None:
    """Azure's only wildcard is ``*`` (it spans ``/``); ``?`` is literal; notActions take away from actions."""
    assert facts.role_writing_action(actions, not_actions) == writing


# --- the pack is self-contained ------------------------------------------------------------------------------


def test_pack_runs_alone_with_its_own_requirements(tmp_path: Path) -> None:
    """What `pulumi policy publish` ships: a copy of policies/ and a virtual environment holding only
    requirements.txt (no azure-maas, no infra package) judge a stack like the pack in the repository."""
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` sets UV to its own binary
    assert uv is not None, "uv is needed to build the pack's own environment (bash .ci/run installs it)"
    pack = tmp_path / "published"
    shutil.copytree(DEFAULT_PACK_DIR, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", python, "-r", str(pack / "requirements.txt")], check=True
    )
    outside = s.workspace(location="westeurope")
    session = PolicyPackSession(pack, StackInfo(project="azure-maas", stack="dev"), python=python)
    try:
        session.configure()
        report = session.analyze([outside, *s.deployment()])
    finally:
        session.close()
    assert [(d.policy_name, d.urn) for d in report.diagnostics] == [("serverless-region-allowlist", outside.urn)]
    assert report.pack_version == "0.1.0"


# --- the pack process ----------------------------------------------------------------------------------------


def _pack(tmp_path: Path, main: str) -> Path:
    """A one-policy pack whose ``__main__.py`` is ``main``; it writes its PID to ``pid`` first."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 2.0.0\n")
    preamble = "import os, pathlib\npathlib.Path('pid').write_text(str(os.getpid()))\n"
    (pack / "__main__.py").write_text(preamble + textwrap.dedent(main))
    return pack


_ONE_POLICY = """
from pulumi_policy import PolicyPack, ResourceValidationPolicy, EnforcementLevel
def check(args, report):
    {body}
PolicyPack("probe", [ResourceValidationPolicy("probe", "Probes the driver.", check, EnforcementLevel.MANDATORY)])
"""


def _gone(pack: Path) -> bool:
    pid = int((pack / "pid").read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize(
    ("main", "options", "message"),
    [
        (
            "raise SystemExit('broken pack: no policies')\n",
            {},
            "the policy pack exited before serving: broken pack: no policies",
        ),
        ("print('hello')\nimport time; time.sleep(60)\n", {}, "the policy pack printed 'hello' instead of its port"),
        ("import time; time.sleep(60)\n", {"start_timeout": 1.0}, "the policy pack did not print its port in time"),
        (
            _ONE_POLICY.format(body="raise RuntimeError('policy bug')"),
            {},
            "the policy pack failed in Analyze(urn:pulumi:dev::azure-maas::azure-native:machinelearningservices:"
            "Workspace::ws): Exception calling application: policy bug",
        ),
        (
            _ONE_POLICY.format(body="import time; time.sleep(30)"),
            {"call_timeout": 1.0},
            "the policy pack did not answer Analyze(urn:pulumi:dev::azure-maas::azure-native:machinelearningservices:"
            "Workspace::ws) within 1 s",
        ),
    ],
    ids=["exits", "prints first", "never serves", "policy raises", "policy hangs"],
)
def test_failures_are_one_line_and_stop_the_process(
    tmp_path: Path, main: str, options: dict[str, Any], message: str
) -> None:
    pack = _pack(tmp_path, main)
    with pytest.raises(PolicyPackError) as raised:
        analyze([s.workspace()], pack_dir=pack, **options)
    assert str(raised.value) == message
    assert _gone(pack)


def test_not_a_pack(tmp_path: Path) -> None:
    with pytest.raises(PolicyPackError) as raised:
        analyze([], pack_dir=tmp_path)
    assert str(raised.value) == f"{tmp_path} is not a policy pack (it has no PulumiPolicy.yaml)"


def test_engine_environment_and_version(tmp_path: Path) -> None:
    """The pack sees the stack as the engine describes it, and the version comes from PulumiPolicy.yaml."""
    body = (
        "import json; "
        "report(json.dumps([os.environ[k] for k in ('PULUMI_PROJECT', 'PULUMI_STACK', 'PULUMI_ORGANIZATION', "
        "'PULUMI_DRY_RUN')] + [json.loads(os.environ['PULUMI_CONFIG']), os.getcwd()]), args.urn)"
    )
    pack = _pack(tmp_path, "import os\n" + _ONE_POLICY.format(body=body))
    info = StackInfo(
        project="azure-maas", stack="prod", organization="acme", dry_run=False, config={"azure-maas:location": "eastus"}
    )
    report = analyze([s.workspace()], pack_dir=pack, stack=info)
    (diagnostic,) = report.diagnostics
    assert json.loads(diagnostic.detail) == [
        "azure-maas",
        "prod",
        "acme",
        "false",
        {"azure-maas:location": "eastus"},
        str(pack),
    ]
    assert (diagnostic.policy_pack_name, diagnostic.policy_pack_version, report.pack_version) == (
        "probe",
        "2.0.0",
        "2.0.0",
    )
    assert _gone(pack)


# --- the pack's README documents the pack as it is ------------------------------------------------------------

PACK_README = pack_readme()


def test_readme_policy_config_example_is_valid(session: PolicyPackSession) -> None:
    (block,) = blocks(section(PACK_README, "## Policy config"), "json")
    config = session.configure(parse_policy_config(json.loads(block)), "README")
    assert config["content-safety-enabled"] == PolicyConfig(
        EnforcementLevel.MANDATORY,
        {"exceptions": {"proj-shared/raw-codestral": "Red-team evaluation of unfiltered outputs, until 2027-03-31"}},
    )
    assert config["required-tags"] == PolicyConfig(
        EnforcementLevel.ADVISORY, {"requiredTags": ["cost-center", "environment", "owner"]}
    )
    assert config["endpoint-name"].enforcement_level == EnforcementLevel.MANDATORY


def test_readme_example_message_is_what_the_pack_says() -> None:
    from tests.test_policies import MESSAGES

    (example,) = [b.strip() for b in blocks(section(PACK_README, "## Rules"), "text")]
    assert example == MESSAGES[("endpoint-name: one name twice", "endpoint-name")]
