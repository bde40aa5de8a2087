"""What the harness's OpenAI-compatible servers share (`punc serve-judge`, `punc serve-generator`).

A threaded HTTP server that runs in the background (tests, benchmarks) or in the foreground (the CLI),
an optional Bearer key compared in constant time, request counters, and a JSON request handler with
OpenAI-style error bodies.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.errors import PuncError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 << 20


class BackgroundHTTPServer:
    """A ThreadingHTTPServer with a handler class bound to this object (`handler.server_ref`)."""

    #: shown in errors ("serve-judge: cannot listen on ...")
    command = "serve"

    def __init__(
        self,
        handler: type[JsonHandler],
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
    ) -> None:
        self._api_key = api_key
        self.stats: dict[str, int] = defaultdict(int)  # counts only: never a header value
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        bound = type(handler.__name__, (handler,), {"server_ref": self})
        try:
            self.httpd = ThreadingHTTPServer((host, port), bound)
        except OSError as exc:
            raise PuncError(
                f"{self.command}: cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None
        self.httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    # ---- address

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # ---- life cycle

    def workers(self) -> list[tuple[str, Callable[[], None]]]:
        """(name, target) of threads to run next to the HTTP threads, e.g. a batcher owning a model."""
        return []

    def _start_workers(self) -> None:
        for name, target in self.workers():
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def start(self):
        """Serve in background threads (tests, benchmarks); `serve_forever` blocks instead."""
        self._start_workers()
        http = threading.Thread(
            target=self.httpd.serve_forever, name=f"punc-{self.command}-http", daemon=True
        )
        self._threads.append(http)
        http.start()
        return self

    def serve_forever(self) -> None:
        self._start_workers()
        try:
            self.httpd.serve_forever()
        finally:
            self._stop.set()
            self.httpd.server_close()

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- bookkeeping and auth

    def count(self, name: str, amount: int = 1) -> None:
        with self._stats_lock:
            self.stats[name] += amount

    def authorized(self, header: str | None) -> bool:
        if header and header.startswith("Bearer "):
            self.count("requests_with_bearer")
        if self._api_key is None:
            return True
        given = header[7:] if header and header.startswith("Bearer ") else ""
        return hmac.compare_digest(given.encode(), self._api_key.encode())


class JsonHandler(BaseHTTPRequestHandler):
    """JSON replies with OpenAI-style errors; keep-alive (HTTP/1.1)."""

    server_ref: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_error(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        self._send_json(status, {"error": {"message": message, "type": kind, "code": status}})

    def _drop(self) -> None:
        """Close the connection without answering (what a crashed or unreachable server does)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 413 when it is too large."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send_error(413, "request body too large")
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _route(self) -> str:
        return self.path.split("?")[0].rstrip("/")
