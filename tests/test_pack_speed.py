"""The policy pack's speed-up (``policies/azure_maas_policy/speedup.py``) changes no verdict, and stays out of the way
when the installed pulumi_policy is not the one its seams were read in.

The pack's servicer (the SDK's ``_PolicyAnalyzerServicer``, built as ``PolicyPack`` builds it) runs in this process,
so each answer is compared byte for byte with and without the speed-up: every ``Analyze`` and the ``AnalyzeStack``
of a generated stack (both channels, unknowns of a preview included), compliant and violating several policies, with
the requests and config ``infra.engine.analyzer`` sends. No test times anything: ``benchmarks/`` measures.
"""

from __future__ import annotations

import gc
import inspect
import runpy
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pulumi.runtime
import pulumi_policy
import pulumi_policy.deserialize
import pulumi_policy.policy
import pulumi_policy.proxy
import pulumi_policy.version
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from azure_maas_policy import speedup
from azure_maas_policy.rules import POLICIES
from infra.engine.analyzer import (
    DEFAULT_PACK_DIR,
    GivenConfig,
    PolicyPackSession,
    _request_fields,
    _stack_request,
    configure_request,
    reconcile,
)
from infra.engine.resource import Resource
from tests.harness import TODAY
from tests.test_capture_fast_path import generated_config, run

sdk: Any = pulumi_policy.policy
"""The SDK's module, as the speed-up reaches it: by names it does not export."""
DEPLOYMENTS = 60
"""Two projects (50 and 10 serverless deployments) and a Foundry resource with ten deployments: 204 resources."""
STACK_POLICIES = sum(isinstance(p, pulumi_policy.StackValidationPolicy) for p in POLICIES)
RESOURCE_POLICIES = sum(isinstance(p, pulumi_policy.ResourceValidationPolicy) for p in POLICIES)

VIOLATING = {
    "approved-models": GivenConfig(None, {"approvedModels": ["azureml://registries/azureml-acme/models/model-0000"]}),
    "required-tags": GivenConfig(None, {"requiredTags": ["owner"]}),
    "serverless-region-allowlist": GivenConfig(None, {"allowedRegions": ["westus"]}),
    "foundry-region-allowlist": GivenConfig(None, {"allowedRegions": ["westeurope"]}),
    "foundry-deployment-types": GivenConfig(None, {"allowedDeploymentTypes": ["DataZoneStandard"]}),
    "one-deployment-per-model": GivenConfig(None, {"foundryAccounts": True}),
}
"""Policy config that the generated stack breaks in many places (without every tenth Marketplace subscription)."""


# --- the pack in this process ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A stack as ``maas plan`` would send it, and the config it is judged with."""

    resources: Sequence[Resource]
    config: Mapping[str, GivenConfig]


def servicer(config: Mapping[str, GivenConfig], policies: list[pulumi_policy.Policy] = POLICIES) -> Any:
    """The pack's servicer, as ``PolicyPack`` builds it, configured as ``PolicyPackSession.configure`` does."""
    built = sdk._PolicyAnalyzerServicer("azure-maas", "0.0.1", policies, pulumi_policy.EnforcementLevel.MANDATORY)
    info = built.GetAnalyzerInfo(empty_pb2.Empty(), None)
    reconciled = reconcile([PolicyPackSession._policy_info(p) for p in info.policies], {}, config)
    built.Configure(configure_request(reconciled), None)
    return built


def analyze_requests(case: Case) -> list[analyzer_pb2.AnalyzeRequest]:
    return [analyzer_pb2.AnalyzeRequest(**_request_fields(r)) for r in case.resources]


def answers(case: Case) -> tuple[list[bytes], bytes]:
    """Every ``Analyze`` answer and the ``AnalyzeStack`` answer, serialized deterministically."""
    running = servicer(case.config)
    analyzed = [running.Analyze(request, None) for request in analyze_requests(case)]
    stack = running.AnalyzeStack(_stack_request(case.resources), None)
    return [a.SerializeToString(deterministic=True) for a in analyzed], stack.SerializeToString(deterministic=True)


def policies_reporting(analyzed: list[bytes], stack: bytes) -> Counter[str]:
    """How many diagnostics each policy reports, ``resource:`` from ``Analyze`` and ``stack:`` from ``AnalyzeStack``."""
    found: Counter[str] = Counter()
    for answer in analyzed:
        found.update(f"resource:{d.policyName}" for d in analyzer_pb2.AnalyzeResponse.FromString(answer).diagnostics)
    found.update(f"stack:{d.policyName}" for d in analyzer_pb2.AnalyzeResponse.FromString(stack).diagnostics)
    return found


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    with pytest.MonkeyPatch.context() as patch:
        captured, _ = run(patch, generated_config(DEPLOYMENTS), fast=True)
    planned = sorted(captured.resources, key=lambda r: r.urn)
    dropped = captured.of_type("azure-native:machinelearningservices:MarketplaceSubscription")[::10]
    today = {"no-retired-models": GivenConfig(None, {"today": TODAY.isoformat()})}
    return {
        "compliant": Case(planned, today),
        "violating": Case([r for r in planned if r not in dropped], {**today, **VIOLATING}),
    }


@pytest.fixture
def without_speed_up() -> Iterator[None]:
    """The SDK as installed; the speed-up's state as it was afterwards."""
    was = speedup.active()
    speedup.uninstall()
    yield
    speedup.uninstall()
    if was:
        speedup.install()


@pytest.fixture
def with_speed_up(without_speed_up: None) -> None:
    """Installed for the test; ``without_speed_up`` puts the SDK back afterwards."""
    assert speedup.install()


@pytest.fixture(scope="module")
def sdk_answers(cases: dict[str, Case]) -> dict[str, tuple[list[bytes], bytes]]:
    """Each case's answers from the SDK as installed, without the speed-up."""
    was = speedup.active()
    speedup.uninstall()
    try:
        return {name: answers(case) for name, case in cases.items()}
    finally:
        if was:
            speedup.install()


SEAMS: list[tuple[object, str]] = [
    (sdk, "json_format"),
    (sdk, "deserialize_properties"),
    (sdk, "unknown_checking_proxy"),
    (sdk, "signature"),
    *((sdk._PolicyAnalyzerServicer, name) for name in ("Analyze", "AnalyzeStack", "_get_resource_options")),
]


def seams() -> list[object]:
    return [owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name) for owner, name in SEAMS]


# --- (a) active with the installed pulumi_policy ------------------------------------------------------------------


def test_the_installed_pulumi_policy_is_the_one_checked(without_speed_up: None) -> None:
    """An upgrade of pulumi_policy re-reads the seams (see speedup.py) and updates PULUMI_POLICY_CHECKED."""
    assert (speedup.installed_version(), list(speedup.misfits())) == (speedup.PULUMI_POLICY_CHECKED, [])


def test_the_pack_installs_the_speed_up_before_it_builds_its_server(
    without_speed_up: None, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """``policies/__main__.py`` as the Pulumi CLI and ``maas plan`` run it, up to ``PolicyPack(...)``, which would
    bind the servicer's methods and print the port."""
    built: list[tuple[bool, list[object]]] = []

    class Recording:
        def __init__(self, **_: Any) -> None:
            built.append((speedup.active(), seams()))

    sdk_seams = seams()
    monkeypatch.setattr(pulumi_policy, "PolicyPack", Recording)

    runpy.run_path(str(DEFAULT_PACK_DIR / "__main__.py"), run_name="__main__")

    assert len(built) == 1
    active, patched = built[0]
    assert active
    assert [p is s for p, s in zip(patched, sdk_seams, strict=True)] == [False] * len(SEAMS)
    assert capfd.readouterr() == ("", "")


def test_with_the_speed_up_each_resource_is_converted_once_per_call(
    cases: dict[str, Case], monkeypatch: pytest.MonkeyPatch, without_speed_up: None
) -> None:
    """Counted where the conversion starts (``json_format.MessageToDict`` of the properties): once per policy by the
    SDK as installed, once per call with the speed-up."""
    conversions: list[object] = []
    convert = json_format.MessageToDict

    def counting(message: Any, *args: Any, **kwargs: Any) -> Any:
        conversions.append(message)
        return convert(message, *args, **kwargs)

    monkeypatch.setattr(json_format, "MessageToDict", counting)
    case = cases["compliant"]
    counts = []
    for install in (False, True):
        if install:
            assert speedup.install()
        running = servicer(case.config)
        conversions.clear()
        running.Analyze(analyze_requests(case)[0], None)
        analyze = len(conversions)
        conversions.clear()
        running.AnalyzeStack(_stack_request(case.resources), None)
        counts.append((analyze, len(conversions)))

    resources = len(case.resources)
    assert counts == [(RESOURCE_POLICIES, STACK_POLICIES * resources), (1, resources)]


# --- (b) inactive, the pack unchanged, when the version or a seam does not match --------------------------------


def _analyze_without_conversions(self: Any, request: Any, _context: Any) -> Any:
    return sdk.proto.AnalyzeResponse()


def _deserialize_with_more(props: Any, proxy_secrets: bool = False, keep: bool = False) -> Any:
    return props


def _signature_of_its_own(obj: Any) -> inspect.Signature:
    return inspect.signature(obj)


def _analyze_stack_listing_fields(self: Any, request: Any, _context: Any) -> Any:
    """An ``AnalyzeStack`` that converts as the SDK's does, and asks each resource message for more."""
    for resource in request.resources:
        resource.ListFields()
        self._get_resource_options(resource)
        sdk.unknown_checking_proxy(sdk.deserialize_properties(sdk.json_format.MessageToDict(resource.properties)))
    return sdk.proto.AnalyzeResponse()


def _deserialize_takes_more(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(pulumi_policy.deserialize, "deserialize_properties", _deserialize_with_more)
    patch.setattr(sdk, "deserialize_properties", _deserialize_with_more)


MISFITS: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "another version": (
        lambda patch: patch.setattr(pulumi_policy.version, "VERSION", "1.22.0"),
        "pulumi_policy 1.22.0 is not 1.21.0, the version checked",
    ),
    "no version": (
        lambda patch: patch.delattr(pulumi_policy.version, "VERSION"),
        "pulumi_policy (no version) is not 1.21.0, the version checked",
    ),
    "no servicer class": (
        lambda patch: patch.delattr(sdk, "_PolicyAnalyzerServicer"),
        "pulumi_policy.policy has no _PolicyAnalyzerServicer class",
    ),
    "json_format imported otherwise": (
        lambda patch: patch.setattr(sdk, "json_format", struct_pb2),
        "pulumi_policy.policy.json_format is not google.protobuf.json_format",
    ),
    "a proxy of its own": (
        lambda patch: patch.setattr(sdk, "unknown_checking_proxy", lambda props: props),
        "pulumi_policy.policy.unknown_checking_proxy is not pulumi_policy.proxy.unknown_checking_proxy(props)",
    ),
    "deserialize_properties takes more": (
        _deserialize_takes_more,
        "pulumi_policy.policy.deserialize_properties is not "
        "pulumi_policy.deserialize.deserialize_properties(props, proxy_secrets)",
    ),
    "signature imported otherwise": (
        lambda patch: patch.setattr(sdk, "signature", _signature_of_its_own),
        "pulumi_policy.policy.signature is not inspect.signature",
    ),
    "Analyze converts otherwise": (
        lambda patch: patch.setattr(sdk._PolicyAnalyzerServicer, "Analyze", _analyze_without_conversions),
        "_PolicyAnalyzerServicer.Analyze does not look up MessageToDict, _get_resource_options, "
        "deserialize_properties, json_format, unknown_checking_proxy",
    ),
    "AnalyzeStack takes other arguments": (
        lambda patch: patch.setattr(
            sdk._PolicyAnalyzerServicer, "AnalyzeStack", lambda self, request, context, extra=None: None
        ),
        "_PolicyAnalyzerServicer.AnalyzeStack is not a method (self, request, _context)",
    ),
    "resource options read otherwise": (
        lambda patch: patch.setattr(
            sdk._PolicyAnalyzerServicer, "_get_resource_options", lambda self, request, stack=None: None
        ),
        "_PolicyAnalyzerServicer._get_resource_options is not a method (self, request)",
    ),
    "a resource field the views lack": (
        lambda patch: patch.setattr(speedup, "VIEWED_FIELDS", speedup.VIEWED_FIELDS - {"provider"}),
        "AnalyzerResource has the fields dependencies, name, options, parent, properties, propertyDependencies, "
        "provider, type, urn, not dependencies, name, options, parent, properties, propertyDependencies, type, urn",
    ),
    "AnalyzeStack asks a resource for more": (
        lambda patch: patch.setattr(sdk._PolicyAnalyzerServicer, "AnalyzeStack", _analyze_stack_listing_fields),
        "_PolicyAnalyzerServicer.AnalyzeStack asks a resource message for ListFields",
    ),
    "runtime settings made otherwise": (
        lambda patch: patch.setattr(sdk._PolicyAnalyzerServicer, "_configure_runtime_settings", lambda self: None),
        "_PolicyAnalyzerServicer._configure_runtime_settings does not ask signature(pulumi.runtime.Settings)",
    ),
}


@pytest.mark.parametrize("misfit", list(MISFITS))
def test_a_seam_that_does_not_fit_leaves_the_sdk_as_it_is(
    misfit: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], without_speed_up: None
) -> None:
    simulate, why = MISFITS[misfit]
    simulate(monkeypatch)
    before = seams() if misfit != "no servicer class" else []

    assert (speedup.misfit(), speedup.install(), speedup.active()) == (why, False, False)
    if before:
        assert [p is s for p, s in zip(seams(), before, strict=True)] == [True] * len(SEAMS)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("name", ["compliant", "violating"])
def test_with_another_pulumi_policy_the_pack_answers_as_the_sdk_does(
    name: str,
    cases: dict[str, Case],
    sdk_answers: dict[str, tuple[list[bytes], bytes]],
    monkeypatch: pytest.MonkeyPatch,
    without_speed_up: None,
) -> None:
    monkeypatch.setattr(pulumi_policy.version, "VERSION", "1.22.0")
    sdk_seams = seams()

    assert not speedup.install()
    assert answers(cases[name]) == sdk_answers[name]
    assert [p is s for p, s in zip(seams(), sdk_seams, strict=True)] == [True] * len(SEAMS)


# --- (c) the same answers, with and without ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["compliant", "violating"])
def test_analyze_answers_alike_with_and_without_the_speed_up(
    name: str, cases: dict[str, Case], sdk_answers: dict[str, tuple[list[bytes], bytes]], with_speed_up: None
) -> None:
    analyzed, _ = answers(cases[name])

    assert len(analyzed) == len(cases[name].resources)
    assert analyzed == sdk_answers[name][0]


@pytest.mark.parametrize("name", ["compliant", "violating"])
def test_analyze_stack_answers_alike_with_and_without_the_speed_up(
    name: str, cases: dict[str, Case], sdk_answers: dict[str, tuple[list[bytes], bytes]], with_speed_up: None
) -> None:
    _, stack = answers(cases[name])

    assert stack == sdk_answers[name][1]


def test_the_cases_have_something_to_compare(sdk_answers: dict[str, tuple[list[bytes], bytes]]) -> None:
    """The compliant stack draws only the advisory tag notes; the violating one, three resource policies and four
    stack policies, on many resources."""
    assert policies_reporting(*sdk_answers["compliant"]) == Counter({"resource:required-tags": 63})
    assert policies_reporting(*sdk_answers["violating"]) == Counter(
        {
            "resource:approved-models": 123,
            "resource:serverless-region-allowlist": 63,
            "resource:required-tags": 63,
            "stack:foundry-region-allowlist": 13,
            "stack:foundry-deployment-types": 10,
            "stack:one-deployment-per-model": 9,
            "stack:marketplace-subscription-required": 6,
        }
    )


def test_analyze_calls_on_four_threads_answer_as_calls_one_at_a_time(
    cases: dict[str, Case], sdk_answers: dict[str, tuple[list[bytes], bytes]], with_speed_up: None
) -> None:
    """The SDK's server answers four calls at once; each call's conversions are its own thread's."""
    case = cases["violating"]
    running = servicer(case.config)
    with ThreadPoolExecutor(max_workers=4) as pool:
        analyzed = list(pool.map(lambda request: running.Analyze(request, None), analyze_requests(case)))

    assert [a.SerializeToString(deterministic=True) for a in analyzed] == sdk_answers["violating"][0]


# --- what policies share, and for how long -----------------------------------------------------------------------


def test_no_policy_writes_into_what_the_calls_policies_share(
    cases: dict[str, Case], monkeypatch: pytest.MonkeyPatch, with_speed_up: None
) -> None:
    """Properties (through the SDK's read-only view, which still has ``__setitem__``) and resource options, which
    the policies of one call now share, are only read."""
    writes: list[str] = []

    def setitem(self: Any, key: str, value: Any) -> None:
        writes.append(f"props[{key!r}]")

    def setattr_after_init(self: Any, name: str, value: Any) -> None:
        if name in self.__dict__:
            writes.append(f"opts.{name}")
        object.__setattr__(self, name, value)

    monkeypatch.setattr(pulumi_policy.proxy._DictProxy, "__setitem__", setitem)
    monkeypatch.setattr(pulumi_policy.PolicyResourceOptions, "__setattr__", setattr_after_init)
    for case in cases.values():
        answers(case)

    assert writes == []


@dataclass
class Probe:
    """What a policy saw of the speed-up while it ran."""

    seen: list[tuple[str, bool, bool]]

    def policies(self, fail: bool = False) -> list[pulumi_policy.Policy]:
        def look(kind: str) -> Callable[[Any, Any], None]:
            def validate(args: Any, report_violation: Any) -> None:
                self.seen.append((kind, speedup.scope_open(), gc.isenabled()))
                if fail:
                    raise RuntimeError("probe failed")

            return validate

        return [
            pulumi_policy.ResourceValidationPolicy(
                name="resource-probe", description="Probe.", validate=look("Analyze")
            ),
            pulumi_policy.StackValidationPolicy(
                name="stack-probe", description="Probe.", validate=look("AnalyzeStack")
            ),
        ]


def test_a_calls_conversions_end_with_it_and_the_collector_pauses_only_for_the_stack(
    cases: dict[str, Case], with_speed_up: None
) -> None:
    probe = Probe([])
    running = servicer({}, probe.policies())
    assert gc.isenabled()

    running.Analyze(analyze_requests(cases["compliant"])[0], None)
    running.AnalyzeStack(_stack_request(cases["compliant"].resources[:3]), None)

    assert probe.seen == [("Analyze", True, True), ("AnalyzeStack", True, False)]
    assert (speedup.scope_open(), gc.isenabled()) == (False, True)


@pytest.mark.parametrize("collecting", [True, False], ids=["collector on", "collector off"])
def test_a_failing_call_leaves_no_scope_and_the_collector_as_it_was(
    collecting: bool, cases: dict[str, Case], with_speed_up: None
) -> None:
    running = servicer({}, Probe([]).policies(fail=True))
    if not collecting:
        gc.disable()
    try:
        for call, request in (
            (running.Analyze, analyze_requests(cases["compliant"])[0]),
            (running.AnalyzeStack, _stack_request(cases["compliant"].resources[:3])),
        ):
            with pytest.raises(RuntimeError, match="probe failed"):
                call(request, None)
            assert (speedup.scope_open(), gc.isenabled()) == (False, collecting)
    finally:
        gc.enable()


def test_outside_a_call_the_shared_names_are_the_sdks_own(with_speed_up: None) -> None:
    """``Configure`` and ``Remediate`` (and any other caller) convert as before: a new object each time."""
    properties = struct_pb2.Struct()
    properties.update({"location": "eastus2", "tags": {"owner": "me"}})

    converted = [sdk.json_format.MessageToDict(properties) for _ in range(2)]
    deserialized = [sdk.deserialize_properties(converted[0]) for _ in range(2)]
    proxies = [sdk.unknown_checking_proxy(deserialized[0]) for _ in range(2)]

    assert converted[0] == converted[1] == {"location": "eastus2", "tags": {"owner": "me"}}
    assert converted[0] is not converted[1]
    assert deserialized[0] is not deserialized[1]
    assert proxies[0] is not proxies[1]
    assert dict(proxies[0]) == dict(proxies[1])


def test_the_runtime_settings_signature_is_read_once(with_speed_up: None) -> None:
    first, second = (sdk.signature(pulumi.runtime.Settings) for _ in range(2))

    assert first is second
    assert first == inspect.signature(pulumi.runtime.Settings)
    assert "organization" in first.parameters
    assert sdk.signature(servicer) == inspect.signature(servicer)
