"""The ``Analyze`` relay (``infra/engine/relay.py``): the report it gives is the one the session gives by itself,
its failures are one line naming the resource, it never outlives the ``maas`` process, and it and the pack run at a
lower priority. No test times anything: ``benchmarks/plan.py`` measures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.engine import preview as preview_module
from infra.engine import relay as relay_module
from infra.engine.analyzer import (
    GivenConfig,
    PolicyPackError,
    PolicyPackSession,
    StackInfo,
    analyze_request,
    open_session,
)
from infra.engine.preview import run_preview
from infra.engine.relay import (
    ANALYZE,
    ANSWERED,
    END,
    FAILED,
    NICE,
    SKIPPED,
    Answer,
    Relay,
    RelayError,
    frame,
    lower_priority,
    parse_answers,
)
from infra.engine.resource import Resource
from tests import stacks as s
from tests.harness import TODAY
from tests.test_capture_fast_path import generated_config, run

PROJECT = Path(__file__).parent / "data" / "project"
TODAY_CONFIG = {"no-retired-models": GivenConfig(None, {"today": TODAY.isoformat()})}


@pytest.fixture(scope="module")
def planned() -> list[Resource]:
    """A generated stack of 60 deployments without every tenth Marketplace subscription, so that resource and
    stack policies both report, sorted as ``maas plan`` sorts it."""
    with pytest.MonkeyPatch.context() as patch:
        captured, _ = run(patch, generated_config(60), fast=True)
    dropped = captured.of_type("azure-native:machinelearningservices:MarketplaceSubscription")[::10]
    return sorted((r for r in captured.resources if r not in dropped), key=lambda r: r.urn)


@pytest.fixture(scope="module")
def session() -> Iterator[PolicyPackSession]:
    with open_session(stack=StackInfo(project="azure-maas", stack="dev")) as running:
        running.configure(TODAY_CONFIG)
        yield running


@pytest.fixture
def relay() -> Iterator[Relay]:
    started = Relay.start()
    try:
        yield started
    finally:
        started.stop()


def relayed_report(session: PolicyPackSession, relay: Relay, resources: list[Resource], *, before: int) -> Any:
    """Send ``resources`` in reverse order through ``relay``, the first ``before`` of them before it connects."""
    for resource in reversed(resources[len(resources) - before :]):
        relay.send(resource.urn, analyze_request(resource))
    relay.connect(session.port, timeout=session.call_timeout, in_flight=8)
    for resource in reversed(resources[: len(resources) - before]):
        relay.send(resource.urn, analyze_request(resource))
    return session.relayed(resources, dict(relay.answers(session.call_timeout))).report()


@pytest.mark.parametrize("before", [0, 25, 10_000], ids=["after connecting", "some before", "all before"])
def test_the_relayed_report_is_the_sessions_own(
    session: PolicyPackSession, relay: Relay, planned: list[Resource], before: int
) -> None:
    report = relayed_report(session, relay, planned, before=min(before, len(planned)))

    assert report == session.analyze(planned)
    assert {d.policy_name for d in report.diagnostics} == {"required-tags", "marketplace-subscription-required"}
    assert (relay.process.returncode, relay.broken, len(relay.keys)) == (0, None, len(planned))


@pytest.mark.parametrize("stack", ["dev", "foundry"])
def test_maas_plan_reports_what_the_session_reports_by_itself(stack: str) -> None:
    result = run_preview(PROJECT, stack, today=TODAY)
    with open_session(stack=StackInfo(project="azure-maas", stack=stack)) as by_itself:
        by_itself.configure(TODAY_CONFIG)
        assert result.report == by_itself.analyze(result.resources)


def test_a_plan_with_no_resources_needs_no_relay_answer(session: PolicyPackSession, relay: Relay) -> None:
    relay.connect(session.port, timeout=session.call_timeout, in_flight=8)
    assert relay.answers(session.call_timeout) == []
    assert session.relayed([], {}).report() == session.analyze([])


# --- failures -----------------------------------------------------------------------------------------------------


def _pack(tmp_path: Path, body: str) -> Path:
    """A pack whose policy ``probe`` runs ``body`` with ``args`` at hand, and whose ``no-retired-models`` takes the
    ``today`` that ``run_preview`` gives it and does nothing."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 2.0.0\n")
    main = f"""
        from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy
        def check(args, report):
            {body}
        dated = PolicyConfigSchema(properties={{"today": {{"type": "string"}}}})
        PolicyPack("probe", [
            ResourceValidationPolicy("probe", "Probes the relay.", check, EnforcementLevel.MANDATORY),
            ResourceValidationPolicy("no-retired-models", "Takes a date.", lambda args, report: None, config_schema=dated),
        ])
        """
    (pack / "__main__.py").write_text(textwrap.dedent(main))
    return pack


def test_a_failed_call_names_its_resource_and_the_calls_after_it_are_not_sent(
    tmp_path: Path, relay: Relay, planned: list[Resource]
) -> None:
    failing = planned[40]
    pack = _pack(tmp_path, f"if args.urn == {failing.urn!r}: raise RuntimeError('policy bug')")
    with open_session(pack, StackInfo(project="azure-maas", stack="dev")) as probe:
        probe.configure()
        relay.connect(probe.port, timeout=probe.call_timeout, in_flight=1)
        for resource in planned:
            relay.send(resource.urn, analyze_request(resource))
        answers = relay.answers(probe.call_timeout)
        with pytest.raises(PolicyPackError) as raised:
            probe.relayed(planned, dict(answers))

    assert str(raised.value) == (
        f"the policy pack failed in Analyze({failing.urn}): Exception calling application: policy bug"
    )
    # One call in flight: each before the failure answered, none after it sent.
    assert [a.kind for _, a in answers] == [ANSWERED] * 40 + [FAILED] + [SKIPPED] * (len(planned) - 41)
    assert answers[40] == (
        failing.urn,
        Answer(FAILED, code="UNKNOWN", details="Exception calling application: policy bug"),
    )


def test_a_call_the_pack_does_not_answer_in_time_fails_with_the_timeout(tmp_path: Path, relay: Relay) -> None:
    pack = _pack(tmp_path, "import time; time.sleep(30)")
    workspace = s.workspace()
    with open_session(pack, StackInfo(project="azure-maas", stack="dev"), call_timeout=1.0) as probe:
        probe.configure()
        relay.connect(probe.port, timeout=probe.call_timeout, in_flight=8)
        relay.send(workspace.urn, analyze_request(workspace))
        answers = dict(relay.answers(probe.call_timeout))
        with pytest.raises(PolicyPackError) as raised:
            probe.relayed([workspace], answers)

    assert answers == {workspace.urn: Answer(FAILED, code="DEADLINE_EXCEEDED", details="Deadline Exceeded")}
    assert str(raised.value) == f"the policy pack did not answer Analyze({workspace.urn}) within 1 s"


def test_maas_plan_reports_a_failed_call_as_an_internal_error(tmp_path: Path) -> None:
    failing = run_preview(PROJECT, "dev", today=TODAY).resources[7].urn
    pack = _pack(tmp_path, f"if args.urn == {failing!r}: raise RuntimeError('policy bug')")
    with pytest.raises(preview_module.PreviewInternalError) as raised:
        run_preview(PROJECT, "dev", today=TODAY, pack_dir=pack)
    assert (
        str(raised.value) == f"the policy pack failed in Analyze({failing}): Exception calling application: policy bug"
    )


def test_a_relay_that_dies_is_reported_in_one_line(session: PolicyPackSession, relay: Relay) -> None:
    workspace = s.workspace()
    relay.send(workspace.urn, analyze_request(workspace))
    relay.process.kill()
    relay.process.wait()
    relay.connect(session.port, timeout=session.call_timeout, in_flight=8)
    with pytest.raises(RelayError) as raised:
        relay.answers(session.call_timeout)
    assert str(raised.value) == "the Analyze relay ended early: exit code -9"


def test_requests_ended_before_the_relay_was_connected_are_an_error(relay: Relay) -> None:
    workspace = s.workspace()
    relay.send(workspace.urn, analyze_request(workspace))
    with pytest.raises(RelayError) as raised:
        relay.answers(5.0)
    assert str(raised.value) == "the Analyze relay ended early: ValueError: END before CONNECT"


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="no SIGSTOP on this platform")
def test_a_relay_that_stops_reading_is_stopped_after_the_deadline(relay: Relay) -> None:
    os.kill(relay.process.pid, signal.SIGSTOP)  # it reads nothing more
    try:
        for i in range(200):  # more than a pipe holds: the writer waits
            relay.send(f"urn:{i}", b"x" * 4096)
        with pytest.raises(RelayError) as raised:
            relay.answers(0.5)
    finally:
        relay.stop()
    deadline = 0.5 + relay_module.SLACK + 200 * relay_module.SECONDS_PER_CALL
    assert str(raised.value) == f"the Analyze relay did not answer within {deadline:g} s"
    assert relay.process.returncode == -9


def test_the_relay_ends_when_its_input_ends_without_a_word(relay: Relay) -> None:
    """When the maas process is gone (its end of the pipe closed), the relay exits 1 and writes nothing."""
    assert relay.process.stdin is not None
    relay.process.stdin.close()
    assert relay.process.wait(timeout=30) == 1
    assert relay.process.stdout is not None
    assert relay.process.stdout.read() == b""
    relay.stderr.seek(0)
    assert relay.stderr.read() == b""


@pytest.mark.parametrize(
    ("data", "count", "message"),
    [
        (frame(ANSWERED, b"x")[:3], 1, "the Analyze relay's answer ends inside a frame"),
        (frame(ANSWERED, b"xyz")[:-1], 1, "the Analyze relay's answer ends inside a frame"),
        (frame(END), 1, "the Analyze relay wrote a frame of unknown kind 3"),
        (frame(FAILED, b"[1]"), 1, "the Analyze relay wrote a failure that is not {code, details}"),
        (frame(FAILED, b"\xff"), 1, "the Analyze relay wrote a failure that is not {code, details}"),
        (frame(SKIPPED, b"x"), 1, "the Analyze relay wrote a frame of unknown kind 6"),
        (frame(ANSWERED) * 2, 3, "the Analyze relay answered 2 of 3 requests"),
    ],
    ids=[
        "short head",
        "short body",
        "unknown kind",
        "failure not an object",
        "failure not JSON",
        "skip with a body",
        "too few",
    ],
)
def test_answers_that_are_not_frames_are_one_line_errors(data: bytes, count: int, message: str) -> None:
    with pytest.raises(RelayError) as raised:
        parse_answers(data, count)
    assert str(raised.value) == message


def test_answers_are_read_as_written() -> None:
    failure = json.dumps({"code": "UNAVAILABLE", "details": "gone"}).encode()
    data = frame(ANSWERED, b"\x0a\x00") + frame(FAILED, failure) + frame(SKIPPED)
    assert parse_answers(data, 3) == [
        Answer(ANSWERED, body=b"\x0a\x00"),
        Answer(FAILED, code="UNAVAILABLE", details="gone"),
        Answer(SKIPPED),
    ]
    assert frame(ANALYZE, b"ab") == b"\x02\x00\x00\x00\x02ab"


# --- the process -------------------------------------------------------------------------------------------------


def test_the_relay_runs_without_its_directory_or_the_working_directory_on_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session: PolicyPackSession
) -> None:
    """Started by its path with ``-P``: a ``grpc.py`` beside it or in the working directory is not imported."""
    beside = tmp_path / "beside"
    beside.mkdir()
    shutil.copy(relay_module.__file__, beside / "relay.py")
    hostile = "raise SystemExit('the wrong grpc was imported')\n"
    (beside / "grpc.py").write_text(hostile)
    (tmp_path / "grpc.py").write_text(hostile)
    monkeypatch.setattr(relay_module, "__file__", str(beside / "relay.py"))
    monkeypatch.chdir(tmp_path)
    started = Relay.start()
    try:
        workspace = s.workspace()
        started.send(workspace.urn, analyze_request(workspace))
        started.connect(session.port, timeout=session.call_timeout, in_flight=8)
        assert [a.kind for _, a in started.answers(session.call_timeout)] == [ANSWERED]
    finally:
        started.stop()


def _nice(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no process priorities on this platform")
def test_the_relay_and_the_pack_run_at_a_lower_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    own = _nice(0)
    seen: dict[str, int] = {}
    start, ready = Relay.start, PolicyPackSession.configure

    def starting(**kwargs: Any) -> Relay:
        started = start(**kwargs)
        seen["relay"] = _nice(started.process.pid)
        return started

    def configuring(self: PolicyPackSession, *args: Any, **kwargs: Any) -> Any:
        seen["pack"] = _nice(self.pid)
        return ready(self, *args, **kwargs)

    monkeypatch.setattr(Relay, "start", staticmethod(starting))
    monkeypatch.setattr(PolicyPackSession, "configure", configuring)
    run_preview(PROJECT, "dev", today=TODAY)

    assert seen == {"relay": min(own + NICE, 19), "pack": min(own + NICE, 19)}


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no process priorities on this platform")
def test_lowering_a_priority_is_relative_to_this_process_bounded_and_quiet() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lower_priority(sleeper.pid, 3)
        assert _nice(sleeper.pid) == min(_nice(0) + 3, 19)
        lower_priority(sleeper.pid, 3)  # again: the same, relative to this process, not to its current one
        assert _nice(sleeper.pid) == min(_nice(0) + 3, 19)
        lower_priority(sleeper.pid, 40)
        assert _nice(sleeper.pid) == 19
    finally:
        sleeper.kill()
        sleeper.wait()
    lower_priority(sleeper.pid)  # gone: nothing happens


def test_stopping_twice_does_nothing(relay: Relay) -> None:
    relay.stop()
    relay.stop()
    assert relay.process.returncode == -9
