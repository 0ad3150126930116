"""``maas smoke``: one tiny chat completion per deployed endpoint, checked against the documented schema.

Each check posts to the endpoint's chat route (the Azure AI model inference API at ``{uri}/chat/completions``,
or the provider's native API at ``{uri}/v1/chat/completions``), plain or streamed, with the endpoint key or
an Entra ID token as ``Authorization: Bearer``. 429 and 5xx answers are retried with bounded exponential
backoff that honours ``Retry-After``; 401, 403, 404 and 410 get a one-line diagnosis. Every problem is one line,
and any credential that might be echoed back is redacted from it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

import httpx
from httpx_sse import EventSource, SSEError, connect_sse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from azure_maas_policy import facts
from infra import catalog as catalog_module
from infra import names
from infra.stack_outputs import EndpointOutput, StackOutputs

Route = Literal["inference", "native"]
AuthChoice = Literal["auto", "key", "entra"]
Auth = Literal["key", "entra"]

ROUTES: tuple[Route, ...] = ("inference", "native")
NATIVE_ROUTE_REGISTRIES = frozenset({"azureml-mistral", "azureml-ai21"})
"""Registries whose models serve the native route (Mistral's chat API, AI21's client): AZURE_FACTS.md 1.5."""
TOKEN_SCOPE = "https://ml.azure.com/.default"
"""The Entra ID scope for serverless endpoints (azure-ai-inference's default for them); ``--token-scope``."""
PROMPT = "Reply with the single word: pong"
MAX_TOKENS = 16
DONE = "[DONE]"
USER_AGENT = "azure-maas-smoke"
CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection (within ``--timeout``)."""
MAX_WORKERS = 8
DETAIL_LIMIT = 160
"""Characters of a service's error message kept in a diagnosis."""
REDACTED = "***"


class SmokeInputError(Exception):
    """The selection cannot be smoke-tested as asked (unknown endpoint, missing key); one line."""


class TokenProvider(Protocol):
    """What ``maas smoke`` needs of a credential: azure-identity's ``get_token``."""

    def get_token(self, *scopes: str) -> Any: ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Requests per check, the first included: 429 and 5xx get up to ``attempts - 1`` retries."""
    backoff: float = 1.0
    """Seconds before the first retry when the service sends no ``Retry-After``; doubled each retry."""
    max_wait: float = 30.0
    """The longest wait between attempts; a ``Retry-After`` asking for more ends the check."""
    timeout: float = 30.0
    """Seconds a request may take (connect, each read, and a whole stream)."""

    @property
    def http_timeout(self) -> httpx.Timeout:
        """``timeout`` for each connect, read and write, with connecting bounded by ``CONNECT_TIMEOUT``."""
        return httpx.Timeout(self.timeout, connect=min(self.timeout, CONNECT_TIMEOUT))


@dataclass(frozen=True)
class Target:
    endpoint: str
    route: Route
    url: str
    auth: Auth
    output: EndpointOutput
    key: SecretStr | None = field(default=None, repr=False)


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


class _Schema(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class _Usage(_Schema):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


FinishReason = Literal["stop", "length", "content_filter"]


class _Message(_Schema):
    role: Literal["assistant"]
    content: str


class _Choice(_Schema):
    index: int
    message: _Message
    finish_reason: FinishReason


class ChatCompletion(_Schema):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage


class _Delta(_Schema):
    role: str | None = None
    content: str | None = None


class _ChunkChoice(_Schema):
    index: int
    delta: _Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(_Schema):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[_ChunkChoice]
    usage: _Usage | None = None


class _CheckFailedError(Exception):
    """A check failed with a one-line problem."""


def _schema_problem(what: str, error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{what} does not match the chat completions schema: {where}: {first['msg']}{more}"


def _usage(usage: _Usage) -> Usage:
    return Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def _finished(reason: FinishReason | None, reply: str) -> None:
    if reason == "content_filter":
        raise _CheckFailedError("content filtering blocked the reply (finish_reason content_filter)")
    if not reply.strip():
        raise _CheckFailedError("the reply is empty")


def check_completion(body: bytes) -> tuple[str, str, Usage]:
    """The reply, model and usage of a ``chat.completion`` document, or :class:`_CheckFailedError`."""
    try:
        completion = ChatCompletion.model_validate_json(body)
    except ValidationError as error:
        raise _CheckFailedError(_schema_problem("the response", error)) from None
    choice = completion.choices[0]
    _finished(choice.finish_reason, choice.message.content)
    return choice.message.content, completion.model, _usage(completion.usage)


def check_stream(events: Iterator[str], deadline: Callable[[], bool]) -> tuple[str, str, Usage]:
    """Read ``data:`` payloads up to ``[DONE]``: every chunk matches the schema, a choice finishes, and the
    last chunk carries usage."""
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
        if deadline():
            raise _CheckFailedError("the stream did not finish in time")
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
    routes: Sequence[Route] = ("inference",),
    auth: AuthChoice = "auto",
) -> list[Target]:
    """One target per selected endpoint and route, in output order; :class:`SmokeInputError` when the
    selection names an unknown endpoint, or needs a key the outputs do not hold."""
    known = outputs.endpoints
    if not known:
        raise SmokeInputError("the stack has no endpoints")
    unknown = [name for name in endpoints if name not in known]
    if unknown:
        raise SmokeInputError(
            f"--endpoint {', '.join(repr(n) for n in unknown)}: not an endpoint of the stack; "
            f"endpoints: {', '.join(known)}"
        )
    not_chat = non_chat(outputs)
    named = [name for name in endpoints if name in not_chat]
    if named:
        raise SmokeInputError(f"--endpoint {named[0]!r}: {not_chat[named[0]]}; maas smoke sends chat requests only")
    chosen = [name for name in known if (not endpoints or name in endpoints) and name not in not_chat]
    if not chosen:
        raise SmokeInputError("no endpoint of the stack answers chat completions")
    found: list[Target] = []
    for name in chosen:
        output = known[name]
        how = _auth_for(name, output, auth, outputs)
        key = outputs.key_of(name) if how == "key" else None
        for route in (r for r in ROUTES if r in routes):
            url = output.chat_completions_url if route == "inference" else output.native_chat_completions_url
            if url:  # a chat model has both routes (non_chat() set aside the others)
                found.append(Target(name, route, url, how, output, key))
    return found


def non_chat(outputs: StackOutputs) -> dict[str, str]:
    """Endpoints whose catalog model does not answer chat completions (OCR / document AI), with why: nothing
    sends them a chat request."""
    known = catalog_module.load()
    found = {}
    for name, output in outputs.endpoints.items():
        model = known.by_model_id(output.model_id)
        label = model.label if model is not None else output.model_id
        if output.api != "chat" or (model is not None and model.api != "chat") or not output.chat_completions_url:
            found[name] = f"{label} answers the OCR / document AI API, not chat completions"
    return found


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


# --- running the checks ------------------------------------------------------------------------------------


def retry_after(
    headers: httpx.Headers, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
) -> float | None:
    """Seconds the service asks to wait: ``retry-after-ms`` (Azure), else ``Retry-After`` in seconds or as
    an HTTP date; ``None`` when absent or unreadable."""
    millis = headers.get("retry-after-ms") or headers.get("x-ms-retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now()).total_seconds())


def _service_message(body: bytes) -> str:
    """The service's own error message, when the body carries one (``error.message``, ``message``, ``detail``)."""
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    error = document.get("error")
    candidates = [error.get("message") if isinstance(error, dict) else error, document.get("message")]
    candidates.append(document.get("detail"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return one_line(candidate, DETAIL_LIMIT)
    return ""


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _Answer:
    """One HTTP answer: status, headers and either the body (errors, plain) or the parsed stream."""

    def __init__(self, status: int, reason: str, headers: httpx.Headers, body: bytes = b"") -> None:
        self.status, self.reason, self.headers, self.body = status, reason, headers, body
        self.outcome: tuple[str, str, Usage] | None = None
        self.problem = ""

    def check(self, checker: Callable[[], tuple[str, str, Usage]]) -> None:
        try:
            self.outcome = checker()
        except _CheckFailedError as failed:
            self.problem = str(failed)


class Smoke:
    """Runs checks with one HTTP client; an Entra ID token is fetched once, when a target needs one."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        credential: Callable[[], TokenProvider] | None = None,
        token_scope: str = TOKEN_SCOPE,
        policy: RetryPolicy = RetryPolicy(),
        today: dt.date | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.credential = credential
        self.token_scope = token_scope
        self.policy = policy
        self.today = today or dt.date.today()
        self.sleep = sleep
        self.clock = clock
        self._token_lock = threading.Lock()
        self._token: SecretStr | None = None
        self._token_problem = ""

    def run(self, checks: Sequence[Target], *, stream: bool = False) -> list[Result]:
        """Every target checked, concurrently, results in the targets' order."""
        if not checks:
            return []
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(checks)), thread_name_prefix="smoke") as pool:
            return list(pool.map(lambda target: self.check(target, stream=stream), checks))

    def check(self, target: Target, *, stream: bool = False) -> Result:
        secret = target.key if target.auth == "key" else self._entra_token()
        if secret is None:
            return self._result(target, stream, ok=False, status=None, attempts=0, problem=self._token_problem)
        headers = {
            "Authorization": f"Bearer {secret.get_secret_value()}",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        body = {
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS,
            "temperature": 0,
            "stream": stream,
        }
        result = self._attempts(target, stream, headers, body)
        return _redacted(result, secret.get_secret_value())

    def _entra_token(self) -> SecretStr | None:
        with self._token_lock:
            if self._token is None and not self._token_problem:
                self._token, self._token_problem = self._fetch_token()
            return self._token

    def _fetch_token(self) -> tuple[SecretStr | None, str]:
        if self.credential is None:
            return None, "no Entra ID credential is configured"
        try:
            token = self.credential().get_token(self.token_scope)
        except Exception as error:  # azure-identity raises ClientAuthenticationError and subclasses
            first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
            return None, (
                f"no Entra ID token for {self.token_scope}: {first} "
                "(sign in with `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID for a workload identity)"
            )
        return SecretStr(token.token), ""

    def _attempts(self, target: Target, stream: bool, headers: dict[str, str], body: dict[str, Any]) -> Result:
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            started = self.clock()
            answer = self._exchange(target.url, headers, body, stream, started)
            if isinstance(answer, str):  # no answer: not retried (a timeout already took the whole budget)
                return self._result(target, stream, ok=False, status=None, attempts=attempt, problem=answer)
            done = partial(
                self._result, target, stream, status=answer.status, attempts=attempt, latency=self.clock() - started
            )
            if answer.outcome is not None:
                reply, model, usage = answer.outcome
                return done(ok=True, usage=usage, reply=reply, model=model)
            if answer.problem or not (answer.status == 429 or answer.status >= 500):
                return done(ok=False, problem=answer.problem or self._diagnosis(target, answer))
            asked = retry_after(answer.headers)
            wait = asked if asked is not None else policy.backoff * 2 ** (attempt - 1)
            if attempt == policy.attempts or wait > policy.max_wait:
                why = (
                    f"the service asked to retry after {wait:g} s, more than the {policy.max_wait:g} s this waits"
                    if attempt < policy.attempts
                    else f"still failing after {attempt} attempts"
                )
                problem = f"{self._status_line(answer)}: {why}{self._retry_hint(target, answer)}"
                return done(ok=False, problem=problem)
            self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns")

    def _exchange(
        self, url: str, headers: dict[str, str], body: dict[str, Any], stream: bool, started: float
    ) -> _Answer | str:
        """The answer, or why there was none."""
        try:
            return self._send(url, headers, body, stream, started)
        except httpx.TimeoutException:
            return f"no complete answer within {self.policy.timeout:g} s (timeout)"
        except httpx.TransportError as error:
            return f"cannot reach {httpx.URL(url).host}: {error or type(error).__name__}"
        except httpx.HTTPError as error:  # an undecodable body, a malformed URL
            return f"the request failed: {error or type(error).__name__}"

    def _send(self, url: str, headers: dict[str, str], body: dict[str, Any], stream: bool, started: float) -> _Answer:
        """One request; a 200 answer is checked (``outcome``, or ``problem`` when it breaks the schema)."""
        if not stream:
            response = self.client.post(url, headers=headers, json=body, timeout=self.policy.http_timeout)
            answer = _Answer(response.status_code, response.reason_phrase, response.headers, response.content)
            if response.status_code == 200:
                answer.check(lambda: check_completion(response.content))
            return answer
        with connect_sse(
            self.client, "POST", url, headers=headers, json=body, timeout=self.policy.http_timeout
        ) as source:
            response = source.response
            if response.status_code != 200:
                return _Answer(response.status_code, response.reason_phrase, response.headers, response.read())
            answer = _Answer(response.status_code, response.reason_phrase, response.headers)
            late = lambda: self.clock() - started > self.policy.timeout  # noqa: E731
            answer.check(lambda: check_stream(_data(source), late))
            return answer

    @staticmethod
    def _status_line(answer: _Answer) -> str:
        return f"{answer.status} {answer.reason}".strip()

    def _retry_hint(self, target: Target, answer: _Answer) -> str:
        if answer.status != 429:
            message = _service_message(answer.body)
            return f" ({message})" if message else ""
        limits = target.output.rate_limits
        return (
            f" (the deployment's quota: {limits.tokens_per_minute} tokens and "
            f"{limits.requests_per_minute} requests per minute)"
        )

    def _diagnosis(self, target: Target, answer: _Answer) -> str:
        output, status = target.output, answer.status
        message = _service_message(answer.body)
        said = f" (the service says: {message})" if message else ""
        line = self._status_line(answer)
        if status == 401 and target.auth == "key":
            return (
                f"{line}: the endpoint rejected the key from the stack outputs; it changed since the last "
                f"`pulumi up` (run `pulumi refresh` and `pulumi up`, then smoke again){said}"
            )
        if status == 401:
            return (
                f"{line}: the endpoint rejected the Entra ID token (scope {self.token_scope}); check the "
                f"endpoint's authMode ({output.auth_mode}) and that you signed in to its tenant{said}"
            )
        if status == 403 and target.auth == "entra":
            return (
                f"{line}: the signed-in identity has no role allowing inference on workspace "
                f"{output.workspace!r}: grant Azure AI Developer (`role: developer` in azure-maas:access){said}"
            )
        if status == 403:
            return f"{line}: the key was not allowed to call this endpoint{said}"
        if status in (404, 410):
            return f"{line}: {self._not_found(target)}{said}"
        return f"{line}: the request was refused{said}"

    def _not_found(self, target: Target) -> str:
        output = target.output
        known = catalog_module.load()
        model = known.by_model_id(output.model_id)
        if model is not None:
            verdict = catalog_module.judge(model, self.today, known)
            if verdict.stage == "Retired":
                return f"the model is retired: {verdict.reason}"
        if target.route == "native" and facts.model_registry(output.model_id) not in NATIVE_ROUTE_REGISTRIES:
            return (
                f"{output.model_id} does not serve the native route {names.NATIVE_CHAT_ROUTE} (Mistral and AI21 "
                "models do); use --route inference"
            )
        return (
            f"no endpoint at {target.url}: deleted outside Pulumi, or its model was retired "
            "(run `pulumi refresh`; `maas models --all` shows retirements)"
        )

    def _result(self, target: Target, stream: bool, **fields: Any) -> Result:
        return Result(endpoint=target.endpoint, route=target.route, auth=target.auth, stream=stream, **fields)


def _data(source: EventSource) -> Iterator[str]:
    """The ``data`` of each server-sent event; a stream that is not ``text/event-stream`` fails the check."""
    try:
        for event in source.iter_sse():
            yield event.data
    except SSEError as error:
        raise _CheckFailedError(f"the streamed answer is not server-sent events: {error}") from None


def _redacted(result: Result, secret: str) -> Result:
    """A credential a service echoed back never reaches the output."""
    if secret and (secret in result.problem or secret in result.reply):
        return Result(
            **{
                **result.__dict__,
                "problem": result.problem.replace(secret, REDACTED),
                "reply": result.reply.replace(secret, REDACTED),
            }
        )
    return result


def default_credential() -> TokenProvider:
    """azure-identity's ``DefaultAzureCredential`` (environment, workload identity, managed identity, az CLI...)."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()
