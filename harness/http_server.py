"""What the harness's OpenAI-compatible servers share (`punc serve-judge`, `punc serve-generator`).

A threaded HTTP server that runs in the background (tests, benchmarks) or in the foreground (the CLI),
an optional Bearer key compared in constant time, request counters, a JSON request handler with
OpenAI-style error bodies, and hardening for a machine shared with other people's clients.

What `ThreadingHTTPServer` lacks for a machine shared with other people's clients:
- a bounded worker pool: at most `workers` connections are handled at once; the accept loop waits
  for a free worker, and further clients wait in the kernel's listen queue;
- a real listen backlog (`backlog`, the default of 5 resets connections under 50 concurrent clients);
- an idle timeout (a keep-alive connection with no next request is closed) and a read deadline (the
  request line, headers and body must arrive within `read_timeout_s` in total, so a client that
  trickles one byte at a time cannot hold a worker);
- `read_body()` / `parse_json_body()`: Content-Length checked (400 if not a number, 411 chunked, 413
  above the cap), the body parsed by harness.safe_load (depth, duplicate keys, huge integers), 400.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from harness.errors import PuncError
from harness.safe_load import parse_json

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 << 20


#: what `JsonHandler._parse_body` returns once it has answered 400
INVALID_BODY = object()


class HttpError(Exception):
    """An answer other than 200: status and a message for the client."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


class BoundedHTTPServer(HTTPServer):
    """HTTPServer with a fixed pool of worker threads and a real listen backlog."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        workers: int = 32,
        backlog: int = 256,
    ) -> None:
        self.request_queue_size = backlog  # read by server_activate() -> listen(backlog)
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self.thread_prefix = f"punc-http-{id(self):x}"  # this server's workers, told apart from others'
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=self.thread_prefix)
        self._closing = threading.Event()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Hand the connection to a free worker; wait (not accept more) while all are busy."""
        while not self._slots.acquire(timeout=0.2):
            if self._closing.is_set():
                self.shutdown_request(request)
                return
        try:
            self._pool.submit(self._work, request, client_address)
        except RuntimeError:  # the pool is shut down
            self._slots.release()
            self.shutdown_request(request)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A broken connection is the client's business; never print a traceback for it."""

    def server_close(self) -> None:
        self._closing.set()
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class HardenedHandler(BaseHTTPRequestHandler):
    """Handler base with idle timeout, read deadline and safe body parsing; subclasses add routes."""

    protocol_version = "HTTP/1.1"
    idle_timeout_s: float = 15.0  # wait for the next request on a kept-alive connection
    read_timeout_s: float = 30.0  # request line + headers + body, in total
    max_body_bytes: int = MAX_BODY_BYTES

    def setup(self) -> None:
        self.timeout = self.idle_timeout_s  # StreamRequestHandler sets it on the socket
        super().setup()
        self._deadline: threading.Timer | None = None

    def handle_one_request(self) -> None:
        """One request under a read deadline: when it passes, the socket is shut and the read fails."""
        self._deadline = threading.Timer(self.read_timeout_s, self._expire)
        self._deadline.daemon = True
        self._deadline.start()
        try:
            super().handle_one_request()
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True
        finally:
            self.request_read()

    def request_read(self) -> None:
        """Call once the body is in: the rest of the request (the model's work) is not limited."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- replies

    def send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status >= 400 and self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except (TimeoutError, OSError):
            self.close_connection = True

    def send_http_error(self, error: HttpError) -> None:
        self.send_json(
            error.status, {"error": {"message": error.message, "type": error.kind, "code": error.status}}
        )

    # ---- requests

    def read_body(self) -> bytes:
        """The request body; HttpError 400/411/413 for a bad Content-Length or a chunked body."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(411, "send the body with a Content-Length header (no chunked encoding)")
        value = (self.headers.get("Content-Length") or "0").strip()  # no header: an empty body
        if not value.isascii() or not value.isdigit() or len(value) > 12:
            self.close_connection = True  # the body's end is unknown: this connection cannot go on
            raise HttpError(400, f"Content-Length: expected a non-negative integer, got {value[:20]!r}")
        length = int(value)
        if length > self.max_body_bytes:
            self.close_connection = True
            raise HttpError(413, f"request body too large (at most {self.max_body_bytes} bytes)")
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            self.close_connection = True
            raise HttpError(400, "the body is shorter than its Content-Length")
        self.request_read()
        return data

    @staticmethod
    def parse_json_body(raw: bytes) -> Any:
        """A request body parsed by harness.safe_load (empty: None); HttpError 400 says what is wrong."""
        if not raw:
            return None
        try:
            return parse_json(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise HttpError(400, "the body is not UTF-8 JSON") from None
        except ValueError as exc:  # not JSON, too deep, repeated keys, huge integers
            raise HttpError(400, f"the body is not acceptable JSON: expected {exc}") from None


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
        *,
        workers: int = 32,
        backlog: int = 256,
        idle_timeout_s: float = 15.0,
        read_timeout_s: float = 30.0,
    ) -> None:
        self._api_key = api_key
        self.stats: dict[str, int] = defaultdict(int)  # counts only: never a header value
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        bound = type(
            handler.__name__,
            (handler,),
            {"server_ref": self, "idle_timeout_s": idle_timeout_s, "read_timeout_s": read_timeout_s},
        )
        try:
            self.httpd = BoundedHTTPServer((host, port), bound, workers=workers, backlog=backlog)
        except OSError as exc:
            raise PuncError(
                f"{self.command}: cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None
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


class JsonHandler(HardenedHandler):
    """JSON replies with OpenAI-style errors; keep-alive (HTTP/1.1), timeouts and body checks of
    HardenedHandler."""

    server_ref: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self.send_json(status, body)

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
        """The request body, or None after answering 400/411/413 (bad Content-Length, too large)."""
        try:
            return self.read_body()
        except HttpError as exc:
            self.send_http_error(exc)
            return None

    def _parse_body(self, raw: bytes) -> Any:
        """The JSON body, or INVALID_BODY after answering 400 (one parser for every server's routes)."""
        try:
            return self.parse_json_body(raw)
        except HttpError as exc:
            self.send_http_error(exc)
            return INVALID_BODY

    def _route(self) -> str:
        return self.path.split("?")[0].rstrip("/")
