"""Prompt files that live at a URL (GenEval, TIFA and DSG publish theirs on GitHub, not on the Hub).

`datasets` resolves URL data files over the network on every load, even when it has them cached, so a
URL source could never run offline. Instead punc downloads each URL once into its own cache (under the
`datasets` cache) and hands `datasets` the local copy. Pin URLs to a commit: a cached copy is reused
as long as it exists, whatever the server now holds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from harness.errors import PuncError
from harness.hub import offline_reason

DOWNLOAD_TIMEOUT_S = 30.0


def is_url(value: str) -> bool:
    return urlparse(value).scheme in ("http", "https")


def cache_root() -> Path:
    import datasets

    return Path(datasets.config.HF_DATASETS_CACHE) / "punc_data_files"


def cached_copy(url: str) -> Path:
    """Where the copy of `url` lives: a folder per URL hash, the file keeps the URL's file name."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    name = PurePosixPath(urlparse(url).path).name
    if name in ("", ".", "..") or "\\" in name:  # the file name never leaves the URL's own folder
        name = "data"
    return cache_root() / digest / name


def download(url: str) -> Path:
    """Fetch `url` into the cache (atomically: a partial download never looks complete)."""
    import httpx

    target = cached_copy(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=True) as response:
            if response.status_code != 200:
                raise PuncError(f"{url}: the server answered HTTP {response.status_code}")
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
    except (httpx.HTTPError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise PuncError(
            f"{url}: cannot be downloaded ({type(exc).__name__}); run `punc prefetch TASK` where there is network"
        ) from None
    os.replace(partial, target)
    return target


def local_data_files(data_files: str | list[str] | None, fetch: bool = True) -> str | list[str] | None:
    """The same data files with every URL replaced by its cached copy (downloaded first if allowed)."""
    if data_files is None:
        return None

    def local(value: str) -> str:
        if not is_url(value):
            return value
        copy = cached_copy(value)
        if copy.is_file():
            return str(copy)
        reason = offline_reason()
        if reason or not fetch:
            raise PuncError(
                f"{value} is not in the local cache"
                + (f" and {reason}" if reason else "")
                + ": run `punc prefetch TASK` where there is network"
            )
        return str(download(value))

    return local(data_files) if isinstance(data_files, str) else [local(f) for f in data_files]


def is_cached(data_files: str | list[str] | None) -> bool:
    files = [data_files] if isinstance(data_files, str) else list(data_files or [])
    return all(cached_copy(f).is_file() for f in files if is_url(f))
