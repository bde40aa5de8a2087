"""A board's own files: its name and folder, board.json identity, bundle listing, lock, and JSON that
is safe to serve. Shared by publishing and building, so neither imports the other's module."""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import PuncError
from harness.run.reader import read_regular_json
from harness.run.schema import Results
from harness.safe_ids import SAFE_ID_EXPECTED, is_safe_id


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def check_board_name(name: str) -> str:
    if not is_safe_id(name):
        raise PuncError(f"board name {name!r} is not allowed: expected {SAFE_ID_EXPECTED}")
    return name


def board_path(name: str, boards_dir: Path) -> Path:
    return Path(boards_dir) / check_board_name(name)


def json_safe(value: Any) -> Any:
    """Plain JSON data only (dict/list/str/int/float/bool/None); NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def share_files(root: Path) -> None:
    """Atomic writes create 0600 files; board files are meant to be served and pushed, so make them 0644."""
    paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    for path in paths:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o644)


def read_board_json(path: Path, what: str) -> Any:
    """A board file (board.json, bundle.json): a regular file, parsed safely."""
    return read_regular_json(path, what)


@contextlib.contextmanager
def board_lock(board_dir: Path) -> Iterator[None]:
    """One publisher at a time per board (an advisory lock on board_dir/.lock)."""
    with open(board_dir / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def list_bundles(board_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Published bundles (folders under runs/ with a bundle.json), oldest first; staging folders skipped."""
    runs = board_dir / "runs"
    out = []
    if not runs.is_dir():
        return out
    for path in sorted(runs.iterdir()):
        if path.name.startswith(".") or not is_safe_id(path.name) or path.is_symlink() or not path.is_dir():
            continue
        meta_path = path / "bundle.json"
        if not meta_path.is_file():
            continue
        meta = read_board_json(meta_path, "bundle description")
        if isinstance(meta, dict):
            out.append((path, meta))
    out.sort(key=lambda item: (str(item[1].get("published", "")), item[0].name))
    return out


def identity_of(results: Results) -> dict[str, Any]:
    """The fields that make two runs comparable; a board stores them in board.json."""
    return {
        "task_hash": results.task.hash,
        "judge_fingerprint": results.judge.fingerprint,
        "scorers": dict(sorted(results.scorers.items())),
        "primary_scorer": results.primary_scorer,
    }


def identity_differences(board: dict[str, Any], run: dict[str, Any]) -> list[str]:
    """One line per differing field, naming both values."""
    out: list[str] = []
    if board.get("task_hash") != run["task_hash"]:
        out.append(f"task hash differs: board has {board.get('task_hash')!r}, run has {run['task_hash']!r}")
    if board.get("judge_fingerprint") != run["judge_fingerprint"]:
        out.append(
            f"judge fingerprint differs: board has {board.get('judge_fingerprint')!r}, "
            f"run has {run['judge_fingerprint']!r}"
        )
    board_scorers = board.get("scorers") or {}
    for name in sorted(set(board_scorers) | set(run["scorers"])):
        have, got = board_scorers.get(name), run["scorers"].get(name)
        if have != got:
            out.append(
                f"scorer signatures differ for scorer {name!r}: board has "
                f"{have if have is not None else '<absent>'!r}, run has {got if got is not None else '<absent>'!r}"
            )
    if board.get("primary_scorer") != run["primary_scorer"]:
        out.append(
            f"primary scorer differs: board has {board.get('primary_scorer')!r}, "
            f"run has {run['primary_scorer']!r}"
        )
    return out
