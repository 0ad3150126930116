"""Send the ``Analyze`` calls to the policy pack from a process of their own while the program runs (``maas plan``).

**Why.** The engine analyzes each resource as it is registered, and the pack sits idle while the program runs
otherwise: at 1,000 deployments the pack needs about 1.1 s of CPU for its ``Analyze`` calls and the gRPC client
about 0.8 s more. Made from the ``maas`` process, those client calls would take the GIL from the program (measured:
the program took as long again as the calls saved). So the ``maas`` process only writes each request, serialized,
to this relay's standard input; the relay holds the gRPC channel and makes the calls. The relay and the pack run at
a lower scheduling priority (:func:`lower_priority`), so on a machine with few cores the program keeps its core and
they take what is left (with two busy processes at ``nice 10`` beside it, the program took 1% longer; at the same
priority, 40%; see :data:`NICE` for the increment chosen). Only the ``Analyze`` calls go through the relay: the session's other calls, ``AnalyzeStack``
included, are made from the ``maas`` process as before.

**Protocol.** Frames both ways: a kind byte, a 4-byte big-endian length, that many bytes. To the relay:

- ``CONNECT``: JSON ``{"port": int, "timeout": float, "inFlight": int}``; sent once the session is configured,
  as the engine configures a pack before it analyzes. ``ANALYZE`` frames that come before it wait in the relay.
- ``ANALYZE``: a serialized ``pulumirpc.AnalyzeRequest``. The relay sends it with the given deadline, ``inFlight``
  at most unanswered, and sends no more once one has failed, as :meth:`PolicyPackSession.send` does.
- ``END``: the last frame. Once every call it sent is answered, the relay writes one frame per ``ANALYZE`` frame,
  in their order (``ANSWERED``: the serialized ``AnalyzeResponse``; ``FAILED``: JSON ``{"code": <grpc.StatusCode
  name>, "details": str}``; ``SKIPPED``: not sent, after an earlier failure) and exits 0.

The relay never writes before ``END``, so it never waits on the ``maas`` process; a reader thread takes its input
as it comes, so the ``maas`` process never waits on it either. When its input ends before ``END`` (the ``maas``
process is gone) the relay exits 1 without a word. It imports the standard library and ``grpc`` only, and passes
the requests and answers through as bytes.

:class:`Relay` is the ``maas`` side: it starts the relay, writes the frames (from any thread) and reads the
answers within a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Final, Protocol, TypeVar

# The kinds of frame (see the module's docstring): to the relay, then from it.
CONNECT: Final = 1
ANALYZE: Final = 2
END: Final = 3
ANSWERED: Final = 4
FAILED: Final = 5
SKIPPED: Final = 6

NICE: Final = 5
"""How much lower than the ``maas`` process the relay and the pack run (``nice``'s increment): +5 keeps nearly all
the gain of +10 at 1,000 deployments, without leaving the relay and the pack too little of an otherwise busy machine
(figures in docs/contributing.md#benchmarks)."""
ANALYZE_METHOD: Final = "/pulumirpc.Analyzer/Analyze"
SECONDS_PER_CALL: Final = 0.01
"""The time :meth:`Relay.answers` allows for each request beyond one call's deadline and :data:`SLACK`: about twenty
times what a call takes the pack (a request may still wait in the relay when the program ends)."""
SLACK: Final = 5.0
"""Seconds :meth:`Relay.answers` allows beyond a call's deadline and the requests' time, for the relay to write."""
CHUNK: Final = 1 << 16
"""Bytes of requests gathered before the writer writes them to the relay (what a pipe holds by default)."""
READ_SIZE: Final = 1 << 20
"""Bytes the relay reads at most at a time; it takes every whole frame among them at once."""
MAX_FRAME: Final = 1 << 31
"""No frame is longer (the relay's answers come from the pack; a longer one means a broken stream)."""


class RelayError(Exception):
    """The relay failed: it ended early, wrote what is not an answer, or took too long; one line."""


@dataclass(frozen=True)
class Answer:
    """The relay's answer for one request: ``kind`` is :data:`ANSWERED` (``body``: the serialized response),
    :data:`FAILED` (``code``: a ``grpc.StatusCode`` name, ``details``) or :data:`SKIPPED`."""

    kind: int
    body: bytes = b""
    code: str = ""
    details: str = ""


class Call(Protocol):
    """What :class:`Window` needs of a call sent with ``.future``: a ``grpc.Future``."""

    def add_done_callback(self, fn: Callable[[Any], None]) -> None: ...
    def cancelled(self) -> bool: ...
    def exception(self) -> BaseException | None: ...


CallT = TypeVar("CallT", bound=Call)


class Window:
    """Calls sent ``in_flight`` at most unanswered, and none once one has failed (a :class:`PolicyPackSession` and
    the relay send ``Analyze`` calls so)."""

    def __init__(self, in_flight: int) -> None:
        self._slots = threading.BoundedSemaphore(in_flight)
        self._failed = threading.Event()

    def send(self, start: Callable[[], CallT]) -> CallT | None:
        """The call ``start`` sends, once fewer than ``in_flight`` are unanswered; None, sending nothing, once a call
        has failed."""
        self._slots.acquire()
        if self._failed.is_set():
            self._slots.release()
            return None
        call = start()
        call.add_done_callback(self._answered)
        return call

    def _answered(self, call: Call) -> None:
        if call.cancelled() or call.exception() is not None:
            self._failed.set()
        self._slots.release()


def frame(kind: int, body: bytes = b"") -> bytes:
    return bytes((kind,)) + len(body).to_bytes(4, "big") + body


def lower_priority(pid: int, increment: int = NICE) -> None:
    """Run process ``pid`` ``increment`` lower than this one (no more than the lowest, 19); nothing where the
    platform has no ``setpriority`` (Windows) or the process is gone already."""
    if not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, min(os.getpriority(os.PRIO_PROCESS, 0) + increment, 19))


class Relay:
    """The relay process, seen from the ``maas`` process: :meth:`start`, :meth:`send` requests from any thread,
    :meth:`connect` once the pack is configured, :meth:`answers` once the program has run; :meth:`stop` on every
    path (again, nothing; a ``with`` block stops it when it exits).

    The frames are written by a thread of this object's own, :data:`CHUNK` bytes at a time at least (frames that
    must go at once excepted): a write lets another thread take the GIL, and a write from the program's own
    threads, once per 64 KiB, made the program of 1,000 deployments a quarter of a second longer."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        self.process = process
        self.stderr = stderr
        self.keys: list[str] = []
        """What each request was sent for (the resource's URN), in the order sent."""
        self.broken: str | None = None
        """Why writing to the relay failed, if it did: nothing more is written, and :meth:`answers` says so."""
        self._lock = threading.Lock()
        self._queued = threading.Condition(self._lock)
        self._frames: list[bytes] = []
        self._size = 0
        self._now = False
        self._closing = False
        self._writer = threading.Thread(target=self._write, name="maas-relay-writer", daemon=True)
        self._writer.start()

    @classmethod
    def start(cls, *, python: str = sys.executable) -> Relay:
        """Start the relay (this file, run as a script) at a lower priority (:func:`lower_priority`). By its path,
        not ``-m``, which would look for ``infra`` in the working directory first (the user's); with ``-P``, so
        that this file's directory does not come first either (its ``resource.py`` would hide the standard
        library's)."""
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
        try:
            process = subprocess.Popen(
                [python, "-P", os.path.abspath(__file__)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
            )
        except BaseException:
            with contextlib.suppress(OSError):
                stderr.close()
            raise
        try:
            lower_priority(process.pid)
            return cls(process, stderr)
        except BaseException:  # a stop signal, say: the relay is stopped before it goes on
            _kill(process)
            _close_streams(process, stderr)
            raise

    def _write(self) -> None:
        """The writer thread: write what is queued, once there is enough or it must go, until closed; on a broken
        pipe, note why and write nothing more."""
        stdin = self.process.stdin
        assert stdin is not None
        while True:
            with self._queued:
                while not (self._now or self._closing or self._size >= CHUNK):
                    self._queued.wait()
                data = b"".join(self._frames)
                self._frames.clear()
                self._size = 0
                self._now = False
                closing = self._closing
            if data and self.broken is None:
                try:
                    stdin.write(data)
                    stdin.flush()
                except (OSError, ValueError) as error:  # the relay is gone; answers() reports it
                    self.broken = f"{type(error).__name__}: {error}"
            if closing:
                return

    def _queue(self, data: bytes, *, now: bool = False) -> None:
        """Queue ``data`` for the writer (under the lock), to be written at once if ``now``."""
        if self._closing:
            return
        self._frames.append(data)
        self._size += len(data)
        if now or self._size >= CHUNK:
            self._now = self._now or now
            self._queued.notify()

    def send(self, key: str, request: bytes) -> None:
        """Queue the serialized ``AnalyzeRequest`` ``request``, made for ``key``."""
        with self._lock:
            self.keys.append(key)
            self._queue(frame(ANALYZE, request))

    def connect(self, port: int, *, timeout: float, in_flight: int) -> None:
        """Let the relay call the pack on ``port``, each call within ``timeout`` s, ``in_flight`` at a time."""
        body = json.dumps({"port": port, "timeout": timeout, "inFlight": in_flight}).encode()
        with self._lock:
            self._queue(frame(CONNECT, body), now=True)

    def _close(self) -> None:
        """Let the writer write what is queued and end (under the lock)."""
        self._closing = True
        self._queued.notify()

    def answers(self, call_timeout: float) -> list[tuple[str, Answer]]:
        """End the requests and read the answer to each, paired with its key, in the order sent;
        :class:`RelayError` if the relay does not answer them all within ``call_timeout``, :data:`SLACK` and
        :data:`SECONDS_PER_CALL` per request."""
        with self._lock:
            self._queue(frame(END))
            self._close()
            keys = list(self.keys)
        deadline = call_timeout + SLACK + SECONDS_PER_CALL * len(keys)
        started = time.monotonic()
        self._writer.join(deadline)
        try:
            if self._writer.is_alive():  # the relay reads no more (communicate() would wait for the writer)
                raise subprocess.TimeoutExpired(self.process.args, deadline)
            output, _ = self.process.communicate(timeout=max(deadline - (time.monotonic() - started), 0))
        except subprocess.TimeoutExpired:
            self.stop()
            raise RelayError(f"the Analyze relay did not answer within {deadline:g} s") from None
        except (OSError, ValueError) as error:
            self.broken = self.broken or f"{type(error).__name__}: {error}"
            output = b""
        if self.process.returncode != 0 or self.broken is not None:
            raise RelayError(f"the Analyze relay ended early: {self._cause()}")
        answers = parse_answers(output, len(keys))
        return list(zip(keys, answers, strict=True))

    def _cause(self) -> str:
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        if lines:
            return lines[-1]
        if self.process.returncode not in (None, 0):
            return f"exit code {self.process.returncode}"
        return self.broken or "no answer"

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Kill the relay if it runs, end the writer, and close the relay's pipes and file."""
        with self._lock:
            self._close()
        _kill(self.process)
        self._writer.join()  # (a write into the killed relay's pipe fails at once)
        _close_streams(self.process, self.stderr)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the relay ``process`` if it runs, and wait for it to end."""
    if process.poll() is None:
        process.kill()
        process.wait()


def _close_streams(process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
    """Close the relay ``process``'s pipes and ``stderr``, its file."""
    for stream in (process.stdin, process.stdout, stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def parse_answers(data: bytes, count: int) -> list[Answer]:
    """The ``count`` answer frames in ``data``; :class:`RelayError` unless it is exactly those."""
    answers: list[Answer] = []
    at = 0
    while at < len(data):
        if at + 5 > len(data):
            raise RelayError("the Analyze relay's answer ends inside a frame")
        kind, length = data[at], int.from_bytes(data[at + 1 : at + 5], "big")
        body = data[at + 5 : at + 5 + length]
        if len(body) != length:
            raise RelayError("the Analyze relay's answer ends inside a frame")
        at += 5 + length
        if kind == ANSWERED:
            answers.append(Answer(ANSWERED, body=body))
        elif kind == SKIPPED and not body:
            answers.append(Answer(SKIPPED))
        elif kind == FAILED:
            try:
                failure = json.loads(body)
                answers.append(Answer(FAILED, code=str(failure["code"]), details=str(failure["details"])))
            except (ValueError, TypeError, KeyError):
                raise RelayError("the Analyze relay wrote a failure that is not {code, details}") from None
        else:
            raise RelayError(f"the Analyze relay wrote a frame of unknown kind {kind}")
    if len(answers) != count:
        raise RelayError(f"the Analyze relay answered {len(answers)} of {count} requests")
    return answers


# --- the relay process -------------------------------------------------------------------------------------------


def _read_frames(stream: IO[bytes], put: Callable[[list[tuple[int, bytes]] | None], None]) -> None:
    """Put the frames read from ``stream``, as many at a time as have come, then ``None`` when it ends (or breaks
    off inside a frame)."""
    fd = stream.fileno()
    pending = bytearray()
    while True:
        chunk = os.read(fd, READ_SIZE)
        if not chunk:
            break
        pending += chunk
        frames: list[tuple[int, bytes]] = []
        at = 0
        while len(pending) - at >= 5:
            length = int.from_bytes(pending[at + 1 : at + 5], "big")
            if length > MAX_FRAME:
                put(frames)
                put(None)
                return
            if len(pending) - at - 5 < length:
                break
            frames.append((pending[at], bytes(pending[at + 5 : at + 5 + length])))
            at += 5 + length
        del pending[:at]
        if frames:
            put(frames)
    put(None)


def _each(batches: queue.SimpleQueue[list[tuple[int, bytes]] | None]) -> Iterator[tuple[int, bytes] | None]:
    """The frames of each batch in turn, then ``None`` once the input has ended."""
    while True:
        batch = batches.get()
        if batch is None:
            yield None
            return
        yield from batch


def _serve(batches: queue.SimpleQueue[list[tuple[int, bytes]] | None], out: IO[bytes]) -> int:
    import grpc  # only here: the module's import stays cheap for the maas side

    requests: list[bytes] = []
    calls: list[grpc.Future[Any] | None] = []
    window: Window | None = None
    channel: grpc.Channel | None = None
    analyze: Any = None
    timeout = 0.0

    def call(request: bytes) -> None:
        assert window is not None
        calls.append(window.send(lambda: analyze.future(request, timeout=timeout)))

    for item in _each(batches):
        if item is None:
            return 1
        kind, body = item
        if kind == CONNECT and channel is None:
            settings = json.loads(body)
            timeout = float(settings["timeout"])
            window = Window(int(settings["inFlight"]))
            channel = grpc.insecure_channel(f"127.0.0.1:{int(settings['port'])}")
            analyze = channel.unary_unary(ANALYZE_METHOD)  # bytes in, bytes out
            for request in requests:
                call(request)
            requests.clear()
        elif kind == ANALYZE:
            if channel is None:
                requests.append(body)
            else:
                call(body)
        elif kind == END:
            break
        else:
            raise ValueError(f"unexpected frame of kind {kind}")
    if requests:  # END came, and no CONNECT: there is no pack to ask
        raise ValueError("END before CONNECT")
    for sent in calls:
        if sent is None:
            out.write(frame(SKIPPED))
            continue
        try:
            out.write(frame(ANSWERED, sent.result()))
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            details = error.details() if isinstance(error, grpc.Call) else str(error)
            failure = {"code": code.name if code else "UNKNOWN", "details": details or ""}
            out.write(frame(FAILED, json.dumps(failure).encode()))
        except grpc.FutureCancelledError:
            out.write(frame(FAILED, json.dumps({"code": "CANCELLED", "details": ""}).encode()))
    out.flush()
    # The channel is left open: closing it right after its last call waits about 0.2 s for the connection to wind
    # down, and the process ends now.
    return 0


def main() -> int:
    """The relay process: read frames from standard input, write the answers to standard output."""
    batches: queue.SimpleQueue[list[tuple[int, bytes]] | None] = queue.SimpleQueue()
    threading.Thread(target=_read_frames, args=(sys.stdin.buffer, batches.put), daemon=True).start()
    try:
        return _serve(batches, sys.stdout.buffer)
    except Exception as error:  # the maas side reports the last line of stderr
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # without the interpreter's teardown: the reader thread may still wait on its input
