"""The capture's fast path (``infra.engine.capture``) changes nothing the engine would see.

The fast path leaves out what nothing offline reads: the aliases azure-native gives every resource and the stack
trace of every registration, and a preview's registrations skip the round trip of the SDK's mock monitor
(answered with their inputs). Each stack below is captured with and without it, and every registration request is
compared whole (type, name, parent, custom, inputs, dependencies, property dependencies, provider, protect,
deleteBeforeReplace, ignoreChanges, ...), as are the captured records, invokes and stack outputs: they are equal
once aliases and stack traces are set aside, which the fast path leaves empty and the SDK's every step fills.
Registrations are compared as sorted lists: the order they reach the monitor in depends on how the SDK's
asynchronous calls interleave, in either path.

The policy pack's answers, sent several at a time (``infra.engine.analyzer``), are compared with calls made one by
one.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pulumi
import pulumi.runtime
import pulumi.runtime.resource as sdk_resource
import pytest
from google.protobuf import json_format
from pulumi.output import Unknown
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import analyzer_pb2
from pulumi_azure_native import resources

from infra import program
from infra.engine import capture as capture_module
from infra.engine import pack_process
from infra.engine.analyzer import (
    Diagnostic,
    GivenConfig,
    PolicyPackSession,
    StackInfo,
    _request_fields,
    _stack_request,
    open_session,
)
from infra.engine.capture import (
    SDK_CHECKED,
    STACK_TYPE,
    Capture,
    CapturingMonitor,
    FastPathError,
    PreviewMocks,
    capture,
    pulumi_version,
)
from infra.engine.preview import PLACEHOLDER_ID, Identity, offline_calls
from infra.engine.resource import Resource
from infra.engine.stack_files import read_stack_config
from tests.conftest import PROJECT, stack
from tests.harness import TODAY, AzureMocks

LEFT_OUT = {"aliases", "stackTrace", "sourcePosition"}
"""The request fields the fast path leaves empty."""
GENERATED_DEPLOYMENTS = 300
PER_PROJECT = 50


def generated_config(deployments: int) -> dict[str, str]:
    """A hub with a project per 50 serverless deployments of partner models (each with its Marketplace subscription),
    and a Foundry resource with a chain of deployments and a content filter: the shape ``benchmarks/plan.py``
    measures, both channels."""
    projects = [
        {
            "name": f"proj-{p:02d}",
            "kind": "project",
            "deployments": [
                {"name": f"ep-{i:04d}", "modelId": f"azureml://registries/azureml-acme/models/model-{i:04d}"}
                for i in range(p * PER_PROJECT, min(deployments, (p + 1) * PER_PROJECT))
            ],
        }
        for p in range(math.ceil(deployments / PER_PROJECT))
    ]
    foundry = {
        "name": "fdy-bench",
        "projects": [{"name": "proj-a"}, {"name": "proj-b"}],
        "contentFilters": [{"name": "strict", "severityThreshold": "Low"}],
        "deployments": [
            {"name": f"medium-{i:02d}", "model": "mistral-medium-2505", "contentFilter": "strict"} for i in range(10)
        ],
    }
    return stack(
        location="eastus2",
        resourceGroup={"name": "rg-bench", "create": True},
        hub={"name": "hub-bench"},
        workspaces=projects,
        foundries=[foundry],
    )


def _key(request: Mapping[str, Any]) -> str:
    return json.dumps(request, sort_keys=True)


def run(
    monkeypatch: pytest.MonkeyPatch,
    config: Mapping[str, str],
    *,
    fast: bool,
    preview: bool = True,
    program_: Callable[[], None] | None = None,
) -> tuple[Capture, list[dict[str, Any]]]:
    """Capture ``program_`` (the real program by default) as ``maas plan`` does (or, ``preview=False``, with the
    tests' Azure-shaped answers to an update); also return every registration request in full, sorted."""
    requests: list[dict[str, Any]] = []
    register = CapturingMonitor.RegisterResource

    def recording(self: CapturingMonitor, request: Any) -> Any:
        response = register(self, request)
        if request.type != STACK_TYPE:
            requests.append(json_format.MessageToDict(request))
        return response

    mocks: pulumi.runtime.Mocks = (
        PreviewMocks(offline_calls(Identity(PLACEHOLDER_ID, PLACEHOLDER_ID, "placeholder")))
        if preview
        else AzureMocks()
    )
    with monkeypatch.context() as patch:
        patch.setattr(CapturingMonitor, "RegisterResource", recording)
        captured, error = capture(
            program_ or (lambda: program.main(TODAY)),
            project="azure-maas",
            stack="dev",
            config=config,
            mocks=mocks,
            preview=preview,
            fast=fast,
        )
    assert error is None, error
    return captured, sorted(requests, key=_key)


def comparable(value: Any) -> Any:
    """``value`` with each unknown (an object equal only to itself) as a marker."""
    if isinstance(value, Unknown):
        return "<unknown>"
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def without_left_out(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in LEFT_OUT} for r in requests]


def assert_same(monkeypatch: pytest.MonkeyPatch, config: Mapping[str, str], *, preview: bool = True) -> int:
    """Capture with and without the fast path and compare; the number of resources compared."""
    fast, fast_requests = run(monkeypatch, config, fast=True, preview=preview)
    slow, slow_requests = run(monkeypatch, config, fast=False, preview=preview)

    assert sorted(fast.resources, key=lambda r: r.urn) == sorted(slow.resources, key=lambda r: r.urn)
    assert sorted(map(repr, fast.invokes)) == sorted(map(repr, slow.invokes))
    assert comparable(fast.outputs) == comparable(slow.outputs)
    assert sorted(without_left_out(fast_requests), key=_key) == sorted(without_left_out(slow_requests), key=_key)
    # What the fast path leaves out, the slow one has: every azure-native resource's aliases, every stack trace.
    assert {r["type"] for r in slow_requests if r.get("aliases")} == {
        r["type"] for r in slow_requests if r["type"].startswith("azure-native:")
    }
    assert all(r["stackTrace"].get("frames") and r["sourcePosition"] for r in slow_requests)
    assert [{k: r.get(k) for k in sorted(LEFT_OUT)} for r in fast_requests] == len(fast_requests) * [
        {"aliases": None, "sourcePosition": None, "stackTrace": {}}
    ]
    assert len(fast.resources) == len(fast_requests)
    return len(fast.resources)


@pytest.mark.parametrize("name", ["dev", "foundry"])
def test_a_fixture_stack_is_captured_alike_with_and_without_the_fast_path(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    config = read_stack_config(PROJECT / f"Pulumi.{name}.yaml")
    assert assert_same(monkeypatch, config) == {"dev": 27, "foundry": 11}[name]


def test_an_update_with_known_outputs_is_captured_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the tests' harness runs the program: IDs, names and URIs known, so outputs flow into inputs."""
    config = read_stack_config(PROJECT / "Pulumi.dev.yaml")
    assert assert_same(monkeypatch, config, preview=False) == 27


def test_a_generated_stack_of_a_few_hundred_deployments_is_captured_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    # Per deployment an endpoint, a subscription and their component; the group, the hub's storage and key vault, the
    # hub and six projects, each with its component; a Foundry resource (component, account, two projects, a content
    # filter and ten deployments).
    assert assert_same(monkeypatch, generated_config(GENERATED_DEPLOYMENTS)) == 3 * 300 + 1 + 2 + 2 * 7 + 15


@pytest.fixture
def collector_disabled() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class CountingCollector:
    """The ``gc`` module, noting the generation of each ``collect`` call."""

    def __init__(self) -> None:
        self.collects: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(gc, name)

    def collect(self, generation: int = 2) -> int:
        self.collects.append(generation)
        return gc.collect(generation)


def test_young_collections_during_the_run_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no room for young objects, each registration collects them (the safety net of a very large plan)."""
    collector = CountingCollector()
    monkeypatch.setattr(capture_module, "gc", collector)
    monkeypatch.setattr(capture_module, "YOUNG_LIMIT", -1)  # (the count of young objects is never negative)

    assert assert_same(monkeypatch, read_stack_config(PROJECT / "Pulumi.dev.yaml")) == 27
    assert collector.collects == 27 * [1]


@pytest.mark.parametrize(("preview", "answered"), [(True, 0), (False, 27)], ids=["preview", "update"])
def test_only_the_previews_registrations_skip_the_sdks_mock_monitor(
    monkeypatch: pytest.MonkeyPatch, preview: bool, answered: int
) -> None:
    """So the comparisons above compare the echo (``CapturingMonitor._echo``) with the SDK's own answer for a
    preview, and leave an update's answers (IDs and outputs of the tests' mocks) to the SDK."""
    types: list[str] = []
    register = MockMonitor.RegisterResource

    def counting(self: MockMonitor, request: Any) -> Any:
        types.append(request.type)
        return register(self, request)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(MockMonitor, "RegisterResource", counting)
    run(monkeypatch, read_stack_config(PROJECT / "Pulumi.dev.yaml"), fast=True, preview=preview)
    assert len([t for t in types if t != STACK_TYPE]) == answered


# --- the fast path fails loudly when the SDK no longer fits it -----------------------------------------------


def one_resource_group() -> None:
    resources.ResourceGroup("rg", location="eastus2")


def fast_path_error(what: str) -> str:
    return (
        f"the capture's fast path does not fit pulumi {pulumi_version()} (checked against {SDK_CHECKED}): {what}; "
        "see infra/engine/capture.py"
    )


def test_the_installed_sdk_is_the_one_checked() -> None:
    """An SDK upgrade re-reads the seams (see infra/engine/capture.py) and updates SDK_CHECKED."""
    assert pulumi_version() == SDK_CHECKED


def test_without_the_stack_trace_seam_the_capture_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sdk_resource, "_get_stack_trace")
    with pytest.raises(FastPathError) as raised:
        run(monkeypatch, {}, fast=True, program_=one_resource_group)
    assert str(raised.value) == fast_path_error(
        "pulumi.runtime.resource.register_resource no longer calls _get_stack_trace"
    )


def test_aliases_that_reach_the_monitor_fail_the_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the SDK no longer ran stack transformations before it reads a resource's aliases."""
    monkeypatch.setattr(pulumi.runtime, "register_stack_transformation", lambda _: None)
    with pytest.raises(FastPathError) as raised:
        run(monkeypatch, {}, fast=True, program_=one_resource_group)
    assert str(raised.value) == fast_path_error("azure-native:resources:ResourceGroup 'rg' was registered with aliases")


def test_a_stack_trace_that_reaches_the_monitor_fails_the_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the SDK computed the trace some other way."""
    monkeypatch.setattr(capture_module, "_no_stack_trace", sdk_resource._get_stack_trace)
    with pytest.raises(FastPathError) as raised:
        run(monkeypatch, {}, fast=True, program_=one_resource_group)
    assert str(raised.value) == fast_path_error(
        "azure-native:resources:ResourceGroup 'rg' was registered with a stack trace"
    )


def _registers_without_create_urn() -> None:
    """A ``register_resource`` that still calls ``_get_stack_trace`` but computes no URN in a ``do_register``."""
    sdk_resource._get_stack_trace()


@pytest.mark.parametrize(
    "simulate",
    [
        lambda patch: patch.delattr(sdk_resource, "create_urn"),
        lambda patch: patch.setattr(sdk_resource, "register_resource", _registers_without_create_urn),
    ],
    ids=["no create_urn", "no do_register calling it"],
)
def test_without_the_create_urn_seam_the_capture_fails(
    monkeypatch: pytest.MonkeyPatch, simulate: Callable[[pytest.MonkeyPatch], None]
) -> None:
    simulate(monkeypatch)
    with pytest.raises(FastPathError) as raised:
        run(monkeypatch, {}, fast=True, program_=one_resource_group)
    assert str(raised.value) == fast_path_error(
        "pulumi.runtime.resource.register_resource no longer calls create_urn in do_register"
    )


def test_a_registrations_urn_without_a_monitor_is_the_one_the_sdk_computes() -> None:
    """``create_urn`` as the fast path has it: called from ``do_register`` (here ``caller``, standing in for it),
    the SDK's URN, finished; called from anywhere else, the SDK's own ``Output``."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(AzureMocks(), project="azure-maas", stack="dev", preview=True)
    create_urn = sdk_resource.create_urn

    async def caller(name: str, type_: str, parent: str | None) -> str:
        return await registration_urn(name, type_, parent).future()  # type: ignore[no-any-return]

    registration_urn = capture_module._registration_urns(create_urn, caller.__code__)
    parent = "urn:pulumi:dev::azure-maas::azure-maas:index:Foundry::fdy"
    cases = [("ws", "azure-native:machinelearningservices:Workspace", None), ("d", "azure-native:x:Y", parent)]

    async def urns() -> list[tuple[str, str | None, bool]]:
        return [
            (await caller(*case), await create_urn(*case).future(), isinstance(registration_urn(*case), pulumi.Output))
            for case in cases
        ]

    try:
        found = loop.run_until_complete(urns())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert found == [
        (
            "urn:pulumi:dev::azure-maas::azure-native:machinelearningservices:Workspace::ws",
            "urn:pulumi:dev::azure-maas::azure-native:machinelearningservices:Workspace::ws",
            True,
        ),
        (
            "urn:pulumi:dev::azure-maas::azure-maas:index:Foundry$azure-native:x:Y::d",
            "urn:pulumi:dev::azure-maas::azure-maas:index:Foundry$azure-native:x:Y::d",
            True,
        ),
    ]


@pytest.mark.parametrize("enabled", [True, False], ids=["collector on", "collector off"])
def test_the_sdk_and_the_collector_are_as_they_were_afterwards(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, enabled: bool
) -> None:
    if not enabled:
        request.getfixturevalue("collector_disabled")
    get_stack_trace, create_urn = sdk_resource._get_stack_trace, sdk_resource.create_urn

    run(monkeypatch, {}, fast=True, program_=one_resource_group)

    assert (gc.isenabled(), sdk_resource._get_stack_trace, sdk_resource.create_urn) == (
        enabled,
        get_stack_trace,
        create_urn,
    )


def test_each_resource_is_handed_on_as_it_is_captured() -> None:
    handed: list[Resource] = []
    captured, error = capture(
        lambda: program.main(TODAY),
        project="azure-maas",
        stack="dev",
        config=read_stack_config(PROJECT / "Pulumi.dev.yaml"),
        mocks=PreviewMocks(offline_calls(Identity(PLACEHOLDER_ID, PLACEHOLDER_ID, "placeholder"))),
        preview=True,
        on_resource=handed.append,
    )
    assert error is None
    # The same objects, once each, in the order captured.
    assert len(handed) == 27
    assert [r is c for r, c in zip(handed, captured.resources, strict=True)] == [True] * 27


# --- the pack's answers, several calls in flight, in the order of calls made one by one ------------------------


@pytest.fixture(scope="module")
def session() -> Iterator[PolicyPackSession]:
    with open_session(stack=StackInfo(project="azure-maas", stack="dev")) as running:
        running.configure({"no-retired-models": GivenConfig(None, {"today": TODAY.isoformat()})})
        yield running


def one_by_one(session: PolicyPackSession, resources_: list[Any]) -> list[Diagnostic]:
    """The report's diagnostics as the analyzer sent its calls before: one ``Analyze`` at a time, in order, then
    ``AnalyzeStack``."""
    diagnostics: list[Diagnostic] = []
    for resource in resources_:
        response = session._stub.Analyze(analyzer_pb2.AnalyzeRequest(**_request_fields(resource)))
        diagnostics.extend(session._diagnostics(response, default_urn=resource.urn))
    response = session._stub.AnalyzeStack(_stack_request(resources_))
    diagnostics.extend(session._diagnostics(response, default_urn=""))
    return diagnostics


def test_a_large_plans_report_is_that_of_calls_made_one_by_one(
    monkeypatch: pytest.MonkeyPatch, session: PolicyPackSession
) -> None:
    captured, _ = run(monkeypatch, generated_config(GENERATED_DEPLOYMENTS), fast=True)
    # Without every tenth Marketplace subscription, stack policies have something to say too.
    subscriptions = captured.of_type("azure-native:machinelearningservices:MarketplaceSubscription")[::10]
    planned = sorted((r for r in captured.resources if r not in subscriptions), key=lambda r: r.urn)

    report = session.analyze(planned)

    assert list(report.diagnostics) == one_by_one(session, planned)
    kinds = {p.name: p.kind for p in report.policies}
    assert {(kinds[d.policy_name], d.policy_name) for d in report.diagnostics} == {
        ("resource", "required-tags"),
        ("stack", "marketplace-subscription-required"),
    }


def test_closing_stops_the_pack_before_closing_its_channel() -> None:
    """A channel closed right after its last call waits for the connection to wind down (about 0.2 s) unless the
    server is gone; so ``close`` terminates the pack first."""
    done: list[str] = []
    with open_session(stack=StackInfo(project="azure-maas", stack="dev")) as running:
        running.analyze([])
        process, channel = running._process, running._channel
        assert channel is not None
        terminate, close = process.terminate, channel.close

        def terminating() -> None:
            done.append("terminate")
            terminate()

        def closing() -> None:
            done.append("close channel")
            close()

        process.terminate = terminating  # type: ignore[method-assign]
        channel.close = closing  # type: ignore[method-assign]
    assert (done, process.returncode) == (["terminate", "close channel"], -15)


def test_a_pack_started_for_another_stack_is_stopped_not_taken_over() -> None:
    variables = pack_process.preview_environment("azure-maas", "prod")
    started = pack_process.start(pack_process.DEFAULT_PACK_DIR, variables)
    wanted = pack_process.preview_environment("azure-maas", "dev")
    message = (
        f"the pack started in {pack_process.DEFAULT_PACK_DIR} with {variables} is not the one asked for: "
        f"{pack_process.DEFAULT_PACK_DIR} with {wanted}"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        PolicyPackSession(pack_process.DEFAULT_PACK_DIR, StackInfo(project="azure-maas", stack="dev"), started=started)
    assert (started.process.returncode, started.stderr.closed) == (-15, True)


async def _never_started() -> None:
    """A coroutine the interrupted run below never starts."""


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_stop_signal_in_the_program_ends_the_capture_without_a_word(caplog: pytest.LogCaptureFixture) -> None:
    """``maas`` raises a stop signal as a ``KeyboardInterrupt`` wherever the main thread is (infra/cli/app.py). The
    capture lets it through, and what the run leaves behind (a coroutine not yet started, a task still pending,
    registrations under way) ends or is dropped quietly, even once collected: the command's one line is all that is
    printed."""

    def stop() -> None:
        raise KeyboardInterrupt  # as the signal handler raises it, here in a callback of the event loop

    pending: list[asyncio.Future[None]] = []

    def interrupted() -> None:
        one_resource_group()
        loop = asyncio.get_event_loop()
        loop.call_later(60, id, _never_started())
        pending.append(asyncio.ensure_future(asyncio.sleep(60)))
        loop.call_soon(stop)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            capture(interrupted, project="azure-maas", stack="dev", config={}, mocks=PreviewMocks({}), preview=True)
        pending.clear()
        gc.collect()
    assert [str(w.message) for w in seen] == []
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_a_stop_signal_in_the_programs_own_code_stops_the_capture() -> None:
    """A signal that lands while the program itself runs (the SDK keeps what the program raises and waits for the
    registrations under way) stops the capture too, though a registration waits for an output that will never come
    (here: a location the program had not made yet)."""
    outcome: list[BaseException | None] = []

    def interrupted() -> None:
        never = asyncio.get_event_loop().create_future()
        resources.ResourceGroup("rg", location=pulumi.Output.from_input(never))
        raise KeyboardInterrupt

    def run_capture() -> None:
        try:
            capture(interrupted, project="azure-maas", stack="dev", config={}, mocks=PreviewMocks({}), preview=True)
            outcome.append(None)
        except BaseException as raised:  # the stop signal, expected
            outcome.append(raised)

    runner = threading.Thread(target=run_capture, daemon=True)  # (a daemon: a hang fails the test, not the suite)
    runner.start()
    runner.join(30)
    assert not runner.is_alive(), "the capture did not stop"
    assert [type(o) for o in outcome] == [KeyboardInterrupt]
