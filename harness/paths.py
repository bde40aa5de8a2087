"""The one path-containment check: a path from a user, a file or a URL stays inside its root.

Resolving alone is not enough: a symlink inside the root can point anywhere, so every component
below the root is checked with lstat and links are refused (callers that document following links
resolve first themselves).
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from harness.errors import PuncError, printable
from harness.safe_ids import is_safe_id


class PathEscape(PuncError):
    """A path that leaves its root, goes through a link, or names a hidden file."""


def _parts(relative: str | os.PathLike[str]) -> tuple[str, ...]:
    text = os.fspath(relative)
    if "\x00" in text:
        raise PathEscape(f"{printable(text)}: a path without NUL characters")
    pure = PurePosixPath(text.replace(os.sep, "/"))
    if pure.is_absolute():
        raise PathEscape(f"{printable(text)}: expected a path relative to its folder")
    parts = tuple(p for p in pure.parts if p not in ("", "."))
    if any(p == ".." for p in parts):
        raise PathEscape(f"{printable(text)}: expected a path that stays inside its folder (no '..')")
    return parts


def inside(
    root: str | Path, relative: str | os.PathLike[str], *, hidden: bool = True, links: bool = False
) -> Path:
    """`root / relative` after checking it stays under `root`: no '..', no absolute path, no NUL,
    no link on any component below root (unless `links`), no dot-file component (unless `hidden`).

    Components that do not exist yet are fine (the caller may create them).
    """
    root = Path(root)
    parts = _parts(relative)
    if not hidden and any(p.startswith(".") for p in parts):
        raise PathEscape(f"{printable(os.fspath(relative))}: hidden files are not served or read")
    current = root
    for part in parts:
        current = current / part
        if not links and current.is_symlink():
            raise PathEscape(
                f"{printable(str(current))}: is a symbolic link; expected a regular file or folder"
            )
    if links:
        resolved_root = root.resolve()
        resolved = current.resolve()
        if resolved != resolved_root and resolved_root not in resolved.parents:
            raise PathEscape(f"{printable(str(current))}: leads outside {printable(str(root))}")
    return current


def check_inside(root: str | Path, path: str | Path, **kwargs: bool) -> Path:
    """Like `inside` for a path already joined to `root` (refused if it is not below it)."""
    root, path = Path(root), Path(path)
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise PathEscape(f"{printable(str(path))}: expected a path inside {printable(str(root))}") from None
    return inside(root, relative, **kwargs)


def safe_name(label: str, fallback: str = "model") -> str:
    """A label made into one safe folder name (letters, digits, `_.-`); never '..' or a separator."""
    if is_safe_id(label):
        return label
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)
    slug = re.sub(r"\.{2,}", ".", slug).strip("-._")[:100].strip("-._")
    return slug if is_safe_id(slug) else fallback
