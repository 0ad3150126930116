"""A local stand-in for Azure Resource Manager's Models API on 127.0.0.1, over TLS (a trustme CA).

``GET /subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/{location}/models`` answers
``Models_List`` as the 2025-09-01 REST spec documents it. The request must carry ``api-version=2025-09-01``
(400 ``InvalidApiVersionParameter`` otherwise) and ``Authorization: Bearer <token>`` (401
``InvalidAuthenticationToken`` otherwise); any other path is 404. Every request is recorded, whatever it gets.
Each location answers from its script, one answer per request (a page, an ARM error, a 429 with
``Retry-After``, a malformed or oversized body), then ``{"value": []}`` once the script is used up.
"""

from __future__ import annotations

import re
import ssl
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import trustme

from tests.local_server import ADDRESS, JsonHandler, LocalServer, TlsServer

API_VERSION = "2025-09-01"
MODELS_PATH = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/providers/Microsoft\.CognitiveServices/locations/(?P<location>[^/]+)/models$"
)
CHUNK = 256 * 1024


@dataclass
class Answer:
    """One scripted answer. ``body``: a JSON document, or text sent as it is. ``declared_length``: send that
    ``Content-Length`` and no body (until the client hangs up). ``chunked``: send that many filler bytes with
    ``Transfer-Encoding: chunked`` (no ``Content-Length``)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    declared_length: int | None = None
    chunked: int = 0


@dataclass(frozen=True)
class Request:
    location: str
    target: str
    """Path and query as sent."""
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


def page(*entries: dict[str, Any], next_link: str | None = None) -> Answer:
    """A 200 ``ModelListResult``."""
    body: dict[str, Any] = {"value": list(entries)}
    if next_link is not None:
        body["nextLink"] = next_link
    return Answer(body=body)


def arm_error(status: int, code: str, message: str, **headers: str) -> Answer:
    """An answer with ARM's error body (common-types ``ErrorResponse``)."""
    return Answer(status=status, body={"error": {"code": code, "message": message}}, headers=headers)


class ArmServer(LocalServer):
    """Start with ``with ArmServer(ca, token) as server``; ``server.endpoint`` is its ``https://`` origin."""

    name = "ARM server"

    def __init__(self, ca: trustme.CA, token: str) -> None:
        super().__init__()
        self.token = token
        self.scripts: dict[str, deque[Answer]] = {}
        self.requests: list[Request] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self._serve(TlsServer(ADDRESS, _handler(self), context))

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self._http.server_address[1]}"

    @staticmethod
    def models_path(subscription: str, location: str) -> str:
        return f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/{location}/models"

    def next_link(self, subscription: str, location: str, skip_token: str) -> str:
        """An absolute ``nextLink`` on this server, as ARM writes them (api-version and a ``$skipToken``)."""
        return (
            f"{self.endpoint}{self.models_path(subscription, location)}"
            f"?api-version={API_VERSION}&%24skipToken={quote(skip_token)}"
        )

    def script(self, location: str, *answers: Answer) -> None:
        self.scripts.setdefault(location, deque()).extend(answers)

    def record(self, request: Request) -> Answer | None:
        with self._lock:
            self.requests.append(request)
            queue = self.scripts.get(request.location)
            return queue.popleft() if queue else None

    def requests_to(self, location: str) -> list[Request]:
        return [r for r in self.requests if r.location == location]


def _handler(server: ArmServer) -> type[JsonHandler]:
    class Handler(JsonHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5

        def do_GET(self) -> None:  # noqa: N802 (http.server's name for the GET handler)
            path = urlsplit(self.path).path
            match = MODELS_PATH.match(path)
            location = match["location"] if match else ""
            scripted = server.record(Request(location, self.path, dict(self.headers.items())))
            query = parse_qs(urlsplit(self.path).query)
            if match is None:
                self._json(404, _error("NotFound", f"The path '{path}' is not a Models API path."))
            elif query.get("api-version") != [API_VERSION]:
                self._json(400, _error("InvalidApiVersionParameter", "The api-version is invalid."))
            elif self.headers.get("Authorization") != f"Bearer {server.token}":
                self._json(401, _error("InvalidAuthenticationToken", "The access token is invalid."))
            elif scripted is None:
                self._json(200, {"value": []})
            else:
                self._answer(scripted)

        def _answer(self, answer: Answer) -> None:
            if answer.declared_length is not None:
                self._head(answer, {"Content-Length": str(answer.declared_length)})
                self._until_hung_up()
            elif answer.chunked:
                self._head(answer, {"Transfer-Encoding": "chunked"})
                self._chunks(answer.chunked)
            elif isinstance(answer.body, (dict, list)):
                self._json(answer.status, answer.body, answer.headers)
            else:
                self._send(answer.status, str(answer.body or "").encode(), answer.content_type, answer.headers)

        def _head(self, answer: Answer, framing: dict[str, str]) -> None:
            self.close_connection = True
            self.send_response(answer.status, HTTPStatus(answer.status).phrase)
            for key, value in {"Content-Type": answer.content_type, **answer.headers, **framing}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.flush()

        def _until_hung_up(self) -> None:
            try:
                while not server.stopping.is_set() and self.rfile.read(1):
                    pass
            except OSError:
                return

        def _chunks(self, size: int) -> None:
            filler = b" " * CHUNK
            sent = 0
            try:
                while sent < size and not server.stopping.is_set():
                    self.wfile.write(f"{CHUNK:x}\r\n".encode() + filler + b"\r\n")
                    sent += CHUNK
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                return

    return Handler


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
