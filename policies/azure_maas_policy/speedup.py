"""Each resource converted once per analyzer call and shared by the call's policies (pulumi_policy 1.21.0 only).

**Why.** The Python policy SDK converts a resource for every policy it runs. In ``pulumi_policy/policy.py`` 1.21.0,
``_PolicyAnalyzerServicer.Analyze`` (line 971) computes
``unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(request.properties)))`` and
``self._get_resource_options(request)`` inside its loop over the policies (lines 997-999: six times per resource
for this pack), and ``_PolicyAnalyzerServicer.AnalyzeStack`` (line 1031) does the same for every resource of the
stack inside its loop over the policies (lines 1049-1051: nine times per resource, 27,000 conversions for a plan of
1,000 deployments, most of the pack's time). Both first call ``_configure_runtime_settings`` (line 1421), which asks
``signature(pulumi.runtime.Settings)`` (line 1440, ``inspect.signature``) anew each time. And ``AnalyzeStack``
makes tens of thousands of objects per policy while it holds the whole stack: the collections they set off walk
all of it, about a third of the call's time at 1,000 deployments.

**What.** :func:`install`, called by the pack's ``__main__.py`` before ``PolicyPack`` builds its servicer (line 118;
it serves it from four worker threads, line 131), wraps ``Analyze`` and ``AnalyzeStack`` so that each call opens a
scope on its own thread, and replaces the names those methods look up (``json_format``, ``deserialize_properties``
and ``unknown_checking_proxy`` in the SDK's module, the servicer's ``_get_resource_options`` at line 1392, a
function of the request's ``options`` alone) by versions that, inside a scope, remember their answer per argument
object (the request's ``Struct`` of properties, the dict made of it, the request or resource message) and give it
again. The scope and everything it remembers end with the call: no cache outlives a request. Outside a scope
(``Configure``, ``Remediate``, any other caller) and for other arguments (``MessageToDict`` with options,
``proxy_secrets=True``) they are the SDK's own. ``AnalyzeStack`` gets its request as a view (:class:`_StackView`):
each resource's fields read from the message once per call, where the SDK's loop over the stack's resources reads
them again for every stack policy (lines 1048-1058; reading a field of a protobuf message makes a new Python object
each time, and a list or map a new container). Its strings, lists and maps are equal plain values, its messages the
request's own, and ``HasField`` is asked of the message; :data:`VIEWERS` use nothing else of it. ``signature`` gives
the signature of ``pulumi.runtime.Settings`` it found the first time (a class does not change its parameters in a
running process; any other question is passed on). During an ``AnalyzeStack`` call the cyclic collector is paused
(and enabled again afterwards if it was): what the call makes is freed by reference counting as before, and anything
cyclic is collected once it ends.

**What policies see.** The same values as before. The policies of one call share the read-only view
(``unknown_checking_proxy``) of a resource's properties and its ``PolicyResourceOptions``, where each had an equal
copy of its own: a policy could tell only by writing into them or comparing identities across policies, which none
of this pack's does (``rules.py`` only reads ``props`` and never reads ``opts``; ``tests/test_pack_speed.py`` checks
that nothing writes into either). ``PolicyResource`` objects, with their parents and dependencies, are still
built per policy by the SDK.

**Guard.** The speed-up is applied only when the installed pulumi_policy is :data:`PULUMI_POLICY_CHECKED`, the
version whose sources were read, and every seam above is there with the shape read (:func:`misfit` names the first
that is not). Otherwise the pack runs exactly as the SDK runs it: no error, and nothing printed (the pack's stdout
carries only its port). The views must have every field of the installed protocol's ``AnalyzerResource``
(:data:`VIEWED_FIELDS`) and :data:`VIEWERS` must ask its messages for no method but ``HasField``. For a new SDK
version, read those methods again and update :data:`PULUMI_POLICY_CHECKED`.
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any, Final

import pulumi.runtime
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

PULUMI_POLICY_CHECKED: Final = "1.21.0"
"""The pulumi_policy version whose ``policy.py`` the seams were read in."""

SCOPED: Final = ("Analyze", "AnalyzeStack")
"""The servicer's methods that convert each resource once per policy; each of their calls opens a scope."""
VIEWERS: Final = ("AnalyzeStack", "_get_resource_options", "_get_provider_resource")
"""The servicer's methods that get an ``AnalyzeStack`` request's resources as views: they may read any field and
ask ``HasField``, and use no other method of the message."""
CONVERSION_NAMES: Final = frozenset(
    {"json_format", "MessageToDict", "deserialize_properties", "unknown_checking_proxy", "_get_resource_options"}
)
"""What ``Analyze`` and ``AnalyzeStack`` must look up for the shared versions to be the ones they call."""


# --- the scope: what one call remembers, on its own thread -------------------------------------------------------

Table = dict[int, tuple[object, Any]]
"""Answers by the identity of the object asked about; each entry holds that object, so that no other object can
take its id while the scope lasts."""


class _Memo:
    """What the call on this thread has converted, per SDK function."""

    __slots__ = ("deserialized", "dicts", "options", "proxies")

    def __init__(self) -> None:
        self.dicts: Table = {}
        self.deserialized: Table = {}
        self.proxies: Table = {}
        self.options: Table = {}


class _Local(threading.local):
    memo: _Memo | None = None
    """The scope open on this thread, if any."""


_local = _Local()


def scope_open() -> bool:
    """Whether a call on this thread is remembering conversions (only while ``Analyze`` or ``AnalyzeStack`` runs)."""
    return _local.memo is not None


@contextmanager
def _scope() -> Iterator[None]:
    """Remember conversions on this thread until the block ends (a scope already open is kept: its call owns it)."""
    if _local.memo is not None:
        yield
        return
    _local.memo = _Memo()
    try:
        yield
    finally:
        _local.memo = None


class _Collector:
    """Pauses the cyclic garbage collector while at least one ``AnalyzeStack`` call runs (calls run on several
    threads; the last to end enables it again, if it was enabled when the first began)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._resume = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._resume:
                    gc.enable()


_collector = _Collector()


# --- the shared versions of the SDK's names (written out, not through a helper: each runs ~15 times per resource) --


class _SharedJsonFormat:
    """``google.protobuf.json_format`` as ``pulumi_policy.policy`` sees it: ``MessageToDict`` of a message without
    options is remembered in a scope; everything else is the module's own."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._convert: Callable[..., Any] = module.MessageToDict

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the module's name
        memo = _local.memo
        if memo is None or args or kwargs:
            return self._convert(message, *args, **kwargs)
        entry = memo.dicts.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        value = self._convert(message)
        memo.dicts[id(message)] = (message, value)
        return value


def _shared_deserialize(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
        memo = _local.memo
        if memo is None or proxy_secrets:
            return original(props, proxy_secrets)
        entry = memo.deserialized.get(id(props))
        if entry is not None and entry[0] is props:
            return entry[1]
        value = original(props)
        memo.deserialized[id(props)] = (props, value)
        return value

    return deserialize_properties


def _shared_proxy(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(original)
    def unknown_checking_proxy(props: Any) -> Any:
        memo = _local.memo
        if memo is None:
            return original(props)
        entry = memo.proxies.get(id(props))
        if entry is not None and entry[0] is props:
            return entry[1]
        value = original(props)
        memo.proxies[id(props)] = (props, value)
        return value

    return unknown_checking_proxy


def _shared_options(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(original)
    def _get_resource_options(self: Any, request: Any) -> Any:
        memo = _local.memo
        if memo is None:
            return original(self, request)
        entry = memo.options.get(id(request))
        if entry is not None and entry[0] is request:
            return entry[1]
        value = original(self, request)
        memo.options[id(request)] = (request, value)
        return value

    return _get_resource_options


def _scoped(original: Callable[[Any, Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    @functools.wraps(original)
    def method(self: Any, request: Any, context: Any) -> Any:
        with _scope():
            return original(self, request, context)

    return method


class _Dependencies:
    """An ``AnalyzerPropertyDependencies`` as ``AnalyzeStack`` reads it: its URNs."""

    __slots__ = ("urns",)

    def __init__(self, urns: tuple[str, ...]) -> None:
        self.urns = urns


class _ResourceView:
    """An ``AnalyzerResource`` of the request, read once: its strings and lists as plain values, its messages
    (``properties``, ``options``, ``provider``) as the request's own objects, and ``HasField`` asked of it."""

    __slots__ = (
        "_message",
        "dependencies",
        "name",
        "options",
        "parent",
        "properties",
        "propertyDependencies",
        "provider",
        "type",
        "urn",
    )

    def __init__(self, message: Any) -> None:
        self._message = message
        self.type = message.type
        self.properties = message.properties
        self.urn = message.urn
        self.name = message.name
        self.options = message.options
        self.provider = message.provider
        self.parent = message.parent
        self.dependencies = tuple(message.dependencies)
        self.propertyDependencies = {
            key: _Dependencies(tuple(value.urns)) for key, value in message.propertyDependencies.items()
        }

    def HasField(self, name: str) -> bool:  # noqa: N802 - the message's method
        return bool(self._message.HasField(name))


VIEWED_FIELDS: Final = frozenset(_ResourceView.__slots__) - {"_message"}
"""The fields of ``AnalyzerResource`` (``pulumi.runtime.proto.analyzer_pb2``) a view has: those it reads."""


class _StackView:
    """An ``AnalyzeStackRequest`` as ``AnalyzeStack`` reads it: its resources, each a :class:`_ResourceView`."""

    __slots__ = ("resources",)

    def __init__(self, request: Any) -> None:
        self.resources = [_ResourceView(resource) for resource in request.resources]


def _stack_scoped(original: Callable[[Any, Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    @functools.wraps(original)
    def method(self: Any, request: Any, context: Any) -> Any:
        with _collector.paused(), _scope():
            return original(self, _StackView(request), context)

    return method


def _remembering_signature(original: Callable[..., inspect.Signature]) -> Callable[..., inspect.Signature]:
    remembered: list[tuple[object, inspect.Signature]] = []

    @functools.wraps(original)
    def signature(obj: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        if args or kwargs or obj is not pulumi.runtime.Settings:
            return original(obj, *args, **kwargs)
        known = remembered[0] if remembered else None  # one entry, replaced whole: safe across threads
        if known is not None and known[0] is obj:
            return known[1]
        found = original(obj)
        remembered[:] = [(obj, found)]
        return found

    return signature


# --- the guard ---------------------------------------------------------------------------------------------------


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def installed_version() -> str | None:
    """The installed pulumi_policy's version, as its ``version`` module states it; None when it states none."""
    found = getattr(_module("pulumi_policy.version"), "VERSION", None)
    return found if isinstance(found, str) else None


def _parameters(function: object) -> list[str] | None:
    return list(inspect.signature(function).parameters) if isinstance(function, FunctionType) else None


def _names(function: object) -> frozenset[str]:
    return frozenset(function.__code__.co_names) if isinstance(function, FunctionType) else frozenset()


def misfits() -> Iterator[str]:
    """What does not fit in the installed pulumi_policy: each seam that is not as read in
    :data:`PULUMI_POLICY_CHECKED` (nothing once the speed-up is installed). Reads only; never raises."""
    if _applied:
        return
    version = installed_version()
    if version != PULUMI_POLICY_CHECKED:
        yield f"pulumi_policy {version or '(no version)'} is not {PULUMI_POLICY_CHECKED}, the version checked"
        return
    sdk = _module("pulumi_policy.policy")
    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    if sdk is None or not isinstance(servicer, type):
        yield "pulumi_policy.policy has no _PolicyAnalyzerServicer class"
        return
    if getattr(sdk, "json_format", None) is not json_format:
        yield "pulumi_policy.policy.json_format is not google.protobuf.json_format"
    for module, name, parameters in (
        ("pulumi_policy.deserialize", "deserialize_properties", ["props", "proxy_secrets"]),
        ("pulumi_policy.proxy", "unknown_checking_proxy", ["props"]),
    ):
        defined = getattr(_module(module), name, None)
        if getattr(sdk, name, None) is not defined or _parameters(defined) != parameters:
            yield f"pulumi_policy.policy.{name} is not {module}.{name}({', '.join(parameters)})"
    if getattr(sdk, "signature", None) is not inspect.signature:
        yield "pulumi_policy.policy.signature is not inspect.signature"
    for name in SCOPED:
        method = servicer.__dict__.get(name)
        missing = sorted(CONVERSION_NAMES - _names(method))
        if _parameters(method) != ["self", "request", "_context"]:
            yield f"_PolicyAnalyzerServicer.{name} is not a method (self, request, _context)"
        elif missing:
            yield f"_PolicyAnalyzerServicer.{name} does not look up {', '.join(missing)}"
    if _parameters(servicer.__dict__.get("_get_resource_options")) != ["self", "request"]:
        yield "_PolicyAnalyzerServicer._get_resource_options is not a method (self, request)"
    yield from _view_misfits(servicer)
    if not {"signature", "Settings"} <= _names(servicer.__dict__.get("_configure_runtime_settings")):
        yield "_PolicyAnalyzerServicer._configure_runtime_settings does not ask signature(pulumi.runtime.Settings)"


def _view_misfits(servicer: type) -> Iterator[str]:
    """What the views (:class:`_StackView`) lack for the installed protocol and the methods that read them."""
    resource, dependencies = analyzer_pb2.AnalyzerResource, analyzer_pb2.AnalyzerPropertyDependencies
    fields = {field.name for field in resource.DESCRIPTOR.fields}
    if fields != VIEWED_FIELDS:
        yield f"AnalyzerResource has the fields {', '.join(sorted(fields))}, not {', '.join(sorted(VIEWED_FIELDS))}"
    if [field.name for field in dependencies.DESCRIPTOR.fields] != ["urns"]:
        yield "AnalyzerPropertyDependencies has fields other than urns"
    methods = {name for name in dir(resource) if not name.startswith("_") and name[0].isupper()} - {"HasField"}
    for name in VIEWERS:
        asked = sorted(_names(servicer.__dict__.get(name)) & methods)
        if asked:
            yield f"_PolicyAnalyzerServicer.{name} asks a resource message for {', '.join(asked)}"


def misfit() -> str | None:
    """The first of :func:`misfits`; None when the speed-up fits the installed pulumi_policy."""
    return next(misfits(), None)


# --- install ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patch:
    owner: object
    name: str
    original: object
    replacement: object


_applied: list[_Patch] = []


def active() -> bool:
    """Whether the speed-up is installed in this process."""
    return bool(_applied)


def _patches() -> list[_Patch]:
    sdk = importlib.import_module("pulumi_policy.policy")
    servicer = sdk._PolicyAnalyzerServicer
    table: list[tuple[object, str, Callable[[Any], object]]] = [
        (sdk, "json_format", _SharedJsonFormat),
        (sdk, "deserialize_properties", _shared_deserialize),
        (sdk, "unknown_checking_proxy", _shared_proxy),
        (sdk, "signature", _remembering_signature),
        (servicer, "_get_resource_options", _shared_options),
        (servicer, "Analyze", _scoped),
        (servicer, "AnalyzeStack", _stack_scoped),
    ]
    patches = []
    for owner, name, make in table:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        patches.append(_Patch(owner, name, original, make(original)))
    return patches


def install() -> bool:
    """Apply the speed-up when it fits the installed pulumi_policy (see :func:`misfit`); whether it is active.
    Call it before ``PolicyPack(...)``, which binds the servicer's methods when it builds its server. Idempotent;
    prints nothing."""
    if _applied:
        return True
    if misfit() is not None:
        return False
    patches = _patches()
    for patch in patches:
        setattr(patch.owner, patch.name, patch.replacement)
    _applied.extend(patches)
    return True


def uninstall() -> None:
    """Put the SDK back as it was (for tests comparing the pack with and without the speed-up)."""
    while _applied:
        patch = _applied.pop()
        setattr(patch.owner, patch.name, patch.original)
