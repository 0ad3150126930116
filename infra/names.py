"""Azure naming rules and the names azure-maas derives.

Rules the policy pack also judges by (endpoint names, model IDs, regions) are written once in
``azure_maas_policy.facts`` (shipped inside the pack) and re-exported here; the rest are written here.

Each rule carries its pattern and a sentence saying what is valid, so a check and its message cannot
disagree. Derived names are pure functions of config keys (never of Pulumi outputs), so two runs of
the same config produce the same names.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from azure_maas_policy.facts import (
    ENDPOINT_NAME,
    MICROSOFT_REGISTRY,
    MODEL_ID,
    NameRule,
    normalize_region,
    sold_through_marketplace,
)

__all__ = ["ENDPOINT_NAME", "MICROSOFT_REGISTRY", "MODEL_ID", "NameRule", "normalize_region"]

CHAT_ROUTE = "/chat/completions"
"""Azure AI model inference API, after an endpoint's inference URI."""
NATIVE_CHAT_ROUTE = "/v1/chat/completions"
"""The provider's native chat API (Mistral, AI21 clients), after an endpoint's inference URI."""


WORKSPACE_NAME = NameRule(
    "workspace name",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}"),
    "3-33 characters, starting with a letter or digit, then letters, digits, '_' or '-'",
)

MARKETPLACE_SUBSCRIPTION_NAME = NameRule(
    "marketplace subscription name",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}"),
    "1-255 characters, starting with a letter or digit, then letters, digits, '_' or '-'",
)

STACK_NAME = NameRule(
    "stack name",
    re.compile(r"[A-Za-z0-9_.-]{1,100}"),
    "1-100 letters, digits, '-', '_' or '.' (Pulumi's rule for stack names)",
)

PULUMI_PROJECT_NAME = NameRule(
    "project name",
    re.compile(r"[A-Za-z0-9_.-]{1,100}"),
    "1-100 letters, digits, '-', '_' or '.' (Pulumi's rule for project names)",
)

ORGANIZATION_NAME = NameRule(
    "organization name",
    re.compile(r"[A-Za-z0-9_.-]{1,100}"),
    "1-100 letters, digits, '-', '_' or '.'",
)

RESOURCE_GROUP_NAME = NameRule(
    "resource group name",
    re.compile(r"[-\w.()]{0,89}[-\w()]", re.ASCII),
    "1-90 characters: letters, digits, '_', '-', '.', '(' or ')', not ending with '.'",
)

GUID = NameRule(
    "GUID",
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    "32 hex digits as 8-4-4-4-12, e.g. 00000000-0000-0000-0000-000000000000",
)

WORKSPACE_ID = NameRule(
    "workspace resource ID",
    re.compile(
        r"/subscriptions/(?P<subscription>[0-9a-fA-F-]{36})/resourceGroups/(?P<resource_group>[-\w.()]{1,90})"
        r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<name>[a-zA-Z0-9][a-zA-Z0-9_-]{2,32})",
        re.IGNORECASE | re.ASCII,
    ),
    "/subscriptions/<subscription GUID>/resourceGroups/<group>"
    "/providers/Microsoft.MachineLearningServices/workspaces/<name>",
)


FOUNDRY_NAME = NameRule(
    "Foundry resource name",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,62}[a-zA-Z0-9]"),
    "2-64 characters: letters, digits or '-', starting and ending with a letter or digit",
)

SUBDOMAIN = NameRule(
    "custom subdomain",
    re.compile(r"[a-z0-9][a-z0-9-]{0,62}[a-z0-9]"),
    "2-64 lowercase letters, digits or '-', starting and ending with a letter or digit (a DNS label, unique in Azure)",
)

FOUNDRY_PROJECT_NAME = NameRule(
    "Foundry project name",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,62}[a-zA-Z0-9]"),
    "2-64 characters: letters, digits or '-', starting and ending with a letter or digit",
)

FOUNDRY_DEPLOYMENT_NAME = NameRule(
    "deployment name",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}[a-zA-Z0-9]"),
    "2-64 characters: letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
)

CONTENT_FILTER_NAME = NameRule(
    "content filter name",
    re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}[a-zA-Z0-9]"),
    "2-64 characters: letters, digits, '_' or '-', starting and ending with a letter or digit",
)

FOUNDRY_ID = NameRule(
    "Foundry resource ID",
    re.compile(
        r"/subscriptions/(?P<subscription>[0-9a-fA-F-]{36})/resourceGroups/(?P<resource_group>[-\w.()]{1,90})"
        r"/providers/Microsoft\.CognitiveServices/accounts/(?P<name>[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63})",
        re.IGNORECASE | re.ASCII,
    ),
    "/subscriptions/<GUID>/resourceGroups/<group>/providers/Microsoft.CognitiveServices/accounts/<name>",
)


def foundry_id_parts(resource_id: str) -> tuple[str, str]:
    """``(resource group, account name)`` of a valid Foundry resource ID."""
    return _id_parts(FOUNDRY_ID, resource_id)


def foundry_subdomain(*scope: str, account: str) -> str:
    """The default custom subdomain: the account name lowercased (at most 57 characters) and 6 hex characters of
    a hash of ``scope`` (subscription, resource group) and the name; globally unique in practice, stable."""
    stem = _dns_stem(account, 57)
    return f"{stem}-{_suffix(*scope, 'foundry', account)}" if stem else _suffix(*scope, "foundry", account)


def workspace_id_parts(resource_id: str) -> tuple[str, str]:
    """``(resource group, workspace name)`` of a valid workspace resource ID."""
    return _id_parts(WORKSPACE_ID, resource_id)


def _id_parts(rule: NameRule, resource_id: str) -> tuple[str, str]:
    """``(resource group, name)`` of a resource ID that ``rule`` (with those named groups) accepts."""
    match = rule.pattern.fullmatch(resource_id)
    if match is None:
        raise ValueError(rule.problem(resource_id))
    return match["resource_group"], match["name"]


_MODEL_ID_WITH_VERSION = re.compile(r"(?P<base>azureml://registries/[^/]+/models/[^/]+)/versions/[^/]+")


def model_id_problem(value: str) -> str | None:
    """Return why ``value`` is not a serverless model ID, or None when it is one."""
    pinned = _MODEL_ID_WITH_VERSION.fullmatch(value)
    if pinned:
        return (
            f"{value!r} pins a version; serverless endpoints always deploy the latest version, "
            f"so leave off '/versions/...': {pinned.group('base')!r}"
        )
    return MODEL_ID.problem(value)


def model_registry(model_id: str) -> str:
    """The registry part of a valid model ID."""
    match = MODEL_ID.pattern.fullmatch(model_id)
    if match is None:
        raise ValueError(MODEL_ID.problem(model_id))
    return match.group("registry")


def model_name(model_id: str) -> str:
    """The model-name part of a valid model ID."""
    match = MODEL_ID.pattern.fullmatch(model_id)
    if match is None:
        raise ValueError(MODEL_ID.problem(model_id))
    return match.group("model")


def needs_marketplace_subscription(model_id: str) -> bool:
    """Every registry except Microsoft's own sells its models through Azure Marketplace."""
    model_registry(model_id)  # raises on an invalid ID
    return sold_through_marketplace(model_id)


def marketplace_subscription_name(model_id: str) -> str:
    """One subscription per workspace and model, named after the model (dots are not allowed)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", model_name(model_id))


def _suffix(*parts: str, length: int = 6) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:length]


def storage_account_name(*scope: str, workspace: str) -> str:
    """Globally unique, 3-24 lowercase letters and digits; stable for the same ``scope`` parts (subscription
    and resource group) and workspace name."""
    stem = re.sub(r"[^a-z0-9]", "", workspace.lower())[:16]
    return f"st{stem}{_suffix(*scope, workspace)}"


def _dns_stem(name: str, limit: int) -> str:
    """``name`` lowercased with only letters, digits and single ``-`` kept, no ``-`` at either end, at most
    ``limit`` characters: the readable part of a derived DNS-label name."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "", name.lower())).strip("-")[:limit].rstrip("-")


def key_vault_name(*scope: str, workspace: str) -> str:
    """Globally unique, 3-24 letters, digits and single '-', starting with a letter, stable like the storage name."""
    stem = _dns_stem(workspace, 14)
    return f"kv-{stem}-{_suffix(*scope, workspace)}" if stem else f"kv-{_suffix(*scope, workspace)}"


# Namespace for azure-maas role assignment and role definition names (UUIDv5 of their defining parts).
NAMESPACE = uuid.UUID("6c1ff3a4-5f4e-5c8e-9a52-7d0b3c1e2a90")


def deterministic_guid(*parts: str) -> str:
    """UUIDv5 of the parts, compared case-insensitively as Azure compares IDs."""
    return str(uuid.uuid5(NAMESPACE, "|".join(part.lower() for part in parts)))
