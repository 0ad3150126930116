"""A local stand-in for serverless endpoints and Foundry resources on 127.0.0.1, serving their chat routes as
documented.

Serverless endpoints: ``POST /<endpoint>/chat/completions`` (Azure AI model inference API) and ``POST
/<endpoint>/v1/chat/completions`` (the provider's native API, for endpoints that serve it) answer a
``chat.completion`` document, or server-sent events ending ``data: [DONE]`` when the request says ``stream: true``
(usage on the last chunk only), as AZURE_FACTS.md section 1 describes. ``Authorization: Bearer`` must carry one of
the endpoint's keys (401 otherwise) or an Entra ID token: a token of an identity with a role passes, one without
gets 403. An unknown endpoint is 404.

Foundry resources (AZURE_FACTS.md section 6): ``POST /openai/v1/chat/completions`` on the host
``<account>.openai.azure.com`` (the account is the host's first label), or ``POST
/<account>/openai/v1/chat/completions`` on 127.0.0.1, with no ``api-version`` (400 otherwise, as Azure answers the
v1 API) and ``model`` naming one of the account's deployments (404 ``DeploymentNotFound`` otherwise, missing or
unknown). ``api-key`` must be one of the account's keys (401; 403 ``AuthenticationTypeDisabled`` when the account
has local auth off), or ``Authorization: Bearer`` a token of an identity with a role on the account (403 for one
without, 401 for any other). The answer names the deployment's model, as Azure does. Error bodies are Azure's
``{"error": {"code", "message"}}`` with Azure's messages.

Scripted answers (any status, headers, body, delay, raw stream lines, or raw bytes of a whole answer, trickled if
asked) replace the documented behaviour for the next requests to an endpoint (a Foundry deployment:
``<account>/<deployment>``), to produce 429s, 5xx, slow, huge, trickling and hostile answers. Served over plain
HTTP, or over TLS with a certificate the test trusts (then under any host name the test resolves to 127.0.0.1).
"""

from __future__ import annotations

import json
import ssl
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from tests.local_server import ADDRESS, JsonHandler, LocalServer, RecordingServer, TlsServer

REPLY = "pong"


@dataclass
class Endpoint:
    keys: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    """Entra ID tokens of identities with a role on the endpoint's workspace."""
    native: bool = True
    model: str = "mistral-medium-2505"


@dataclass
class Account:
    """A Foundry resource: its keys (``key1``, ``key2``; refused when ``local_auth`` is off), the Entra ID tokens of
    identities with a role on it, and its deployments (name to the model the answer names)."""

    deployments: dict[str, str] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    local_auth: bool = True


FOUNDRY_ROUTE = "/openai/v1/chat/completions"
NOT_FOUND = "Resource not found"
DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, "
    "please wait a moment and try again."
)
KEY_REFUSED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
TOKEN_REFUSED = "Unauthorized. Access token is missing, invalid, audience is incorrect, or have expired."
NO_ROLE = (
    "The principal lacks the required data action `Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/"
    "completions/action` to perform `POST /openai/deployments/{deployment-id}/chat/completions` operation."
)
KEYS_DISABLED = "Key based authentication is disabled for this resource."
API_VERSION_REFUSED = "api-version query parameter is not allowed when using /v1 path"


@dataclass
class Scripted:
    """One answer instead of the documented one. ``stream`` lines are written as given, each followed by a
    blank line (an SSE event); ``raw`` is the whole answer (status line, headers, body) written as given, one
    piece at a time. ``delay`` is waited before anything is sent, ``gap`` between stream lines or raw pieces."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    stream: list[str] | None = None
    raw: list[bytes] | None = None
    delay: float = 0.0
    gap: float = 0.0


@dataclass
class Request:
    endpoint: str
    """A serverless endpoint's name, or ``<account>/<model>`` of a request to a Foundry resource."""
    path: str
    headers: dict[str, str]
    body: Any
    query: str = ""


class ChatServer(LocalServer):
    """Start with ``with ChatServer(...) as server``; ``server.base(name)`` is the endpoint's inference URI.
    With ``tls`` (a server context holding the certificate) it serves HTTPS."""

    name = "chat server"

    def __init__(
        self,
        endpoints: dict[str, Endpoint],
        rejected_tokens: frozenset[str] = frozenset(),
        tls: ssl.SSLContext | None = None,
        accounts: dict[str, Account] | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.accounts = accounts or {}
        self.rejected_tokens = set(rejected_tokens)
        """Tokens of a valid identity with no role: 403 (any other unknown token: 401), on endpoints and accounts."""
        self.scripts: dict[str, deque[Scripted]] = {}
        self.requests: list[Request] = []
        self.scheme = "https" if tls else "http"
        super().__init__()
        handler = _handler(self)
        self._serve(TlsServer(ADDRESS, handler, tls) if tls else RecordingServer(ADDRESS, handler))

    def base(self, endpoint: str, host: str = "127.0.0.1") -> str:
        """The endpoint's inference URI; ``host`` is any name the test resolves to 127.0.0.1."""
        return f"{self.scheme}://{host}:{self.port}/{endpoint}"

    def foundry_base(self, account: str, host: str = "127.0.0.1") -> str:
        """The ``baseUrl`` of an account's deployments: on 127.0.0.1 the account is the path's first segment; under
        a host name (``<account>.openai.azure.com``) it is the host's first label."""
        prefix = f"/{account}" if host == "127.0.0.1" else ""
        return f"{self.scheme}://{host}:{self.port}{prefix}/openai/v1"

    def script(self, endpoint: str, *answers: Scripted) -> None:
        self.scripts.setdefault(endpoint, deque()).extend(answers)

    def record(self, request: Request) -> Scripted | None:
        with self._lock:
            self.requests.append(request)
            queue = self.scripts.get(request.endpoint)
            return queue.popleft() if queue else None

    def requests_to(self, endpoint: str) -> list[Request]:
        return [r for r in self.requests if r.endpoint == endpoint]


def completion(model: str, prompt_tokens: int) -> dict[str, Any]:
    return {
        "id": "cmpl-0001",
        "object": "chat.completion",
        "created": 1795000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 2, "total_tokens": prompt_tokens + 2},
    }


def chunks(model: str, prompt_tokens: int) -> list[dict[str, Any]]:
    """The stream of :func:`completion`: a role chunk, two content chunks, then finish_reason with usage."""

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "id": "cmpl-0001",
            "object": "chat.completion.chunk",
            "created": 1795000000,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }

    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 2, "total_tokens": prompt_tokens + 2}
    return [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": REPLY[:2]}),
        chunk({"content": REPLY[2:]}),
        chunk({}, "stop", usage=usage),
    ]


def sse(*payloads: dict[str, Any] | str) -> list[str]:
    """``data:`` lines of server-sent events, JSON-encoding documents."""
    return [f"data: {p if isinstance(p, str) else json.dumps(p)}" for p in payloads]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _handler(server: ChatServer) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name for the POST handler)
            target, _, query = self.path.partition("?")
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            if "/openai/" in target:
                self._foundry(target, query, body)
                return
            parts = target.strip("/").split("/", 1)
            name, rest = parts[0], "/" + (parts[1] if len(parts) > 1 else "")
            scripted = server.record(Request(name, rest, dict(self.headers.items()), body, query))
            if scripted is not None:
                self._scripted(scripted)
                return
            endpoint = server.endpoints.get(name)
            if endpoint is None or rest not in ("/chat/completions", "/v1/chat/completions"):
                self._json(404, _error("NotFound", NOT_FOUND))
                return
            if rest.startswith("/v1/") and not endpoint.native:
                self._json(404, _error("NotFound", "Route not found"))
                return
            auth = self.headers.get("Authorization", "")
            secret = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
            if secret in server.rejected_tokens:
                self._json(403, _error("PermissionDenied", "Principal does not have access to the API/Operation."))
                return
            if secret not in endpoint.keys and secret not in endpoint.tokens:
                self._json(401, _error("Unauthorized", "Access denied due to invalid subscription key or token."))
                return
            self._answer(body, endpoint.model)

        def _foundry(self, target: str, query: str, body: Any) -> None:
            """The ``/openai/v1`` dialect of a Foundry resource."""
            prefix, _, rest = target.partition("/openai/")
            name = prefix.strip("/") or self.headers.get("Host", "").partition(".")[0]
            path = "/openai/" + rest
            model = body.get("model") if isinstance(body, dict) else None
            scripted = server.record(
                Request(
                    f"{name}/{model if isinstance(model, str) else ''}", path, dict(self.headers.items()), body, query
                )
            )
            if scripted is not None:
                self._scripted(scripted)
                return
            account = server.accounts.get(name)
            if account is None or path != FOUNDRY_ROUTE:
                self._json(404, _error("404", NOT_FOUND))
                return
            if "api-version" in parse_qs(query, keep_blank_values=True):
                self._json(400, _error("BadRequest", API_VERSION_REFUSED))
                return
            refused = self._foundry_refusal(account)
            if refused is not None:
                self._json(*refused)
                return
            if not isinstance(model, str) or model not in account.deployments:
                self._json(404, _error("DeploymentNotFound", DEPLOYMENT_NOT_FOUND))
                return
            self._answer(body, account.deployments[model])

        def _foundry_refusal(self, account: Account) -> tuple[int, dict[str, Any]] | None:
            key = self.headers.get("api-key")
            if key is not None:
                if not account.local_auth:
                    return 403, _error("AuthenticationTypeDisabled", KEYS_DISABLED)
                return None if key in account.keys else (401, _error("401", KEY_REFUSED))
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
            if token in server.rejected_tokens:
                return 403, _error("PermissionDenied", NO_ROLE)
            return None if token in account.tokens else (401, _error("401", TOKEN_REFUSED))

        def _answer(self, body: Any, model: str) -> None:
            messages = body.get("messages") if isinstance(body, dict) else None
            if not isinstance(messages, list) or not messages:
                self._json(422, _error("InvalidRequest", "messages: field required"))
                return
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
            if isinstance(body, dict) and body.get("stream") is True:
                self._stream(200, {}, [*sse(*chunks(model, prompt_tokens)), "data: [DONE]"], 0.0)
            else:
                self._json(200, completion(model, prompt_tokens))

        def _scripted(self, answer: Scripted) -> None:
            if answer.delay and server.stopping.wait(answer.delay):
                return
            if answer.raw is not None:
                self._raw(answer.raw, answer.gap)
            elif answer.stream is not None:
                self._stream(answer.status, answer.headers, answer.stream, answer.gap)
            elif isinstance(answer.body, (dict, list)):
                self._json(answer.status, answer.body, answer.headers)
            else:
                self._send(answer.status, (answer.body or "").encode(), "text/plain", answer.headers)

        def _raw(self, pieces: list[bytes], gap: float) -> None:
            self.close_connection = True
            for number, piece in enumerate(pieces):
                if number and gap and server.stopping.wait(gap):
                    return
                self.wfile.write(piece)
                self.wfile.flush()

        def _stream(self, status: int, headers: dict[str, str], lines: list[str], gap: float) -> None:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", headers.pop("Content-Type", "text/event-stream"))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            for line in lines:
                if gap and server.stopping.wait(gap):
                    return
                self.wfile.write(f"{line}\n\n".encode())
                self.wfile.flush()

    return Handler
