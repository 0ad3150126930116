"""A local stand-in for serverless endpoints on 127.0.0.1, serving both chat routes as documented.

``POST /<endpoint>/chat/completions`` (Azure AI model inference API) and ``POST /<endpoint>/v1/chat/completions``
(the provider's native API, for endpoints that serve it) answer a ``chat.completion`` document, or server-sent
events ending ``data: [DONE]`` when the request says ``stream: true`` (usage on the last chunk only), as
AZURE_FACTS.md section 1 describes. ``Authorization: Bearer`` must carry one of the endpoint's keys (401
otherwise) or an Entra ID token: a token of an identity with a role passes, one without gets 403. An unknown
endpoint is 404. Scripted answers (any status, headers, body, delay, raw stream lines, or raw bytes of a whole
answer, trickled if asked) replace the documented behaviour for the next requests to an endpoint, to produce
429s, 5xx, slow, huge, trickling and hostile answers. Served over plain HTTP, or over TLS with a certificate the
test trusts (then under any host name the test resolves to 127.0.0.1).
"""

from __future__ import annotations

import json
import ssl
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

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
    path: str
    headers: dict[str, str]
    body: Any


class ChatServer(LocalServer):
    """Start with ``with ChatServer(...) as server``; ``server.base(name)`` is the endpoint's inference URI.
    With ``tls`` (a server context holding the certificate) it serves HTTPS."""

    name = "chat server"

    def __init__(
        self,
        endpoints: dict[str, Endpoint],
        rejected_tokens: frozenset[str] = frozenset(),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.rejected_tokens = set(rejected_tokens)
        """Tokens of a valid identity with no role: 403 (any other unknown token: 401)."""
        self.scripts: dict[str, deque[Scripted]] = {}
        self.requests: list[Request] = []
        self.scheme = "https" if tls else "http"
        super().__init__()
        handler = _handler(self)
        self._serve(TlsServer(ADDRESS, handler, tls) if tls else RecordingServer(ADDRESS, handler))

    def base(self, endpoint: str, host: str = "127.0.0.1") -> str:
        """The endpoint's inference URI; ``host`` is any name the test resolves to 127.0.0.1."""
        return f"{self.scheme}://{host}:{self.port}/{endpoint}"

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
            parts = self.path.strip("/").split("/", 1)
            name, rest = parts[0], "/" + (parts[1] if len(parts) > 1 else "")
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            scripted = server.record(Request(name, rest, dict(self.headers.items()), body))
            if scripted is not None:
                self._scripted(scripted)
                return
            endpoint = server.endpoints.get(name)
            if endpoint is None or rest not in ("/chat/completions", "/v1/chat/completions"):
                self._json(404, _error("NotFound", "Resource not found"))
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
            messages = body.get("messages") if isinstance(body, dict) else None
            if not isinstance(messages, list) or not messages:
                self._json(422, _error("InvalidRequest", "messages: field required"))
                return
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
            if isinstance(body, dict) and body.get("stream") is True:
                self._stream(200, {}, [*sse(*chunks(endpoint.model, prompt_tokens)), "data: [DONE]"], 0.0)
            else:
                self._json(200, completion(endpoint.model, prompt_tokens))

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
