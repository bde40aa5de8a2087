"""Stable identities: canonical-JSON hashes and content identities of local model folders."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

_EDGE_BYTES = 1 << 16
#: documentation beside the weights; editing a model card must not change the model's identity
_NOT_MODEL_FILES = {".md", ".gitattributes"}


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal content always hashes equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_json(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _whole_file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """Cached per (path, size, mtime): a run asks for a checkpoint's identity more than once."""
    return sha256_file(path)


def local_model_identity(path: str | Path) -> str | None:
    """A cheap content identity for a local model folder (or file), standing in for a hub revision.

    Hashes every model file's relative name, size and first and last 64 KiB, so retrained weights
    change the identity without reading gigabytes; model cards (*.md) are left out. Returns None when
    the path is not local. A single-file `.safetensors` checkpoint gets its whole-file sha256 (the
    hash model sites publish): merges and fine-tunes often keep the file's size and both edges.
    """
    root = Path(path)
    if not root.exists():
        return None
    if root.is_file() and root.suffix.lower() == ".safetensors":
        stat = root.stat()
        return "sha256:" + _whole_file_sha256(str(root.resolve()), stat.st_size, stat.st_mtime_ns)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        if any(part.startswith(".") for part in file.relative_to(root.parent).parts):
            continue
        if file.suffix.lower() in _NOT_MODEL_FILES:
            continue
        size = file.stat().st_size
        digest.update(f"{file.relative_to(root) if root.is_dir() else file.name}:{size}\n".encode())
        with open(file, "rb") as handle:
            digest.update(handle.read(_EDGE_BYTES))
            if size > 2 * _EDGE_BYTES:
                handle.seek(size - _EDGE_BYTES)
                digest.update(handle.read(_EDGE_BYTES))
    return "local-sha256:" + digest.hexdigest()[:16]
