"""``maas smoke``: one tiny chat completion per deployed endpoint, checked against the documented schema.

Two channels, one check each per route:

- a **serverless endpoint** is posted at its chat route (the Azure AI model inference API at
  ``{uri}/chat/completions``, or the provider's native API at ``{uri}/v1/chat/completions``) with the endpoint
  key or an Entra ID token as ``Authorization: Bearer``;
- a **Foundry deployment** (``<account>/<deployment>``) is posted at ``{baseUrl}/chat/completions`` (the
  ``openai/v1`` route, no ``api-version``) with ``model`` set to the deployment's name, with its Foundry resource's
  key as ``api-key`` or an Entra ID token as ``Authorization: Bearer``.

Plain or streamed. 429 and 5xx answers are retried with bounded exponential backoff that honours ``Retry-After``;
401, 403, 404 and 410 get a one-line diagnosis of the channel. Every problem is one line.

The outputs document and the service are not trusted. A credential is sent only over https (plain http only to a
loopback address the user allowed), only to the origin of the endpoint's own ``inferenceUri`` (a deployment's own
``baseUrl``), which must be an Azure inference host of its channel unless the user allowed another, and only when it
is a valid header value. ``--timeout`` is a deadline for the whole check, every attempt and wait included; bodies are
read up to :data:`MAX_BODY`. Whatever goes wrong in one check is that check's result, and every text of a result has
the credentials redacted, in their escaped forms too, before it is cut to length.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import datetime as dt
import ipaddress
import json
import re
import socket
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from azure_maas_policy import facts
from infra import names
from infra.cli import options
from infra.cli.command import Command
from infra.cli.http import DEFAULT_PORTS, Origin, TokenProvider, origin, retry_after
from infra.cli.output import one_line
from infra.errors import ExitCode, UserError

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr, ValidationError
    from rich.console import Console

    from infra import catalog as catalog_module
    from infra.cli.chat_schema import FinishReason, TokenUsage
    from infra.cli.stack_outputs import EndpointOutput, FoundryDeploymentOutput, StackOutputs

# Parsing the command line imports only what the options need. httpx, pydantic (the stack outputs, the response
# schema, SecretStr), the catalog and the renderer are imported by the functions that use them.

ServerlessRoute = Literal["inference", "native"]
Route = Literal["inference", "native", "openai"]
"""``inference`` and ``native``: the routes of a serverless endpoint; ``openai``: the one route of a Foundry
deployment (``{baseUrl}/chat/completions``, shown as ``openai/v1``)."""
ChannelName = Literal["serverless", "foundry"]
AuthChoice = Literal["auto", "key", "entra"]
Auth = Literal["key", "entra"]

ROUTES: tuple[ServerlessRoute, ...] = ("inference", "native")
CHANNELS: tuple[ChannelName, ...] = ("serverless", "foundry")
NATIVE_ROUTE_REGISTRIES = frozenset({"azureml-mistral", "azureml-ai21"})
"""Registries whose models serve the native route (Mistral's chat API, AI21's client): AZURE_FACTS.md 1.5."""
TOKEN_SCOPE = "https://ml.azure.com/.default"
"""The Entra ID scope for serverless endpoints (azure-ai-inference's default for them)."""
FOUNDRY_TOKEN_SCOPE = "https://ai.azure.com/.default"
"""The Entra ID scope for Foundry deployments in Microsoft's 2026 docs (AZURE_FACTS.md section 6)."""
OLDER_FOUNDRY_TOKEN_SCOPE = "https://cognitiveservices.azure.com/.default"
"""The scope older Foundry and Azure OpenAI pages use; a 401 with one suggests the other."""
TOKEN_SCOPES: dict[ChannelName, str] = {"serverless": TOKEN_SCOPE, "foundry": FOUNDRY_TOKEN_SCOPE}
"""The default scope of each channel; ``--token-scope`` replaces it for every channel or for one."""
PROMPT = "Reply with the single word: pong"
MAX_TOKENS = 16
DONE = "[DONE]"
USER_AGENT = "azure-maas-smoke"
CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection (within ``--timeout``)."""
MAX_WORKERS = 8
MAX_BODY = 1024 * 1024
"""Bytes of an answer's body read at most (after content decoding), plain or streamed; more fails the check."""
TOO_LARGE = "the answer is larger than 1 MiB, the most this reads"
DETAIL_LIMIT = 160
"""Characters of a service's error message (or an unexpected error's) kept in a diagnosis."""
PROBLEM_LIMIT = 600
"""Characters of a problem at most, cut after redaction."""
REDACTED = "***"
AZURE_INFERENCE_HOSTS = ("models.ai.azure.com", "services.ai.azure.com", "openai.azure.com")
"""Domains of Azure inference hosts a serverless endpoint may be on (``<name>.<region>.models.ai.azure.com``, and
the Foundry domains its URI may use). Credentials go to other hosts only when ``--allow-host`` names them."""
FOUNDRY_INFERENCE_HOSTS = ("openai.azure.com", "services.ai.azure.com")
"""Domains of a Foundry resource's inference endpoints (``<subdomain>.openai.azure.com``,
``<subdomain>.services.ai.azure.com``)."""
HEADER_RULE = "keys and tokens are printable ASCII without spaces"


class SmokeInputError(UserError):
    """The selection cannot be smoke-tested as asked (unknown endpoint, missing key); one line."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Requests per check, the first included: 429 and 5xx get up to ``attempts - 1`` retries."""
    backoff: float = 1.0
    """Seconds before the first retry when the service sends no ``Retry-After``; doubled each retry."""
    max_wait: float = 30.0
    """The longest wait between attempts; a ``Retry-After`` asking for more ends the check."""
    timeout: float = 30.0
    """Seconds a check may take: a deadline for every attempt (connecting, sending, every read of the answer,
    streamed or not) and the waits between them."""


OutputT = TypeVar("OutputT", "EndpointOutput", "FoundryDeploymentOutput")


@dataclass(frozen=True)
class Target(ABC, Generic[OutputT]):
    """One check to make: where (``url``), how (``auth``: ``key``, or an Entra ID token for ``scope``) and of
    what (``output``, the channel's entry in the stack outputs). Each channel is a subclass: what it sends
    besides the shared request, and how it reads a refusal."""

    endpoint: str
    """The name the report shows: a serverless endpoint's name, or ``<account>/<deployment>``."""
    route: Route
    url: str
    auth: Auth
    output: OutputT
    key: SecretStr | None = field(default=None, repr=False)
    scope: str = ""
    """The Entra ID scope of the token (``auth`` ``entra``)."""

    base_field: ClassVar[str]
    """The output field whose origin is the only place the credential may go."""
    owner: ClassVar[str]
    """How a message names what the check calls: ``the endpoint``, ``the deployment``."""

    @property
    @abstractmethod
    def base(self) -> str:
        """The URL whose origin the credential may go to."""

    def credential_headers(self, secret: str) -> dict[str, str]:
        """The header that carries the credential: ``Authorization: Bearer`` unless the channel sends keys in
        another."""
        return {"Authorization": f"Bearer {secret}"}

    def body(self) -> dict[str, Any]:
        """What the channel adds to the shared request body."""
        return {}

    @abstractmethod
    def quota(self) -> str:
        """The rate limit or capacity a 429 ran into, for its diagnosis."""

    @abstractmethod
    def diagnosis(self, status: int, line: str, said: str, today: dt.date) -> str:
        """One line for a refusal (``status`` other than 200, 429 and 5xx); ``line`` is the status line and
        ``said`` the service's own message (or ``""``)."""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Result:
    endpoint: str
    route: Route
    auth: Auth
    stream: bool
    ok: bool
    status: int | None
    """The HTTP status of the last answer, or ``None`` when there was none (timeout, no connection)."""
    attempts: int
    latency: float | None = None
    """Seconds the last attempt took, request sent to last byte (to ``data: [DONE]`` when streaming)."""
    usage: Usage | None = None
    reply: str = ""
    model: str = ""
    problem: str = ""


# --- the documented response schema (AZURE_FACTS.md section 1) ---------------------------------------------


class _CheckFailedError(Exception):
    """A check failed with a one-line problem."""


def _schema_problem(what: str, error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{what} does not match the chat completions schema: {where}: {first['msg']}{more}"


def _usage(usage: TokenUsage) -> Usage:
    return Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def _finished(reason: FinishReason | None, reply: str) -> None:
    if reason == "content_filter":
        raise _CheckFailedError("content filtering blocked the reply (finish_reason content_filter)")
    if not reply.strip():
        raise _CheckFailedError("the reply is empty")


def check_completion(body: bytes) -> tuple[str, str, Usage]:
    """The reply, model and usage of a ``chat.completion`` document, or :class:`_CheckFailedError`."""
    from pydantic import ValidationError

    from infra.cli.chat_schema import ChatCompletion

    try:
        completion = ChatCompletion.model_validate_json(body)
    except ValidationError as error:
        raise _CheckFailedError(_schema_problem("the response", error)) from None
    choice = completion.choices[0]
    _finished(choice.finish_reason, choice.message.content)
    return choice.message.content, completion.model, _usage(completion.usage)


def check_stream(events: Iterable[str]) -> tuple[str, str, Usage]:
    """Read ``data:`` payloads up to ``[DONE]``: every chunk matches the schema, a choice finishes, and the
    last chunk carries usage."""
    from pydantic import ValidationError

    from infra.cli.chat_schema import ChatCompletionChunk

    parts: list[str] = []
    reason: FinishReason | None = None
    last: ChatCompletionChunk | None = None
    count = 0
    for data in events:
        if data == DONE:
            break
        count += 1
        try:
            last = ChatCompletionChunk.model_validate_json(data)
        except ValidationError as error:
            raise _CheckFailedError(_schema_problem(f"stream chunk {count}", error)) from None
        for choice in last.choices:
            parts.append(choice.delta.content or "")
            reason = choice.finish_reason or reason
    else:
        raise _CheckFailedError(f"the stream ended without `data: {DONE}` after {count} chunks")
    if last is None:
        raise _CheckFailedError(f"the stream sent `data: {DONE}` before any chunk")
    if reason is None:
        raise _CheckFailedError("no stream chunk carried a finish_reason")
    if last.usage is None:
        raise _CheckFailedError(f"the last stream chunk (of {count}) carries no usage")
    reply = "".join(parts)
    _finished(reason, reply)
    return reply, last.model, _usage(last.usage)


# --- selecting what to check -------------------------------------------------------------------------------


def targets(
    outputs: StackOutputs,
    endpoints: Sequence[str] = (),
    routes: Sequence[ServerlessRoute] | None = None,
    auth: AuthChoice = "auto",
    allow_hosts: Collection[str] = (),
    token_scopes: Mapping[ChannelName, str] | None = None,
) -> list[Target[Any]]:
    """One target per selected serverless endpoint and route, then one per selected Foundry deployment, each in
    output order. ``endpoints`` (``--endpoint``) names endpoints, and deployments as ``<account>/<deployment>``;
    ``routes`` (``--route``, default ``inference``) are routes of serverless endpoints only: a Foundry deployment
    has one; ``token_scopes`` replaces the Entra ID scope of a channel (:data:`TOKEN_SCOPES`).

    :class:`SmokeInputError` when the selection names an unknown endpoint or deployment, or one that answers no
    chat completions; when ``routes`` are given and no serverless endpoint is selected (they would choose
    nothing); when a check needs a key the outputs do not hold or that is not a header value; or when a
    credential would go where it must not (:func:`destination_problem`; ``allow_hosts``: ``--allow-host``)."""
    allowed = frozenset(allowed_host(host) for host in allow_hosts)
    scopes = TOKEN_SCOPES | dict(token_scopes or {})
    serverless, foundry = outputs.endpoints, outputs.foundry_deployments
    if not serverless and not foundry:
        raise SmokeInputError("the stack has no endpoints and no Foundry deployments")
    unknown = [name for name in endpoints if name not in serverless and name not in foundry]
    if unknown:
        raise SmokeInputError(
            f"--endpoint {', '.join(repr(n) for n in unknown)}: not an endpoint of the stack; {known_names(outputs)}"
        )
    not_chat = non_chat(outputs)
    named = [name for name in endpoints if name in not_chat]
    if named:
        raise SmokeInputError(f"--endpoint {named[0]!r}: {not_chat[named[0]]}; maas smoke sends chat requests only")
    endpoint_names = [n for n in serverless if (not endpoints or n in endpoints) and n not in not_chat]
    deployment_names = [n for n in foundry if (not endpoints or n in endpoints) and n not in not_chat]
    if not endpoint_names and not deployment_names:
        raise SmokeInputError("no endpoint of the stack answers chat completions")
    if routes is not None and not endpoint_names:
        raise SmokeInputError(
            f"--route {', '.join(dict.fromkeys(routes))}: chooses routes of serverless endpoints, and none is "
            "selected; a Foundry deployment has one route, openai/v1 ({baseUrl}/chat/completions): leave --route out"
        )
    found: list[Target[Any]] = []
    for name in endpoint_names:
        found += _endpoint_targets(name, serverless[name], outputs, routes or ("inference",), auth, scopes, allowed)
    for name in deployment_names:
        found.append(_foundry_target(name, foundry[name], outputs, auth, scopes, allowed))
    return found


def known_names(outputs: StackOutputs) -> str:
    """``endpoints: a, b; Foundry deployments: x/y`` (each part only when the stack has some)."""
    parts = [
        f"{label}: {', '.join(names_)}"
        for label, names_ in (("endpoints", outputs.endpoints), ("Foundry deployments", outputs.foundry_deployments))
        if names_
    ]
    return "; ".join(parts)


def noun(outputs: StackOutputs, name: str) -> str:
    """How messages name what ``name`` selects."""
    return "Foundry deployment" if name in outputs.foundry_deployments else "endpoint"


def _endpoint_targets(
    name: str,
    output: EndpointOutput,
    outputs: StackOutputs,
    routes: Sequence[ServerlessRoute],
    choice: AuthChoice,
    scopes: Mapping[ChannelName, str],
    allowed: Collection[str],
) -> list[Target[Any]]:
    how = _auth_for(name, output, choice, outputs)
    key = outputs.key_of(name) if how == "key" else None
    why = header_problem(key.get_secret_value()) if key is not None else ""
    if why:
        raise SmokeInputError(f"endpointKeys.{name}.primaryKey cannot be sent: it {why} ({HEADER_RULE})")
    found: list[Target[Any]] = []
    for route in (r for r in ROUTES if r in routes):
        url = output.chat_completions_url if route == "inference" else output.native_chat_completions_url
        if url:  # a chat model has both routes (non_chat() set aside the others)
            problem = destination_problem(name, output, route, allowed)
            if problem:
                raise SmokeInputError(problem)
            scope = scopes["serverless"] if how == "entra" else ""
            found.append(EndpointTarget(name, route, url, how, output, key, scope))
    return found


def _foundry_target(
    name: str,
    output: FoundryDeploymentOutput,
    outputs: StackOutputs,
    choice: AuthChoice,
    scopes: Mapping[ChannelName, str],
    allowed: Collection[str],
) -> Target[Any]:
    how = _foundry_auth_for(name, output, choice, outputs)
    key = outputs.foundry_key_of(output.foundry) if how == "key" else None
    why = header_problem(key.get_secret_value()) if key is not None else ""
    if why:
        raise SmokeInputError(f"foundryKeys.{output.foundry}.key1 cannot be sent: it {why} ({HEADER_RULE})")
    problem = foundry_destination_problem(name, output, allowed)
    if problem or output.chat_completions_url is None:  # non_chat() set aside deployments without the URL
        raise SmokeInputError(problem or f"foundryDeployments.{name}.chatCompletionsUrl: none")
    scope = scopes["foundry"] if how == "entra" else ""
    return FoundryTarget(name, "openai", output.chat_completions_url, how, output, key, scope)


def non_chat(outputs: StackOutputs) -> dict[str, str]:
    """Endpoints and Foundry deployments whose model does not answer chat completions (OCR / document AI, by the
    outputs or the catalog), with why: nothing sends them a chat request."""
    from infra import catalog as catalog_module

    known = catalog_module.load()
    found = {}
    for name, output in outputs.endpoints.items():
        model = known.by_model_id(output.model_id)
        label = model.label if model is not None else output.model_id
        if output.api != "chat" or (model is not None and model.api != "chat") or not output.chat_completions_url:
            found[name] = f"{label} answers the OCR / document AI API, not chat completions"
    for name, deployment in outputs.foundry_deployments.items():
        model = known.by_foundry_model(deployment.format, deployment.model_name)
        if (
            deployment.api != "chat"
            or (model is not None and model.api != "chat")
            or not deployment.chat_completions_url
        ):
            found[name] = f"{foundry_label(deployment, model)} answers the OCR / document AI API, not chat completions"
    return found


def foundry_label(deployment: FoundryDeploymentOutput, model: catalog_module.Model | None) -> str:
    """``Name (format/model name)`` of a deployment's model, or ``format/model name`` when the catalog does not
    know it."""
    ident = f"{deployment.format}/{deployment.model_name}"
    return f"{model.name} ({ident})" if model is not None else ident


def _auth_for(name: str, output: EndpointOutput, choice: AuthChoice, outputs: StackOutputs) -> Auth:
    mode = output.auth_mode
    if choice == "entra" and mode == "Key":
        raise SmokeInputError(f"--auth entra: endpoint {name!r} takes keys only (authMode Key)")
    if choice == "key" and mode == "AAD":
        raise SmokeInputError(f"--auth key: endpoint {name!r} takes Entra ID tokens only (authMode AAD)")
    wants_key = choice == "key" or (choice == "auto" and mode != "AAD")
    if not wants_key:
        return "entra"
    if outputs.key_of(name) is not None:
        return "key"
    if choice == "auto" and mode == "KeyAndAAD" and not outputs.keys_hidden:
        return "entra"
    if outputs.keys_hidden:
        raise SmokeInputError(
            f"endpoint {name!r} needs its key, and endpointKeys is hidden: read the outputs with "
            "`pulumi stack output --json --show-secrets`"
        )
    raise SmokeInputError(f"endpointKeys has no key for endpoint {name!r} (authMode {mode}): run `pulumi up`")


def _foundry_auth_for(name: str, output: FoundryDeploymentOutput, choice: AuthChoice, outputs: StackOutputs) -> Auth:
    """``auto``: the resource's ``key1`` when it takes keys (``KeyAndAAD``) and ``foundryKeys`` holds one, else an
    Entra ID token (every Foundry resource takes them). Hidden keys are an error unless ``--auth entra``: the
    report would otherwise test another credential than the one the user meant."""
    account = output.foundry
    if choice == "key" and output.auth_mode == "AAD":
        raise SmokeInputError(
            f"--auth key: Foundry deployment {name!r} takes Entra ID tokens only (authMode AAD: keys are off on "
            f"Foundry resource {account!r})"
        )
    if choice == "entra" or output.auth_mode == "AAD":
        return "entra"
    if outputs.foundry_key_of(account) is not None:
        return "key"
    if outputs.foundry_keys_hidden:
        raise SmokeInputError(
            f"Foundry deployment {name!r} needs its resource's key, and foundryKeys is hidden: read the outputs with "
            "`pulumi stack output --json --show-secrets`, or pass --auth entra"
        )
    if choice == "key":
        raise SmokeInputError(
            f"foundryKeys has no key for Foundry resource {account!r} (authMode KeyAndAAD): run `pulumi up`"
        )
    return "entra"


# --- the channels: what each sends, and how it reads a refusal ---------------------------------------------


@dataclass(frozen=True)
class EndpointTarget(Target["EndpointOutput"]):
    """A serverless endpoint's route: the key or token as ``Authorization: Bearer``."""

    base_field: ClassVar[str] = "inferenceUri"
    owner: ClassVar[str] = "the endpoint"

    @property
    def base(self) -> str:
        return self.output.inference_uri

    def quota(self) -> str:
        limits = self.output.rate_limits
        return (
            f"the deployment's quota: {limits.tokens_per_minute} tokens and {limits.requests_per_minute} requests "
            "per minute"
        )

    def diagnosis(self, status: int, line: str, said: str, today: dt.date) -> str:
        output = self.output
        if status == 401 and self.auth == "key":
            return (
                f"{line}: the endpoint rejected the key from the stack outputs; it changed since the last "
                f"`pulumi up` (run `pulumi refresh` and `pulumi up`, then smoke again){said}"
            )
        if status == 401:
            return (
                f"{line}: the endpoint rejected the Entra ID token (scope {self.scope}); check the "
                f"endpoint's authMode ({output.auth_mode}) and that you signed in to its tenant{said}"
            )
        if status == 403 and self.auth == "entra":
            return (
                f"{line}: the signed-in identity has no role allowing inference on workspace "
                f"{output.workspace!r}: grant Azure AI Developer (`role: developer` in azure-maas:access){said}"
            )
        if status == 403:
            return f"{line}: the key was not allowed to call this endpoint{said}"
        if status in (404, 410):
            return f"{line}: {self._not_found(today)}{said}"
        return f"{line}: the request was refused{said}"

    def _not_found(self, today: dt.date) -> str:
        from infra import catalog as catalog_module

        output = self.output
        known = catalog_module.load()
        model = known.by_model_id(output.model_id)
        if model is not None:
            verdict = catalog_module.judge(model, today, known)
            if verdict.stage == "Retired":
                return f"the model is retired: {verdict.reason}"
        if self.route == "native" and facts.model_registry(output.model_id) not in NATIVE_ROUTE_REGISTRIES:
            return (
                f"{output.model_id} does not serve the native route {names.NATIVE_CHAT_ROUTE} (Mistral and AI21 "
                "models do); use --route inference"
            )
        return (
            f"no endpoint at {self.url}: deleted outside Pulumi, or its model was retired "
            "(run `pulumi refresh`; `maas models --all` shows retirements)"
        )


@dataclass(frozen=True)
class FoundryTarget(Target["FoundryDeploymentOutput"]):
    """A Foundry deployment: ``{baseUrl}/chat/completions`` with ``model`` set to the deployment's name, the
    resource's key as ``api-key`` or a token as ``Authorization: Bearer``."""

    base_field: ClassVar[str] = "baseUrl"
    owner: ClassVar[str] = "the deployment"

    @property
    def base(self) -> str:
        return self.output.base_url

    def credential_headers(self, secret: str) -> dict[str, str]:
        return {"api-key": secret} if self.auth == "key" else super().credential_headers(secret)

    def body(self) -> dict[str, Any]:
        return {"model": self.output.deployment}

    def quota(self) -> str:
        output = self.output
        units = "provisioned throughput units" if "Provisioned" in output.sku else "thousand tokens per minute"
        return (
            f"the deployment's capacity: {output.capacity} {units}, {output.sku}; raise its `capacity` in "
            "azure-maas:foundries"
        )

    def diagnosis(self, status: int, line: str, said: str, today: dt.date) -> str:
        if status in (401, 403):
            return f"{line}: {self._credential_refused(status)}{said}"
        if status in (404, 410):
            return f"{line}: {self._not_found(status, today)}{said}"
        return f"{line}: the request was refused{said}"

    def _credential_refused(self, status: int) -> str:
        account = self.output.foundry
        if status == 401 and self.auth == "key":
            return (
                f"Foundry resource {account!r} rejected the key from the stack outputs; it changed since the last "
                "`pulumi up` (run `pulumi refresh` and `pulumi up`, then smoke again)"
            )
        if status == 401:
            other = OLDER_FOUNDRY_TOKEN_SCOPE if self.scope == FOUNDRY_TOKEN_SCOPE else FOUNDRY_TOKEN_SCOPE
            return (
                f"Foundry resource {account!r} rejected the Entra ID token (scope {self.scope}); sign in to its "
                f"tenant, or try --token-scope foundry={other}"
            )
        if self.auth == "entra":
            return (
                f"the signed-in identity has no role allowing inference on Foundry resource {account!r}: grant "
                f"Foundry User (`role: developer`, `scope: {account}` in azure-maas:access)"
            )
        return (
            f"Foundry resource {account!r} refused the key: local auth (keys) was turned off since the last "
            "`pulumi up` (run `pulumi refresh`; --auth entra smokes it with a token)"
        )

    def _not_found(self, status: int, today: dt.date) -> str:
        output = self.output
        retired = foundry_retirement(output, today)
        if retired:
            return f"the model is retired: {retired}"
        if status == 410:
            return (
                f"the model of deployment {output.deployment!r} ({output.format}/{output.model_name} version "
                f"{output.version}) is retired, though the catalog does not say so yet: deploy a living one (`maas "
                "models --channel foundry`; `maas catalog sync` updates the catalog)"
            )
        return (
            f"Foundry resource {output.foundry!r} has no deployment named {output.deployment!r} (sent as `model`): "
            "deleted or renamed outside Pulumi, or the outputs are stale (run `pulumi refresh`)"
        )


def foundry_retirement(output: FoundryDeploymentOutput, today: dt.date) -> str:
    """Why the catalog says a deployment's model is retired on ``today``, with the first living model along its
    replacement chain (how to deploy it on a Foundry resource, or where else it is offered); ``""`` when the
    catalog does not know the model or it is not retired."""
    from infra import catalog as catalog_module

    known = catalog_module.load()
    model = known.by_foundry_model(output.format, output.model_name)
    if model is None or model.lifecycle.stage_on(today) != "Retired":
        return ""
    when = model.lifecycle.retirement_date
    since = f" on {when.isoformat()}" if when else f" (as of the catalog date {known.as_of.isoformat()})"
    reason = f"{foundry_label(output, model)} was retired{since}"
    replacement = known.replacement_on(model, today)
    if replacement is not None and replacement.foundry is not None:
        offer = replacement.foundry
        return f"{reason}; deploy {replacement.key!r} ({offer.format}/{offer.name} version {offer.version}) instead"
    if replacement is not None:
        return (
            f"{reason}; its replacement {replacement.key!r} ({replacement.name}) is offered only as: "
            f"{catalog_module.channels_text(replacement)}"
        )
    return f"{reason}; no replacement is announced"


# --- where credentials may go, and what they may be --------------------------------------------------------

_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_URL_KEYS: dict[ServerlessRoute, str] = {"inference": "chatCompletionsUrl", "native": "nativeChatCompletionsUrl"}


@cache
def _hosts_pattern(domains: tuple[str, ...]) -> re.Pattern[str]:
    """Host names under one of ``domains``."""
    return re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + "|".join(map(re.escape, domains)) + r")$")


def allowed_host(value: str) -> str:
    """A ``--allow-host`` value normalized: a host name in lower case, or an IP address in its short form (IPv6
    with or without brackets); :class:`argparse.ArgumentTypeError` for anything else (a scheme, a port, a path)."""
    host = value.lower()
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(bare))
    if _HOST_NAME.match(host):
        return host
    raise argparse.ArgumentTypeError(f"{value!r} is not a host name or IP address (no scheme, port or path)")


def _shown(where: Origin) -> str:
    scheme, host, port = where
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port in (None, DEFAULT_PORTS.get(scheme)) else f":{port}")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def destination_problem(
    name: str, output: EndpointOutput, route: ServerlessRoute, allowed: Collection[str] = ()
) -> str:
    """Why endpoint ``name``'s credential must not be sent to its ``route`` URL, or ``""``. It goes only to the
    origin of the endpoint's ``inferenceUri``; that host must be an Azure inference host or in ``allowed``
    (normalized by :func:`allowed_host`), and the scheme https, or http to a loopback address in ``allowed``."""
    url = output.chat_completions_url if route == "inference" else output.native_chat_completions_url
    return _destination_problem(
        f"endpoints.{name}",
        ("inferenceUri", output.inference_uri),
        (_URL_KEYS[route], url),
        AZURE_INFERENCE_HOSTS,
        allowed,
    )


def foundry_destination_problem(name: str, output: FoundryDeploymentOutput, allowed: Collection[str] = ()) -> str:
    """Why Foundry deployment ``name``'s credential must not be sent to its ``chatCompletionsUrl``, or ``""``: as
    for an endpoint (:func:`destination_problem`), with the deployment's ``baseUrl`` on a Foundry inference host
    (:data:`FOUNDRY_INFERENCE_HOSTS`)."""
    return _destination_problem(
        f"foundryDeployments.{name}",
        ("baseUrl", output.base_url),
        ("chatCompletionsUrl", output.chat_completions_url),
        FOUNDRY_INFERENCE_HOSTS,
        allowed,
    )


def _destination_problem(
    where: str,
    base_field: tuple[str, str],
    url_field: tuple[str, str | None],
    domains: tuple[str, ...],
    allowed: Collection[str],
) -> str:
    """Why a credential must not go to ``url_field``'s URL, given the base URL whose origin it may go to."""
    base_key, base_url = base_field
    url_key, url = url_field
    base = origin(base_url)
    if base is None or base[0] not in DEFAULT_PORTS:
        return f"{where}.{base_key}: not an absolute http(s) URL"
    scheme, host, _ = base
    if host not in allowed and not _hosts_pattern(domains).match(host):
        shown_domains = ", ".join(f"*.{domain}" for domain in domains)
        return (
            f"{where}.{base_key}: {host} is not an Azure inference host ({shown_domains}); keys and tokens go to "
            f"another host only with --allow-host {host}"
        )
    if scheme != "https" and not (host in allowed and _loopback(host)):
        return (
            f"{where}.{base_key}: {_shown(base)} is not https; keys and tokens go over plain http only to a "
            "loopback address given to --allow-host"
        )
    there = origin(url or "")
    if there != base:
        return (
            f"{where}.{url_key}: {_shown(there) if there else 'not an absolute URL'} is not the origin of "
            f"{base_key} ({_shown(base)}); keys and tokens go there only"
        )
    return ""


def _refusal(target: Target[Any]) -> str:
    """Why the runner will not send ``target`` its credential, whatever made the target: its URL is not on the
    origin of its base URL (``inferenceUri``, ``baseUrl``), or not https (http only to a loopback address); ``""``
    otherwise."""
    there, base = origin(target.url), origin(target.base)
    if there is None or there != base:
        return f"refused to send a credential to {target.url}: not the origin of {target.owner}'s {target.base_field}"
    if there[0] != "https" and not (there[0] == "http" and _loopback(there[1])):
        return f"refused to send a credential to {_shown(there)}: not https"
    return ""


def header_problem(secret: str) -> str:
    """Why ``secret`` cannot follow ``Bearer`` in an ``Authorization`` header, or ``""``: keys and tokens are
    printable ASCII without spaces. The value itself is never part of the answer."""
    if not secret:
        return "is empty"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in secret):
        return "holds a control character"
    if " " in secret:
        return "holds a space"
    if not secret.isascii():
        return "holds a character outside ASCII"
    return ""


_ENTITY_NAMES = {'"': "quot", "&": "amp", "<": "lt", ">": "gt", "'": "apos"}


def _char_pattern(char: str) -> str:
    """A character of a secret in any form it may be printed in: as it is or backslash-escaped (JSON, repr, and
    escapes of those, up to three levels: seven backslashes, which also keeps matching linear), as ``\\uXXXX``
    or ``\\xXX``, URL-encoded, or an HTML character reference. ASCII letters and digits are never escaped by
    those encoders: they stand for themselves (which keeps the pattern of a long token small)."""
    if char.isascii() and char.isalnum():
        return char
    code = ord(char)
    escapes = [f"u{code:04x}"] + ([f"x{code:02x}"] if code < 0x100 else [])
    percent = "".join(f"%{byte:02x}" for byte in char.encode("utf-8"))
    forms = [
        r"\\{0,7}(?:" + re.escape(char) + "|(?i:" + "|".join(escapes) + "))",
        f"(?i:{re.escape(percent)})",
        f"&#0*{code};",
        f"(?i:&#x0*{code:x};)",
    ]
    if char in _ENTITY_NAMES:
        forms.append(f"&{_ENTITY_NAMES[char]};")
    if char == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``: as it is, and in the escaped forms a service or a library
    may print it (JSON strings, escaped again or with ``\\u`` escapes, Python reprs of text and bytes, URL
    encoding, HTML), longest secret first. Redact before cutting a text to length, never after."""
    unique = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
    if not unique or not text:
        return text
    pattern = "|".join("".join(_char_pattern(char) for char in secret) for secret in unique)
    return re.sub(pattern, REDACTED, text)


def redacted(result: Result, secrets: Collection[str]) -> Result:
    """``result`` with the secrets redacted from every text (the others are numbers and closed sets), then its
    problem on one line, cut to :data:`PROBLEM_LIMIT`: where every result leaves the runner."""
    return replace(
        result,
        endpoint=redact(result.endpoint, secrets),
        model=redact(result.model, secrets),
        reply=redact(result.reply, secrets),
        problem=one_line(redact(result.problem, secrets), PROBLEM_LIMIT),
    )


def http_client(allow_hosts: Collection[str] = ()) -> httpx.Client:
    """The client ``maas smoke`` sends with: redirects never followed (a credential goes to the URL that was
    checked, nowhere else); no connection kept for another request (each attempt opens its own, which its
    deadline can end); and no proxy between it and an allowed loopback address (plain http never leaves the
    machine)."""
    import httpx

    direct = [allowed_host(host) for host in allow_hosts]
    loopback = {f"all://{f'[{host}]' if ':' in host else host}": None for host in direct if _loopback(host)}
    return httpx.Client(
        follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0), mounts=loopback or None
    )


# --- running the checks ------------------------------------------------------------------------------------


def _service_message(body: bytes, secrets: Collection[str]) -> str:
    """The service's own error message, when the body carries one (``error.message``, ``message``, ``detail``),
    redacted, then cut to :data:`DETAIL_LIMIT`."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's stack
        return ""
    if not isinstance(document, dict):
        return ""
    error = document.get("error")
    candidates = [error.get("message") if isinstance(error, dict) else error, document.get("message")]
    candidates.append(document.get("detail"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return one_line(redact(candidate, secrets), DETAIL_LIMIT)
    return ""


class _Answer:
    """One HTTP answer: status, headers and either the body (errors) or the checked outcome (200), or the
    problem that failed the check on the way (a body off the schema, too large, or past the deadline)."""

    def __init__(self, status: int, reason: str, headers: httpx.Headers) -> None:
        self.status, self.reason, self.headers = status, reason, headers
        self.body = b""
        self.outcome: tuple[str, str, Usage] | None = None
        self.problem = ""


@dataclass
class _Check:
    """One check under way: its target, the request, the credentials to redact and its deadline."""

    target: Target[Any]
    stream: bool
    headers: dict[str, str] = field(repr=False)
    secrets: set[str] = field(repr=False)
    deadline: float
    clock: Callable[[], float]
    timeout: float

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def late(self) -> bool:
        return self.remaining() <= 0

    @property
    def timed_out(self) -> str:
        return f"no complete answer within {self.timeout:g} s (timeout)"


class _Watchdog:
    """Ends an attempt at its check's deadline by shutting its connection's sockets down, so that a read waiting
    on a silent or trickling server returns then: httpx's timeouts bound each read, not the whole answer. Sockets
    come from httpcore's ``trace`` extension (each new connection) and from the response (``network_stream``)."""

    CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._expired = self._stopped = False
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in self.CONNECTED:
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self._stopped:
                return
            self._sockets.append(sock)
            if self._expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if not self._stopped:
                self._expired = True
                for sock in self._sockets:
                    _shut(sock)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    """Shut the socket down (a TLS socket's too, without touching its TLS state); a closed one is left alone."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Smoke:
    """Runs checks with one HTTP client; an Entra ID token is fetched once per scope, when a target needs one."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        credential: Callable[[], TokenProvider] | None = None,
        policy: RetryPolicy = RetryPolicy(),
        today: dt.date | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.credential = credential
        self.policy = policy
        self.today = today or dt.date.today()
        self.sleep = sleep
        self.clock = clock
        self._token_lock = threading.Lock()
        self._tokens: dict[str, tuple[SecretStr | None, str]] = {}
        """By scope: the token, or why there is none."""

    def run(self, checks: Sequence[Target[Any]], *, stream: bool = False) -> list[Result]:
        """Every target checked, concurrently, results in the targets' order. Each result has every credential
        of the run redacted: a server that several endpoints share could echo another endpoint's key."""
        if not checks:
            return []
        for scope in dict.fromkeys(target.scope for target in checks if target.auth == "entra"):
            self._entra_token(scope)
        keys = [target.key.get_secret_value() for target in checks if target.key is not None]
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(checks)), thread_name_prefix="smoke") as pool:
            return list(pool.map(lambda target: self.check(target, stream=stream, redacting=keys), checks))

    def check(self, target: Target[Any], *, stream: bool = False, redacting: Collection[str] = ()) -> Result:
        """One check; it never raises: whatever goes wrong is its failed result. Its texts have this check's
        credential, every Entra ID token of the run and ``redacting`` (the run's other keys) redacted, then are cut
        (:func:`redacted`)."""
        held = (target.key, *self._known_tokens())
        secrets = {*redacting, *(secret.get_secret_value() for secret in held if secret is not None)}
        try:
            result = self._check(target, stream, secrets)
        except Exception as error:  # a defect: this check fails, the others stand
            result = self._result(
                target, stream, ok=False, status=None, attempts=0, problem=_unexpected(error, secrets)
            )
        return redacted(result, secrets)

    def _check(self, target: Target[Any], stream: bool, secrets: set[str]) -> Result:
        secret = target.key if target.auth == "key" else self._entra_token(target.scope)
        if secret is None:
            problem = "the check has no key" if target.auth == "key" else self._tokens[target.scope][1]
            return self._result(target, stream, ok=False, status=None, attempts=0, problem=problem)
        value = secret.get_secret_value()
        secrets.add(value)
        why = header_problem(value)
        refused = f"the credential cannot be sent: it {why} ({HEADER_RULE})" if why else _refusal(target)
        if refused:  # targets() refuses these before any request; a hand-made target is refused here
            return self._result(target, stream, ok=False, status=None, attempts=0, problem=refused)
        headers = {
            **target.credential_headers(value),
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",
            "User-Agent": USER_AGENT,
        }
        if stream:
            headers |= {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        deadline = self.clock() + self.policy.timeout
        return self._attempts(_Check(target, stream, headers, secrets, deadline, self.clock, self.policy.timeout))

    def _known_tokens(self) -> list[SecretStr]:
        with self._token_lock:
            return [token for token, _ in self._tokens.values() if token is not None]

    def _entra_token(self, scope: str) -> SecretStr | None:
        with self._token_lock:
            if scope not in self._tokens:
                self._tokens[scope] = self._fetch_token(scope)
            return self._tokens[scope][0]

    def _fetch_token(self, scope: str) -> tuple[SecretStr | None, str]:
        if self.credential is None:
            return None, "no Entra ID credential is configured"
        try:
            token = self.credential().get_token(scope)
        except Exception as error:  # azure-identity raises ClientAuthenticationError and subclasses
            first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
            return None, (
                f"no Entra ID token for {scope}: {first} "
                "(sign in with `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID for a workload identity)"
            )
        why = header_problem(str(token.token))
        if why:
            return None, f"the Entra ID token for {scope} cannot be sent: it {why} ({HEADER_RULE})"
        from pydantic import SecretStr

        return SecretStr(token.token), ""

    def _attempts(self, check: _Check) -> Result:
        policy, target, stream = self.policy, check.target, check.stream
        for attempt in range(1, policy.attempts + 1):
            started = self.clock()
            answer = self._exchange(check)
            if isinstance(answer, str):  # no answer: not retried (a timeout already took the whole budget)
                return self._result(target, stream, ok=False, status=None, attempts=attempt, problem=answer)
            done = partial(
                self._result, target, stream, status=answer.status, attempts=attempt, latency=self.clock() - started
            )
            if answer.outcome is not None:
                reply, model, usage = answer.outcome
                return done(ok=True, usage=usage, reply=reply, model=model)
            if answer.problem or not (answer.status == 429 or answer.status >= 500):
                return done(ok=False, problem=answer.problem or self._diagnosis(check, answer))
            asked = retry_after(answer.headers)
            wait = asked if asked is not None else policy.backoff * 2 ** (attempt - 1)
            if attempt == policy.attempts or wait > policy.max_wait:
                why = (
                    f"the service asked to retry after {wait:g} s, more than the {policy.max_wait:g} s this waits"
                    if attempt < policy.attempts
                    else f"still failing after {attempt} attempts"
                )
                return done(ok=False, problem=f"{self._status_line(answer)}: {why}{self._retry_hint(check, answer)}")
            if wait >= check.remaining():
                why = f"waiting {wait:g} s to retry would pass the check's {policy.timeout:g} s timeout"
                return done(ok=False, problem=f"{self._status_line(answer)}: {why}{self._retry_hint(check, answer)}")
            self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns")

    def _exchange(self, check: _Check) -> _Answer | str:
        """The answer, or why there was none."""
        import httpx

        remaining = check.remaining()
        if remaining <= 0:
            return check.timed_out
        watchdog = _Watchdog(remaining)
        try:
            return self._send(check, watchdog, remaining)
        except httpx.TransportError as error:
            if check.late() or isinstance(error, httpx.TimeoutException):  # a timeout, or the watchdog's shutdown
                return check.timed_out
            return f"cannot reach {httpx.URL(check.target.url).host}: {error or type(error).__name__}"
        except httpx.HTTPError as error:  # an undecodable body, a malformed URL
            return f"the request failed: {error or type(error).__name__}"
        except Exception as error:  # a library undone by a pathological answer, or a defect
            return _unexpected(error, check.secrets)
        finally:
            watchdog.stop()

    def _send(self, check: _Check, watchdog: _Watchdog, remaining: float) -> _Answer:
        """One request; a 200 answer is checked (``outcome``, or ``problem`` when it breaks the schema). Bodies
        are read up to :data:`MAX_BODY` and the check's deadline."""
        import httpx

        body = {
            **check.target.body(),
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS,
            "temperature": 0,
            "stream": check.stream,
        }
        with self.client.stream(
            "POST",
            check.target.url,
            headers=check.headers,
            json=body,
            timeout=httpx.Timeout(remaining, connect=min(remaining, CONNECT_TIMEOUT)),
            follow_redirects=False,
            extensions={"trace": watchdog.trace},
        ) as response:
            watchdog.watch(response.extensions.get("network_stream"))
            answer = _Answer(response.status_code, response.reason_phrase, response.headers)
            chunks = _bounded(response, check)
            try:
                if response.status_code != 200:
                    answer.body = b"".join(chunks)
                elif check.stream:
                    answer.outcome = check_stream(_event_data(response, chunks))
                else:
                    answer.outcome = check_completion(b"".join(chunks))
            except _CheckFailedError as failed:
                answer.problem = str(failed)
            except httpx.HTTPError as error:
                if not (check.late() or isinstance(error, httpx.TimeoutException)):
                    raise
                answer.problem = check.timed_out
            return answer

    @staticmethod
    def _status_line(answer: _Answer) -> str:
        return f"{answer.status} {answer.reason}".strip()

    def _retry_hint(self, check: _Check, answer: _Answer) -> str:
        if answer.status != 429:
            message = _service_message(answer.body, check.secrets)
            return f" ({message})" if message else ""
        return f" ({check.target.quota()})"

    def _diagnosis(self, check: _Check, answer: _Answer) -> str:
        message = _service_message(answer.body, check.secrets)
        said = f" (the service says: {message})" if message else ""
        return check.target.diagnosis(answer.status, self._status_line(answer), said, self.today)

    def _result(self, target: Target[Any], stream: bool, **fields: Any) -> Result:
        return Result(endpoint=target.endpoint, route=target.route, auth=target.auth, stream=stream, **fields)


def _bounded(response: httpx.Response, check: _Check) -> Iterator[bytes]:
    """The body, decoded, chunk by chunk: more than :data:`MAX_BODY` bytes, or the deadline passed (between
    chunks, or while the last one was awaited: the watchdog ends such a read), fails the check."""
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            raise _CheckFailedError(TOO_LARGE)
        if check.late():
            raise _CheckFailedError(check.timed_out)
        yield chunk
    if check.late():  # a body that ends with the connection ends early when the watchdog shuts it
        raise _CheckFailedError(check.timed_out)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _event_data(response: httpx.Response, chunks: Iterable[bytes]) -> Iterator[str]:
    """The ``data`` of each server-sent event, read from ``chunks`` as the WHATWG event-stream format says
    (lines end with CR LF, CR or LF; ``data`` fields of an event are joined with LF; a blank line ends the event;
    an event the stream ends in is dropped). A stream that is not ``text/event-stream`` fails the check."""
    content_type = response.headers.get("content-type", "").partition(";")[0].strip()
    if content_type.lower() != "text/event-stream":
        raise _CheckFailedError(
            f"the streamed answer is not server-sent events: its Content-Type is {content_type!r}, not "
            "text/event-stream"
        )
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending, data = "", list[str]()
    for chunk in chunks:
        text = pending + decoder.decode(chunk)
        held = 1 if text.endswith("\r") else 0  # perhaps the first half of CR LF
        *lines, pending = _LINE_BREAK.split(text[: len(text) - held])
        pending += text[len(text) - held :]
        for line in lines:
            if not line:
                if data:
                    yield "\n".join(data)
                data = []
                continue
            name, _, value = line.partition(":")
            if name == "data":
                data.append(value.removeprefix(" "))


def _unexpected(error: Exception, secrets: Collection[str]) -> str:
    detail = one_line(redact(str(error), secrets), DETAIL_LIMIT)
    return f"the check failed unexpectedly: {type(error).__name__}" + (f": {detail}" if detail else "")


def default_credential() -> TokenProvider:
    """azure-identity's ``DefaultAzureCredential`` (environment, workload identity, managed identity, az CLI...)."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


# --- the command ------------------------------------------------------------------------------------------

_CHANNEL_PREFIX = re.compile(r"^(?P<channel>[a-z]+)=(?P<scope>.*)$", re.DOTALL)


def token_scope(value: str) -> tuple[ChannelName | None, str]:
    """A ``--token-scope`` value: ``SCOPE`` (every channel) or ``CHANNEL=SCOPE`` (one channel);
    :class:`argparse.ArgumentTypeError` for an unknown channel or a scope that is empty or holds a space."""
    channel: ChannelName | None = None
    scope = value
    prefixed = _CHANNEL_PREFIX.match(value)
    if prefixed:
        named = prefixed["channel"]
        if named not in CHANNELS:
            raise argparse.ArgumentTypeError(f"{named!r} is not a channel: use {' or '.join(CHANNELS)}")
        channel, scope = next(c for c in CHANNELS if c == named), prefixed["scope"]
    if not scope or any(char.isspace() for char in scope):
        raise argparse.ArgumentTypeError(f"{value!r} is not a scope: [CHANNEL=]SCOPE, the scope without spaces")
    return channel, scope


def token_scopes(given: Sequence[tuple[ChannelName | None, str]] | None) -> dict[ChannelName, str]:
    """Each channel's scope: its default (:data:`TOKEN_SCOPES`), replaced by the ``--token-scope`` values in
    order (a later value wins)."""
    scopes = dict(TOKEN_SCOPES)
    for channel, scope in given or ():
        scopes |= {channel: scope} if channel else dict.fromkeys(CHANNELS, scope)
    return scopes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(
        parser,
        "the deployed stack: dev, org/dev or org/project/dev (default: the stack pulumi stack select chose; with "
        "--outputs, only names the report)",
    )
    parser.add_argument(
        "--endpoint",
        "-e",
        action="append",
        default=[],
        metavar="NAME",
        help="only this serverless endpoint, or Foundry deployment as ACCOUNT/DEPLOYMENT (repeatable)",
    )
    parser.add_argument(
        "--route",
        action="append",
        choices=ROUTES,
        help="routes of serverless endpoints: inference, {uri}/chat/completions (default); native, "
        "{uri}/v1/chat/completions (repeatable; a Foundry deployment has one route, openai/v1)",
    )
    parser.add_argument("--stream", action="store_true", help="stream the answer (server-sent events)")
    parser.add_argument(
        "--auth",
        choices=["auto", "key", "entra"],
        default="auto",
        help="auto (default): the key for Key and KeyAndAAD endpoints and for Foundry resources with keys in the "
        "outputs, an Entra ID token otherwise",
    )
    parser.add_argument(
        "--outputs", type=Path, metavar="FILE", help="saved `pulumi stack output --json --show-secrets` (- for stdin)"
    )
    parser.add_argument(
        "--timeout",
        type=options.seconds,
        default=RetryPolicy.timeout,
        help="seconds per check, every attempt and wait included (default: %(default)g)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        type=allowed_host,
        metavar="HOST",
        help="also send keys and tokens to this host (repeatable): over https, or plain http to a loopback address",
    )
    parser.add_argument(
        "--retries",
        type=options.count,
        default=RetryPolicy.attempts - 1,
        help="retries of a 429 or 5xx answer (default: %(default)s)",
    )
    parser.add_argument(
        "--token-scope",
        action="append",
        type=token_scope,
        metavar="[CHANNEL=]SCOPE",
        help=f"Entra ID scope for every channel, or for one: serverless=SCOPE, foundry=SCOPE (repeatable; "
        f"default: serverless {TOKEN_SCOPE}, foundry {FOUNDRY_TOKEN_SCOPE})",
    )
    options.add_format(parser, ("text", "json"))
    options.add_cwd(parser)
    options.add_today(parser)


def _outputs(args: argparse.Namespace) -> tuple[StackOutputs, str | None, str]:
    """The outputs to check, the stack they are of (qualified name as given or selected, or None for saved outputs
    without ``--stack``), and what the text report names: ``stack <name>``, else where the outputs came from.

    Saved outputs (``--outputs``) are of the stack ``--stack`` names, or of no stack the report can name: the
    stack ``pulumi stack select`` chose need not be the one whose outputs were saved."""
    from infra.cli import stacks
    from infra.cli.stack_outputs import read as read_outputs
    from infra.cli.stack_outputs import read_saved

    given = stacks.parse(args.stack) if args.stack is not None else None
    if args.outputs is None:
        project = stacks.find_project(args.cwd)
        stack = stacks.resolve(given, project)
        return read_outputs(stack.given, project.directory), stack.given, f"stack {stack.given}"
    if given is not None and given.project is not None:
        with contextlib.suppress(stacks.NoProjectError):  # outside a project there is no name to hold it to
            stacks.check_project(given, stacks.find_project(args.cwd), f"--stack {given.given}")
    outputs = read_saved(args.outputs)
    if given is not None:
        return outputs, given.given, f"stack {given.given}"
    return outputs, None, "the outputs on stdin" if str(args.outputs) == "-" else f"the outputs in {args.outputs}"


def execute(args: argparse.Namespace, out: Console, errors: Console) -> int:
    from infra.cli.output import progress
    from infra.cli.render import smoke as render

    outputs, stack, subject = _outputs(args)
    checks = targets(
        outputs, args.endpoint, args.route, args.auth, args.allow_host, token_scopes=token_scopes(args.token_scope)
    )
    for name, why in ({} if args.endpoint else non_chat(outputs)).items():
        errors.print(f"maas smoke: skipped {noun(outputs, name)} {name!r}: {why}", markup=False)
    policy = RetryPolicy(attempts=args.retries + 1, timeout=args.timeout)
    with http_client(args.allow_host) as client, progress(errors, text="smoke testing"):
        runner = Smoke(client, credential=default_credential, policy=policy, today=args.today)
        results = runner.run(checks, stream=args.stream)
    if args.format == "json":
        sys.stdout.write(render.smoke_json(results, stack) + "\n")
    else:
        render.print_smoke(results, out, subject)
    return ExitCode.OK if all(r.ok for r in results) else ExitCode.FAILED


COMMAND = Command(
    name="smoke",
    help="send one tiny chat completion to each deployed endpoint and Foundry deployment",
    description="Read the stack outputs (pulumi stack output --json --show-secrets for --stack, else the stack "
    "pulumi stack select chose, in the project of the nearest Pulumi.yaml upward; or --outputs FILE), send each serverless endpoint and each Foundry deployment a tiny chat completion and check the answer against "
    "the documented schema. Keys and tokens go only over https to the endpoint's own inferenceUri (a deployment's "
    "own baseUrl), an Azure inference host unless --allow-host names it. Exit codes: 0 every check passed, 1 a "
    "check failed, 2 unreadable outputs, an invalid selection or a credential that would go elsewhere, 3 internal "
    "failure.",
    add_arguments=add_arguments,
    execute=execute,
)
