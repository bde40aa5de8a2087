"""Hub reachability, one mechanism for every model punc loads: a model id that can be neither read
locally nor fetched must fail at once, with what to do, not hang on a dead network."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from harness.errors import PuncError

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0
_TRUTHY = {"1", "true", "yes", "on"}
_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def offline_reason() -> str | None:
    """Which offline switch is set in the environment now (`HF_HUB_OFFLINE=1 is set`), or None."""
    for variable in _OFFLINE_VARIABLES:
        if os.environ.get(variable, "").strip().lower() in _TRUTHY:
            return f"{variable}={os.environ[variable]} is set"
    return None


def _loading_offline() -> bool:
    """Offline for model loading: the environment now, or what huggingface_hub read at its import."""
    try:
        from huggingface_hub import constants

        imported = bool(constants.HF_HUB_OFFLINE)
    except Exception:  # pragma: no cover - huggingface_hub is a dependency
        imported = False
    return imported or offline_reason() is not None


def hub_endpoint() -> str:
    endpoint = os.environ.get("HF_ENDPOINT")
    if not endpoint:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    return endpoint.rstrip("/")


def _what_to_do(model: str) -> str:
    return (
        f"pass a local folder instead, or prefetch it where there is network with "
        f"`hf download {model}` (then set HF_HUB_OFFLINE=1 to use the cached copy)"
    )


def _cached_snapshot(model: str, revision: str | None) -> str | None:
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(model, revision=revision, local_files_only=True)
    except Exception:
        return None


def resolve_model_source(model: str, revision: str | None = None, what: str = "model") -> str:
    """A local path, a cached snapshot, or the hub id after checking the hub can be reached.

    Raises PuncError at once (saying what to do) when the model cannot be had: a missing local folder,
    offline mode without a cached copy, the hub unreachable within a few seconds without a cached
    copy, or an id the hub does not know.
    """
    if Path(model).expanduser().exists():
        return str(Path(model).expanduser())
    if model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model:
        raise PuncError(f"{what} '{model}': no such local folder")
    if _loading_offline():
        cached = _cached_snapshot(model, revision)
        if cached:
            return cached
        raise PuncError(
            f"{what} '{model}' is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
            + _what_to_do(model)
        )
    import httpx

    url = f"{hub_endpoint()}/api/models/{model}" + (f"/revision/{revision}" if revision else "")
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT_S, follow_redirects=True)
    except (httpx.HTTPError, OSError) as exc:
        cached = _cached_snapshot(model, revision)
        if cached:
            log.warning("the Hugging Face Hub is unreachable; using the cached copy of %s", model)
            return cached
        raise PuncError(
            f"{what} '{model}': the Hugging Face Hub ({hub_endpoint()}) cannot be reached "
            f"({type(exc).__name__}) and there is no cached copy: " + _what_to_do(model)
        ) from None
    if response.status_code == 404:
        raise PuncError(
            f"{what} '{model}'"
            + (f" at revision '{revision}'" if revision else "")
            + " was not found on the Hugging Face Hub (check the id, or pass a local folder)"
        )
    return model
