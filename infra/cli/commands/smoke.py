"""``maas smoke``: one tiny chat completion per deployed endpoint, checked against the documented schema.

Each check posts to the endpoint's chat route (the Azure AI model inference API at ``{uri}/chat/completions``,
or the provider's native API at ``{uri}/v1/chat/completions``), plain or streamed, with the endpoint key or
an Entra ID token as ``Authorization: Bearer``. 429 and 5xx answers are retried with bounded exponential
backoff that honours ``Retry-After``; 401, 403, 404 and 410 get a one-line diagnosis. Every problem is one line.

The outputs document and the service are not trusted. A credential is sent only over https (plain http only to a
loopback address the user allowed), only to the origin of the endpoint's own ``inferenceUri``, which must be an
Azure inference host unless the user allowed another, and only when it is a valid header value. ``--timeout`` is
a deadline for the whole check, every attempt and wait included; bodies are read up to :data:`MAX_BODY`. Whatever
goes wrong in one check is that check's result, and every text of a result has the credentials redacted, in
their escaped forms too, before it is cut to length.
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
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from rich.console import Console

from azure_maas_policy import facts
from infra import catalog as catalog_module
from infra import names
from infra.cli import options
from infra.cli.command import Command
from infra.cli.http import DEFAULT_PORTS, Origin, TokenProvider, origin, retry_after
from infra.cli.output import one_line, progress
from infra.cli.render import smoke as render
from infra.cli.stack_outputs import EndpointOutput, StackOutputs
from infra.cli.stack_outputs import read as read_outputs
from infra.errors import ExitCode, UserError

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
MAX_BODY = 1024 * 1024
"""Bytes of an answer's body read at most (after content decoding), plain or streamed; more fails the check."""
TOO_LARGE = "the answer is larger than 1 MiB, the most this reads"
DETAIL_LIMIT = 160
"""Characters of a service's error message (or an unexpected error's) kept in a diagnosis."""
PROBLEM_LIMIT = 600
"""Characters of a problem at most, cut after redaction."""
REDACTED = "***"
AZURE_INFERENCE_HOSTS = ("models.ai.azure.com", "services.ai.azure.com", "openai.azure.com")
"""Domains of Azure inference endpoints: serverless (``<name>.<region>.models.ai.azure.com``) and Foundry resources
(``<account>.services.ai.azure.com``, ``<account>.openai.azure.com``). Credentials go to other hosts only when
``--allow-host`` names them."""
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


def check_stream(events: Iterable[str]) -> tuple[str, str, Usage]:
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
    allow_hosts: Collection[str] = (),
) -> list[Target]:
    """One target per selected endpoint and route, in output order; :class:`SmokeInputError` when the
    selection names an unknown endpoint, needs a key the outputs do not hold or that is not a header value, or
    would send a credential where it must not go (:func:`destination_problem`; ``allow_hosts``: ``--allow-host``)."""
    allowed = frozenset(allowed_host(host) for host in allow_hosts)
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
        why = header_problem(key.get_secret_value()) if key is not None else ""
        if why:
            raise SmokeInputError(f"endpointKeys.{name}.primaryKey cannot be sent: it {why} ({HEADER_RULE})")
        for route in (r for r in ROUTES if r in routes):
            url = output.chat_completions_url if route == "inference" else output.native_chat_completions_url
            if url:  # a chat model has both routes (non_chat() set aside the others)
                problem = destination_problem(name, output, route, allowed)
                if problem:
                    raise SmokeInputError(problem)
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


# --- where credentials may go, and what they may be --------------------------------------------------------

_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_AZURE_HOST = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + "|".join(map(re.escape, AZURE_INFERENCE_HOSTS)) + r")$"
)
_URL_KEYS: dict[Route, str] = {"inference": "chatCompletionsUrl", "native": "nativeChatCompletionsUrl"}


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


def destination_problem(name: str, output: EndpointOutput, route: Route, allowed: Collection[str] = ()) -> str:
    """Why endpoint ``name``'s credential must not be sent to its ``route`` URL, or ``""``. It goes only to the
    origin of the endpoint's ``inferenceUri``; that host must be an Azure inference host or in ``allowed``
    (normalized by :func:`allowed_host`), and the scheme https, or http to a loopback address in ``allowed``."""
    where = f"endpoints.{name}"
    base = origin(output.inference_uri)
    if base is None or base[0] not in DEFAULT_PORTS:
        return f"{where}.inferenceUri: not an absolute http(s) URL"
    scheme, host, _ = base
    if host not in allowed and not _AZURE_HOST.match(host):
        domains = ", ".join(f"*.{domain}" for domain in AZURE_INFERENCE_HOSTS)
        return (
            f"{where}.inferenceUri: {host} is not an Azure inference host ({domains}); keys and tokens go to another "
            f"host only with --allow-host {host}"
        )
    if scheme != "https" and not (host in allowed and _loopback(host)):
        return (
            f"{where}.inferenceUri: {_shown(base)} is not https; keys and tokens go over plain http only to a "
            "loopback address given to --allow-host"
        )
    url = output.chat_completions_url if route == "inference" else output.native_chat_completions_url
    there = origin(url or "")
    if there != base:
        return (
            f"{where}.{_URL_KEYS[route]}: {_shown(there) if there else 'not an absolute URL'} is not the origin of "
            f"inferenceUri ({_shown(base)}); keys and tokens go there only"
        )
    return ""


def _refusal(target: Target) -> str:
    """Why the runner will not send ``target`` its credential, whatever made the target: its URL is not on the
    origin of its ``inferenceUri``, or not https (http only to a loopback address); ``""`` otherwise."""
    there, base = origin(target.url), origin(target.output.inference_uri)
    if there is None or there != base:
        return f"refused to send a credential to {target.url}: not the origin of the endpoint's inferenceUri"
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

    target: Target
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
        """Every target checked, concurrently, results in the targets' order. Each result has every credential
        of the run redacted: a server that several endpoints share could echo another endpoint's key."""
        if not checks:
            return []
        if any(target.auth == "entra" for target in checks):
            self._entra_token()
        keys = [target.key.get_secret_value() for target in checks if target.key is not None]
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(checks)), thread_name_prefix="smoke") as pool:
            return list(pool.map(lambda target: self.check(target, stream=stream, redacting=keys), checks))

    def check(self, target: Target, *, stream: bool = False, redacting: Collection[str] = ()) -> Result:
        """One check; it never raises: whatever goes wrong is its failed result. Its texts have this check's
        credential, the Entra ID token and ``redacting`` (the run's other keys) redacted, then are cut
        (:func:`redacted`)."""
        secrets = {*redacting, *(key.get_secret_value() for key in (target.key, self._token) if key is not None)}
        try:
            result = self._check(target, stream, secrets)
        except Exception as error:  # a defect: this check fails, the others stand
            result = self._result(
                target, stream, ok=False, status=None, attempts=0, problem=_unexpected(error, secrets)
            )
        return redacted(result, secrets)

    def _check(self, target: Target, stream: bool, secrets: set[str]) -> Result:
        secret = target.key if target.auth == "key" else self._entra_token()
        if secret is None:
            return self._result(target, stream, ok=False, status=None, attempts=0, problem=self._token_problem)
        value = secret.get_secret_value()
        secrets.add(value)
        why = header_problem(value)
        refused = f"the credential cannot be sent: it {why} ({HEADER_RULE})" if why else _refusal(target)
        if refused:  # targets() refuses these before any request; a hand-made target is refused here
            return self._result(target, stream, ok=False, status=None, attempts=0, problem=refused)
        headers = {
            "Authorization": f"Bearer {value}",
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",
            "User-Agent": USER_AGENT,
        }
        if stream:
            headers |= {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        deadline = self.clock() + self.policy.timeout
        return self._attempts(_Check(target, stream, headers, secrets, deadline, self.clock, self.policy.timeout))

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
        why = header_problem(str(token.token))
        if why:
            return None, f"the Entra ID token for {self.token_scope} cannot be sent: it {why} ({HEADER_RULE})"
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
        body = {
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
        limits = check.target.output.rate_limits
        return (
            f" (the deployment's quota: {limits.tokens_per_minute} tokens and "
            f"{limits.requests_per_minute} requests per minute)"
        )

    def _diagnosis(self, check: _Check, answer: _Answer) -> str:
        target, status = check.target, answer.status
        output = target.output
        message = _service_message(answer.body, check.secrets)
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(parser, "the deployed stack (default: dev)")
    parser.add_argument(
        "--endpoint", "-e", action="append", default=[], metavar="NAME", help="only this endpoint (repeatable)"
    )
    parser.add_argument(
        "--route",
        action="append",
        choices=ROUTES,
        help="inference: {uri}/chat/completions (default); native: {uri}/v1/chat/completions (repeatable)",
    )
    parser.add_argument("--stream", action="store_true", help="stream the answer (server-sent events)")
    parser.add_argument(
        "--auth",
        choices=["auto", "key", "entra"],
        default="auto",
        help="auto (default): the key for Key and KeyAndAAD endpoints, an Entra ID token for AAD endpoints",
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
    parser.add_argument("--token-scope", default=TOKEN_SCOPE, help="Entra ID scope (default: %(default)s)")
    options.add_format(parser, ("text", "json"))
    options.add_cwd(parser)
    options.add_today(parser)


def execute(args: argparse.Namespace, out: Console, errors: Console) -> int:
    outputs = read_outputs(args.stack, args.cwd, args.outputs)
    checks = targets(outputs, args.endpoint, args.route or ["inference"], args.auth, args.allow_host)
    for name, why in ({} if args.endpoint else non_chat(outputs)).items():
        errors.print(f"maas smoke: skipped endpoint {name!r}: {why}", markup=False)
    policy = RetryPolicy(attempts=args.retries + 1, timeout=args.timeout)
    with http_client(args.allow_host) as client, progress(errors, text="smoke testing"):
        runner = Smoke(
            client, credential=default_credential, token_scope=args.token_scope, policy=policy, today=args.today
        )
        results = runner.run(checks, stream=args.stream)
    if args.format == "json":
        sys.stdout.write(render.smoke_json(results, args.stack) + "\n")
    else:
        render.print_smoke(results, out)
    return ExitCode.OK if all(r.ok for r in results) else ExitCode.FAILED


COMMAND = Command(
    name="smoke",
    help="send one tiny chat completion to each deployed endpoint",
    description="Read the stack outputs (pulumi stack output --json --show-secrets, or --outputs FILE), "
    "send each endpoint a tiny chat completion and check the answer against the documented schema. "
    "Keys and tokens go only over https to the endpoint's own inferenceUri, an Azure inference host unless "
    "--allow-host names it. Exit codes: 0 every check passed, 1 a check failed, 2 unreadable outputs, an "
    "invalid selection or a credential that would go elsewhere, 3 internal failure.",
    add_arguments=add_arguments,
    execute=execute,
)
