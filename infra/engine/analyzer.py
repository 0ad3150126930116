"""Run a Pulumi policy pack the way the Pulumi engine does, without the Pulumi CLI.

The pack runs as its own process (the policy SDK's ``python -u -m pulumi.policy <engine> <pack>``, working
directory the pack, ``PULUMI_*`` in the environment; :mod:`infra.engine.pack_process`) and serves the
``pulumirpc.Analyzer`` gRPC service on the port it prints.
:class:`PolicyPackSession` then follows the engine's call order: ``Handshake`` and ``ConfigureStack``,
``GetAnalyzerInfo``, ``Configure`` with every policy's enforcement level and properties (schema defaults,
then the pack's initial config, then the ``--policy-pack-config`` file, validated against each policy's
schema), ``Analyze`` once per resource and ``AnalyzeStack`` once with parents, dependencies and property
dependencies. The process is stopped on every exit path, errors and timeouts included.

``Analyze`` calls go out :data:`IN_FLIGHT` at a time (a call per resource is about half a millisecond of the pack's
time, and one at a time left the pack waiting on each round trip); ``AnalyzeStack`` follows once every one is
answered, as the engine sends it. The report lists diagnostics as calls made one by one would: each resource's in
the order given, then the stack's; a failed ``Analyze`` is reported for the first resource, in that order, whose
call failed. :meth:`PolicyPackSession.relayed` gives the same report for ``Analyze`` calls made by the relay
(:mod:`infra.engine.relay`), which ``maas plan`` uses to analyze resources while the program runs.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import grpc
import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from infra.engine import pack_process, relay
from infra.engine.documents import DocumentError, load, read_text
from infra.engine.pack_process import PackProcess
from infra.engine.resource import Resource
from infra.errors import UserError
from infra.suggest import did_you_mean

DEFAULT_PACK_DIR = pack_process.DEFAULT_PACK_DIR
"""The azure-maas policy pack in this repository."""
START_TIMEOUT = 30.0
"""Seconds for the pack to print its port and accept connections."""
CALL_TIMEOUT = 60.0
"""Seconds for each call into the pack."""
IN_FLIGHT = 8
"""``Analyze`` calls sent and not yet answered, at most. The Python policy SDK's server runs four at a time; a few
more waiting keep it busy while answers travel back. (Far more would not help, and past about a thousand waiting
the server's gRPC core cancels some: seen with 2,000 in flight.)"""


class PolicyPackError(Exception):
    """The pack could not be started, configured or asked; the message is one line naming the cause."""


class PolicyConfigError(UserError, PolicyPackError):
    """The policy pack config is invalid; ``problems`` lists each one, prefixed by the policy name."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"invalid policy pack config {source}: " + "; ".join(self.problems))


class EnforcementLevel(StrEnum):
    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    REMEDIATE = "remediate"
    DISABLED = "disabled"


class Severity(StrEnum):
    UNSPECIFIED = "unspecified"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_LEVELS = {
    EnforcementLevel.ADVISORY: analyzer_pb2.ADVISORY,
    EnforcementLevel.MANDATORY: analyzer_pb2.MANDATORY,
    EnforcementLevel.REMEDIATE: analyzer_pb2.REMEDIATE,
    EnforcementLevel.DISABLED: analyzer_pb2.DISABLED,
}
_LEVEL_OF = {value: key for key, value in _LEVELS.items()}
_SEVERITY_OF = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: Severity.UNSPECIFIED,
    analyzer_pb2.POLICY_SEVERITY_LOW: Severity.LOW,
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: Severity.MEDIUM,
    analyzer_pb2.POLICY_SEVERITY_HIGH: Severity.HIGH,
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: Severity.CRITICAL,
}


def _stack_request(resources: Sequence[Resource]) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                **_request_fields(r),
                parent=r.parent,
                dependencies=list(r.dependencies),
                propertyDependencies={
                    key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                    for key, urns in r.property_dependencies.items()
                    if urns
                },
            )
            for r in resources
        ]
    )


def analyze_request(resource: Resource) -> bytes:
    """The serialized ``AnalyzeRequest`` for ``resource``, as :meth:`PolicyPackSession.send` sends it."""
    return analyzer_pb2.AnalyzeRequest(**_request_fields(resource)).SerializeToString()


def _request_fields(resource: Resource) -> dict[str, Any]:
    """What ``Analyze`` and ``AnalyzeStack`` both send of a resource."""
    properties = struct_pb2.Struct()
    properties.update(dict(resource.inputs))
    options = analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        deleteBeforeReplace=bool(resource.delete_before_replace),
        deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
        parent=resource.parent,
    )
    return {
        "type": resource.type,
        "properties": properties,
        "urn": resource.urn,
        "name": resource.name,
        "options": options,
    }


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    display_name: str
    description: str
    enforcement_level: EnforcementLevel
    """The level the policy declares (before config)."""
    severity: Severity
    kind: str
    """``resource`` or ``stack``."""
    remediation_steps: str
    url: str
    config_schema: Mapping[str, Any]
    """JSON schema properties (with their defaults) and ``required``."""


@dataclass(frozen=True)
class PolicyConfig:
    """What a policy runs with: its enforcement level and its properties, defaults applied."""

    enforcement_level: EnforcementLevel
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Diagnostic:
    policy_name: str
    policy_pack_name: str
    policy_pack_version: str
    enforcement_level: EnforcementLevel
    severity: Severity
    urn: str
    """The resource the diagnostic is about; empty for a stack-wide one."""
    description: str
    message: str
    """As the SDK sends it: the policy's description, a newline, then what was found."""

    @property
    def detail(self) -> str:
        """The message without the description line the SDK prepends."""
        prefix = self.description + "\n"
        return self.message[len(prefix) :] if self.message.startswith(prefix) else self.message


@dataclass(frozen=True)
class Report:
    pack_name: str
    pack_version: str
    policies: tuple[PolicyInfo, ...]
    config: Mapping[str, PolicyConfig]
    diagnostics: tuple[Diagnostic, ...]

    def at_level(self, level: EnforcementLevel) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.enforcement_level == level)

    @property
    def mandatory(self) -> tuple[Diagnostic, ...]:
        return self.at_level(EnforcementLevel.MANDATORY)


# --- the --policy-pack-config file ------------------------------------------------------------------------


@dataclass(frozen=True)
class GivenConfig:
    """One entry of a policy pack config file: an enforcement level and/or properties."""

    enforcement_level: EnforcementLevel | None
    properties: Mapping[str, Any]


def parse_policy_config(data: Mapping[str, Any], source: str = "") -> dict[str, GivenConfig]:
    """Parse the format of ``pulumi preview --policy-pack-config``: policy name (or ``all``) to an
    enforcement level string, or to an object of properties with an optional ``enforcementLevel``."""
    where = f" ({source})" if source else ""
    levels = ", ".join(level.value for level in EnforcementLevel)
    result: dict[str, GivenConfig] = {}
    for name, value in data.items():
        if isinstance(value, str):
            raw_level: Any = value
            properties: dict[str, Any] = {}
        elif isinstance(value, Mapping):
            properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
            raw_level = value.get("enforcementLevel")
        else:
            raise PolicyConfigError(where, [f"{name}: must be an enforcement level ({levels}) or an object"])
        level = None
        if raw_level is not None:
            try:
                level = EnforcementLevel(raw_level)
            except ValueError:
                raise PolicyConfigError(
                    where, [f"{name}: {raw_level!r} is not an enforcement level; valid: {levels}"]
                ) from None
        result[name] = GivenConfig(level, properties)
    return result


def load_policy_config(path: Path) -> dict[str, GivenConfig]:
    """Read a policy pack config file (JSON, as the Pulumi CLI takes it; YAML is accepted too)."""
    try:
        if not read_text(path, "policy config").strip():
            return {}
        data = load(path, "policy config", json_only=path.suffix.lower() == ".json")
    except DocumentError as error:
        raise PolicyConfigError(str(path), [str(error).removeprefix(f"{path}: ")]) from None
    if not isinstance(data, Mapping):
        raise PolicyConfigError(str(path), ["the top level must be an object of policy names"])
    return parse_policy_config(data, str(path))


def _unknown_policy(name: str, names: set[str]) -> str:
    return f"{name}: no such policy in the pack; {did_you_mean(name, names)}policies: {', '.join(sorted(names))}"


def reconcile(
    policies: Sequence[PolicyInfo],
    initial: Mapping[str, GivenConfig],
    given: Mapping[str, GivenConfig],
    source: str = "",
) -> dict[str, PolicyConfig]:
    """Every policy's level and properties, as the engine computes them: the policy's own level and its
    schema defaults, then the pack's initial config, then the given config (``all`` sets every level), then
    validated against the policy's schema. Unlike the engine, a policy name or property the pack does not
    have is an error, so a typo cannot switch a rule off silently."""
    names = {p.name for p in policies}
    problems = [_unknown_policy(name, names) for name in given if name != "all" and name not in names]
    if "all" in given and given["all"].properties:
        problems.append("all: takes only an enforcement level; set properties per policy")
    levels: dict[str, EnforcementLevel] = {p.name: p.enforcement_level for p in policies}
    properties: dict[str, dict[str, Any]] = {
        p.name: {k: s["default"] for k, s in p.config_schema.get("properties", {}).items() if "default" in s}
        for p in policies
    }
    for layer in (initial, given):
        everything = layer.get("all")
        if everything is not None and everything.enforcement_level is not None:
            levels = dict.fromkeys(levels, everything.enforcement_level)
        for name, entry in layer.items():
            if name not in names:
                continue
            if entry.enforcement_level is not None:
                levels[name] = entry.enforcement_level
            properties[name].update(entry.properties)
    for policy in policies:
        schema = {"type": "object", **policy.config_schema}
        known = set(schema.get("properties", {}))
        for key in properties[policy.name]:
            if key not in known:
                valid = ", ".join(sorted(known)) or "none (this policy takes only enforcementLevel)"
                guess = did_you_mean(key, known)
                problems.append(f"{policy.name}: unknown property {key!r}; {guess}properties: {valid}")
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(properties[policy.name]), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(p) for p in error.absolute_path)
            problems.append(f"{policy.name}{'.' + path if path else ''}: {error.message}")
    if problems:
        raise PolicyConfigError(source or "(given config)", problems)
    return {name: PolicyConfig(levels[name], properties[name]) for name in sorted(names)}


# --- the pack process ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackInfo:
    project: str
    stack: str
    organization: str = pack_process.DEFAULT_ORGANIZATION
    dry_run: bool = True
    config: Mapping[str, str] = field(default_factory=dict)
    """The stack config, as ``PULUMI_CONFIG`` (fully qualified keys to strings)."""
    tags: Mapping[str, str] = field(default_factory=dict)


def _read_port(process: subprocess.Popen[bytes], timeout: float, stderr: IO[bytes]) -> int:
    """The port the pack prints as its first line. A thread reads it, so this works wherever pipes do
    (``select`` on pipes does not work on Windows); the thread ends when the process is stopped."""
    stdout = process.stdout
    assert stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise PolicyPackError("the policy pack did not print its port in time") from None
    if not line:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)  # let it finish writing stderr
        raise PolicyPackError(f"the policy pack exited before serving: {_last_line(stderr)}")
    text = line.decode(errors="replace").strip()
    if not text.isdigit():
        raise PolicyPackError(f"the policy pack printed {text[:80]!r} instead of its port")
    return int(text)


def _last_line(stream: IO[bytes]) -> str:
    stream.seek(0)
    lines = [line.strip() for line in stream.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"


def configure_request(config: Mapping[str, PolicyConfig]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The ``Configure`` request that gives each policy its enforcement level and properties."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        properties = struct_pb2.Struct()
        properties.update(dict(entry.properties))
        request.policyConfig[name].CopyFrom(
            analyzer_pb2.PolicyConfig(enforcementLevel=_LEVELS[entry.enforcement_level], properties=properties)
        )
    return request


class PolicyPackSession:
    """A running policy pack: configure it, analyze resources, any number of times; then :meth:`close`.

    Use :func:`open_session` (a context manager) or :func:`analyze` (one run)."""

    def __init__(
        self,
        pack_dir: Path,
        stack: StackInfo,
        *,
        python: str = sys.executable,
        start_timeout: float = START_TIMEOUT,
        call_timeout: float = CALL_TIMEOUT,
        started: PackProcess | None = None,
    ) -> None:
        """Start the pack, or take over ``started`` (see :func:`infra.engine.pack_process.start`), which must be
        the pack in ``pack_dir`` started for ``stack``; connect, hand it the stack and read its policies."""
        self.pack_dir = pack_dir.resolve()
        self.call_timeout = call_timeout
        self._channel: grpc.Channel | None = None
        variables = pack_process.environment(
            stack.project, stack.stack, organization=stack.organization, dry_run=stack.dry_run, config=stack.config
        )
        try:  # a pack started already is stopped if it cannot be taken over
            if started is not None and (started.pack_dir, started.variables) != (self.pack_dir, variables):
                raise ValueError(
                    f"the pack started in {started.pack_dir} with {dict(started.variables)} is not the one asked "
                    f"for: {self.pack_dir} with {variables}"
                )
            if not (self.pack_dir / "PulumiPolicy.yaml").is_file():
                raise PolicyPackError(f"{self.pack_dir} is not a policy pack (it has no PulumiPolicy.yaml)")
            self.declared_version = str(
                (yaml.safe_load((self.pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8")) or {}).get(
                    "version", ""
                )
            )
        except BaseException:
            if started is not None:
                started.stop()
            raise
        self._pack = started or pack_process.start(self.pack_dir, variables, python=python)
        self._process = self._pack.process
        self._stderr = self._pack.stderr
        engine = pack_process.ENGINE_ADDRESS
        try:
            port = _read_port(self._process, start_timeout, self._stderr)
            self.port = port
            """The port the pack serves on."""
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            grpc.channel_ready_future(self._channel).result(timeout=start_timeout)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self._handshake(engine, stack)
            self._info = self._call("GetAnalyzerInfo", self._stub.GetAnalyzerInfo, empty_pb2.Empty())
        except BaseException:
            self.close()
            raise
        self.pack_name = self._info.name
        self.pack_version = self.declared_version or self._info.version
        self.policies = tuple(self._policy_info(p) for p in self._info.policies)
        self._initial = {
            name: GivenConfig(
                _LEVEL_OF.get(value.enforcementLevel) if value.enforcementLevel else None,
                json_format.MessageToDict(value.properties),
            )
            for name, value in self._info.initialConfig.items()
        }
        self.config: dict[str, PolicyConfig] = {}

    @property
    def pid(self) -> int:
        """The pack's process ID."""
        return self._process.pid

    def _call(self, what: str, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.call_timeout)
        except grpc.RpcError as error:
            raise self._failure(what, error) from None

    def _answer(self, what: str, call: grpc.Future[Any]) -> Any:
        """The response of a call sent with ``.future``; :class:`PolicyPackError` as :meth:`_call`."""
        try:
            return call.result()
        except grpc.RpcError as error:
            raise self._failure(what, error) from None

    def _failure(self, what: str, error: grpc.RpcError) -> PolicyPackError:
        """The one-line error for a failed call: a timeout, or the pack's last words."""
        code = error.code() if isinstance(error, grpc.Call) else None
        detail = error.details() if isinstance(error, grpc.Call) else str(error)
        return self._failure_of(what, code.name if code else None, detail)

    def _failure_of(self, what: str, code: str | None, detail: str | None) -> PolicyPackError:
        """:meth:`_failure` for a call that ended with status ``code`` (a ``grpc.StatusCode`` name) and ``detail``."""
        if code == grpc.StatusCode.DEADLINE_EXCEEDED.name:
            return PolicyPackError(f"the policy pack did not answer {what} within {self.call_timeout:g} s")
        first = (detail or "").strip().splitlines()
        cause = first[-1] if first else (code or "unknown error")
        if self._process.poll() is not None:
            cause = _last_line(self._stderr)
        return PolicyPackError(f"the policy pack failed in {what}: {cause}")

    def _handshake(self, engine: str, stack: StackInfo) -> None:
        for what, method, request in (
            (
                "Handshake",
                self._stub.Handshake,
                analyzer_pb2.AnalyzerHandshakeRequest(
                    engine_address=engine, root_directory=str(self.pack_dir), program_directory=str(self.pack_dir)
                ),
            ),
            (
                "ConfigureStack",
                self._stub.ConfigureStack,
                analyzer_pb2.AnalyzerStackConfigureRequest(
                    stack=stack.stack,
                    project=stack.project,
                    organization=stack.organization,
                    dry_run=stack.dry_run,
                    tags=dict(stack.tags),
                ),
            ),
        ):
            try:
                method(request, timeout=self.call_timeout)
            except grpc.RpcError as error:
                if not (isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.UNIMPLEMENTED):
                    raise self._failure(what, error) from None

    @staticmethod
    def _policy_info(policy: analyzer_pb2.PolicyInfo) -> PolicyInfo:
        schema: dict[str, Any] = {}
        if policy.HasField("configSchema"):
            schema["properties"] = json_format.MessageToDict(policy.configSchema.properties)
            if policy.configSchema.required:
                schema["required"] = list(policy.configSchema.required)
        return PolicyInfo(
            name=policy.name,
            display_name=policy.displayName,
            description=policy.description,
            enforcement_level=_LEVEL_OF[policy.enforcementLevel],
            severity=_SEVERITY_OF.get(policy.severity, Severity.UNSPECIFIED),
            kind="stack" if policy.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
            remediation_steps=policy.remediation_steps,
            url=policy.url,
            config_schema=schema,
        )

    def configure(self, given: Mapping[str, GivenConfig] | None = None, source: str = "") -> dict[str, PolicyConfig]:
        """Send every policy its enforcement level and properties (see :func:`reconcile`)."""
        config = reconcile(self.policies, self._initial, given or {}, source)
        self._call("Configure", self._stub.Configure, configure_request(config))
        self.config = config
        return config

    def analyze(self, resources: Sequence[Resource]) -> Report:
        """``Analyze`` each resource, then ``AnalyzeStack`` with all of them; configure first."""
        return self.send(resources).report()

    def send(self, resources: Sequence[Resource]) -> PendingReport:
        """:meth:`analyze` up to its last answer: every ``Analyze`` answered, ``AnalyzeStack`` sent; the pending
        report waits for it. :class:`PolicyPackError` naming the first resource, in order, whose call failed (no
        more calls are sent once one has failed)."""
        if not self.config:
            self.configure()
        window = relay.Window(IN_FLIGHT)
        calls: list[grpc.Future[Any]] = []
        try:
            for resource in resources:
                request = analyzer_pb2.AnalyzeRequest(**_request_fields(resource))
                sent = window.send(functools.partial(self._stub.Analyze.future, request, timeout=self.call_timeout))
                if sent is None:
                    break
                calls.append(sent)
            diagnostics: list[Diagnostic] = []
            for resource, call in zip(resources, calls, strict=False):
                response = self._answer(f"Analyze({resource.urn})", call)
                diagnostics.extend(self._diagnostics(response, default_urn=resource.urn))
        finally:
            for call in calls:
                call.cancel()  # (nothing for an answered call) a failure leaves none running
        return self._stack(resources, diagnostics)

    def relayed(self, resources: Sequence[Resource], answers: Mapping[str, relay.Answer]) -> PendingReport:
        """:meth:`send` for ``resources`` whose ``Analyze`` calls the relay made (:mod:`infra.engine.relay`):
        ``answers`` per URN; the same report, and the same error for the first resource, in order, whose call
        failed. The pack must have been configured before the relay was connected to it."""
        diagnostics: list[Diagnostic] = []
        for resource in resources:  # a failure first: a resource after it in order may not have been sent
            answer = answers.get(resource.urn)
            if answer is None:
                raise PolicyPackError(f"the Analyze relay sent no Analyze({resource.urn})")
            if answer.kind == relay.FAILED:
                raise self._failure_of(f"Analyze({resource.urn})", answer.code, answer.details)
        for resource in resources:
            answer = answers[resource.urn]
            if answer.kind != relay.ANSWERED:
                raise PolicyPackError(f"the Analyze relay sent no Analyze({resource.urn})")
            response = analyzer_pb2.AnalyzeResponse.FromString(answer.body)
            diagnostics.extend(self._diagnostics(response, default_urn=resource.urn))
        return self._stack(resources, diagnostics)

    def _stack(self, resources: Sequence[Resource], diagnostics: Sequence[Diagnostic]) -> PendingReport:
        """Send ``AnalyzeStack`` for ``resources``, whose ``Analyze`` diagnostics are ``diagnostics``."""
        stack = self._stub.AnalyzeStack.future(_stack_request(resources), timeout=self.call_timeout)
        return PendingReport(self, diagnostics, stack)

    def _diagnostics(self, response: analyzer_pb2.AnalyzeResponse, default_urn: str) -> Iterator[Diagnostic]:
        for d in response.diagnostics:
            yield Diagnostic(
                policy_name=d.policyName,
                policy_pack_name=d.policyPackName,
                policy_pack_version=self.declared_version or d.policyPackVersion,
                enforcement_level=_LEVEL_OF.get(d.enforcementLevel, EnforcementLevel.ADVISORY),
                severity=_SEVERITY_OF.get(d.severity, Severity.UNSPECIFIED),
                urn=d.urn or default_urn,
                description=d.description,
                message=d.message,
            )

    def close(self) -> None:
        """Stop the pack (:meth:`PackProcess.stop`), then close the channel. (In that order: a channel closed right
        after its last call waits about 0.2 s for the connection to wind down, unless the server is gone.)"""
        self._pack.stop()
        if self._channel is not None:
            self._channel.close()
            self._channel = None


class PendingReport:
    """A report waiting for the answer to ``AnalyzeStack`` (see :meth:`PolicyPackSession.send`)."""

    def __init__(
        self, session: PolicyPackSession, diagnostics: Sequence[Diagnostic], stack_call: grpc.Future[Any]
    ) -> None:
        self._session = session
        self._diagnostics = tuple(diagnostics)
        self._stack_call = stack_call

    def report(self) -> Report:
        """The report; :class:`PolicyPackError` when ``AnalyzeStack`` failed."""
        session = self._session
        response = session._answer("AnalyzeStack", self._stack_call)
        stack = tuple(session._diagnostics(response, default_urn=""))
        return Report(
            session.pack_name, session.pack_version, session.policies, dict(session.config), self._diagnostics + stack
        )


@contextlib.contextmanager
def open_session(
    pack_dir: Path = DEFAULT_PACK_DIR,
    stack: StackInfo | None = None,
    *,
    start_timeout: float = START_TIMEOUT,
    call_timeout: float = CALL_TIMEOUT,
) -> Iterator[PolicyPackSession]:
    """A running pack for the ``with`` block; stopped when the block exits, however it exits."""
    session = PolicyPackSession(
        pack_dir,
        stack or StackInfo(project="azure-maas", stack="dev"),
        start_timeout=start_timeout,
        call_timeout=call_timeout,
    )
    try:
        yield session
    finally:
        session.close()


def analyze(
    resources: Sequence[Resource],
    *,
    pack_dir: Path = DEFAULT_PACK_DIR,
    stack: StackInfo | None = None,
    config: Mapping[str, GivenConfig] | None = None,
    config_source: str = "",
    start_timeout: float = START_TIMEOUT,
    call_timeout: float = CALL_TIMEOUT,
) -> Report:
    """Start the pack, configure it, analyze ``resources`` and stop it."""
    with open_session(pack_dir, stack, start_timeout=start_timeout, call_timeout=call_timeout) as session:
        session.configure(config, config_source)
        return session.analyze(resources)
