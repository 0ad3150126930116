"""What the tests' local HTTP servers share: a threaded server on 127.0.0.1 that records its own defects, is
started and stopped by ``with``, and answers JSON."""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ADDRESS = ("127.0.0.1", 0)
"""Loopback only, on a free port."""


class RecordingServer(ThreadingHTTPServer):
    """Handler errors other than ``expected`` (a client hanging up) are defects of the server, kept in
    ``failures`` and raised when it stops."""

    daemon_threads = True
    block_on_close = False
    expected: tuple[type[BaseException], ...] = (ConnectionError,)

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.failures: list[BaseException] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, self.expected):
            self.failures.append(error)


class TlsServer(RecordingServer):
    """Each connection is wrapped in TLS with ``context``; the handshake happens in the connection's own thread. A
    client that hung up or rejected the certificate (OSError) is expected."""

    expected = (OSError,)

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext
    ) -> None:
        super().__init__(address, handler)
        self.context = context

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        return self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.do_handshake()
        super().finish_request(request, client_address)


class LocalServer:
    """``with Server(...) as server``: serves in a daemon thread until the block ends, then raises the first
    defect of a handler, if any. Subclasses build their ``RecordingServer`` and call :meth:`_serve`."""

    name = "local server"

    def __init__(self) -> None:
        self.stopping = threading.Event()
        """Set when the server stops: handlers that wait or trickle end early."""
        self._lock = threading.Lock()

    def _serve(self, http: RecordingServer) -> None:
        self._http = http
        self._thread = threading.Thread(
            target=http.serve_forever, kwargs={"poll_interval": 0.02}, name=self.name, daemon=True
        )

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()
        if self._http.failures:
            raise AssertionError(f"the {self.name} failed: {self._http.failures[0]!r}") from self._http.failures[0]

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])


class JsonHandler(BaseHTTPRequestHandler):
    """Quiet (no access log), with a JSON answer and a framed answer of any content type."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(document).encode(), "application/json", headers or {})

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
