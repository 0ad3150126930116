"""The azure-maas policies, one function per rule.

Each policy judges only what the engine sends it, so it holds for any stack that deploys these resource
types, whether or not azure-maas wrote it. A value unknown at preview is never a crash: each rule says what
it does with one (skip it, or judge the resource from its property dependencies). A value a rule reads but
cannot read (the wrong type, an ID that does not normalize; see ``reading`` and ``facts``) is never passed:
the rule reports it, saying where it is and the form it would read.

A stack policy never compares every resource with every other: it looks resources up by where they are
(``reading.Located``) and asks what depends on what of one ``reading.Dependencies`` per stack, so its cost grows
with the size of the stack, not its square.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from azure_maas_policy import facts
from azure_maas_policy.reading import (
    FOUNDRY_ACCOUNT,
    FOUNDRY_DEPLOYMENT,
    FOUNDRY_PROJECT,
    MARKETPLACE_SUBSCRIPTION,
    MISSING,
    RAI_POLICY,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    SERVERLESS_ENDPOINT,
    UNKNOWN,
    WORKSPACE,
    AccountRef,
    Dependencies,
    Located,
    Part,
    Permission,
    Placement,
    ResourceType,
    Unreadable,
    account_of,
    arm_name,
    config_of,
    describe,
    element_paths,
    find_account,
    lookup,
    own_account,
    path_text,
    placement,
    read_bool,
    read_choice,
    read_guid,
    read_model_id,
    read_name,
    read_permissions,
    read_role_definition_guid,
    read_scope,
    read_str,
    read_text,
    type_of,
)

LEARN = "https://learn.microsoft.com/azure"
MODEL_ID_PATTERN = (
    r"^azureml://registries/[a-zA-Z0-9][a-zA-Z0-9_-]*/models/[a-zA-Z0-9][a-zA-Z0-9._-]*(/versions/[^/]+)?$"
)
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


DESCRIBED = (
    SERVERLESS_ENDPOINT,
    MARKETPLACE_SUBSCRIPTION,
    WORKSPACE,
    FOUNDRY_ACCOUNT,
    FOUNDRY_PROJECT,
    FOUNDRY_DEPLOYMENT,
    RAI_POLICY,
)
"""Resource types messages name by their kind and Azure name (``Foundry deployment 'chat'``)."""


def _endpoints(resources: Iterable[PolicyResource]) -> list[PolicyResource]:
    return [r for r in resources if SERVERLESS_ENDPOINT.matches(r.resource_type)]


def _model_id(props: Any, resource_type: ResourceType) -> facts.ModelRef | Unreadable | None:
    """The model ID of an endpoint or a subscription; None when unknown or not set (skipped)."""
    path = (
        ("properties", "modelSettings", "modelId")
        if resource_type is SERVERLESS_ENDPOINT
        else ("properties", "modelId")
    )
    value = read_model_id(props, path)
    return value if isinstance(value, facts.ModelRef | Unreadable) else None


def _label(resource: PolicyResource) -> str:
    return describe(SERVERLESS_ENDPOINT, resource.props, resource.name)


def _listing(values: Iterable[str]) -> str:
    return ", ".join(values) or "(none)"


def _unreadable(resource: PolicyResource, values: Iterable[object], report_violation: ReportViolation) -> bool:
    """Report each of ``values`` that is :class:`Unreadable` on ``resource``; whether there was one."""
    found = [value for value in values if isinstance(value, Unreadable)]
    if not found:  # the usual case, asked of every endpoint and subscription: no need to name the resource
        return False
    kind = type_of(resource.resource_type, *DESCRIBED)
    what = describe(kind, resource.props, resource.name) if kind else repr(resource.name)
    for value in found:
        report_violation(value.sentence(what), resource.urn)
    return bool(found)


# --- Foundry resources: what several rules read ---------------------------------------------------------------

MODEL_FORMAT_FORM = "a model format, such as 'Mistral AI'"
MODEL_NAME_FORM = "a model name, such as 'mistral-small-2503'"


def _of(resources: Iterable[PolicyResource], kind: ResourceType) -> list[PolicyResource]:
    return [r for r in resources if kind.matches(r.resource_type)]


def _what(resource: PolicyResource) -> str:
    kind = type_of(resource.resource_type, *DESCRIBED)
    return describe(kind, resource.props, resource.name) if kind else repr(resource.name)


def _ignore(message: str, urn: str | None = None) -> None:
    """A ReportViolation for reads whose problems another part of the rule reports."""


def _name(resource: PolicyResource) -> str:
    """``'chat'``: a resource's Azure name when known, else its Pulumi name."""
    kind = type_of(resource.resource_type, *DESCRIBED)
    name = arm_name(kind, resource.props) if kind else MISSING
    return repr(name if isinstance(name, str) else resource.name)


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _accounts(
    resources: Iterable[PolicyResource], report_violation: ReportViolation
) -> list[tuple[PolicyResource, AccountRef]]:
    """The Foundry resources of the stack with their identity (name, or URN while the name is unknown); one whose
    name or resource group cannot be read is reported and left out."""
    found = []
    for account in _of(resources, FOUNDRY_ACCOUNT):
        own = own_account(account)
        if isinstance(own, Unreadable):
            report_violation(own.sentence(_what(account)), account.urn)
        else:
            found.append((account, own))
    return found


def _located(placed: Iterable[tuple[PolicyResource, AccountRef]]) -> Located[PolicyResource]:
    """Resources by their Foundry resource (see :func:`_accounts` and :func:`_placed`), for
    :func:`~azure_maas_policy.reading.find_account` and look-ups by place."""
    index: Located[PolicyResource] = Located()
    for resource, where in placed:
        index.add(where, resource)
    return index


def _placed(
    resources: Iterable[PolicyResource], kind: ResourceType, report_violation: ReportViolation
) -> list[tuple[PolicyResource, AccountRef]]:
    """The resources of ``kind`` (projects, deployments, content filter policies) whose Foundry resource is known
    (see :func:`account_of`); one whose account or resource group name cannot be read is reported and left out,
    one whose account is unknown at preview is left out."""
    found = []
    for resource in _of(resources, kind):
        ref = account_of(resource)
        if isinstance(ref, Unreadable):
            report_violation(ref.sentence(_what(resource)), resource.urn)
        elif ref is not None:
            found.append((resource, ref))
    return found


def _foundry_model(props: Any) -> tuple[str, str] | list[Unreadable] | None:
    """A deployment's model format and name (trimmed); None when either is unknown or unset; the values that
    cannot be read."""
    given = (
        read_text(props, ("properties", "model", "format"), MODEL_FORMAT_FORM),
        read_text(props, ("properties", "model", "name"), MODEL_NAME_FORM),
    )
    unreadable = [value for value in given if isinstance(value, Unreadable)]
    if unreadable:
        return unreadable
    fmt, name = given
    return (fmt.strip(), name.strip()) if isinstance(fmt, str) and isinstance(name, str) else None


def _report_all(what: str, urn: str, values: Iterable[Unreadable], report_violation: ReportViolation) -> None:
    for value in values:
        report_violation(value.sentence(what), urn)


# --- 1. serverless-region-allowlist ------------------------------------------------------------------------

REGION_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedRegions": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "default": list(facts.catalog_facts().serverless_regions),
            "description": "Regions workspaces and serverless endpoints may be in; compared normalized "
            "('East US 2' equals 'eastus2'). Default: the regions that offer serverless model deployment.",
        }
    }
)


def check_region(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Workspaces of every kind and serverless endpoints. An unknown or unset location is skipped: the
    provider fills an unset one from its own config or the resource group, and the engine sends that at
    update time. A location that is not a string is reported."""
    kind = type_of(args.resource_type, WORKSPACE, SERVERLESS_ENDPOINT)
    if kind is None:
        return
    allowed = [str(region) for region in config_of(args.get_config(), REGION_SCHEMA)["allowedRegions"]]
    what = describe(kind, args.props, args.name)
    if kind is WORKSPACE:
        workspace_kind = read_str(args.props, "kind")
        if workspace_kind is MISSING or isinstance(workspace_kind, str):
            what += f" (kind {workspace_kind if isinstance(workspace_kind, str) else 'Default'})"
    location = read_text(args.props, ("location",), f"one of the allowed regions: {_listing(allowed)}")
    if isinstance(location, Unreadable):
        report_violation(location.sentence(what), args.urn)
        return
    if not isinstance(location, str):
        return
    if facts.normalize_region(location) in {facts.normalize_region(region) for region in allowed}:
        return
    report_violation(
        f"{what} is in {location!r}; allowed regions: {_listing(allowed)}. Move it to one of them "
        "(a resource's location cannot change in place: it is replaced), or add the region to "
        "allowedRegions in the policy config once Azure offers serverless models there.",
        args.urn,
    )


serverless_region_allowlist = ResourceValidationPolicy(
    name="serverless-region-allowlist",
    description="Workspaces, Foundry hubs and projects, and serverless endpoints must be in a region that "
    "offers serverless model deployment.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=REGION_SCHEMA,
    validate=check_region,
    remediation_steps="Set the location of the workspace, hub, project and endpoint to an allowed region "
    "(azure-maas: the 'location' key). If Azure has added a region, add it to allowedRegions in the policy config.",
    url=f"{LEARN}/ai-foundry/how-to/deploy-models-serverless-availability",
)


# --- 2. one-deployment-per-model ---------------------------------------------------------------------------


ONE_DEPLOYMENT_SCHEMA = PolicyConfigSchema(
    properties={
        "foundryAccounts": {
            "type": "boolean",
            "default": False,
            "description": "Also allow at most one deployment per model (format and name, any version) on each "
            "Foundry resource. A team rule, not Azure's: a Foundry resource takes several deployments of one "
            "model under different names.",
        }
    }
)


def _one_foundry_deployment(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Foundry deployments whose model or Foundry resource is unknown at preview are skipped; a Foundry resource
    whose name is unknown is known by the URN of the resource its name comes from."""
    seen: Located[PolicyResource] = Located()
    for deployment, where in _placed(args.resources, FOUNDRY_DEPLOYMENT, report_violation):
        model = _foundry_model(deployment.props)
        if isinstance(model, list):
            _report_all(_what(deployment), deployment.urn, model, report_violation)
            continue
        if model is None:
            continue
        key = facts.foundry_model_key(*model)
        first = seen.first(where, key)
        if first is None:
            seen.add(where, deployment, key)
            continue
        report_violation(
            f"{_what(first)} and {_what(deployment)} both deploy {model[0]}/{model[1]} on {where}; the policy "
            "config (foundryAccounts: true) allows one deployment per model on each Foundry resource (Azure itself "
            f"takes several). Remove {_what(deployment)} and call {_what(first)} instead, or set foundryAccounts "
            "to false.",
            deployment.urn,
        )


def check_one_deployment(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Endpoints whose model ID or workspace cannot be known at preview are skipped; a workspace whose
    name is unknown is known by the URN of the workspace resource its name comes from. Model IDs and names
    compare normalized; one that cannot be read is reported. With foundryAccounts, Foundry deployments are
    judged the same way per Foundry resource (model format and name compare trimmed and case-insensitively)."""
    seen: Located[PolicyResource] = Located()
    for endpoint in _endpoints(args.resources):
        model = _model_id(endpoint.props, SERVERLESS_ENDPOINT)
        where = placement(endpoint)
        if _unreadable(endpoint, (model, where), report_violation):
            continue
        if not isinstance(model, facts.ModelRef) or not isinstance(where, Placement):
            continue
        first = seen.first(where, model.key)
        if first is not None:
            report_violation(
                f"{_label(first)} and {_label(endpoint)} both deploy {model.text} into {where}; a workspace "
                f"or project holds one deployment per model, so Azure refuses the second. Remove "
                f"{_label(endpoint)}, or deploy it into another workspace or project.",
                endpoint.urn,
            )
        else:
            seen.add(where, endpoint, model.key)
    if config_of(args.get_config(), ONE_DEPLOYMENT_SCHEMA)["foundryAccounts"]:
        _one_foundry_deployment(args, report_violation)


one_deployment_per_model = StackValidationPolicy(
    name="one-deployment-per-model",
    description="At most one serverless endpoint per model in each workspace or project (Azure's rule); with "
    "foundryAccounts, also at most one deployment per model on each Foundry resource (a team rule).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=ONE_DEPLOYMENT_SCHEMA,
    validate=check_one_deployment,
    remediation_steps="Keep one endpoint per model in each workspace: share that endpoint, or put the second "
    "deployment in another workspace or project. Model IDs compare case-insensitively, without /versions/N. "
    "With foundryAccounts, keep one deployment per model on each Foundry resource the same way.",
    url=f"{LEARN}/ai-foundry/how-to/deploy-models-serverless",
)


# --- 3. marketplace-subscription-required ------------------------------------------------------------------

SUBSCRIPTION_SCHEMA = PolicyConfigSchema(
    properties={
        "externalSubscriptions": {
            "type": "array",
            "default": [],
            "description": "Marketplace subscriptions managed outside the stack, accepted in place of one "
            "in it: the workspace name, the model ID and optionally the resource group.",
            "items": {
                "type": "object",
                "required": ["workspaceName", "modelId"],
                "additionalProperties": False,
                "properties": {
                    "workspaceName": {"type": "string", "minLength": 1},
                    "modelId": {"type": "string", "pattern": MODEL_ID_PATTERN},
                    "resourceGroupName": {"type": "string", "minLength": 1},
                },
            },
        }
    }
)


def _same_name(given: object, part: Part) -> bool:
    try:
        return facts.canonical_name(str(given)).lower() == part.key
    except ValueError:
        return False


def _external(config: dict[str, Any], where: Placement, model: str) -> bool:
    for entry in config["externalSubscriptions"]:
        if facts.canonical_model_id(str(entry["modelId"])) != model:
            continue
        if not _same_name(entry["workspaceName"], where.workspace):
            continue
        group = entry.get("resourceGroupName")
        if group is None or where.resource_group is None or _same_name(group, where.resource_group):
            return True
    return False


def check_marketplace_subscription(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Endpoints whose model ID or workspace is unknown at preview are skipped; workspaces are matched like
    in one-deployment-per-model. A model ID or name of an endpoint or a subscription that cannot be read is
    reported (such a subscription counts for no endpoint)."""
    config = config_of(args.get_config(), SUBSCRIPTION_SCHEMA)
    subscriptions: Located[PolicyResource] = Located()
    for s in args.resources:
        if not MARKETPLACE_SUBSCRIPTION.matches(s.resource_type):
            continue
        model, where = _model_id(s.props, MARKETPLACE_SUBSCRIPTION), placement(s)
        readable = not _unreadable(s, (model, where), report_violation)
        if readable and isinstance(model, facts.ModelRef) and isinstance(where, Placement):
            subscriptions.add(where, s, model.key)
    dependencies = Dependencies(args.resources)
    for endpoint in _endpoints(args.resources):
        model = _model_id(endpoint.props, SERVERLESS_ENDPOINT)
        if _unreadable(endpoint, (model,), report_violation):
            continue
        if not isinstance(model, facts.ModelRef) or not model.sold_through_marketplace:
            continue
        where = placement(endpoint)
        if _unreadable(endpoint, (where,), report_violation) or not isinstance(where, Placement):
            continue
        matching = subscriptions.matching(where, model.key)
        if not matching:
            if not _external(config, where, model.key):
                report_violation(
                    f"{_label(endpoint)} deploys {model.text}, which is sold through Azure Marketplace, but "
                    f"{where} has no marketplace subscription to it in this stack. Add a "
                    "MarketplaceSubscription with this modelId in that workspace and make the endpoint depend "
                    "on it, or list the subscription under externalSubscriptions in the policy config if it "
                    "is managed elsewhere.",
                    endpoint.urn,
                )
        elif not dependencies.depends_on(endpoint, matching):
            subscription = matching[0]
            report_violation(
                f"{_label(endpoint)} does not depend on "
                f"{describe(MARKETPLACE_SUBSCRIPTION, subscription.props, subscription.name)}; without the "
                "dependency the endpoint can be created before the subscription exists, and the subscription "
                "deleted while the endpoint still uses it. Add depends_on=[subscription] to the endpoint.",
                endpoint.urn,
            )


marketplace_subscription_required = StackValidationPolicy(
    name="marketplace-subscription-required",
    description="A serverless endpoint of a partner model needs a marketplace subscription to that model in "
    "its workspace, and must depend on it.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=SUBSCRIPTION_SCHEMA,
    validate=check_marketplace_subscription,
    remediation_steps="Create one MarketplaceSubscription per workspace and partner model (models outside "
    "Microsoft's azureml registry) and give each endpoint depends_on on it. Subscriptions managed outside the "
    "stack go under externalSubscriptions in the policy config.",
    url=f"{LEARN}/ai-foundry/how-to/deploy-models-serverless",
)


# --- 4. endpoint-name ---------------------------------------------------------------------------------------


def check_endpoint_names(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """An unknown or unset name is skipped (the provider names an unnamed endpoint, and the engine sends
    that name at update time); names are unique per region only among endpoints whose region is known. A
    name or location that is not a string is reported."""
    seen: dict[tuple[str, str], PolicyResource] = {}
    for endpoint in _endpoints(args.resources):
        name = read_text(endpoint.props, ("name",), f"an endpoint name: {facts.ENDPOINT_NAME.valid}")
        if _unreadable(endpoint, (name,), report_violation) or not isinstance(name, str):
            continue
        problem = facts.ENDPOINT_NAME.problem(name)
        if problem:
            report_violation(
                f"{_label(endpoint)}: {problem}. The name becomes the host name "
                "https://<name>.<region>.models.ai.azure.com; rename the endpoint.",
                endpoint.urn,
            )
            continue
        location = read_text(endpoint.props, ("location",), "a region name, such as 'eastus2'")
        if _unreadable(endpoint, (location,), report_violation) or not isinstance(location, str):
            continue
        region = facts.normalize_region(location)
        first = seen.setdefault((region, name.lower()), endpoint)
        if first is not endpoint:
            report_violation(
                f"{_label(endpoint)} (Pulumi name {endpoint.name!r}) has the same name as {_label(first)} (Pulumi "
                f"name {first.name!r}), and both are in {region}; the name is the host of "
                f"https://{name.lower()}.{region}.models.ai.azure.com, so it must be unique in the region. "
                "Rename one of them.",
                endpoint.urn,
            )


endpoint_name = StackValidationPolicy(
    name="endpoint-name",
    description="Serverless endpoint names must be valid DNS labels and unique per region, because the name is "
    "part of the endpoint's URL.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    validate=check_endpoint_names,
    remediation_steps=f"Name each endpoint with {facts.ENDPOINT_NAME.valid}, and give endpoints in the same "
    "region different names.",
    url=f"{LEARN}/azure-resource-manager/management/resource-name-rules#microsoftmachinelearningservices",
)


# --- 5. content-safety-enabled ------------------------------------------------------------------------------


CONTENT_SAFETY_SCHEMA = PolicyConfigSchema(
    properties={
        "exceptions": {
            "type": "object",
            "propertyNames": {"pattern": "^[^/]+/[^/]+$"},
            "additionalProperties": {"type": "string", "minLength": 10},
            "default": {},
            "description": "Serverless endpoints that may run without content safety, as '<workspace>/<endpoint>' "
            "(their Azure names, compared case-insensitively) mapped to the reason, at least 10 characters, which "
            "reviewers read in the stack's policy config. Default: none.",
        }
    }
)


def check_content_safety(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """An unknown status is skipped; an unset one is a violation (filtering would depend on a service default),
    and so is one that cannot be read. An endpoint listed under ``exceptions`` (by workspace and endpoint name,
    both known) is not judged."""
    if not SERVERLESS_ENDPOINT.matches(args.resource_type):
        return
    status = read_text(args.props, ("properties", "contentSafety", "contentSafetyStatus"), "'Enabled'")
    if status is UNKNOWN or (isinstance(status, str) and status.lower() == "enabled"):
        return
    exceptions = {str(key).lower() for key in config_of(args.get_config(), CONTENT_SAFETY_SCHEMA)["exceptions"]}
    workspace, name = read_str(args.props, "workspaceName"), arm_name(SERVERLESS_ENDPOINT, args.props)
    if isinstance(workspace, str) and isinstance(name, str) and f"{workspace}/{name}".lower() in exceptions:
        return
    what = describe(SERVERLESS_ENDPOINT, args.props, args.name)
    if isinstance(status, Unreadable):
        report_violation(status.sentence(what), args.urn)
        return
    found = (
        f"content safety {status!r}" if isinstance(status, str) else "no properties.contentSafety.contentSafetyStatus"
    )
    report_violation(
        f"{what} has {found}; only 'Enabled' is allowed. Set properties.contentSafety.contentSafetyStatus "
        "to 'Enabled' (azure-maas: leave contentSafety at its default, true), or list the endpoint under this "
        "policy's exceptions as '<workspace>/<endpoint>' with the reason.",
        args.urn,
    )


content_safety_enabled = ResourceValidationPolicy(
    name="content-safety-enabled",
    description="Serverless endpoints must keep Azure AI Content Safety filtering of prompts and completions on.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    validate=check_content_safety,
    config_schema=CONTENT_SAFETY_SCHEMA,
    remediation_steps="Set properties.contentSafety.contentSafetyStatus to 'Enabled' on every serverless endpoint. "
    "A team that must turn filtering off for one endpoint lists it under this policy's exceptions, "
    "'<workspace>/<endpoint>': '<reason>', in the stack's policy config (azure-maas: Pulumi.<stack>.policy.json).",
    url=f"{LEARN}/ai-foundry/concepts/content-filtering",
)


# --- 6. approved-models and no-retired-models ----------------------------------------------------------------

APPROVED_SCHEMA = PolicyConfigSchema(
    properties={
        "approvedModels": {
            "type": "array",
            "items": {"type": "string", "pattern": MODEL_ID_PATTERN},
            "default": [],
            "description": "Model IDs that may be deployed or subscribed to (compared case-insensitively, "
            "without /versions/N). Empty: every model. A catalog model approved here is approved on Foundry "
            "resources too.",
        },
        "approvedFoundryModels": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^[^/]+/[^/]+$"},
            "default": [],
            "description": "Foundry models that may be deployed on Foundry resources, as 'Format/name' "
            "(e.g. 'Mistral AI/mistral-small-2503'; compared trimmed and case-insensitively, any version). When "
            "both lists are empty, every model is approved.",
        },
    }
)


def _approved_foundry(
    args: ResourceValidationArgs, config: Mapping[str, Any], report_violation: ReportViolation
) -> None:
    """A Foundry deployment is judged when either list is set: a team that restricts serverless models does
    not open Foundry resources to every model by upgrading the pack."""
    approved_ids = [str(m).strip() for m in config["approvedModels"]]
    approved = [str(m).strip() for m in config["approvedFoundryModels"]]
    if not approved and not approved_ids:
        return
    what = describe(FOUNDRY_DEPLOYMENT, args.props, args.name)
    model = _foundry_model(args.props)
    if isinstance(model, list):
        _report_all(what, args.urn, model, report_violation)
        return
    if model is None:
        return
    key = facts.foundry_model_key(*model)
    if key in {facts.foundry_model_key(*m.split("/", 1)) for m in approved}:
        return
    row = facts.catalog_facts().by_foundry_model(*model)
    if (
        row is not None
        and row.model_id
        and facts.canonical_model_id(row.model_id) in {facts.canonical_model_id(m) for m in approved_ids}
    ):
        return
    label = f"{model[0]}/{model[1]}"
    report_violation(
        f"{what} deploys {label}, which is not approved; approved Foundry models: {_listing(approved)}; approved "
        f"model IDs (their catalog models are approved on Foundry resources too): {_listing(approved_ids)}. Deploy "
        f"an approved model, or have {label!r} added to approvedFoundryModels in the policy config.",
        args.urn,
    )


def check_approved(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Endpoints and subscriptions; an unknown or unset model ID is skipped, one that cannot be read is reported;
    model IDs compare normalized. Foundry deployments by model format and name (see :func:`_approved_foundry`)."""
    config = config_of(args.get_config(), APPROVED_SCHEMA)
    if FOUNDRY_DEPLOYMENT.matches(args.resource_type):
        _approved_foundry(args, config, report_violation)
        return
    kind = type_of(args.resource_type, SERVERLESS_ENDPOINT, MARKETPLACE_SUBSCRIPTION)
    approved = [str(m) for m in config["approvedModels"]]
    if kind is None or not approved:
        return
    what = describe(kind, args.props, args.name)
    model = _model_id(args.props, kind)
    if isinstance(model, Unreadable):
        report_violation(model.sentence(what), args.urn)
        return
    if model is None or model.key in {facts.canonical_model_id(m) for m in approved}:
        return
    report_violation(
        f"{what} uses {model.text}, which is not approved; approved models: "
        f"{_listing(approved)}. Use an approved model, or have it added to approvedModels in the policy config.",
        args.urn,
    )


approved_models = ResourceValidationPolicy(
    name="approved-models",
    description="Only approved models may be deployed or subscribed to: serverless models by model ID "
    "(approvedModels), Foundry deployments by 'Format/name' (approvedFoundryModels) or by the model ID of the same "
    "catalog model; empty lists approve every model.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=APPROVED_SCHEMA,
    validate=check_approved,
    remediation_steps="Deploy a model from approvedModels or approvedFoundryModels, or add the model ID to "
    "approvedModels (serverless, and the same catalog model on Foundry resources) or 'Format/name' to "
    "approvedFoundryModels (Foundry resources) in the policy config.",
    url=f"{LEARN}/ai-foundry/concepts/model-lifecycle-retirement",
)

LIFECYCLE_SCHEMA = PolicyConfigSchema(
    properties={
        "today": {
            "type": "string",
            "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
            "description": "The date models are judged on (YYYY-MM-DD). Default: the current date. Set it to "
            "see which deployments a coming retirement will break.",
        },
        "allowDeprecated": {
            "type": "boolean",
            "default": False,
            "description": "Accept deprecated models (Azure refuses new deployments of them, existing ones "
            "keep working until the retirement date): set it to keep an existing deployment until then.",
        },
    }
)


def _lifecycle_model(
    args: ResourceValidationArgs, what: str, report_violation: ReportViolation
) -> tuple[facts.CatalogModel, str] | None:
    """The catalog model a serverless endpoint or a Foundry deployment deploys, and how the resource names it;
    None when it is unknown, unset or outside the catalog; a value that cannot be read is reported."""
    catalog = facts.catalog_facts()
    if FOUNDRY_DEPLOYMENT.matches(args.resource_type):
        given = _foundry_model(args.props)
        if isinstance(given, list):
            _report_all(what, args.urn, given, report_violation)
            return None
        model = catalog.by_foundry_model(*given) if given else None
        return (model, f"{given[0]}/{given[1]}") if given and model else None
    found = _model_id(args.props, SERVERLESS_ENDPOINT)
    if isinstance(found, Unreadable):
        report_violation(found.sentence(what), args.urn)
        return None
    model = catalog.by_model_id(found.text) if found else None
    return (model, found.text) if found and model else None


def check_lifecycle(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Serverless endpoints and Foundry deployments of catalog models (endpoints by model ID, compared
    normalized; deployments by model format and name, trimmed and case-insensitive); a model outside the catalog
    has no lifecycle data and passes; an unknown or unset model is skipped, one that cannot be read is reported."""
    kind = type_of(args.resource_type, SERVERLESS_ENDPOINT, FOUNDRY_DEPLOYMENT)
    if kind is None:
        return
    what = describe(kind, args.props, args.name)
    found_model = _lifecycle_model(args, what, report_violation)
    if found_model is None:
        return
    model, given = found_model
    catalog = facts.catalog_facts()
    config = config_of(args.get_config(), LIFECYCLE_SCHEMA)
    try:
        today = dt.date.fromisoformat(config["today"]) if config.get("today") else dt.date.today()
    except ValueError:
        report_violation(f"the policy config's today={config['today']!r} is not a date; use YYYY-MM-DD.", args.urn)
        return
    stage = model.stage_on(today)
    noun = "endpoints" if kind is SERVERLESS_ENDPOINT else "deployments"
    if stage == "Retired":
        since = f"since {model.retirement_date.isoformat()}" if model.retirement_date else "already"
        found = f"retired {since}: its {noun} answer 410 Gone"
    elif stage == "Deprecated" and not config["allowDeprecated"]:
        since = f"since {model.deprecation_date.isoformat()}" if model.deprecation_date else "already"
        until = f" until {model.retirement_date.isoformat()}" if model.retirement_date else ""
        found = f"deprecated {since}: Azure accepts no new deployments, existing ones keep working{until}"
    else:
        return
    replacement = catalog.replacement_on(model, today)
    if replacement is None:
        fix = "No replacement is announced; choose another model"
    elif kind is FOUNDRY_DEPLOYMENT:
        if replacement.foundry is not None:
            fix = f"Move to {replacement.foundry_label}"
        else:
            fix = f"Move to {replacement.label} (offered only as a serverless API, not on Foundry resources)"
    elif "serverless" in replacement.channels:
        fix = f"Move to {replacement.label}"
    else:
        fix = f"Move to {replacement.label} (offered only on Foundry resources, not as a serverless API)"
    if stage == "Deprecated":
        fix += ", or set allowDeprecated in the policy config to keep an existing deployment until it retires"
    report_violation(
        f"{what} deploys {model.name} ({given}), {found} (judged on {today.isoformat()}; "
        f"catalog as of {catalog.as_of.isoformat()}). {fix}.",
        args.urn,
    )


no_retired_models = ResourceValidationPolicy(
    name="no-retired-models",
    description="Serverless endpoints and Foundry deployments must not deploy a retired model (it answers 410 Gone) "
    "or a deprecated one (Azure refuses new deployments).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=LIFECYCLE_SCHEMA,
    validate=check_lifecycle,
    remediation_steps="Redeploy on the replacement model the message names. Lifecycle dates come from the pack's "
    "catalog.yaml (Microsoft's model lifecycle and retirement schedule); update it when the schedule changes.",
    url=f"{LEARN}/ai-foundry/concepts/model-lifecycle-retirement",
)


# --- 7. rbac-least-privilege --------------------------------------------------------------------------------

RBAC_SCHEMA = PolicyConfigSchema(
    properties={
        "forbiddenRoles": {
            "type": "array",
            "items": {"type": "string", "pattern": GUID_PATTERN},
            "default": sorted(facts.PRIVILEGED_ROLES),
            "description": "Role definition GUIDs never assigned. Default: Owner, Contributor, User Access "
            "Administrator and Role Based Access Control Administrator.",
        },
        "subscriptionScopeRoles": {
            "type": "array",
            "items": {"type": "string", "pattern": GUID_PATTERN},
            "default": [],
            "description": "Role definition GUIDs of marketplace-ordering roles managed outside the stack, which "
            "may be assigned at the subscription.",
        },
        "foundryManagerRoles": {
            "type": "array",
            "items": {"type": "string", "pattern": GUID_PATTERN},
            "default": sorted(facts.FOUNDRY_MANAGER_ROLES),
            "description": "Role definition GUIDs that manage Foundry resources (deploy models, change settings, "
            "grant roles): assigned only to deployerPrincipals, and only at a Foundry resource or inside one. "
            "Default: Foundry Owner, Foundry Account Owner, Cognitive Services Contributor and Cognitive Services "
            "OpenAI Contributor.",
        },
        "deployerPrincipals": {
            "type": "array",
            "items": {"type": "string", "pattern": GUID_PATTERN},
            "default": [],
            "description": "Object IDs of the principals that deploy (the pipeline running pulumi up), which may "
            "hold a foundryManagerRoles role at the Foundry resource they deploy to. Empty: nobody may.",
        },
    }
)


def _foundry_scope_from_dependencies(assignment: PolicyResource) -> bool | None:
    """Whether an unknown scope comes from a Foundry resource (or a project or deployment of one); None when it
    comes from no resource of the stack."""
    origins = assignment.property_dependencies.get("scope", [])
    if not origins:
        return None
    kinds = (FOUNDRY_ACCOUNT, FOUNDRY_PROJECT, FOUNDRY_DEPLOYMENT)
    return any(type_of(origin.resource_type, *kinds) for origin in origins)


def _check_foundry_manager(
    assignment: PolicyResource, guid: str, config: Mapping[str, Any], report_violation: ReportViolation
) -> None:
    """A role of foundryManagerRoles: only a deployer principal, only at a Foundry resource. An unknown
    principal is judged at update time unless nobody may hold the role; an unknown scope by the resources it
    comes from."""
    what = f"role assignment {assignment.name!r}"
    role = f"{facts.FOUNDRY_ROLE_NAMES.get(guid, 'Foundry manager role')} ({guid})"
    deployers = sorted({str(p).lower() for p in config["deployerPrincipals"]})
    principal = read_guid(assignment.props, "principalId")
    if isinstance(principal, Unreadable):
        report_violation(principal.sentence(what), assignment.urn)
        return
    if isinstance(principal, str) and principal in deployers:
        scope = read_scope(assignment.props)
        if isinstance(scope, Unreadable):
            report_violation(scope.sentence(what), assignment.urn)
            return
        at_foundry = (
            facts.is_foundry_scope(scope) if isinstance(scope, str) else _foundry_scope_from_dependencies(assignment)
        )
        if at_foundry is not False:
            return
        where = f"scope {scope!r}" if isinstance(scope, str) else "a scope that comes from no Foundry resource"
        report_violation(
            f"{what} grants {role} to deployer principal {principal} at {where}; a deployer holds it only on the "
            "Foundry resource it deploys to. Assign it with the Foundry resource's ID as scope.",
            assignment.urn,
        )
        return
    if principal is UNKNOWN and deployers:
        return  # the principal is not known at preview: judged at update time
    who = f"principal {principal}" if isinstance(principal, str) else "a principal not known before the update"
    who += f", which is not one of deployerPrincipals ({_listing(deployers)})" if deployers else ""
    managers = _listing(
        sorted(facts.FOUNDRY_ROLE_NAMES.get(g, g) for g in {str(r).lower() for r in config["foundryManagerRoles"]})
    )
    none = "" if deployers else " (none are configured, so nobody may hold them)"
    report_violation(
        f"{what} grants {role} to {who}; roles that manage Foundry resources ({managers}) are only for the "
        f"pipeline that deploys, listed in deployerPrincipals{none}. Grant Foundry User ({facts.FOUNDRY_USER}) to "
        "people and applications that call models, or list the pipeline's principal under deployerPrincipals in "
        "the policy config.",
        assignment.urn,
    )


def _scope_from_dependencies(assignment: PolicyResource) -> str | None:
    """The breadth of an unknown scope, judged from the resources it comes from: any resource other than a
    management group or a subscription alias is a resource group or narrower (None)."""
    for origin in assignment.property_dependencies.get("scope", []):
        if ":management:ManagementGroup" in origin.resource_type:
            return "management group"
        if ":subscription:Alias" in origin.resource_type:
            return "subscription"
    return None


def _role_definition(
    assignment: PolicyResource, definitions: Mapping[str, PolicyResource], guid: str | None
) -> PolicyResource | None:
    origins = [
        d
        for d in assignment.property_dependencies.get("roleDefinitionId", [])
        if ROLE_DEFINITION.matches(d.resource_type)
    ]
    if origins:
        return origins[0]
    return definitions.get(guid) if guid is not None else None


def _every_action(pattern: str) -> bool:
    return re.sub(r"\*+", "*", pattern) in ("*", "*/*")


def _owner_like(permissions: list[Permission]) -> str | None:
    """Why a custom role is as strong as an owner-like built-in role, or None.

    An action that writes role assignments or role definitions (``*``, ``*/write``, ``Microsoft.Authorization/*``,
    ``.../roleDefinitions/write``...) and is not taken away by a ``notActions`` entry of its block makes the
    role as strong as User Access Administrator or Owner: it can grant anything, or rewrite itself to ``*``.
    ``*`` (or ``*/*``) whose role writes are taken away still allows every other action: as broad as
    Contributor, which ``forbiddenRoles`` forbids by default."""
    for permission in permissions:
        writing = facts.role_writing_action(permission.actions, permission.not_actions)
        if writing is not None:
            return f"whose action {writing!r} is as broad as Owner or User Access Administrator"
    for permission in permissions:
        for action in permission.actions:
            if _every_action(action):
                return (
                    f"whose action {action!r} allows every action of every resource provider, which is as broad "
                    "as Contributor"
                )
    return None


def _marketplace_only(permissions: list[Permission]) -> bool:
    granted = [a for p in permissions for a in (*p.actions, *p.data_actions)]
    return bool(granted) and all(a.lower().startswith(facts.MARKETPLACE_ACTION_PREFIXES) for a in granted)


def check_rbac(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Role assignments. An unknown role definition ID is resolved through its property dependency on a role
    definition in the stack; an unknown scope is judged from the resources it comes from (a resource group or
    any resource is narrow enough); what stays unknown is skipped. Scopes, role definition IDs and GUIDs are
    judged after normalization (case, braces, white space, slashes); one that cannot be read is reported, and
    so are a custom role's permissions that cannot be read. Roles that manage Foundry resources are judged by
    :func:`_check_foundry_manager` instead of the scope rule."""
    config = config_of(args.get_config(), RBAC_SCHEMA)
    forbidden = {str(g).lower() for g in config["forbiddenRoles"]}
    subscription_roles = {str(g).lower() for g in config["subscriptionScopeRoles"]}
    managers = {str(g).lower() for g in config["foundryManagerRoles"]}
    definitions: dict[str, PolicyResource] = {}
    for custom in (r for r in args.resources if ROLE_DEFINITION.matches(r.resource_type)):
        own = read_guid(custom.props, "roleDefinitionId")
        if isinstance(own, Unreadable):
            report_violation(own.sentence(f"role definition {custom.name!r}"), custom.urn)
        elif isinstance(own, str):
            definitions.setdefault(own, custom)
    for assignment in (r for r in args.resources if ROLE_ASSIGNMENT.matches(r.resource_type)):
        what = f"role assignment {assignment.name!r}"
        role = read_role_definition_guid(assignment.props)
        if isinstance(role, Unreadable):
            report_violation(role.sentence(what), assignment.urn)
            continue
        guid = role if isinstance(role, str) else None
        definition = _role_definition(assignment, definitions, guid)
        if guid in forbidden:
            name = facts.PRIVILEGED_ROLES.get(guid or "", "a forbidden role")
            report_violation(
                f"{what} grants {name} ({guid}); forbidden roles: "
                f"{_listing(sorted(facts.PRIVILEGED_ROLES.get(g, g) for g in forbidden))}. Grant Azure AI "
                f"Developer ({facts.AZURE_AI_DEVELOPER}) on the resource group, or least-privilege custom roles.",
                assignment.urn,
            )
            continue
        if guid is not None and guid in managers:
            _check_foundry_manager(assignment, guid, config, report_violation)
            continue
        permissions = read_permissions(definition.props) if definition is not None else None
        if definition is not None and isinstance(permissions, Unreadable):
            report_violation(permissions.sentence(f"{what} grants custom role {definition.name!r}"), assignment.urn)
            continue
        granted = permissions if isinstance(permissions, list) else None
        owner_like = _owner_like(granted) if granted is not None else None
        if definition is not None and owner_like is not None:
            report_violation(
                f"{what} grants custom role {definition.name!r}, {owner_like}. List only the actions the role needs.",
                assignment.urn,
            )
            continue
        given = read_scope(assignment.props)
        if isinstance(given, Unreadable):
            report_violation(given.sentence(what), assignment.urn)
            continue
        breadth = facts.scope_breadth(given) if isinstance(given, str) else _scope_from_dependencies(assignment)
        if breadth is None:
            continue
        if breadth == "subscription":
            if guid in subscription_roles:
                continue
            if definition is not None:
                if granted is None:
                    continue  # the role's actions are not known at preview: judged at update time
                if _marketplace_only(granted):
                    continue
            elif guid is None:
                continue  # the role is not known at preview: judged at update time
        where = f"{breadth} {given!r}" if isinstance(given, str) else breadth
        report_violation(
            f"{what} is at the {where}; nothing broader than a resource group is allowed, except a "
            "marketplace-ordering role (only Microsoft.MarketplaceOrdering/*, Microsoft.Marketplace/* and "
            "Microsoft.SaaS/register/action) at the subscription. Assign it on the resource group or the "
            "workspace, or list a marketplace role managed elsewhere under subscriptionScopeRoles.",
            assignment.urn,
        )


rbac_least_privilege = StackValidationPolicy(
    name="rbac-least-privilege",
    description="Role assignments grant no owner-like role and nothing broader than a resource group, except "
    "the marketplace-ordering role at the subscription; roles that manage Foundry resources go only to deployer "
    "principals, at a Foundry resource.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    config_schema=RBAC_SCHEMA,
    validate=check_rbac,
    remediation_steps="Grant Azure AI Developer on the resource group, or the least-privilege custom roles: "
    "marketplace ordering at the subscription, SaaS resources at the resource group, serverless endpoints and "
    "marketplace subscriptions at the workspace. On Foundry resources grant Foundry User to people and "
    "applications; Foundry Account Owner only to the deploying pipeline (listed in deployerPrincipals), at its "
    "Foundry resource.",
    url=f"{LEARN}/role-based-access-control/best-practices",
)


# --- 8. required-tags ---------------------------------------------------------------------------------------

TAGS_SCHEMA = PolicyConfigSchema(
    properties={
        "requiredTags": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": ["cost-center", "environment"],
            "description": "Tag names every workspace and serverless endpoint carries (compared case-insensitively, as Azure does).",
        }
    }
)


def check_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Workspaces and serverless endpoints; unknown tags are skipped (an unknown value still counts as present);
    tags that are not an object are reported."""
    kind = type_of(args.resource_type, WORKSPACE, SERVERLESS_ENDPOINT)
    if kind is None:
        return
    required = [str(t) for t in config_of(args.get_config(), TAGS_SCHEMA)["requiredTags"]]
    what = describe(kind, args.props, args.name)
    tags = lookup(args.props, ("tags",), "")
    if tags is UNKNOWN:
        return
    if tags is not MISSING and not isinstance(tags, Mapping):
        expected = f"an object of tag names to values, with the tags {_listing(required)}"
        report_violation(Unreadable.wrong_type(("tags",), tags, "an object", expected).sentence(what), args.urn)
        return
    present = {str(k).lower() for k in tags} if isinstance(tags, Mapping) else set()
    missing = [t for t in required if t.lower() not in present]
    if missing:
        report_violation(
            f"{what} lacks the tags {_listing(missing)} "
            f"(has: {_listing(sorted(present))}). Add them (azure-maas: the 'tags' key applies to every resource).",
            args.urn,
        )


required_tags = ResourceValidationPolicy(
    name="required-tags",
    description="Workspaces and serverless endpoints carry the tags cost reports and owners rely on.",
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    config_schema=TAGS_SCHEMA,
    validate=check_tags,
    remediation_steps="Add every tag in requiredTags to the resource; configure the list in the policy config.",
    url=f"{LEARN}/azure-resource-manager/management/tag-resources",
)


# --- 9. foundry-region-allowlist ----------------------------------------------------------------------------

FOUNDRY_REGION_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedRegions": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "default": list(facts.catalog_facts().foundry_regions),
            "description": "Regions Foundry resources and their projects may be in (a deployment runs in its "
            "Foundry resource's region); compared normalized ('West Europe' equals 'westeurope'). Default: every "
            "region the catalog lists for any deployment type of any Foundry model.",
        }
    }
)


def _outside(resource: PolicyResource, allowed: list[str], report_violation: ReportViolation) -> str | None:
    """The location of ``resource`` when it is known and not allowed; a location that cannot be read is
    reported. An unknown or unset one passes: the provider fills an unset one (from its config or the resource
    group) and the engine sends it at update time."""
    location = read_text(resource.props, ("location",), f"one of the allowed regions: {_listing(allowed)}")
    if isinstance(location, Unreadable):
        report_violation(location.sentence(_what(resource)), resource.urn)
        return None
    if not isinstance(location, str):
        return None
    wanted = {facts.normalize_region(region) for region in allowed}
    return None if facts.normalize_region(location) in wanted else location


def check_foundry_region(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Foundry resources and projects by their location; deployments by the location of their Foundry resource
    when it is in the stack (found by name and resource group, or by the property dependency of an unknown
    accountName). Unknown or unset locations are skipped; one that cannot be read is reported."""
    allowed = [str(region) for region in config_of(args.get_config(), FOUNDRY_REGION_SCHEMA)["allowedRegions"]]
    fix = (
        "(a resource's location cannot change in place: it is replaced), or add the region to allowedRegions in "
        "the policy config."
    )
    outside: dict[str, str] = {}
    for resource in (*_of(args.resources, FOUNDRY_ACCOUNT), *_of(args.resources, FOUNDRY_PROJECT)):
        location = _outside(resource, allowed, report_violation)
        if location is None:
            continue
        outside[resource.urn] = location
        report_violation(
            f"{_what(resource)} is in {location!r}; allowed regions: {_listing(allowed)}. Move it to one of them {fix}",
            resource.urn,
        )
    accounts = _located(_accounts(args.resources, _ignore))
    for deployment, where in _placed(args.resources, FOUNDRY_DEPLOYMENT, report_violation):
        account = find_account(where, accounts)
        if account is None or account.urn not in outside:
            continue
        report_violation(
            f"{_what(deployment)} runs in {outside[account.urn]!r}, the region of {_what(account)}; allowed regions: "
            f"{_listing(allowed)}. Deploy it on a Foundry resource in one of them, or add the region to allowedRegions "
            "in the policy config.",
            deployment.urn,
        )


foundry_region_allowlist = StackValidationPolicy(
    name="foundry-region-allowlist",
    description="Foundry resources, their projects and their deployments must be in an allowed region (by "
    "default one that offers Foundry model deployments).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=FOUNDRY_REGION_SCHEMA,
    validate=check_foundry_region,
    remediation_steps="Set the location of the Foundry resource and its projects to an allowed region (azure-maas: "
    "the 'location' key); its deployments follow it. Teams with data-residency rules narrow allowedRegions in the "
    "policy config.",
    url=f"{LEARN}/foundry/foundry-models/concepts/models-from-partners",
)


# --- 10. foundry-deployment-types ---------------------------------------------------------------------------

DEPLOYMENT_TYPES_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedDeploymentTypes": {
            "type": "array",
            "items": {"type": "string", "enum": list(facts.DEPLOYMENT_TYPES)},
            "minItems": 1,
            "default": list(facts.DEPLOYMENT_TYPES),
            "description": "Deployment types (sku names) Foundry deployments may use. Default: all nine. Teams "
            "with data-residency rules leave out the Global types, which may process data in any region.",
        }
    }
)


def _catalog_sku(
    deployment: PolicyResource,
    sku: str,
    accounts: Located[PolicyResource],
    report_violation: ReportViolation,
) -> None:
    """A catalog model must be deployed with a deployment type the catalog lists for it, in a region the catalog
    lists for that type (the region of its Foundry resource, when that is in the stack and its location known)."""
    what = _what(deployment)
    model = _foundry_model(deployment.props)
    if isinstance(model, list):
        _report_all(what, deployment.urn, model, report_violation)
        return
    catalog = facts.catalog_facts()
    row = catalog.by_foundry_model(*model) if model else None
    if row is None or row.foundry is None:
        return
    offer, as_of = row.foundry, catalog.as_of.isoformat()
    listed = offer.sku(sku)
    if listed is None:
        report_violation(
            f"{what} deploys {row.foundry_label} as {sku!r}, a deployment type the catalog (as of {as_of}) does not "
            f"list for it; offered: {_listing(offer.skus)}. Azure refuses it: use one of those types (or update "
            "the pack's catalog.yaml if Azure now offers it).",
            deployment.urn,
        )
        return
    where = account_of(deployment)
    account = find_account(where, accounts) if isinstance(where, AccountRef) else None
    location = read_str(account.props, "location") if account is not None else MISSING
    if account is None or not isinstance(location, str) or offer.offers(listed, location):
        return
    others = offer.skus_in(location)
    other = f", or deploy it as {_and(others)}, which the catalog lists there" if others else ""
    report_violation(
        f"{what} deploys {row.foundry_label} as {listed} in {location!r} (the region of {_what(account)}), where "
        f"the catalog (as of {as_of}) does not list that type for it; {listed} regions: "
        f"{_listing(offer.skus[listed])}. Azure refuses it: use a Foundry resource in one of them{other} (or "
        "update the pack's catalog.yaml if Azure now offers it there).",
        deployment.urn,
    )


def check_deployment_types(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Foundry deployments: sku.name must be an allowed deployment type (compared case-insensitively; unset is a
    violation: the type decides where data is processed); a catalog model (by format and name) must use a type
    and region the catalog lists for it. An unknown sku or model is skipped; one that cannot be read is
    reported."""
    allowed = [str(t) for t in config_of(args.get_config(), DEPLOYMENT_TYPES_SCHEMA)["allowedDeploymentTypes"]]
    accounts = _located(_accounts(args.resources, report_violation))
    for deployment in _of(args.resources, FOUNDRY_DEPLOYMENT):
        what = _what(deployment)
        sku = read_text(deployment.props, ("sku", "name"), f"one of the allowed deployment types: {_listing(allowed)}")
        if isinstance(sku, Unreadable):
            report_violation(sku.sentence(what), deployment.urn)
            continue
        if sku is UNKNOWN:
            continue
        if not isinstance(sku, str):
            report_violation(
                f"{what} has no sku.name; allowed deployment types: {_listing(allowed)}. Set sku.name to one of "
                "them: the deployment type decides where Azure may process the data.",
                deployment.urn,
            )
            continue
        if sku.strip().lower() not in {t.lower() for t in allowed}:
            report_violation(
                f"{what} is of deployment type {sku!r}; allowed deployment types: {_listing(allowed)}. Use one of "
                "them, or add the type to allowedDeploymentTypes in the policy config.",
                deployment.urn,
            )
            continue
        _catalog_sku(deployment, sku.strip(), accounts, report_violation)


foundry_deployment_types = StackValidationPolicy(
    name="foundry-deployment-types",
    description="Foundry deployments must use an allowed deployment type (sku), one the catalog lists for their "
    "model in their Foundry resource's region.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=DEPLOYMENT_TYPES_SCHEMA,
    validate=check_deployment_types,
    remediation_steps="Set sku.name of each deployment to an allowed deployment type the model offers in the "
    "Foundry resource's region (azure-maas: the deployment's 'sku' key; `maas models --channel foundry` lists "
    "them). Restrict allowedDeploymentTypes in the policy config to keep data in a region or data zone.",
    url=f"{LEARN}/foundry/concepts/deployments-overview",
)


# --- 11. foundry-content-filters ----------------------------------------------------------------------------

CONTENT_FILTERS_SCHEMA = PolicyConfigSchema(
    properties={
        "maxSeverityThreshold": {
            "type": "string",
            "enum": list(facts.SEVERITY_THRESHOLDS),
            "default": "Medium",
            "description": "The laxest severityThreshold a Hate, Sexual, Selfharm or Violence filter may have: Low "
            "is the strictest (blocks low severity and up), High the laxest (blocks only high severity).",
        },
        "allowBuiltInPolicies": {
            "type": "boolean",
            "default": True,
            "description": "Accept deployments that name a built-in content filter policy (Microsoft.DefaultV2, "
            "Microsoft.Default) instead of one of the stack's own.",
        },
        "externalPolicies": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": [],
            "description": "Names of content filter policies managed outside the stack that deployments may name "
            "(compared case-insensitively); the pack cannot check their filters.",
        },
    }
)
FILTERS_FORM = "a list of content filters, each an object with name, source, enabled, blocking and severityThreshold"
FILTER_FORMS = {"name": "a content filter name, such as 'Hate'", "source": "'Prompt' or 'Completion'"}


def _filter_problems(policy: PolicyResource, laxest: int, report_violation: ReportViolation | None) -> list[str]:
    """What falls short in the Hate, Sexual, Selfharm and Violence filters on Prompt and Completion of a content
    filter policy: a filter missing, disabled, not blocking, or at a severity threshold laxer than
    ``SEVERITY_THRESHOLDS[laxest]``. Values unknown at preview are skipped (and while a filter's name or source is
    unknown, no filter counts as missing); values that cannot be read are reported (when ``report_violation`` is
    given) and counted as a problem."""
    what = _what(policy)
    allowed = facts.SEVERITY_THRESHOLDS[: laxest + 1]
    paths = element_paths(policy.props, ("properties", "contentFilters"), FILTERS_FORM)
    if paths is UNKNOWN:
        return []
    if isinstance(paths, Unreadable):
        if report_violation:
            report_violation(paths.sentence(what), policy.urn)
        return ["its content filters cannot be read"]
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    complete = True
    for path in paths if isinstance(paths, list) else []:
        name = read_text(policy.props, (*path, "name"), FILTER_FORMS["name"])
        source = read_text(policy.props, (*path, "source"), FILTER_FORMS["source"])
        enabled = read_bool(policy.props, (*path, "enabled"), "true")
        blocking = read_bool(policy.props, (*path, "blocking"), "true")
        threshold = read_choice(
            policy.props, (*path, "severityThreshold"), facts.SEVERITY_THRESHOLDS, f"{' or '.join(map(repr, allowed))}"
        )
        if UNKNOWN in (name, source):
            complete = False
            continue
        if not isinstance(name, str) or not isinstance(source, str):
            for key, value in (("name", name), ("source", source)):
                # an unset name or source is a filter Azure cannot apply, not one to pass
                found = (
                    Unreadable(path_text((*path, key)), "is not set", FILTER_FORMS[key]) if value is MISSING else value
                )
                if isinstance(found, Unreadable) and report_violation:
                    report_violation(found.sentence(what), policy.urn)
            complete = False
            continue
        category = next((c for c in facts.HARM_CATEGORIES if facts.filter_key(c) == facts.filter_key(name)), None)
        origin = next((s for s in facts.CONTENT_SOURCES if s.lower() == source.strip().lower()), None)
        if category is None or origin is None:
            continue
        seen.add((category, origin))
        label = f"{category} on {origin}"
        unreadable = [v for v in (enabled, blocking, threshold) if isinstance(v, Unreadable)]
        for value in unreadable:
            if report_violation:
                report_violation(value.sentence(what), policy.urn)
            problems.append(f"{label} cannot be read")
        if enabled is False or enabled is MISSING:
            problems.append(f"{label} is {'disabled' if enabled is False else 'not enabled (enabled is not set)'}")
        if blocking is False or blocking is MISSING:
            problems.append(f"{label} does not block{'' if blocking is False else ' (blocking is not set)'}")
        if threshold is MISSING:
            problems.append(f"{label} has no severityThreshold")
        elif isinstance(threshold, str) and threshold not in allowed:
            problems.append(f"{label} blocks only from severity {threshold!r}")
    if complete:
        problems.extend(
            f"it has no {category} filter on {origin}"
            for category in facts.HARM_CATEGORIES
            for origin in facts.CONTENT_SOURCES
            if (category, origin) not in seen
        )
    return problems


def _filters_rule(allowed: tuple[str, ...]) -> str:
    return (
        "every Hate, Sexual, Selfharm and Violence filter on Prompt and Completion must be enabled, blocking, at "
        f"severityThreshold {' or '.join(map(repr, allowed))} (Low is the strictest)"
    )


class _RaiPolicies:
    """The stack's content filter policies by Foundry resource and name, and what deployments ask of them, each
    worked out once per stack."""

    def __init__(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        """Reports the policies whose account or resource group name cannot be read (see :func:`_placed`)."""
        self.named: Located[PolicyResource] = Located()
        """By Foundry resource and name (its key)."""
        self.unnamed: Located[PolicyResource] = Located()
        """By Foundry resource: those whose name is unknown, unset or cannot be read."""
        self.dependencies = Dependencies(args.resources)
        self._problems: dict[int, list[str]] = {}
        for policy, where in _placed(args.resources, RAI_POLICY, report_violation):
            name = read_name(policy.props, "raiPolicyName")
            if isinstance(name, Part):
                self.named.add(where, policy, name.key)
            else:
                self.unnamed.add(where, policy)

    def problems(self, policy: PolicyResource, laxest: int) -> list[str]:
        """What falls short in ``policy``'s filters (:func:`_filter_problems`, reporting nothing), once per policy."""
        if id(policy) not in self._problems:
            self._problems[id(policy)] = _filter_problems(policy, laxest, None)
        return self._problems[id(policy)]


def _rai_policy_for(
    deployment: PolicyResource,
    name: str,
    policies: _RaiPolicies,
    report_violation: ReportViolation,
) -> PolicyResource | bool | None:
    """The content filter policy of the stack a deployment names by ``name`` on its Foundry resource; False when
    the stack has none by that name there; None when that cannot be told (the deployment's Foundry resource, or
    the name of a policy on it, is unknown; or its account name cannot be read: reported)."""
    where = account_of(deployment)
    if isinstance(where, Unreadable):
        report_violation(where.sentence(_what(deployment)), deployment.urn)
        return None
    if where is None:
        return None
    named = policies.named.first(where, name.strip().lower())
    if named is not None:
        return named
    return None if policies.unnamed.count(where) else False


def _named_policy(
    deployment: PolicyResource,
    name: str,
    config: Mapping[str, Any],
    policies: _RaiPolicies,
    report_violation: ReportViolation,
) -> PolicyResource | None:
    """The stack's content filter policy a deployment names, to be judged; None when there is none to judge. A
    built-in policy passes when allowBuiltInPolicies, a name in externalPolicies passes; a name that is neither
    nor a policy of the deployment's Foundry resource in the stack is a violation, and so is a deployment that does
    not depend on the policy it names."""
    what = _what(deployment)
    allowed = facts.SEVERITY_THRESHOLDS[: facts.SEVERITY_THRESHOLDS.index(config["maxSeverityThreshold"]) + 1]
    if name.strip().lower() in {p.lower() for p in facts.BUILT_IN_RAI_POLICIES}:
        if not config["allowBuiltInPolicies"]:
            report_violation(
                f"{what} uses the built-in content filter policy {name!r}; the policy config (allowBuiltInPolicies: "
                f"false) requires one of the stack's own. Create a content filter policy (RaiPolicy) on its Foundry "
                f"resource where {_filters_rule(allowed)}, and name it in properties.raiPolicyName.",
                deployment.urn,
            )
        return None
    if name.strip().lower() in {str(p).strip().lower() for p in config["externalPolicies"]}:
        return None
    policy = _rai_policy_for(deployment, name, policies, report_violation)
    if policy is False:
        report_violation(
            f"{what} names content filter policy {name!r}, which is neither built in nor a content filter policy "
            f"of {account_of(deployment)} in this stack, so the pack cannot check its filters (and Azure refuses a "
            "name that does not exist). Define it as a RaiPolicy of that Foundry resource in this stack, or list it "
            "under externalPolicies in the policy config if it is managed elsewhere.",
            deployment.urn,
        )
        return None
    if not isinstance(policy, PolicyResource):
        return None
    if not policies.dependencies.depends_on(deployment, (policy,)):
        report_violation(
            f"{what} does not depend on {_what(policy)}, which it names; Azure refuses a deployment whose content "
            "filter policy does not exist yet. Add depends_on=[policy] to the deployment, or set raiPolicyName from "
            "the policy's name output.",
            deployment.urn,
        )
    return policy


def _judge_deployment_filters(
    deployment: PolicyResource,
    config: Mapping[str, Any],
    policies: _RaiPolicies,
    report_violation: ReportViolation,
) -> None:
    what = _what(deployment)
    allowed = facts.SEVERITY_THRESHOLDS[: facts.SEVERITY_THRESHOLDS.index(config["maxSeverityThreshold"]) + 1]
    built_in = bool(config["allowBuiltInPolicies"])
    targets = "a content filter policy (RaiPolicy) of its Foundry resource" + (
        f" or a built-in one ({', '.join(facts.BUILT_IN_RAI_POLICIES)})" if built_in else ""
    )
    name = read_text(deployment.props, ("properties", "raiPolicyName"), f"the name of {targets}")
    if isinstance(name, Unreadable):
        report_violation(name.sentence(what), deployment.urn)
        return
    if name is MISSING:
        report_violation(
            f"{what} names no content filter policy (properties.raiPolicyName is not set), so Azure applies its "
            f"default one, which this stack did not choose. Set properties.raiPolicyName to {targets}.",
            deployment.urn,
        )
        return
    if isinstance(name, str):
        policy = _named_policy(deployment, name, config, policies, report_violation)
    else:  # unknown at preview: the one content filter policy the deployment's properties come from
        origins = [
            d for d in deployment.property_dependencies.get("properties", []) if RAI_POLICY.matches(d.resource_type)
        ]
        policy = origins[0] if len(origins) == 1 else None
    if policy is None:
        return
    problems = policies.problems(policy, len(allowed) - 1)
    if problems:
        report_violation(
            f"{what} uses {_what(policy)}, whose filters fall short: {'; '.join(problems)}; {_filters_rule(allowed)}. "
            "Fix that policy, or name one that meets this.",
            deployment.urn,
        )


def check_content_filters(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Content filter policies (RaiPolicy) of the stack: their Hate, Sexual, Selfharm and Violence filters on
    Prompt and Completion (names compare case-insensitively, ignoring ' ', '-' and '_'). Foundry deployments:
    they must name a policy (properties.raiPolicyName): a built-in one when allowBuiltInPolicies, one of
    externalPolicies, or one of their Foundry resource in the stack, which they must depend on and which must meet
    the bar. An unknown raiPolicyName is judged by the one content filter policy its properties depend on (none
    or several: skipped); values that cannot be read are reported."""
    config = config_of(args.get_config(), CONTENT_FILTERS_SCHEMA)
    laxest = facts.SEVERITY_THRESHOLDS.index(config["maxSeverityThreshold"])
    allowed = facts.SEVERITY_THRESHOLDS[: laxest + 1]
    for policy in _of(args.resources, RAI_POLICY):
        own_name = read_name(policy.props, "raiPolicyName")
        if isinstance(own_name, Unreadable):
            report_violation(own_name.sentence(_what(policy)), policy.urn)
        problems = _filter_problems(policy, laxest, report_violation)
        problems = [p for p in problems if not p.endswith("cannot be read")]
        if problems:
            where = account_of(policy)
            on = f" on {where}" if isinstance(where, AccountRef) else ""
            report_violation(
                f"{_what(policy)}{on}: {'; '.join(problems)}. {_filters_rule(allowed)[0].upper()}"
                f"{_filters_rule(allowed)[1:]}: fix properties.contentFilters.",
                policy.urn,
            )
    policies = _RaiPolicies(args, report_violation)
    for deployment in _of(args.resources, FOUNDRY_DEPLOYMENT):
        _judge_deployment_filters(deployment, config, policies, report_violation)


foundry_content_filters = StackValidationPolicy(
    name="foundry-content-filters",
    description="Foundry deployments must name a content filter policy, and the stack's content filter policies "
    "must block hate, sexual, self-harm and violence in prompts and completions from maxSeverityThreshold up.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=CONTENT_FILTERS_SCHEMA,
    validate=check_content_filters,
    remediation_steps="Give each deployment properties.raiPolicyName: a RaiPolicy of its Foundry resource in the "
    "stack (azure-maas: 'contentFilters' and the deployment's 'contentFilter'), or a built-in policy when "
    "allowBuiltInPolicies is true. In each RaiPolicy keep the Hate, Sexual, Selfharm and Violence filters of Prompt "
    "and Completion enabled and blocking at maxSeverityThreshold or stricter.",
    url=f"{LEARN}/ai-foundry/concepts/content-filtering",
)


# --- 12. foundry-deployments-serialized ---------------------------------------------------------------------


def check_deployments_serialized(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Foundry deployments on one Foundry resource (same accountName and resource group, or, while the name is
    unknown, the same Foundry resource by property dependency) must be ordered: of each two, one depends on the
    other, directly or through other resources. Deployments whose Foundry resource is unknown are skipped; one
    whose account name cannot be read is reported."""
    placed = _placed(args.resources, FOUNDRY_DEPLOYMENT, report_violation)
    by_account: dict[str, list[int]] = {}
    for index, (_, where) in enumerate(placed):
        by_account.setdefault(where.account.key, []).append(index)
    dependencies = Dependencies(args.resources)
    unordered: dict[int, list[PolicyResource]] = {}
    for indexes in by_account.values():
        members = [placed[index][0] for index in indexes]
        groups = [group.key if (group := placed[index][1].resource_group) else None for index in indexes]
        for index, earlier in zip(indexes, dependencies.unordered_earlier(members, groups), strict=True):
            unordered[index] = [members[other] for other in earlier]
    for index, (deployment, where) in enumerate(placed):
        parallel = unordered[index]
        if not parallel:
            continue
        others = f"{FOUNDRY_DEPLOYMENT.label}{'s' if len(parallel) > 1 else ''} {_and([_name(o) for o in parallel])}"
        report_violation(
            f"{_what(deployment)} and {others} on {where} can be sent to Azure at the same time (no dependency, "
            "direct or through other resources, orders them). Azure takes one deployment at a time per Foundry resource and "
            "answers 409 RequestConflict ('Another operation is being performed on the parent resource') to the "
            "others. Make each deployment depend on the previous one of the same Foundry resource "
            "(depends_on=[previous]).",
            deployment.urn,
        )


foundry_deployments_serialized = StackValidationPolicy(
    name="foundry-deployments-serialized",
    description="Deployments on one Foundry resource must be chained by dependencies, because Azure refuses "
    "parallel deployment changes on a resource with 409 RequestConflict.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    validate=check_deployments_serialized,
    remediation_steps="Give each deployment of a Foundry resource depends_on on the previous deployment of the same "
    "resource (azure-maas chains them in config order).",
    url=f"{LEARN}/foundry/concepts/deployments-overview",
)


# --- 13. foundry-local-auth-disabled ------------------------------------------------------------------------

LOCAL_AUTH_SCHEMA = PolicyConfigSchema(
    properties={
        "allowLocalAuth": {
            "type": "boolean",
            "default": False,
            "description": "Accept Foundry resources that take API keys (properties.disableLocalAuth not true).",
        }
    }
)


def check_local_auth(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Foundry resources (Cognitive Services accounts of any kind): an unknown disableLocalAuth is skipped; an
    unset one is a violation (Azure then accepts keys); one that is not a boolean is reported."""
    if not FOUNDRY_ACCOUNT.matches(args.resource_type):
        return
    if config_of(args.get_config(), LOCAL_AUTH_SCHEMA)["allowLocalAuth"]:
        return
    what = describe(FOUNDRY_ACCOUNT, args.props, args.name)
    disabled = read_bool(args.props, ("properties", "disableLocalAuth"), "true")
    if disabled is UNKNOWN or disabled is True:
        return
    if isinstance(disabled, Unreadable):
        report_violation(disabled.sentence(what), args.urn)
        return
    found = "has properties.disableLocalAuth false" if disabled is False else "does not set properties.disableLocalAuth"
    report_violation(
        f"{what} {found}, so it accepts API keys: whoever holds one of its two keys calls every deployment, without "
        "a role and unnamed in the logs. Set properties.disableLocalAuth to true (callers then use Entra ID tokens "
        "and the Foundry User role; azure-maas: leave localAuth at its default, false), or set allowLocalAuth in "
        "the policy config for stacks that must accept keys.",
        args.urn,
    )


foundry_local_auth_disabled = ResourceValidationPolicy(
    name="foundry-local-auth-disabled",
    description="Foundry resources must not accept API keys (properties.disableLocalAuth true), unless "
    "allowLocalAuth says so.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=LOCAL_AUTH_SCHEMA,
    validate=check_local_auth,
    remediation_steps="Set properties.disableLocalAuth to true and grant callers Foundry User; a stack that must "
    "accept keys sets allowLocalAuth to true in the policy config.",
    url=f"{LEARN}/ai-services/disable-local-auth",
)


# --- 14. foundry-project-management -------------------------------------------------------------------------


def _project_problems(account: PolicyResource, report_violation: ReportViolation) -> list[str]:
    """Why Azure refuses projects on ``account``: kind, allowProjectManagement, managed identity. Unknown values
    pass; values that cannot be read are reported."""
    what, props = _what(account), account.props
    kind = read_text(props, ("kind",), "'AIServices'")
    allow = read_bool(props, ("properties", "allowProjectManagement"), "true")
    identity = read_text(
        props, ("identity", "type"), "'SystemAssigned', 'UserAssigned' or 'SystemAssigned, UserAssigned'"
    )
    _report_all(what, account.urn, (v for v in (kind, allow, identity) if isinstance(v, Unreadable)), report_violation)
    problems = []
    if kind is MISSING:
        problems.append("it has no kind")
    elif isinstance(kind, str) and kind.strip().lower() != "aiservices":
        problems.append(f"its kind is {kind!r}")
    if allow is False:
        problems.append("properties.allowProjectManagement is false")
    elif allow is MISSING:
        problems.append("properties.allowProjectManagement is not set (Azure reads false)")
    if identity is MISSING or (isinstance(identity, str) and identity.strip().lower() == "none"):
        problems.append("it has no managed identity")
    return problems


def check_project_management(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Foundry resources that have projects in the stack (a project is matched to its Foundry resource by name
    and resource group, or by the property dependency of an unknown accountName; unmatched projects are
    skipped)."""
    accounts = _accounts(args.resources, report_violation)
    projects = _placed(args.resources, FOUNDRY_PROJECT, report_violation)
    index = _located(accounts)
    by_account: dict[int, list[PolicyResource]] = {}
    for project, where in projects:
        owner = find_account(where, index)
        if owner is not None:
            by_account.setdefault(id(owner), []).append(project)
    for account, _ in accounts:
        mine = by_account.get(id(account), [])
        if not mine:
            continue
        problems = _project_problems(account, report_violation)
        if problems:
            report_violation(
                f"{_what(account)} has {_and([_what(p) for p in mine])} in this stack, but {'; '.join(problems)}. "
                "Azure creates projects only on a Foundry resource of kind 'AIServices' with "
                "properties.allowProjectManagement true and a managed identity: set them (allowProjectManagement "
                "cannot be changed after creation, so an existing resource must be recreated).",
                account.urn,
            )


foundry_project_management = StackValidationPolicy(
    name="foundry-project-management",
    description="A Foundry resource with projects must be of kind AIServices, allow project management and have a "
    "managed identity, or Azure refuses the projects.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    validate=check_project_management,
    remediation_steps="Create the Foundry resource with kind 'AIServices', properties.allowProjectManagement true "
    "and identity type 'SystemAssigned' (azure-maas sets all three).",
    url=f"{LEARN}/foundry/how-to/create-projects",
)


POLICIES: list[Policy] = [
    serverless_region_allowlist,
    one_deployment_per_model,
    marketplace_subscription_required,
    endpoint_name,
    content_safety_enabled,
    approved_models,
    no_retired_models,
    rbac_least_privilege,
    required_tags,
    foundry_region_allowlist,
    foundry_deployment_types,
    foundry_content_filters,
    foundry_deployments_serialized,
    foundry_local_auth_disabled,
    foundry_project_management,
]
"""Every policy of the pack, in catalogue order."""
