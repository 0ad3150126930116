"""The azure-maas policies, one function per rule.

Each policy judges only what the engine sends it, so it holds for any stack that deploys these resource
types, whether or not azure-maas wrote it. A value unknown at preview is never a crash: each rule says what
it does with one (skip it, or judge the resource from its property dependencies). A value a rule reads but
cannot read (the wrong type, an ID that does not normalize; see ``reading`` and ``facts``) is never passed:
the rule reports it, saying where it is and the form it would read.
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
    MARKETPLACE_SUBSCRIPTION,
    MISSING,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    SERVERLESS_ENDPOINT,
    UNKNOWN,
    WORKSPACE,
    Part,
    Permission,
    Placement,
    ResourceType,
    Unreadable,
    config_of,
    depends_on,
    describe,
    lookup,
    placement,
    read_guid,
    read_model_id,
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
    kind = type_of(resource.resource_type, SERVERLESS_ENDPOINT, MARKETPLACE_SUBSCRIPTION, WORKSPACE)
    what = describe(kind, resource.props, resource.name) if kind else repr(resource.name)
    for value in found:
        report_violation(value.sentence(what), resource.urn)
    return bool(found)


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


def check_one_deployment(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Endpoints whose model ID or workspace cannot be known at preview are skipped; a workspace whose
    name is unknown is known by the URN of the workspace resource its name comes from. Model IDs and names
    compare normalized; one that cannot be read is reported."""
    seen: list[tuple[PolicyResource, Placement, str]] = []
    for endpoint in _endpoints(args.resources):
        model = _model_id(endpoint.props, SERVERLESS_ENDPOINT)
        where = placement(endpoint)
        if _unreadable(endpoint, (model, where), report_violation):
            continue
        if not isinstance(model, facts.ModelRef) or not isinstance(where, Placement):
            continue
        first = next((e for e, w, m in seen if m == model.key and w.same_as(where)), None)
        if first is not None:
            report_violation(
                f"{_label(first)} and {_label(endpoint)} both deploy {model.text} into {where}; a workspace "
                f"or project holds one deployment per model, so Azure refuses the second. Remove "
                f"{_label(endpoint)}, or deploy it into another workspace or project.",
                endpoint.urn,
            )
        else:
            seen.append((endpoint, where, model.key))


one_deployment_per_model = StackValidationPolicy(
    name="one-deployment-per-model",
    description="At most one serverless endpoint per model in each workspace or project.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    validate=check_one_deployment,
    remediation_steps="Keep one endpoint per model in each workspace: share that endpoint, or put the second "
    "deployment in another workspace or project. Model IDs compare case-insensitively, without /versions/N.",
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
    subscriptions: list[tuple[PolicyResource, Placement, str]] = []
    for s in args.resources:
        if not MARKETPLACE_SUBSCRIPTION.matches(s.resource_type):
            continue
        model, where = _model_id(s.props, MARKETPLACE_SUBSCRIPTION), placement(s)
        readable = not _unreadable(s, (model, where), report_violation)
        if readable and isinstance(model, facts.ModelRef) and isinstance(where, Placement):
            subscriptions.append((s, where, model.key))
    for endpoint in _endpoints(args.resources):
        model = _model_id(endpoint.props, SERVERLESS_ENDPOINT)
        if _unreadable(endpoint, (model,), report_violation):
            continue
        if not isinstance(model, facts.ModelRef) or not model.sold_through_marketplace:
            continue
        where = placement(endpoint)
        if _unreadable(endpoint, (where,), report_violation) or not isinstance(where, Placement):
            continue
        matching = [s for s, w, m in subscriptions if m == model.key and w.same_as(where)]
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
        elif not any(depends_on(endpoint, s) for s in matching):
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


def check_content_safety(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """An unknown status is skipped; an unset one is a violation (filtering would depend on a service default),
    and so is one that cannot be read."""
    if not SERVERLESS_ENDPOINT.matches(args.resource_type):
        return
    status = read_text(args.props, ("properties", "contentSafety", "contentSafetyStatus"), "'Enabled'")
    if status is UNKNOWN or (isinstance(status, str) and status.lower() == "enabled"):
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
        "to 'Enabled' (azure-maas: leave contentSafety at its default, true).",
        args.urn,
    )


content_safety_enabled = ResourceValidationPolicy(
    name="content-safety-enabled",
    description="Serverless endpoints must keep Azure AI Content Safety filtering of prompts and completions on.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    validate=check_content_safety,
    remediation_steps="Set properties.contentSafety.contentSafetyStatus to 'Enabled' on every serverless endpoint. "
    "A team that must turn filtering off for one endpoint sets this policy to advisory for its stack.",
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
            "without /versions/N). Empty: every model.",
        }
    }
)


def check_approved(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Endpoints and subscriptions; an unknown or unset model ID is skipped, one that cannot be read is reported;
    model IDs compare normalized."""
    kind = type_of(args.resource_type, SERVERLESS_ENDPOINT, MARKETPLACE_SUBSCRIPTION)
    approved = [str(m) for m in config_of(args.get_config(), APPROVED_SCHEMA)["approvedModels"]]
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
    description="Only approved models may be deployed or subscribed to (an empty approvedModels list approves every model).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=APPROVED_SCHEMA,
    validate=check_approved,
    remediation_steps="Deploy a model from approvedModels, or add the model ID to approvedModels in the policy config.",
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


def check_lifecycle(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Serverless endpoints of catalog models; a model outside the catalog has no lifecycle data and passes;
    an unknown or unset model ID is skipped, one that cannot be read is reported; model IDs compare normalized."""
    if not SERVERLESS_ENDPOINT.matches(args.resource_type):
        return
    what = describe(SERVERLESS_ENDPOINT, args.props, args.name)
    given = _model_id(args.props, SERVERLESS_ENDPOINT)
    if isinstance(given, Unreadable):
        report_violation(given.sentence(what), args.urn)
        return
    catalog = facts.catalog_facts()
    model = catalog.by_model_id(given.text) if given else None
    if given is None or model is None:
        return
    model_id = given.text
    config = config_of(args.get_config(), LIFECYCLE_SCHEMA)
    try:
        today = dt.date.fromisoformat(config["today"]) if config.get("today") else dt.date.today()
    except ValueError:
        report_violation(f"the policy config's today={config['today']!r} is not a date; use YYYY-MM-DD.", args.urn)
        return
    stage = model.stage_on(today)
    if stage == "Retired":
        since = f"since {model.retirement_date.isoformat()}" if model.retirement_date else "already"
        found = f"retired {since}: its endpoints answer 410 Gone"
    elif stage == "Deprecated" and not config["allowDeprecated"]:
        since = f"since {model.deprecation_date.isoformat()}" if model.deprecation_date else "already"
        until = f" until {model.retirement_date.isoformat()}" if model.retirement_date else ""
        found = f"deprecated {since}: Azure accepts no new deployments, existing ones keep working{until}"
    else:
        return
    replacement = catalog.replacement_on(model, today)
    if replacement is None:
        fix = "No replacement is announced; choose another model"
    elif "serverless" in replacement.channels:
        fix = f"Move to {replacement.label}"
    else:
        fix = f"Move to {replacement.label} (offered only on Foundry resources, not as a serverless API)"
    if stage == "Deprecated":
        fix += ", or set allowDeprecated in the policy config to keep an existing deployment until it retires"
    report_violation(
        f"{what} deploys {model.name} ({model_id}), {found} (judged on {today.isoformat()}; "
        f"catalog as of {catalog.as_of.isoformat()}). {fix}.",
        args.urn,
    )


no_retired_models = ResourceValidationPolicy(
    name="no-retired-models",
    description="Serverless endpoints must not deploy a retired model (its endpoints answer 410 Gone) or a deprecated "
    "one (Azure refuses new deployments).",
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
    }
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
    so are a custom role's permissions that cannot be read."""
    config = config_of(args.get_config(), RBAC_SCHEMA)
    forbidden = {str(g).lower() for g in config["forbiddenRoles"]}
    subscription_roles = {str(g).lower() for g in config["subscriptionScopeRoles"]}
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
    "the marketplace-ordering role at the subscription.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    config_schema=RBAC_SCHEMA,
    validate=check_rbac,
    remediation_steps="Grant Azure AI Developer on the resource group, or the least-privilege custom roles: "
    "marketplace ordering at the subscription, SaaS resources at the resource group, serverless endpoints and "
    "marketplace subscriptions at the workspace.",
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
]
"""Every policy of the pack, in catalogue order."""
