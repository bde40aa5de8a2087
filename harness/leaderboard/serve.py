"""`punc leaderboard serve`: serve a board folder over HTTP with the standard library, for local viewing."""

from __future__ import annotations

import functools
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness.errors import PuncError
from harness.leaderboard.board_files import board_path
from harness.paths import PathEscape, inside


class BoardHandler(SimpleHTTPRequestHandler):
    """Static files of one board; no directory listings and no dot-files (the publish lock, staging)."""

    def list_directory(self, path):  # type: ignore[override]
        self.send_error(404, "No directory listing")
        return None

    def send_head(self):  # type: ignore[override]
        """404 unless the decoded path stays in the board, names no dot-file and crosses no link."""
        root = Path(self.directory)
        target = Path(self.translate_path(self.path))  # decodes %2F and %2E, drops '..'
        raw = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        try:
            if any(part == ".." for part in raw.split("/")):
                raise PathEscape(raw)
            inside(root, target.relative_to(root), hidden=False)
        except (ValueError, PuncError):
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quieter than the default
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def make_server(board_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server for `board_dir` (port 0 picks a free port); call serve_forever() on it."""
    board_dir = Path(board_dir)
    if not (board_dir / "index.html").is_file():
        raise PuncError(f"{board_dir}: no index.html; build it first with `punc leaderboard build`")
    handler = functools.partial(BoardHandler, directory=str(board_dir.resolve()))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise PuncError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); try another --port"
        ) from None


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}/"


def serve_board(name: str, boards_dir: Path, host: str = "127.0.0.1", port: int = 8000, echo=print) -> None:
    board_dir = board_path(name, boards_dir)
    server = make_server(board_dir, host, port)
    server.verbose = True  # type: ignore[attr-defined]
    echo(f"Serving board {name!r} from {board_dir} at {server_url(server)}index.html (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.server_close()
