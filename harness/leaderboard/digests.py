"""Bundle file digests: `punc publish` records the sha256 of every file it writes, `leaderboard build`
refuses a bundle whose files no longer match (an edited results.json would otherwise change the board)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness.errors import PuncError

META_FILE = "bundle.json"


def bundle_digests(bundle_dir: Path) -> dict[str, str]:
    """sha256 of every file of the bundle except bundle.json, by relative POSIX path; links refused."""
    out: dict[str, str] = {}
    for path in sorted(bundle_dir.rglob("*")):
        relative = path.relative_to(bundle_dir).as_posix()
        if path.is_symlink():
            raise PuncError(f"{path}: a bundle holds regular files only, found a link")
        if path.is_dir() or relative == META_FILE:
            continue
        out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def verify_bundle(bundle_dir: Path, meta: dict[str, Any]) -> None:
    """PuncError naming each file that was edited, added or removed since publishing."""
    expected = meta.get("files")
    if not isinstance(expected, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in expected.items()
    ):
        raise PuncError(
            f"{bundle_dir / META_FILE}: field 'files': expected the sha256 of each bundle file "
            "(written by `punc publish`); republish the run"
        )
    actual = bundle_digests(bundle_dir)
    problems = [
        f"{name} was edited" for name in sorted(expected) if name in actual and actual[name] != expected[name]
    ]
    problems += [f"{name} is missing" for name in sorted(set(expected) - set(actual))]
    problems += [f"{name} was added" for name in sorted(set(actual) - set(expected))]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise PuncError(
            f"{bundle_dir}: the bundle does not match its digests ({shown}). Bundles are written by "
            "`punc publish` only; remove the folder and publish the run again"
        )
