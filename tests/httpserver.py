"""A real HTTP server on 127.0.0.1 for the fetching tests, with the misbehaviours real servers have.

Each served path has bytes and a behaviour; every request is logged so tests can count downloads.
Import the fixtures into a test module: ``from httpserver import http_server, no_internet``.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

BEHAVIOURS = ("ok", "truncate", "drop_once", "drop_each_range_once", "error_once", "slow", "slow_body", "no_range",
              "gzip", "endless")


@dataclass
class Served:
    data: bytes
    behaviour: str = "ok"
    hits: int = 0
    dropped: set[str] = field(default_factory=set)  # range ends already answered with half a body


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None


@dataclass
class LoopbackServer:
    """Files by URL path; ``redirects`` maps a path to another path (like github raw -> LFS media)."""

    files: dict[str, Served] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    delay: float = 2.0
    port: int = 0
    in_flight: int = 0  # GET bodies being sent right now, and the most at once: how many connections a client used
    most_in_flight: int = 0
    _count: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, path: str, data: bytes, behaviour: str = "ok") -> str:
        assert behaviour in BEHAVIOURS, behaviour
        self.files["/" + path.lstrip("/")] = Served(data, behaviour)
        return f"{self.url}/{path.lstrip('/')}"

    def gets(self, path: str) -> list[Request]:
        return [r for r in self.log if r.method == "GET" and r.path == "/" + path.lstrip("/")]


def _handler(state: LoopbackServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self._log("HEAD")
            served = state.files.get(self.path)
            if served is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(served.data)))
            self.end_headers()

        def _log(self, method: str) -> None:
            state.log.append(Request(method, self.path, self.headers.get("Range"), self.headers.get("Authorization")))

        def do_GET(self) -> None:  # noqa: N802
            self._log("GET")
            if self.path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            served = state.files.get(self.path)
            if served is None:
                self.send_error(404)
                return
            served.hits += 1
            with state._count:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            self._counted = True
            try:
                self._serve(served)
            finally:
                self._done()

        def _done(self) -> None:
            """No longer in flight: called before a body's last bytes, so a client that has them all and
            opens its next request is never counted twice."""
            if self._counted:
                self._counted = False
                with state._count:
                    state.in_flight -= 1

        def _serve(self, served: Served) -> None:
            data, how, first = served.data, served.behaviour, served.hits == 1
            if how == "error_once" and first:
                self.send_error(500)
                return
            if how == "slow":
                time.sleep(state.delay)
            if how in ("gzip", "endless"):
                self._misbehave(data, how)
                return
            start, end = 0, len(data)
            rng = self.headers.get("Range") if how != "no_range" else None
            if rng:  # bytes=START- or bytes=START-LAST, as real servers honour them
                first_byte, _, last_byte = rng.removeprefix("bytes=").partition("-")
                start, end = int(first_byte), min(int(last_byte) + 1, len(data)) if last_byte else len(data)
            body = data[start:end]
            if how == "truncate":
                body = body[: len(body) // 2]
            self.send_response(206 if rng else 200)
            if rng:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            segment = (rng or "").partition("-")[2]  # a range and its resumption share their last byte
            drop = how == "drop_each_range_once" and segment not in served.dropped
            served.dropped.add(segment)
            if (how == "drop_once" and first) or drop:  # half the body, then the connection dies
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if how == "slow_body":  # long enough for concurrent clients to overlap
                step = max(1, len(body) // 10)
                for i in range(0, len(body), step):
                    if i + step >= len(body):
                        self._done()
                    self.wfile.write(body[i : i + step])
                    time.sleep(state.delay / 10)
                return
            self.wfile.write(body[: len(body) // 2])
            self._done()
            self.wfile.write(body[len(body) // 2 :])

        def _misbehave(self, data: bytes, how: str) -> None:
            """gzip: a compressed body although identity was asked for; endless: the bytes, then more, forever
            (no Content-Length, so only the client can stop it)."""
            import gzip

            self.send_response(200)
            if how == "gzip":
                body = gzip.compress(data)
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                while True:
                    self.wfile.write(data)
            except OSError:  # the client hung up: what it should do
                pass

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    """socketserver prints a client's hang-up (which the misbehaviour tests cause on purpose) to sys.stderr from a
    handler thread that can outlive its test, so it landed in a later test's captured stderr and failed it."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def http_server():
    """A loopback server, stopped at the end of the test (tests may stop it earlier with ``.stop()``)."""
    state = LoopbackServer()
    server = _Server(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            server.shutdown()
            server.server_close()
            stopped = True

    state.stop = stop  # type: ignore[attr-defined]
    yield state
    stop()


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Route every non-loopback request to a closed local port, so a registry's real upstream URLs fail
    fast instead of leaving the machine; also keep retries short."""
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    env = {
        "HTTP_PROXY": f"http://127.0.0.1:{dead}",
        "HTTPS_PROXY": f"http://127.0.0.1:{dead}",
        "NO_PROXY": "127.0.0.1,localhost",
        "ZOO_HTTP_RETRIES": "1",
        "ZOO_HTTP_TIMEOUT": "5",
    }
    for key in ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def generated(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes standing in for an artifact the tests cannot download."""
    block = hashlib.sha256(str(seed).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def write_registry(path: Path, models: dict[str, list[dict]]) -> Path:
    """A registry YAML with one tflite artifact per entry: ``{model_id: [{"file", "data", "sources"}]}``."""
    doc = {"schema_version": 1, "name": "test-registry", "models": {}}
    for mid, arts in models.items():
        doc["models"][mid] = {
            "family": "test",
            "title": mid,
            "task": "re_identification",
            "artifacts": [
                {
                    "file": a["file"],
                    "format": a.get("format", "tflite"),
                    "precision": "int8",
                    "size": len(a["data"]),
                    "sha256": hashlib.sha256(a["data"]).hexdigest(),
                    "sources": a["sources"],
                }
                for a in arts
            ],
        }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
