"""Reading resources as the engine sends them, with values unknown at preview handled on purpose and values
that cannot be read reported, never passed.

The Pulumi policy SDK hands policies their properties through a proxy that raises ``UnknownValueError`` on
any value unknown during preview; left alone, that aborts the whole policy with an advisory "can't run
during preview" note. :func:`read` turns it into the :data:`UNKNOWN` marker instead, so each policy decides
per value: skip it, or judge it from the resource's property dependencies.

A value of the wrong type (a number where a string belongs, a string where an object belongs) or an ID that
does not normalize (see ``facts``) reads as an :class:`Unreadable`, which the policy reports: it says where
the value is, what it is, and the form that would be read.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL
from pulumi_policy import PolicyConfigSchema, PolicyResource
from pulumi_policy.proxy import UnknownValueError

from azure_maas_policy import facts

T = TypeVar("T")


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


MISSING: Final = _Marker("MISSING")
"""The property is not set."""
UNKNOWN: Final = _Marker("UNKNOWN")
"""The property's value is not known yet (preview of a value computed by another resource)."""

KeyPath = tuple[str | int, ...]


def path_text(path: KeyPath) -> str:
    """``properties.modelSettings.modelId``, ``permissions[0].actions``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else key
    return text


def kind_of(value: Any) -> str:
    """What a value is, in words, with the value itself when it is short and scalar."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        number = int(value) if isinstance(value, float) and value.is_integer() else value
        return f"a number ({number})"
    if isinstance(value, str):
        return f"a string ({shown(value)})"
    if isinstance(value, Mapping):
        return "an object"
    return "a list" if isinstance(value, Sequence) else f"a {type(value).__name__}"


def shown(text: str, limit: int = 200) -> str:
    """``text`` quoted, cut at ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


@dataclass(frozen=True)
class Unreadable:
    """A value a policy cannot judge: where it is, what is wrong with it, and the form that would be read."""

    path: str
    problem: str
    """``is a number (42), not a string`` or ``'/subscriptions/x/..' has a '..' segment``."""
    expected: str

    def sentence(self, what: str) -> str:
        """The violation: ``<what>: <path> <problem>, so the policy cannot read it. Set it to <expected>.``"""
        return f"{what}: {self.path} {self.problem}, so the policy cannot read it. Set it to {self.expected}."

    @classmethod
    def wrong_type(cls, path: KeyPath, value: Any, wanted: str, expected: str) -> Unreadable:
        return cls(path_text(path), f"is {kind_of(value)}, not {wanted}", expected)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _step(value: Any, key: str | int, path: KeyPath, depth: int, expected: str) -> Any:
    """One key down ``path`` (``key`` is ``path[depth]``), as :func:`lookup` says."""
    if value is None:
        return MISSING
    if isinstance(key, int) and not _is_list(value):
        return Unreadable.wrong_type(path[:depth], value, "a list", "a list")
    if isinstance(key, str) and not isinstance(value, Mapping):
        rest = path_text(path[depth:])
        return Unreadable.wrong_type(path[:depth], value, "an object", f"an object with {rest}: {expected}")
    try:
        return value[key] if not isinstance(key, int) or key < len(value) else MISSING
    except KeyError:
        return MISSING
    except UnknownValueError:
        return UNKNOWN


def lookup(value: Any, path: KeyPath, expected: str) -> Any:
    """The value at ``path`` below ``value``; :data:`MISSING` when it or an object on the way is not set,
    :data:`UNKNOWN` when unknown at preview, :class:`Unreadable` when a value on the way is not the object or
    list the path goes through (``expected`` is the form of the value at the end of ``path``)."""
    for depth, key in enumerate(path):
        value = _step(value, key, path, depth, expected)
        if isinstance(value, _Marker | Unreadable):
            return value
    if value is None:
        return MISSING
    return UNKNOWN if value == UNKNOWN_SENTINEL else value


def read(value: Any, *path: str | int) -> Any:
    """The value at ``path`` below ``value``, or :data:`MISSING` or :data:`UNKNOWN`; never raises. A value
    on the way that is not an object or a list reads as :data:`MISSING`."""
    found = lookup(value, path, "")
    return MISSING if isinstance(found, Unreadable) else found


def read_text(value: Any, path: KeyPath, expected: str) -> str | _Marker | Unreadable:
    """The string at ``path``, :data:`MISSING`, :data:`UNKNOWN`, or :class:`Unreadable` for anything else."""
    found = lookup(value, path, expected)
    if isinstance(found, str | _Marker | Unreadable):
        return found
    return Unreadable.wrong_type(path, found, "a string", expected)


def read_parsed(value: Any, path: KeyPath, parse: Callable[[str], T], expected: str) -> T | _Marker | Unreadable:
    """The string at ``path`` read by ``parse`` (a ``facts`` normalization, raising ValueError with the
    problem); :data:`MISSING`, :data:`UNKNOWN` or :class:`Unreadable` as :func:`read_text`."""
    found = read_text(value, path, expected)
    if not isinstance(found, str):
        return found
    try:
        return parse(found)
    except ValueError as problem:
        return Unreadable(path_text(path), f"{shown(found)} {problem}", expected)


def read_str(value: Any, *path: str | int) -> str | _Marker:
    """Like :func:`read`, with anything other than a string read as :data:`MISSING` (for messages only)."""
    found = read(value, *path)
    return found if isinstance(found, str | _Marker) else MISSING


def element_paths(value: Any, path: KeyPath, expected: str) -> list[KeyPath] | _Marker | Unreadable:
    """The paths of the elements of the list at ``path``; :data:`MISSING`, :data:`UNKNOWN`, or
    :class:`Unreadable` when it is not a list (``expected`` says what a list of)."""
    found = lookup(value, path, expected)
    if isinstance(found, _Marker | Unreadable):
        return found
    if not _is_list(found):
        return Unreadable.wrong_type(path, found, "a list", expected)
    return [(*path, index) for index in range(len(found))]


# --- what the rules read ------------------------------------------------------------------------------------


def read_model_id(props: Any, path: KeyPath) -> facts.ModelRef | _Marker | Unreadable:
    """A model ID, read as :func:`facts.parse_model_id` reads it."""
    return read_parsed(props, path, facts.parse_model_id, facts.MODEL_ID_FORM)


def read_scope(props: Any, prop: str = "scope") -> str | _Marker | Unreadable:
    """An ARM scope as given, once :func:`facts.scope_breadth` has read it (the rule asks it for the breadth)."""

    def check(text: str) -> str:
        facts.scope_breadth(text)
        return text

    return read_parsed(props, (prop,), check, facts.SCOPE_FORM)


def read_role_definition_guid(props: Any, prop: str = "roleDefinitionId") -> str | _Marker | Unreadable:
    """The role GUID a role definition ID names."""
    return read_parsed(props, (prop,), facts.role_definition_guid, facts.ROLE_DEFINITION_ID_FORM)


def read_guid(props: Any, prop: str) -> str | _Marker | Unreadable:
    """A GUID, lowercase, braces and surrounding white space dropped."""

    def parse(text: str) -> str:
        found = facts.canonical_guid(text)
        if found is None:
            raise ValueError("is not a GUID")
        return found

    return read_parsed(props, (prop,), parse, facts.GUID_FORM)


# --- role definitions -----------------------------------------------------------------------------------

PERMISSIONS_FORM = "a list of permissions, each an object with actions, notActions, dataActions and notDataActions"
ACTIONS_FORM = f"a list of actions, such as {facts.ACTION_FORM.removeprefix('an action, such as ')}"


@dataclass(frozen=True)
class Permission:
    """One permission block of a role definition, its actions as given once :func:`facts.canonical_action`
    has read them: ``notActions`` take away only from the ``actions`` of their own block."""

    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...]


PERMISSION_FORM = "an object with actions, notActions, dataActions and notDataActions"


def _checked_action(text: str) -> str:
    facts.canonical_action(text)
    return text


def _action(props: Any, path: KeyPath) -> str | Unreadable | None:
    """The action at ``path`` as given; None when unknown at preview."""
    action = read_parsed(props, path, _checked_action, facts.ACTION_FORM)
    if action is UNKNOWN:
        return None
    if action is MISSING:
        return Unreadable.wrong_type(path, None, "a string", facts.ACTION_FORM)
    return action if isinstance(action, str | Unreadable) else None


def _action_list(props: Any, path: KeyPath) -> tuple[str, ...] | Unreadable | None:
    """The actions at ``path`` (none when unset); None when any is unknown at preview."""
    paths = element_paths(props, path, ACTIONS_FORM)
    if isinstance(paths, Unreadable):
        return paths
    if paths is UNKNOWN:
        return None
    actions: list[str] = []
    for element in paths if isinstance(paths, list) else []:
        action = _action(props, element)
        if not isinstance(action, str):
            return action
        actions.append(action)
    return tuple(actions)


def _permission(props: Any, path: KeyPath) -> Permission | Unreadable | None:
    """One permission block; None when any of it is unknown at preview."""
    found = lookup(props, path, PERMISSION_FORM)
    if found is UNKNOWN:
        return None
    if not isinstance(found, Mapping):
        return Unreadable.wrong_type(path, None if found is MISSING else found, "an object", PERMISSION_FORM)
    lists = [_action_list(props, (*path, key)) for key in ("actions", "notActions", "dataActions")]
    for value in lists:
        if not isinstance(value, tuple):
            return value
    actions, not_actions, data_actions = (v if isinstance(v, tuple) else () for v in lists)
    return Permission(actions, not_actions, data_actions)


def read_permissions(props: Any) -> list[Permission] | Unreadable | None:
    """What a role definition grants (its ``permissions``); None when any of it is unknown at preview."""
    blocks = element_paths(props, ("permissions",), PERMISSIONS_FORM)
    if isinstance(blocks, Unreadable):
        return blocks
    if blocks is UNKNOWN:
        return None
    granted: list[Permission] = []
    for block in blocks if isinstance(blocks, list) else []:
        permission = _permission(props, block)
        if not isinstance(permission, Permission):
            return permission
        granted.append(permission)
    return granted


# --- resource types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceType:
    """An azure-native resource type, matched in its default and its explicit API-version modules
    (``azure-native:machinelearningservices/v20250101preview:ServerlessEndpoint``)."""

    module: str
    name: str
    label: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Compiled once: every rule asks it of every resource (about 100,000 questions for 1,000 deployments)."""
        object.__setattr__(self, "_pattern", re.compile(rf"azure-native:{self.module}(?:/v[0-9a-z]+)?:{self.name}"))

    def matches(self, type_token: str) -> bool:
        return self._pattern.fullmatch(type_token) is not None


SERVERLESS_ENDPOINT = ResourceType("machinelearningservices", "ServerlessEndpoint", "serverless endpoint")
MARKETPLACE_SUBSCRIPTION = ResourceType(
    "machinelearningservices", "MarketplaceSubscription", "marketplace subscription"
)
WORKSPACE = ResourceType("machinelearningservices", "Workspace", "ML workspace")
RESOURCE_GROUP = ResourceType("resources", "ResourceGroup", "resource group")
ROLE_ASSIGNMENT = ResourceType("authorization", "RoleAssignment", "role assignment")
ROLE_DEFINITION = ResourceType("authorization", "RoleDefinition", "role definition")
FOUNDRY_ACCOUNT = ResourceType("cognitiveservices", "Account", "Foundry resource")
FOUNDRY_PROJECT = ResourceType("cognitiveservices", "Project", "Foundry project")
FOUNDRY_DEPLOYMENT = ResourceType("cognitiveservices", "Deployment", "Foundry deployment")
RAI_POLICY = ResourceType("cognitiveservices", "RaiPolicy", "content filter policy")

NAME_INPUTS: dict[ResourceType, str] = {
    WORKSPACE: "workspaceName",
    FOUNDRY_ACCOUNT: "accountName",
    FOUNDRY_PROJECT: "projectName",
    FOUNDRY_DEPLOYMENT: "deploymentName",
    RAI_POLICY: "raiPolicyName",
}
"""The input that holds a resource's Azure name, where it is not ``name``."""


def type_of(type_token: str, *candidates: ResourceType) -> ResourceType | None:
    """The first of ``candidates`` that ``type_token`` is, or None."""
    return next((t for t in candidates if t.matches(type_token)), None)


def arm_name(resource_type: ResourceType, props: Any) -> str | _Marker:
    """The Azure name of a resource: its name input (``workspaceName`` for a workspace, ``accountName`` for a
    Foundry resource... see :data:`NAME_INPUTS`; ``name`` otherwise)."""
    return read_str(props, NAME_INPUTS.get(resource_type, "name"))


def describe(resource_type: ResourceType, props: Any, logical_name: str) -> str:
    """``serverless endpoint 'chat'``, by its Azure name when known, else by its Pulumi name."""
    name = arm_name(resource_type, props)
    return f"{resource_type.label} {name if isinstance(name, str) else logical_name!r}"


# --- config ---------------------------------------------------------------------------------------------


def config_of(given: Mapping[str, Any] | None, schema: PolicyConfigSchema) -> dict[str, Any]:
    """The policy's config: the schema defaults (the engine applies them too) under what was configured."""
    merged = {key: spec["default"] for key, spec in schema.properties.items() if "default" in spec}
    merged.update(given or {})
    return merged


# --- where a resource lives -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a workspace's identity: a known name (normalized, lowercase) or the URN of the resource it
    comes from."""

    key: str
    label: str


PLACEMENT_FORMS = {
    "workspaceName": "the name of a workspace or project",
    "resourceGroupName": "the name of a resource group",
    "accountName": "the name of a Foundry resource",
    "raiPolicyName": "the name of a content filter policy",
}


def read_name(props: Any, prop: str) -> Part | _Marker | Unreadable:
    """An Azure name, read as :func:`facts.canonical_name` reads it, keyed case-insensitively."""
    found = read_parsed(props, (prop,), facts.canonical_name, PLACEMENT_FORMS.get(prop, "a name"))
    return Part(found.lower(), repr(found)) if isinstance(found, str) else found


def _part(resource: PolicyResource, prop: str, source: ResourceType, source_prop: str) -> Part | Unreadable | None:
    value = read_name(resource.props, prop)
    if isinstance(value, Part | Unreadable):
        return value
    if value is UNKNOWN:
        origins = [d for d in resource.property_dependencies.get(prop, []) if source.matches(d.resource_type)]
        if len(origins) == 1:
            origin = origins[0]
            origin_name = read_name(origin.props, source_prop)
            if isinstance(origin_name, Part):
                return origin_name
            return Part(f"urn:{origin.urn}", f"{source.label} {origin.name!r} (name known after create)")
    return None


@dataclass(frozen=True)
class Placement:
    """The workspace a subscription or an endpoint belongs to, as far as the stack tells."""

    workspace: Part
    resource_group: Part | None

    @property
    def identity(self) -> Part:
        """The workspace (what :class:`Located` keys by)."""
        return self.workspace

    def same_as(self, other: Placement) -> bool:
        """Same workspace name (or source URN); resource groups must agree when both are known."""
        if self.workspace.key != other.workspace.key:
            return False
        if self.resource_group is None or other.resource_group is None:
            return True
        return self.resource_group.key == other.resource_group.key

    def __str__(self) -> str:
        where = f"workspace {self.workspace.label}"
        return f"{where} in resource group {self.resource_group.label}" if self.resource_group else where


def placement(resource: PolicyResource) -> Placement | Unreadable | None:
    """Where ``resource`` lives: ``workspaceName`` when known, otherwise the workspace resource its
    ``workspaceName`` comes from (by that resource's name input, or its URN); None when neither is known;
    :class:`Unreadable` when the workspace or resource group name cannot be read."""
    workspace = _part(resource, "workspaceName", WORKSPACE, "workspaceName")
    group = _part(resource, "resourceGroupName", RESOURCE_GROUP, "resourceGroupName")
    if isinstance(workspace, Unreadable):
        return workspace
    if isinstance(group, Unreadable):
        return group
    if workspace is None:
        return None
    return Placement(workspace, group)


def upstream(resource: PolicyResource) -> list[PolicyResource]:
    """What ``resource`` depends on directly: its dependencies, then its property dependencies."""
    found = list(resource.dependencies)
    for deps in resource.property_dependencies.values():
        found.extend(deps)
    return found


def _search(resource: PolicyResource, targets: frozenset[str]) -> bool:
    """Whether ``resource`` depends on a resource whose URN is in ``targets``: a search of everything upstream,
    which holds in any graph, cycles included."""
    seen: set[str] = set()
    stack = [resource]
    while stack:
        for dep in upstream(stack.pop()):
            if dep.urn in targets:
                return True
            if dep.urn not in seen:
                seen.add(dep.urn)
                stack.append(dep)
    return False


def _topological(resources: Sequence[PolicyResource]) -> dict[str, int] | None:
    """Each resource's place in an order where every resource comes after what it depends on, by URN; None
    when the dependencies form a cycle (which the engine never sends)."""
    position: dict[str, int] = {}
    placed: dict[str, bool] = {}  # False while on the path being explored
    for root in resources:
        if root.urn in placed:
            continue
        placed[root.urn] = False
        path = [(root, iter(upstream(root)))]
        while path:
            node, deps = path[-1]
            for dep in deps:
                state = placed.get(dep.urn)
                if state is None:
                    placed[dep.urn] = False
                    path.append((dep, iter(upstream(dep))))
                    break
                if state is False:
                    return None
            else:
                path.pop()
                placed[node.urn] = True
                position[node.urn] = len(position)
    return position


class Dependencies:
    """Which resources of a stack depend on which, directly or through other resources, for rules that ask it
    of many pairs: one instance per stack validation, so that no question walks the whole stack again.

    Resources are numbered in dependency order once (O(n + edges)); a search for what a resource depends on
    stops at resources numbered before its targets (nothing there can lead to them), and remembers per target
    which resources lead to it, so that asking for one target from many resources walks each resource at most
    once. A stack whose dependencies form a cycle (the engine never sends one) is searched the plain way."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self._resources = resources
        self._numbered = False
        self._position: dict[str, int] | None = None
        self._memo: dict[frozenset[str], dict[str, bool]] = {}

    def _positions(self) -> dict[str, int] | None:
        if not self._numbered:
            self._position, self._numbered = _topological(self._resources), True
        return self._position

    def depends_on(self, resource: PolicyResource, targets: Iterable[PolicyResource]) -> bool:
        """Whether ``resource`` depends on any of ``targets``, directly or through other resources."""
        wanted = frozenset(target.urn for target in targets)
        if not wanted:
            return False
        position = self._positions()
        if position is None:
            return _search(resource, wanted)
        floor = min(position.get(urn, -1) for urn in wanted)
        leads = self._memo.setdefault(wanted, {})
        path = [(resource, iter(upstream(resource)))]
        while path:
            node, deps = path[-1]
            for dep in deps:
                if dep.urn in wanted or leads.get(dep.urn):
                    leads.update((on.urn, True) for on, _ in path[1:])
                    return True
                if dep.urn not in leads and position.get(dep.urn, floor) >= floor:
                    path.append((dep, iter(upstream(dep))))
                    break
            else:
                path.pop()
                if path:  # the resource asked about may be one the graph does not hold; the others are its own
                    leads[node.urn] = False
        return False

    def unordered_earlier(self, members: Sequence[PolicyResource], groups: Sequence[str | None]) -> list[list[int]]:
        """For each of ``members``, the earlier ones (by index, in order) of a compatible group (the same one, or
        either None) that neither depends on it nor it on them, directly or through other resources.

        When every two members are ordered (each depends on the one before it in dependency order, as a chain
        does) there is nothing to list, which costs one search per member, each within the resources numbered
        between that member and the one before it: O(n + edges) at most, O(members) when each depends on the one
        before it directly. Otherwise the members each member depends on, and that depend on it, are collected as
        bit sets over the resources that lead to a member, O((n + edges) * members / 64) plus the pairs listed. A
        stack whose dependencies form a cycle (the engine never sends one) is judged pair by pair."""
        count = len(members)
        found: list[list[int]] = [[] for _ in members]
        if count < 2:
            return found
        urns = [member.urn for member in members]
        position = self._positions()
        if position is None or len(set(urns)) < count or any(urn not in position for urn in urns):
            for later in range(count):
                for earlier in range(later):
                    if _compatible(groups[later], groups[earlier]) and not (
                        _search(members[later], frozenset((urns[earlier],)))
                        or _search(members[earlier], frozenset((urns[later],)))
                    ):
                        found[later].append(earlier)
            return found
        chain = sorted(range(count), key=lambda index: position[urns[index]])
        if all(self.depends_on(members[chain[n]], (members[chain[n - 1]],)) for n in range(1, count)):
            return found
        upstream_of, downstream_of = _member_sets(members, position)
        every = (1 << count) - 1
        ungrouped = sum(1 << index for index, group in enumerate(groups) if group is None)
        grouped: dict[str, int] = {}
        for index, group in enumerate(groups):
            if group is not None:
                grouped[group] = grouped.get(group, 0) | 1 << index
        for later, urn in enumerate(urns):
            group = groups[later]
            compatible = every if group is None else ungrouped | grouped[group]
            left = compatible & ((1 << later) - 1) & ~(upstream_of[urn] | downstream_of[urn])
            while left:
                lowest = left & -left
                found[later].append(lowest.bit_length() - 1)
                left ^= lowest
        return found


def _compatible(one: str | None, other: str | None) -> bool:
    return one is None or other is None or one == other


def _member_sets(
    members: Sequence[PolicyResource], position: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """For each resource that leads to one of ``members`` (and each member), the members it depends on and the
    members that depend on it, as bit sets over the members' indexes."""
    bit = {member.urn: 1 << index for index, member in enumerate(members)}
    floor = min(position[urn] for urn in bit)
    region: dict[str, PolicyResource] = {member.urn: member for member in members}
    stack = list(members)
    while stack:
        for dep in upstream(stack.pop()):
            if dep.urn not in region and position.get(dep.urn, floor) >= floor:
                region[dep.urn] = dep
                stack.append(dep)
    ordered = sorted(region.values(), key=lambda resource: position.get(resource.urn, floor))
    above: dict[str, int] = {}
    for resource in ordered:
        mask = 0
        for dep in upstream(resource):
            if dep.urn in region:
                mask |= above.get(dep.urn, 0) | bit.get(dep.urn, 0)
        above[resource.urn] = mask
    below = dict.fromkeys(region, 0)
    for resource in reversed(ordered):
        mask = below[resource.urn] | bit.get(resource.urn, 0)
        for dep in upstream(resource):
            if dep.urn in region:
                below[dep.urn] |= mask
    return above, below


# --- Foundry resources and what lives on them -----------------------------------------------------------------


@dataclass(frozen=True)
class AccountRef:
    """The Foundry resource a project, deployment or content filter policy belongs to (or a Foundry resource
    itself), as far as the stack tells: its name (or the URN of the resource its name comes from) and resource
    group."""

    account: Part
    resource_group: Part | None

    @property
    def identity(self) -> Part:
        """The Foundry resource (what :class:`Located` keys by)."""
        return self.account

    def same_as(self, other: AccountRef) -> bool:
        """Same account name (or source URN); resource groups must agree when both are known."""
        if self.account.key != other.account.key:
            return False
        if self.resource_group is None or other.resource_group is None:
            return True
        return self.resource_group.key == other.resource_group.key

    def __str__(self) -> str:
        where = self.account.label
        if not self.account.key.startswith("urn:"):
            where = f"{FOUNDRY_ACCOUNT.label} {where}"
        return f"{where} in resource group {self.resource_group.label}" if self.resource_group else where


def account_of(resource: PolicyResource) -> AccountRef | Unreadable | None:
    """The Foundry resource a child resource (project, deployment, content filter policy) belongs to: its
    ``accountName`` when known, otherwise the Foundry resource its ``accountName`` comes from (by that resource's
    name input, or its URN); None when neither is known; :class:`Unreadable` when a name cannot be read."""
    account = _part(resource, "accountName", FOUNDRY_ACCOUNT, "accountName")
    group = _part(resource, "resourceGroupName", RESOURCE_GROUP, "resourceGroupName")
    if isinstance(account, Unreadable):
        return account
    if isinstance(group, Unreadable):
        return group
    return AccountRef(account, group) if account is not None else None


def own_account(account: PolicyResource) -> AccountRef | Unreadable:
    """A Foundry resource's own identity: its ``accountName``, or its URN when the name is not known."""
    name = read_name(account.props, "accountName")
    group = _part(account, "resourceGroupName", RESOURCE_GROUP, "resourceGroupName")
    if isinstance(name, Unreadable):
        return name
    if isinstance(group, Unreadable):
        return group
    if not isinstance(name, Part):
        name = Part(f"urn:{account.urn}", f"{FOUNDRY_ACCOUNT.label} {account.name!r} (name known after create)")
    return AccountRef(name, group)


class _Bucket(Generic[T]):
    def __init__(self) -> None:
        self.items: list[T] = []
        self.ungrouped: list[int] = []
        self.grouped: dict[str, list[int]] = {}


class Located(Generic[T]):
    """Items by where they are (a :class:`Placement` or an :class:`AccountRef`, with any further key a rule adds,
    such as a model), found as ``same_as`` matches places: the same workspace or Foundry resource, and the same
    resource group where both are known. Answers come in the order the items were added; each question costs
    O(1), or O(answer) for :meth:`matching`, where comparing with every item would cost O(n)."""

    def __init__(self) -> None:
        self._buckets: dict[Hashable, _Bucket[T]] = {}

    def add(self, where: Placement | AccountRef, item: T, key: Hashable = None) -> None:
        bucket = self._buckets.setdefault((key, where.identity.key), _Bucket())
        group = where.resource_group
        places = bucket.ungrouped if group is None else bucket.grouped.setdefault(group.key, [])
        places.append(len(bucket.items))
        bucket.items.append(item)

    def _places(self, where: Placement | AccountRef, key: Hashable) -> tuple[_Bucket[T] | None, list[list[int]]]:
        bucket = self._buckets.get((key, where.identity.key))
        group = where.resource_group
        if bucket is None or group is None:
            return bucket, []
        return bucket, [bucket.ungrouped, bucket.grouped.get(group.key, [])]

    def matching(self, where: Placement | AccountRef, key: Hashable = None) -> list[T]:
        """The items at ``where``, in the order they were added."""
        bucket, places = self._places(where, key)
        if bucket is None:
            return []
        return list(bucket.items) if where.resource_group is None else [bucket.items[i] for i in heapq.merge(*places)]

    def first(self, where: Placement | AccountRef, key: Hashable = None) -> T | None:
        """The first item added at ``where``."""
        bucket, places = self._places(where, key)
        if bucket is None or not bucket.items:
            return None
        if where.resource_group is None:
            return bucket.items[0]
        firsts = [indexes[0] for indexes in places if indexes]
        return bucket.items[min(firsts)] if firsts else None

    def count(self, where: Placement | AccountRef, key: Hashable = None) -> int:
        """How many items are at ``where``."""
        bucket, places = self._places(where, key)
        if bucket is None:
            return 0
        return len(bucket.items) if where.resource_group is None else sum(len(indexes) for indexes in places)


def find_account(ref: AccountRef, accounts: Located[PolicyResource]) -> PolicyResource | None:
    """The Foundry resource of the stack that ``ref`` names, if exactly one matches."""
    return accounts.first(ref) if accounts.count(ref) == 1 else None


def read_bool(value: Any, path: KeyPath, expected: str) -> bool | _Marker | Unreadable:
    """The boolean at ``path``, :data:`MISSING`, :data:`UNKNOWN`, or :class:`Unreadable` for anything else."""
    found = lookup(value, path, expected)
    if isinstance(found, bool | _Marker | Unreadable):
        return found
    return Unreadable.wrong_type(path, found, "a boolean", expected)


def read_choice(value: Any, path: KeyPath, choices: Sequence[str], expected: str) -> str | _Marker | Unreadable:
    """The string at ``path`` as the one of ``choices`` it names (compared case-insensitively); any other
    string or type is :class:`Unreadable`."""

    def parse(text: str) -> str:
        found = next((choice for choice in choices if choice.lower() == text.strip().lower()), None)
        if found is None:
            raise ValueError(f"is not one of {', '.join(repr(c) for c in choices)}")
        return found

    return read_parsed(value, path, parse, expected)
