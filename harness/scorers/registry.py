"""Name -> scorer class, imported lazily so listing scorers never loads torch.

Built-in scorers are listed below; third-party ones register a ``TextScorer`` subclass under the
entry-point group ``punc.scorers`` (``name = "package.module:Class"``).
"""

from __future__ import annotations

import importlib
import inspect
from importlib import metadata
from typing import Any

from harness.errors import PuncError
from harness.scorers.base import TextScorer

ENTRY_POINT_GROUP = "punc.scorers"

# name -> (import path, one-line description); descriptions here avoid importing the module.
BUILTIN_SCORERS: dict[str, tuple[str, str]] = {
    "rouge1": (
        "harness.scorers.rouge:Rouge1Scorer",
        "ROUGE-1 unigram precision/recall/F1 (rouge-score, Porter stemmer)",
    ),
    "rougeL": (
        "harness.scorers.rouge:RougeLScorer",
        "ROUGE-L longest-common-subsequence precision/recall/F1 (rouge-score, Porter stemmer)",
    ),
    "bertscore": (
        "harness.scorers.bertscore:BERTScoreScorer",
        "BERTScore precision/recall/F1, greedy token matching; default all-MiniLM-L6-v2 layer 6",
    ),
    "cosine": (
        "harness.scorers.cosine:CosineScorer",
        "cosine similarity of sentence-transformers embeddings (symmetric; not a P/R)",
    ),
}


def _plugins() -> dict[str, metadata.EntryPoint]:
    try:
        return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:  # pragma: no cover - broken metadata must not break the CLI
        return {}


def available_scorers() -> dict[str, str]:
    """Scorer name -> one-line description (for ``punc ls scorers``)."""
    out = {name: desc for name, (_, desc) in BUILTIN_SCORERS.items()}
    for name, ep in _plugins().items():
        out.setdefault(name, f"plug-in scorer from {ep.value}")
    return out


def scorer_class(name: str) -> type[TextScorer]:
    if name in BUILTIN_SCORERS:
        module, _, attr = BUILTIN_SCORERS[name][0].partition(":")
        cls = getattr(importlib.import_module(module), attr)
    elif name in (plugins := _plugins()):
        try:
            cls = plugins[name].load()
        except Exception as exc:
            raise PuncError(
                f"scorer '{name}': its plug-in {plugins[name].value} failed to load: {exc}"
            ) from None
    else:
        known = ", ".join(sorted(available_scorers()))
        raise PuncError(f"unknown scorer '{name}'; expected one of: {known}")
    if not (isinstance(cls, type) and issubclass(cls, TextScorer)):
        raise PuncError(f"scorer '{name}' does not name a TextScorer subclass")
    return cls


def scorer_params(name: str) -> list[str]:
    """The parameter names a scorer accepts (``--param NAME.KEY=VALUE`` keys)."""
    return [p for p in inspect.signature(scorer_class(name).__init__).parameters if p != "self"]


def build_scorer(name: str, **params: Any) -> TextScorer:
    """Instantiate a scorer by name; unknown names or parameters raise ``PuncError``.

    Models are not loaded here: that happens on the first ``score()`` call.
    """
    cls = scorer_class(name)
    accepted = scorer_params(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise PuncError(
            f"scorer '{name}': unknown parameter(s) {', '.join(unknown)}; expected: {', '.join(accepted)}"
        )
    try:
        return cls(**params)
    except PuncError:
        raise
    except (TypeError, ValueError) as exc:
        raise PuncError(f"scorer '{name}': bad parameters: {exc}") from None
