"""Hub reachability: a model id that is neither local nor cached must fail at once, not hang."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import PuncError

_PROBE_TIMEOUT_S = 5.0


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
    """One short HTTP probe of the hub endpoint; any failure means unreachable."""
    import httpx
    from huggingface_hub import constants

    try:
        httpx.head(constants.ENDPOINT, timeout=timeout_s, follow_redirects=True)
    except Exception:
        return False
    return True


def unreachable_message(model_id: str, what: str) -> str:
    return (
        f"{what} '{model_id}' is not a local path and is not in the Hugging Face cache, and the hub "
        f"{'is disabled (HF_HUB_OFFLINE=1)' if offline_mode() else 'cannot be reached'}. "
        f"Pass a local folder instead, or prefetch it on a machine with network "
        f"(`huggingface-cli download {model_id}`) and run with HF_HUB_OFFLINE=1."
    )


def ensure_loadable(model_id: str, what: str, revision: str | None = None) -> None:
    """Raise PuncError at once when `model_id` can be neither read locally nor fetched."""
    if Path(model_id).exists():
        return
    if model_id.startswith((".", "/", "~")) or model_id.count("/") > 1:
        raise PuncError(f"{what} '{model_id}': no such local path (a hub id looks like 'org/name')")
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(model_id, revision=revision, local_files_only=True)
        return
    except Exception:
        pass
    if offline_mode() or not hub_reachable():
        raise PuncError(unreachable_message(model_id, what))
