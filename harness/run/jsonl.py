"""Durable JSONL: every append is flushed and fsynced; a torn last line (from a kill) is cut away and redone."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.safe_load import LimitError, parse_json, read_regular_bytes

_TAIL_BYTES = 1 << 20  # longer than any one record
MAX_LOG_BYTES = 4 << 30  # millions of records; anything larger is not a log this harness wrote


def repair_torn_tail(path: Path) -> int:
    """Drop a last line that was cut mid-write (no newline, or not valid JSON). Returns bytes dropped."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as handle:
        offset = max(0, size - _TAIL_BYTES)
        handle.seek(offset)
        data = handle.read()
        keep = len(data)
        if not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
        else:
            start = data.rfind(b"\n", 0, len(data) - 1) + 1
            try:
                json.loads(data[start:])
            except ValueError:
                keep = start
        if keep != len(data):
            handle.truncate(offset + keep)
            handle.flush()
            os.fsync(handle.fileno())
        return len(data) - keep


def read_jsonl_numbered(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) pairs; a torn final line is ignored (it will be redone), any other bad line
    (bad JSON, bad UTF-8, too deep, not an object) is an InputError naming the file and line."""
    if not path.exists() and not path.is_symlink():
        return
    data = read_regular_bytes(path, "JSONL log", MAX_LOG_BYTES)
    lines = data.split(b"\n")
    last = len(lines) if lines[-1] else len(lines) - 1  # the number of the last non-empty line
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        torn = number == last and not data.endswith(b"\n")
        try:
            record = parse_json(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            if torn or number == last:
                return
            raise InputError(
                path, number, None, "UTF-8 text", f"invalid byte at column {exc.start + 1}"
            ) from None
        except LimitError as exc:
            raise InputError(path, number, None, str(exc)) from None
        except ValueError:
            if number == last:
                return
            shown = raw.decode("utf-8", errors="replace")
            raise InputError(
                path, number, None, "one JSON object per line (file corrupted?)", shown
            ) from None
        if not isinstance(record, dict):
            raise InputError(path, number, None, "a JSON object", record)
        yield number, record


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL log; see read_jsonl_numbered."""
    for _, record in read_jsonl_numbered(path):
        yield record


class JsonlAppender:
    """Append-only writer that survives SIGKILL: each record is one write, flushed and fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(path)
        self._handle = open(path, "a", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        self.extend([record])

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        if not text:
            return
        self._handle.write(text)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename: readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
