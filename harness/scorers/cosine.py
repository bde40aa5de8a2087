"""Embedding cosine similarity between prompt and caption (sentence-transformers).

Symmetric, so it is reported as one similarity (key ``cosine``), never as precision or recall.
Each text is embedded with ``SentenceTransformer(model, revision=...)`` (the model's own pooling,
e.g. mean pooling for all-MiniLM-L6-v2), the embeddings are L2-normalised and their dot product is
the score. Decision: an empty (or whitespace-only) caption or prompt scores 0.0, like the other
metrics, instead of the similarity of the model's embedding of an empty string.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

from harness.devices import version_of
from harness.scorers.base import (
    DEFAULT_MODEL,
    TextScorer,
    as_device,
    as_int,
    as_opt_str,
    check_pairs,
    check_revision,
    model_load_error,
    model_revision,
    quiet_loading,
    resolve_device,
    resolve_model,
)


class CosineScorer(TextScorer):
    """Cosine similarity of sentence-transformers embeddings (symmetric; not a P/R).

    Embeddings are normalised; the default backbone is all-MiniLM-L6-v2.
    """

    name: ClassVar[str] = "cosine"
    outputs: ClassVar[tuple[str, ...]] = ("cosine",)

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        revision: str | None = None,
        device: str | None = None,
        batch_size: int = 64,
    ) -> None:
        self.source, self.model_label = resolve_model(model, self.name)
        self.revision = check_revision(self.source, as_opt_str(revision, "revision", self.name), self.name)
        self.device = as_device(device, self.name)
        self.batch_size = as_int(batch_size, "batch_size", self.name, minimum=1)
        self._model: Any = None

    def close(self) -> None:
        self._model = None

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self.device = resolve_device(self.device)
            try:
                with quiet_loading():
                    self._model = SentenceTransformer(self.source, revision=self.revision, device=self.device)
            except (OSError, ValueError) as exc:
                raise model_load_error(self.name, self.source, exc) from None
            self._model.eval()
        return self._model

    def signature(self) -> str:
        revision = model_revision(self.source, self.revision)
        return (
            f"cosine:model={self.model_label}@{revision}:pooling=model-default:normalize=True"
            f":sentence_transformers={version_of('sentence-transformers')}"
            f":transformers={version_of('transformers')}:torch={version_of('torch')}"
        )

    def embed(self, texts: Sequence[str]) -> Any:
        """L2-normalised embeddings, one row per text (a torch tensor on the scorer's device)."""
        model = self._load()
        return model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def score(self, prompts: Sequence[str], captions: Sequence[str]) -> list[dict[str, float]]:
        prompts, captions = check_pairs(prompts, captions)
        pairs = [(p.strip(), c.strip()) for p, c in zip(prompts, captions, strict=True)]
        unique = sorted({t for pair in pairs for t in pair if t})
        if not unique:
            return [{"cosine": 0.0} for _ in pairs]
        emb = self.embed(unique)
        index = {text: i for i, text in enumerate(unique)}
        out: list[dict[str, float]] = []
        for p, c in pairs:
            if not p or not c:
                out.append({"cosine": 0.0})
            else:
                out.append({"cosine": float((emb[index[p]] * emb[index[c]]).sum().item())})
        return out


@lru_cache(maxsize=2)
def _cached_scorer(**params: Any) -> CosineScorer:
    return CosineScorer(**params)


def embedding_cosine(
    prompts: Sequence[str],
    captions: Sequence[str],
    model: str = DEFAULT_MODEL,
    revision: str | None = None,
    device: str | None = None,
    batch_size: int = 64,
) -> list[float]:
    """Functional twin of :class:`CosineScorer`; the loaded model is cached between calls."""
    scorer = _cached_scorer(model=model, revision=revision, device=device, batch_size=batch_size)
    return [row["cosine"] for row in scorer.score(prompts, captions)]
