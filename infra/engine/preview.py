"""``maas plan``: the real program on a stack's own config under the capturing engine, then the real policy
pack through the analyzer protocol; no Pulumi CLI, no cloud login, no secrets.

There is no state offline, so every resource is planned as a create, and values Azure computes (IDs, URIs)
are unknown, as in a first ``pulumi preview``.

The pack starts and is configured while the program runs, and analyzes each resource as it is registered, as the
engine has it do: the ``Analyze`` calls go through a relay process (:mod:`infra.engine.relay`), and the relay and
the pack run at a lower priority than the program. ``AnalyzeStack`` follows once the program is done and every
``Analyze`` is answered. Python's cyclic garbage collector is paused from the program's start
until the report is in: the program leaves about 750,000 objects in reference cycles per thousand deployments
(1.6 s to collect). They are collected once the collector runs again, if it was running; the ``maas`` process
runs without it and ends without collecting them (:func:`infra.cli.app.run`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pulumi.runtime.rpc import UNKNOWN

from infra import program
from infra.engine.analyzer import (
    DEFAULT_PACK_DIR,
    IN_FLIGHT,
    GivenConfig,
    PolicyConfigError,
    PolicyPackError,
    PolicyPackSession,
    Report,
    StackInfo,
    analyze_request,
    load_policy_config,
)
from infra.engine.capture import MASK, UNKNOWN_TEXT, Capture, PreviewMocks, capture
from infra.engine.documents import first_line
from infra.engine.pack_process import PackProcess
from infra.engine.relay import Relay, RelayError, lower_priority
from infra.engine.resource import Resource
from infra.engine.stack_files import StackFileError, esc_missing, esc_warning, read_project, read_stack_file
from infra.errors import ExitCode, InternalError, UserError
from infra.names import STACK_NAME
from infra.settings import ConfigError

NAMESPACE = "azure-maas"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
ENDPOINT_TYPE = "azure-native:machinelearningservices:ServerlessEndpoint"
SUBSCRIPTION_TYPE = "azure-native:machinelearningservices:MarketplaceSubscription"
DEPLOYMENT_TYPE = "azure-native:cognitiveservices:Deployment"
RAI_POLICY_TYPE = "azure-native:cognitiveservices:RaiPolicy"
FOUNDRY_TYPE = "azure-maas:index:Foundry"


class PreviewInputError(UserError):
    """The stack, its config or the policy config is invalid (exit code 2). The first line is the cause."""


class PreviewInternalError(InternalError):
    """The program or the policy pack failed for a reason other than config (exit code 3)."""


@dataclass(frozen=True)
class Slot:
    """One model slot: which model an endpoint puts into which workspace."""

    workspace: str
    endpoint: str
    model_id: str
    auth_mode: str
    content_safety: str
    marketplace_subscription: bool


@dataclass(frozen=True)
class FoundryDeploymentRow:
    """One deployment on a Foundry resource, and the deployment of the same resource it waits for."""

    foundry: str
    deployment: str
    model: str
    """``<format>/<name>`` and the version, e.g. ``Mistral AI/mistral-medium-2505 1``."""
    sku: str
    capacity: str
    content_filter: str
    after: str | None
    """The deployment it depends on (Azure takes one deployment PUT per resource at a time), or None."""


@dataclass(frozen=True)
class Identity:
    subscription_id: str
    tenant_id: str
    source: str
    """Where they came from: ``stack config``, ``environment`` or ``placeholder``."""


@dataclass
class PreviewResult:
    project: str
    stack: str
    identity: Identity
    capture: Capture
    report: Report
    secure_keys: frozenset[str]
    timings: dict[str, float] = field(default_factory=dict)
    policy_config: Path | None = None
    """The policy config file the pack ran with: ``--policy-pack-config``, else the stack's
    ``Pulumi.<stack>.policy.json`` when it exists, else None (the pack's defaults)."""
    warnings: tuple[str, ...] = ()
    """What the preview could not do as ``pulumi preview`` would (one line each), such as an ESC environment
    it cannot read offline."""

    @property
    def resources(self) -> list[Resource]:
        return self.capture.resources

    @cached_property
    def slots(self) -> list[Slot]:
        return model_slots(self.capture)

    @cached_property
    def foundry_deployments(self) -> list[FoundryDeploymentRow]:
        return foundry_deployments(self.capture)

    @property
    def exit_code(self) -> ExitCode:
        """The plan's verdict: FAILED with mandatory violations."""
        return ExitCode.FAILED if self.report.mandatory else ExitCode.OK


def model_slots(captured: Capture) -> list[Slot]:
    """Per serverless endpoint, its workspace (the config name of the workspace component it is under, else
    its ``workspaceName``), model, auth mode, content safety and whether a subscription in the stack backs it."""
    by_urn = {r.urn: r for r in captured.resources}
    slots = []
    for endpoint in captured.of_type(ENDPOINT_TYPE):
        workspace = _workspace_of(endpoint, by_urn)
        properties = endpoint.inputs.get("properties") or {}
        upstream = set(endpoint.dependencies)
        slots.append(
            Slot(
                workspace=workspace,
                endpoint=str(endpoint.inputs.get("name", endpoint.name)),
                model_id=str((properties.get("modelSettings") or {}).get("modelId", "")),
                auth_mode=str(properties.get("authMode", "")),
                content_safety=str((properties.get("contentSafety") or {}).get("contentSafetyStatus", "unset")),
                marketplace_subscription=any(by_urn[u].type == SUBSCRIPTION_TYPE for u in upstream if u in by_urn),
            )
        )
    return sorted(slots, key=lambda s: (s.workspace, s.endpoint))


def _shown(value: object) -> str:
    return UNKNOWN_TEXT if value == UNKNOWN or value is None else str(value)


def _content_filter(deployment: Resource, by_urn: Mapping[str, Resource]) -> str:
    """The RAI policy a deployment names; unknown at preview when it is the output of a policy in the stack, which
    is then found among the resources it depends on."""
    name = (deployment.inputs.get("properties") or {}).get("raiPolicyName")
    if name != UNKNOWN:
        return _shown(name)
    policies = [by_urn[u] for u in deployment.dependencies if u in by_urn and by_urn[u].type == RAI_POLICY_TYPE]
    return _shown(policies[0].inputs.get("raiPolicyName")) if len(policies) == 1 else UNKNOWN_TEXT


def foundry_deployments(captured: Capture) -> list[FoundryDeploymentRow]:
    """Per Foundry deployment: its resource (the config name of the Foundry component it is under, else its
    ``accountName``), model, sku, content filter and the deployment it waits for; each resource's deployments in
    the order they are created."""
    by_urn = {r.urn: r for r in captured.resources}
    rows: dict[str, FoundryDeploymentRow] = {}
    for deployment in captured.of_type(DEPLOYMENT_TYPE):
        parent = by_urn.get(deployment.parent)
        foundry = (
            parent.name if parent is not None and parent.type == FOUNDRY_TYPE else deployment.inputs.get("accountName")
        )
        model = (deployment.inputs.get("properties") or {}).get("model") or {}
        sku = deployment.inputs.get("sku") or {}
        previous = [u for u in deployment.dependencies if u in by_urn and by_urn[u].type == DEPLOYMENT_TYPE]
        rows[deployment.urn] = FoundryDeploymentRow(
            foundry=_shown(foundry),
            deployment=_shown(deployment.inputs.get("deploymentName")),
            model=f"{_shown(model.get('format'))}/{_shown(model.get('name'))} {_shown(model.get('version'))}",
            sku=_shown(sku.get("name")),
            capacity=_shown(sku.get("capacity")),
            content_filter=_content_filter(deployment, by_urn),
            after=_shown(by_urn[previous[0]].inputs.get("deploymentName")) if previous else None,
        )
    ordered: list[FoundryDeploymentRow] = []
    for foundry in sorted({row.foundry for row in rows.values()}):
        mine = sorted((row for row in rows.values() if row.foundry == foundry), key=lambda r: r.deployment)
        chain = [row for row in mine if row.after is None]
        for row in chain:  # grows as it goes: each row's follower comes after it
            chain += [r for r in mine if r.after == row.deployment and r not in chain]
        ordered += chain + [row for row in mine if row not in chain]  # not chained: the policy pack says why
    return ordered


def _workspace_of(resource: Resource, by_urn: Mapping[str, Resource]) -> str:
    parent = by_urn.get(resource.parent)
    while parent is not None:
        if parent.type == "azure-maas:index:Workspace":
            return parent.name
        parent = by_urn.get(parent.parent)
    name = resource.inputs.get("workspaceName")
    return name if isinstance(name, str) else "?"


def _identity(config: Mapping[str, str]) -> Identity:
    """The subscription and tenant the program plans for: ``azure-native:subscriptionId``/``tenantId`` from the
    stack config, else ``ARM_*``/``AZURE_*`` variables, else a placeholder (names derived from the subscription,
    such as role assignment names, then differ from what ``pulumi up`` creates)."""
    env = os.environ
    for source, subscription, tenant in (
        ("stack config", config.get("azure-native:subscriptionId"), config.get("azure-native:tenantId")),
        ("environment", env.get("ARM_SUBSCRIPTION_ID"), env.get("ARM_TENANT_ID")),
        ("environment", env.get("AZURE_SUBSCRIPTION_ID"), env.get("AZURE_TENANT_ID")),
    ):
        if subscription:
            return Identity(subscription, tenant or PLACEHOLDER_ID, source)
    return Identity(PLACEHOLDER_ID, PLACEHOLDER_ID, "placeholder")


def offline_calls(identity: Identity) -> dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]]:
    return {
        "azure-native:authorization:getClientConfig": lambda _: {
            "clientId": PLACEHOLDER_ID,
            "objectId": PLACEHOLDER_ID,
            "subscriptionId": identity.subscription_id,
            "tenantId": identity.tenant_id,
        },
        # Keys of an existing Foundry resource (a created one's name is unknown at preview, so it is not asked):
        # offline there are none to read; the program exports them as secrets, shown masked.
        "azure-native:cognitiveservices:listAccountKeys": lambda _: {"key1": MASK, "key2": MASK},
    }


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic cyclic garbage collection in the block; enabled again afterwards if it was before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_preview(
    directory: Path,
    stack: str,
    *,
    policy_config: Path | None = None,
    today: dt.date | None = None,
    pack_dir: Path = DEFAULT_PACK_DIR,
    step: Callable[[str], None] = lambda _: None,
    pack: PackProcess | None = None,
) -> PreviewResult:
    """Preview ``stack`` of the project in ``directory``; raise :class:`PreviewInputError` or
    :class:`PreviewInternalError` with a one-line cause.

    ``pack``: the pack in ``pack_dir``, started already for this project and stack (see
    :func:`infra.engine.pack_process.start`); the preview stops it once it has taken it over, and the caller stops
    it in any case (stopping twice does nothing), since an invalid config ends the preview before."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    step("reading the stack config")
    problem = STACK_NAME.problem(stack)
    if problem:
        raise PreviewInputError(f"--stack: {problem}")
    try:
        project_file = read_project(directory)
        stack_path = project_file.stack_file(stack)
        if not stack_path.is_file():
            known = ", ".join(project_file.stacks()) or "none"
            raise PreviewInputError(f"{stack_path.name} not found; stacks here: {known}")
        stack_file = read_stack_file(stack_path, project_file)
    except StackFileError as error:
        raise PreviewInputError(str(error)) from None
    project = project_file.name
    warnings = (esc_warning(stack_path.name, stack_file.environments),) if stack_file.environments else ()
    if policy_config is None and project_file.policy_config(stack).is_file():
        policy_config = project_file.policy_config(stack)
    ours = sorted(k for k in stack_file.secure_keys if k.startswith(f"{NAMESPACE}:"))
    if ours:
        raise PreviewInputError(
            f"{ours[0]}: is a secure value, which cannot be decrypted offline; azure-maas config holds no secrets, "
            "so set it in plain text (pulumi config set, without --secret)"
        )
    try:
        given: dict[str, GivenConfig] = load_policy_config(policy_config) if policy_config else {}
    except PolicyConfigError as invalid:
        raise PreviewInputError(str(invalid)) from None
    if today is not None:
        lifecycle = given.get("no-retired-models", GivenConfig(None, {}))
        if "today" not in lifecycle.properties:
            given["no-retired-models"] = GivenConfig(
                lifecycle.enforcement_level, {**lifecycle.properties, "today": today.isoformat()}
            )
    identity = _identity(stack_file.config)
    timings["config"] = time.perf_counter() - started

    stack_info = StackInfo(project=project, stack=stack, dry_run=True)

    def ready() -> PolicyPackSession:
        """The pack started and configured, at a lower priority, and the relay connected to it."""
        session = PolicyPackSession(pack_dir, stack_info, started=pack)
        try:
            lower_priority(session.pid)
            session.configure(given, str(policy_config) if policy_config else "")
            relayed.connect(session.port, timeout=session.call_timeout, in_flight=IN_FLIGHT)
        except BaseException:
            session.close()
            raise
        return session

    with Relay.start() as relayed, ThreadPoolExecutor(max_workers=1) as pool, _collector_paused():
        # The pack starts (about half a second) and is configured while the program runs; the relay sends it
        # each resource's Analyze call as the resource is registered (infra.engine.relay).
        starting = pool.submit(ready)
        session: PolicyPackSession | None = None
        try:
            step("running the program")
            t0 = time.perf_counter()
            captured, failure = capture(
                lambda: program.main(today),
                project=project,
                stack=stack,
                config=stack_file.config,
                mocks=PreviewMocks(offline_calls(identity)),
                preview=True,
                secret_keys=sorted(stack_file.secure_keys),
                on_resource=lambda resource: relayed.send(resource.urn, analyze_request(resource)),
            )
            timings["program"] = time.perf_counter() - t0
            # Registration order depends on how the SDK's asynchronous calls interleave; sort for stable output.
            captured.resources.sort(key=lambda r: r.urn)
            if isinstance(failure, ConfigError):
                if stack_file.environments and any(issue.missing for issue in failure.issues):
                    raise PreviewInputError(
                        f"{failure}\n  {esc_missing(stack_path.name, stack_file.environments)}"
                    ) from None
                raise PreviewInputError(str(failure)) from None
            if failure is not None:
                raise PreviewInternalError(f"the program failed: {first_line(failure)}") from None
            step("running the policy pack")
            t0 = time.perf_counter()
            session = starting.result()
            answers = dict(relayed.answers(session.call_timeout))
            report = session.relayed(captured.resources, answers).report()
            timings["policy"] = time.perf_counter() - t0
        except PolicyConfigError as error:
            raise PreviewInputError(str(error)) from None
        except (PolicyPackError, RelayError) as error:
            raise PreviewInternalError(str(error)) from None
        finally:
            if session is None:
                try:
                    session = starting.result()
                except Exception:  # the pack never started; the error that got us here is the one reported
                    session = None
            if session is not None:
                session.close()
    timings["total"] = time.perf_counter() - started
    return PreviewResult(
        project, stack, identity, captured, report, stack_file.secure_keys, timings, policy_config, warnings
    )
