"""Run a Pulumi program in-process under a capturing engine and keep what the engine would see.

The Pulumi SDK's mock monitor stands in for the engine. :class:`CapturingMonitor` keeps, for every resource
registration, its type, name, URN, parent, dependencies, property dependencies, options and inputs in the form
the engine hands analyzers (plain JSON; a value unknown at preview is ``rpc.UNKNOWN``; a secret keeps the SDK's
secret wrapper); for every invoke its token and arguments; and the stack outputs. Like the engine, it refuses a
second resource with a URN already registered (:class:`DuplicateUrnError`), which fails the program run.

:class:`PreviewMocks` answers like the engine previewing the creation of a stack: a resource has no ID yet
and its inputs are its only known outputs, so IDs, names computed by Azure and URIs are unknown.

The capture takes a fast path (:func:`capture`'s ``fast``, on by default) that leaves out work whose results
nothing offline reads; it changes no captured byte (``tests/test_capture_fast_path.py`` compares both paths).
Checked against the Pulumi Python SDK 3.272.0 (:data:`SDK_CHECKED`):

- **aliases**: every azure-native resource carries about twenty aliases (its type at each older API version).
  ``Resource.__init__`` (``pulumi/resource.py``) turns each into URN ``Output`` objects
  (``collapse_alias_to_urn``), and ``prepare_aliases`` (``pulumi/runtime/resource.py``) resolves them again to
  send them to the monitor: four fifths of all the outputs a plan makes. They only let the engine match a resource
  in a stack's state under an old type; offline there is no state, analyzers are not sent aliases, and
  :class:`Resource` does not record them. A stack transformation drops them: the SDK's supported hook
  (``pulumi.runtime.register_stack_transformation``), which ``Resource.__init__`` runs before it reads
  ``opts.aliases``.
- **stack traces**: ``register_resource`` (``pulumi/runtime/resource.py``) walks the Python stack of every
  registration (``_get_stack_trace``, ``traceback.extract_stack``) to send the engine a source position, which
  :class:`Resource` does not record either. ``_get_stack_trace`` is replaced by an empty trace while the program
  runs, and put back afterwards.
- **the cyclic garbage collector** is paused while the program runs (and enabled again afterwards, if it was):
  the SDK makes hundreds of long-lived objects (futures, tasks, outputs) per resource, and each full collection
  walks all of them: three quarters of the run's time at 1,000 deployments. Young objects are collected once the
  run has made :data:`YOUNG_LIMIT` of them, so memory stays bounded.

- **the URN without a monitor**: ``do_register``, in ``register_resource`` (``pulumi/runtime/resource.py``),
  computes for every registration the URN a run with no monitor at all would give the resource
  (``mock_urn = await create_urn(name, ty, resolver.parent_urn).future()``: three outputs, ``Output.all`` and two
  ``apply``, each a round of the event loop), and reads it only when there is no monitor; the capture always has
  one. While the program runs, ``create_urn`` called from ``do_register`` with plain strings gives that same URN
  as a finished future (:class:`_Resolved`); from anywhere else it is the SDK's. At 1,000 deployments this was
  about a sixth of the program's time.
- **registrations answered with their inputs**: with :class:`PreviewMocks`, the mock monitor's answer to a
  registration is its inputs, which ``MockMonitor.RegisterResource`` (``pulumi/runtime/mocks.py``) deserializes
  and serializes again in an executor thread; :meth:`CapturingMonitor._echo` sends them back as they came. Other
  mocks (the tests' answers of an update) still go through the SDK's mock monitor.

The monitor checks that no registration carried aliases or a stack trace, and :func:`_check_seams` that
``register_resource`` and ``do_register`` still look up the names replaced: if an SDK upgrade moves either seam,
the capture fails with :class:`FastPathError` (an internal error) rather than silently taking the slow path.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import importlib.metadata
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

import pulumi
import pulumi.runtime
import pulumi.runtime.resource as sdk_resource
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_in_stack

from infra.engine.resource import Resource
from infra.errors import InternalError

SECRET_SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
RESOURCE_SIG = rpc._special_resource_sig
MASK = "[secret]"
UNKNOWN_TEXT = "[unknown]"
"""How reports show a value unknown at preview."""
STACK_TYPE = "pulumi:pulumi:Stack"
SDK_CHECKED = "3.272.0"
"""The Pulumi Python SDK version whose sources the fast path was checked against (``uv pip show pulumi``)."""
YOUNG_LIMIT = 5_000_000
"""On the fast path, how many objects the run may make (net of those freed) before the young ones are collected:
about a gigabyte, a plan of some 5,000 deployments. A safety net: while the program runs, little of what it made
is garbage yet (at 2,000 deployments a collection at 2 million objects freed 10 MB and took 1.6 s); four fifths
becomes garbage in reference cycles once the run is over, and is collected then."""


class FastPathError(InternalError):
    """The installed Pulumi SDK no longer has a seam the capture's fast path relies on."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"the capture's fast path does not fit pulumi {pulumi_version()} (checked against {SDK_CHECKED}): {what}; "
            "see infra/engine/capture.py"
        )


def pulumi_version() -> str:
    """The installed Pulumi Python SDK's version."""
    return importlib.metadata.version("pulumi")


class DuplicateUrnError(Exception):
    """A resource was registered with the URN of one registered before: the engine fails the update."""

    def __init__(self, urn: str) -> None:
        super().__init__(f"Duplicate resource URN '{urn}'; try giving it a unique name")  # the engine's words
        self.urn = urn


@dataclass
class Capture:
    resources: list[Resource] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def by_name(self, name: str) -> Resource:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name!r}: {[r.urn for r in matches]}"
        return matches[0]

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)


def _engine_form(value: Any) -> Any:
    """A value of a serialized property in the form the engine gives analyzers."""
    if isinstance(value, dict):
        sig = value.get(SECRET_SIG_KEY)
        if sig == SECRET_SIG:
            return {SECRET_SIG_KEY: SECRET_SIG, "value": _engine_form(value.get("value"))}
        if sig == RESOURCE_SIG:  # resource references are flattened to their ID, or URN for components
            return value.get("id") or value.get("urn") or rpc.UNKNOWN
        return {k: _engine_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_engine_form(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def mask_secrets(value: Any) -> Any:
    """``value`` with each secret wrapper replaced by ``[secret]``."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return MASK
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


class PreviewMocks(pulumi.runtime.Mocks):
    """The engine previewing a create: no ID, the inputs as the only outputs; invokes answered by ``calls``
    (token to a function of the arguments); any other invoke is an error naming its token."""

    def __init__(self, calls: Mapping[str, Callable[[Mapping[str, Any]], dict[str, Any]]]) -> None:
        self.calls = calls

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return None, dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        handler = self.calls.get(args.token)
        if handler is None:
            raise NotImplementedError(f"the offline engine cannot answer the invoke {args.token}")
        return handler(args.args)


class CapturingMonitor(MockMonitor):
    def __init__(
        self,
        mocks: pulumi.runtime.Mocks,
        capture: Capture,
        *,
        fast: bool = False,
        on_resource: Callable[[Resource], None] | None = None,
    ) -> None:
        super().__init__(mocks)
        self.capture = capture
        self.on_resource = on_resource
        """Called with each resource once it is captured, on the thread that registered it."""
        self.fast = fast
        self.fast_path_missed: str | None = None
        """On the fast path, what a registration carried that the fast path should have left out."""
        self.echo = fast and type(mocks) is PreviewMocks
        """Answer registrations with their inputs directly (see :meth:`_echo`)."""
        self.qualified_types: dict[str, str] = {}
        """Per registered URN, its type qualified as the engine does: by every parent's type, the stack's aside."""
        self.engine_urns: set[str] = set()
        self.lock = threading.Lock()  # registrations arrive on the event loop's executor threads

    def engine_urn(self, request: Any) -> tuple[str, str]:
        """The URN the engine gives the resource, and its qualified type. (The SDK's mock monitor qualifies a type
        by its nearest parent's only, and by the stack's; the captured URNs keep that form.)"""
        parent = self.qualified_types.get(request.parent)
        qualified = f"{parent}${request.type}" if parent else request.type
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{qualified}::{request.name}", qualified

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type != STACK_TYPE:  # the SDK registers a stack for the mocks and the program one more
            with self.lock:
                engine_urn, qualified = self.engine_urn(request)
                if engine_urn in self.engine_urns:
                    raise DuplicateUrnError(engine_urn)
                self.engine_urns.add(engine_urn)
        if self.fast and self.fast_path_missed is None and request.type != STACK_TYPE:
            # (set_mocks registers a stack before the capture takes its fast path)
            self.fast_path_missed = _slow_path_work(request)
        if self.echo and request.type != STACK_TYPE:
            response = self._echo(request)
        else:
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != STACK_TYPE:
            self.qualified_types[response.urn] = qualified
            resource = Resource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                dependencies=tuple(request.dependencies),
                property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
                delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
                protect=request.protect,
                inputs=_engine_form(json_format.MessageToDict(request.object)),
            )
            self.capture.resources.append(resource)
            if self.on_resource is not None:
                self.on_resource(resource)
            if self.fast and gc.get_count()[0] > YOUNG_LIMIT:
                gc.collect(1)  # the young generations only: what the run made since the last collection
        return response

    def _echo(self, request: Any) -> Any:
        """The answer of the SDK's ``MockMonitor.RegisterResource`` when the mocks are :class:`PreviewMocks` (no
        ID, the inputs as the outputs), without its round trip: it deserializes the inputs (which needs an event
        loop in the executor thread), hands them to ``new_resource`` and serializes what comes back, the inputs
        again. Sent back as they came, the inputs give the program the same outputs: a value unknown at preview is
        unknown either way (``tests/test_capture_fast_path.py`` compares every registration). The registration is
        not kept in ``self.resources``: only ``pulumi:pulumi:getResource`` (a resource passed as an input
        property, which no azure-maas component does and which hangs the SDK's mock monitor on either path) and
        ``ExistsResource`` (by ID: these have none) read it."""
        return resource_pb2.RegisterResourceResponse(
            urn=self.make_urn(request.parent, request.type, request.name), object=request.object
        )

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.capture.invokes.append((request.tok, rpc.deserialize_properties(request.args)))
        return super().Invoke(request)  # type: ignore[no-untyped-call]

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn.split("::")[-2:-1] == ["pulumi:pulumi:Stack"]:
            self.capture.outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _slow_path_work(request: Any) -> str | None:
    """What of the work the fast path leaves out ``request`` carries, if any."""
    if request.aliases or request.aliasURNs:
        return f"{request.type} {request.name!r} was registered with aliases"
    if request.stackTrace.frames or request.HasField("sourcePosition"):
        return f"{request.type} {request.name!r} was registered with a stack trace"
    return None


def _without_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """A stack transformation: the resource without its aliases (see the module's docstring)."""
    if not args.opts.aliases:
        return None
    opts = copy.copy(args.opts)  # as the SDK's ResourceOptions._copy does
    opts.aliases = None
    return pulumi.ResourceTransformationResult(args.props, opts)


def _no_stack_trace() -> source_pb2.StackTrace:
    """``_get_stack_trace`` of ``pulumi/runtime/resource.py`` on the fast path: an empty trace, which
    ``_get_source_position`` turns into no source position."""
    return source_pb2.StackTrace()


class _Resolved:
    """What ``do_register`` reads of ``create_urn``'s answer: ``.future()``, here finished with ``urn``."""

    __slots__ = ("urn",)

    def __init__(self, urn: str) -> None:
        self.urn = urn

    def future(self) -> asyncio.Future[str]:
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        done.set_result(self.urn)
        return done


def _do_register_code() -> CodeType | None:
    """The code of the ``do_register`` that ``register_resource`` defines, if it calls ``create_urn``."""
    for constant in sdk_resource.register_resource.__code__.co_consts:
        if isinstance(constant, CodeType) and constant.co_name == "do_register" and "create_urn" in constant.co_names:
            return constant
    return None


def _check_seams() -> None:
    """:class:`FastPathError` unless ``register_resource`` still looks ``_get_stack_trace`` up in its module's
    globals at every call, and its ``do_register`` ``create_urn`` (as in pulumi 3.272.0), where :func:`_fast_path`
    replaces them."""
    if not callable(getattr(sdk_resource, "_get_stack_trace", None)) or (
        "_get_stack_trace" not in sdk_resource.register_resource.__code__.co_names
    ):
        raise FastPathError("pulumi.runtime.resource.register_resource no longer calls _get_stack_trace")
    if not callable(getattr(sdk_resource, "create_urn", None)) or _do_register_code() is None:
        raise FastPathError("pulumi.runtime.resource.register_resource no longer calls create_urn in do_register")


def _registration_urns(create_urn: Callable[..., Any], do_register: CodeType) -> Callable[..., Any]:
    """``create_urn`` for the fast path: called from ``do_register`` with plain strings, the URN it would give, as
    a finished future (see the module's docstring); otherwise ``create_urn`` itself."""

    def registration_urn(
        name: Any, type_: Any, parent: Any = None, project: str | None = None, stack: str | None = None
    ) -> Any:
        if (
            sys._getframe(1).f_code is do_register
            and type(name) is str
            and type(type_) is str
            and (parent is None or type(parent) is str)
            and project is None
            and stack is None
        ):
            if parent is None:
                return _Resolved(f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}")
            return _Resolved(f"{parent[: parent.rfind('::')]}${type_}::{name}")
        return create_urn(name, type_, parent, project, stack)

    return registration_urn


@contextlib.contextmanager
def _fast_path() -> Iterator[None]:
    """While the program runs: no stack traces, no URNs for a run without a monitor, no automatic cyclic garbage
    collection."""
    get_stack_trace = sdk_resource._get_stack_trace
    create_urn = sdk_resource.create_urn
    do_register = _do_register_code()
    assert do_register is not None  # (_check_seams)
    collecting = gc.isenabled()
    sdk_resource._get_stack_trace = _no_stack_trace
    sdk_resource.create_urn = _registration_urns(create_urn, do_register)
    gc.disable()
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = get_stack_trace
        sdk_resource.create_urn = create_urn
        if collecting:
            gc.enable()


STOP_TIMEOUT = 2.0
"""Seconds a run stopped by a signal has to wind down (:func:`_wind_down`)."""


def _wind_down(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks a stop signal left pending and let them end (within :data:`STOP_TIMEOUT`), as
    ``asyncio.run`` does: a task, or the program's own coroutine, dropped unfinished would say so when it is
    collected. What does not end in time is dropped quietly (the loop's handler knows the run was stopped); another
    stop signal ends the wait."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait(pending, timeout=STOP_TIMEOUT))


def capture(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    mocks: pulumi.runtime.Mocks,
    preview: bool,
    secret_keys: Iterable[str] = (),
    fast: bool = True,
    on_resource: Callable[[Resource], None] | None = None,
) -> tuple[Capture, BaseException | None]:
    """Run ``program`` as the stack ``project``/``stack`` with ``config``; return what was captured and the
    error the program raised, if any (what was registered before the error is kept). ``on_resource`` is called
    with each resource as it is captured (in registration order, on the thread the registration came in on).

    ``fast=False`` runs the SDK's every step (see the module's docstring); only a test that compares the two
    paths wants it. :class:`FastPathError` when the installed SDK no longer fits the fast path."""
    if fast:
        _check_seams()
    captured = Capture()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK's mock monitor runs in the loop's executor threads and wants an event loop in each; it would
    # open one per thread and never close it, and a loop finalized by the garbage collector can print
    # "Exception ignored in BaseEventLoop.__del__ ... Invalid file descriptor: -1". So each thread gets its
    # loop here, and every one is closed once the threads have ended.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def open_thread_loop() -> None:
        thread_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(thread_loop)
        thread_loops.append(thread_loop)

    executor = ThreadPoolExecutor(thread_name_prefix="asyncio", initializer=open_thread_loop)
    loop.set_default_executor(executor)
    error: BaseException | None = None
    stopped = False
    """Whether a stop signal (a ``KeyboardInterrupt``, as ``maas`` raises it) ended the run: what it left pending is
    abandoned, not failed."""

    def handle(failed_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # When a registration fails, the SDK sets the error on every output waiting for it: the caller gets it
        # once, and each of those futures need not log it again when it is collected. After a stop signal, the
        # tasks it left pending need not say that they were destroyed pending either.
        if not stopped and (error is None or context.get("exception") is not error):
            failed_loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
    monitor = CapturingMonitor(mocks, captured, fast=fast, on_resource=on_resource)

    stop_signals: list[KeyboardInterrupt] = []

    def stoppable(run: Callable[[], None]) -> Callable[[], None]:
        """``run``, stopping the loop on a stop signal raised in it: the SDK's ``run_pulumi_func`` keeps whatever
        the program raises and first waits for the registrations under way, which a program stopped half-way
        can leave waiting forever (an output it was still making)."""

        def program_() -> None:
            try:
                run()
            except KeyboardInterrupt as stop:
                stop_signals.append(stop)
                loop.stop()
                raise

        return program_

    def fast_program() -> None:
        # The root stack exists now (run_in_stack made it); every resource inherits its transformations.
        pulumi.runtime.register_stack_transformation(_without_aliases)
        program()

    try:
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        pulumi.runtime.settings.ROOT.set(None)  # set_mocks made a root stack; the program makes its own
        # A run that failed (a refused registration, say) leaves its pending outputs behind, bound to its closed
        # loop; set_mocks keeps them, and this run would wait on them.
        pulumi.runtime.settings.SETTINGS.outputs.clear()
        pulumi.runtime.settings.SETTINGS.rpc_manager.clear()
        with _fast_path() if fast else contextlib.nullcontext():
            try:
                loop.run_until_complete(run_in_stack(stoppable(fast_program if fast else program)))
            except RuntimeError:  # "Event loop stopped before Future completed", after a stop signal
                if not stop_signals:
                    raise
            if stop_signals:
                raise stop_signals[0]
    except Exception as exc:  # handed to the caller
        error = exc
    except BaseException:  # a stop signal: the caller stops, with its one line and nothing before it
        stopped = True
        _wind_down(loop)
        raise
    finally:
        executor.shutdown(wait=True)
        with warnings.catch_warnings():
            if stopped:  # closing the loop drops the coroutines the run had not started; each would warn so
                warnings.simplefilter("ignore", RuntimeWarning)
            for thread_loop in thread_loops:
                thread_loop.close()
            loop.close()
        asyncio.set_event_loop(None)
    if monitor.fast_path_missed is not None:
        raise FastPathError(monitor.fast_path_missed)
    return captured, error
