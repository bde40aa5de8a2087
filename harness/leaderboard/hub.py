"""Push a board folder to a Hugging Face dataset repository.

The token is read from the HF_TOKEN environment variable and handed to the client only; it is never
written to disk or printed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.errors import PuncError
from harness.hub import offline_reason

_REPO_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}\Z")
#: Never uploaded: the publish lock and staging folders.
IGNORE_PATTERNS = [".lock", "**/.lock", ".*", "**/.*", "**/.staging-*/**"]


def check_hub_reachable_config(repo: str) -> None:
    """Checks that need no network: a valid repo id and no offline mode. Called before publishing."""
    if ".." in repo or not _REPO_ID.fullmatch(repo):
        raise PuncError(f"--push-to-hub: expected a repository id like 'owner/name', got {repo!r}")
    reason = offline_reason()
    if reason:
        raise PuncError(
            f"cannot push to the Hugging Face Hub: offline mode ({reason}). "
            "Unset it and make sure the Hub is reachable, or publish without --push-to-hub "
            "and push later with `punc leaderboard push NAME --repo REPO`."
        )


def push_board(board_dir: Path, repo: str) -> str:
    """Upload `board_dir` to dataset repo `repo`; returns the repo URL. Any failure is a PuncError."""
    check_hub_reachable_config(repo)
    board_dir = Path(board_dir)
    if not (board_dir / "board.json").is_file():
        raise PuncError(f"{board_dir}: expected a board folder with board.json")
    try:
        from huggingface_hub import HfApi
    except ImportError:  # pragma: no cover - a declared dependency
        raise PuncError("pushing needs the 'huggingface_hub' package: pip install huggingface_hub") from None
    token = os.environ.get("HF_TOKEN") or None
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id=repo, repo_type="dataset", exist_ok=True)
        api.upload_folder(
            folder_path=str(board_dir),
            repo_id=repo,
            repo_type="dataset",
            commit_message=f"punc leaderboard: update board {board_dir.name}",
            ignore_patterns=IGNORE_PATTERNS,
        )
    except Exception as exc:
        raise PuncError(_explain(exc, repo, board_dir)) from None
    return f"https://huggingface.co/datasets/{repo}"


def _explain(exc: Exception, repo: str, board_dir: Path) -> str:
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    if token_in(text):
        text = name
    kept = f"The board is kept locally at {board_dir}; push it again with `punc leaderboard push`."
    if name == "OfflineModeIsEnabled" or offline_reason():
        return f"cannot push to the Hugging Face Hub: offline mode is enabled ({text}). {kept}"
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return (
            f"the Hugging Face Hub refused the push to {repo!r} (HTTP {status}): set HF_TOKEN to a token "
            f"with write access. {kept}"
        )
    if status is not None:
        return f"pushing to {repo!r} failed (HTTP {status}: {text}). {kept}"
    return (
        f"cannot reach the Hugging Face Hub to push {repo!r} ({name}: {text}); "
        f"check the network or proxy settings. {kept}"
    )


def token_in(text: str) -> bool:
    token = os.environ.get("HF_TOKEN")
    return bool(token) and token in text
