"""Seed ensemble ("2XDM" for M = 2): u = 1 − mean pairwise similarity of the K images of one prompt.

Similarity is the cosine of image-encoder features (a CLIP model where weights exist; offline the
embedded judge's vision encoder, mean-pooled last hidden state), or SSIM (scikit-image).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources
from harness.baselines.features import cosine_matrix, encoder_identity, resolve_encoder_spec
from harness.devices import versions
from harness.errors import PuncError

SIMILARITIES = ("cosine", "ssim")


def cosine_uncertainty(features: np.ndarray) -> float:
    """1 − mean pairwise cosine similarity of the rows of `features` (K ≥ 2)."""
    features = np.asarray(features, dtype=np.float64)
    k = features.shape[0]
    if k < 2:
        raise ValueError("the seed ensemble needs at least 2 images per prompt")
    sims = cosine_matrix(features)[np.triu_indices(k, 1)]
    return float(max(0.0, 1.0 - sims.mean()))


def ssim_similarity(a: Image.Image, b: Image.Image) -> float:
    from skimage.metrics import structural_similarity

    x = np.asarray(a.convert("RGB"), dtype=np.float64) / 255.0
    y = np.asarray(b.convert("RGB").resize(a.size), dtype=np.float64) / 255.0
    side = min(x.shape[0], x.shape[1])
    win = min(7, side if side % 2 else side - 1)
    return float(structural_similarity(x, y, channel_axis=2, data_range=1.0, win_size=win))


def ssim_uncertainty(images: Sequence[Image.Image]) -> float:
    """1 − mean pairwise SSIM of the images (K ≥ 2)."""
    if len(images) < 2:
        raise ValueError("the seed ensemble needs at least 2 images per prompt")
    sims = [ssim_similarity(a, b) for a, b in combinations(images, 2)]
    return float(1.0 - np.mean(sims))


class SeedEnsemble(Baseline):
    """1 − mean pairwise cosine of image features of the K images (seed ensemble, "2XDM")."""

    kind: ClassVar[str] = "seed_ensemble"

    def __init__(
        self, resources: Resources | None = None, similarity: str = "cosine", encoder: str | None = None
    ) -> None:
        super().__init__(resources)
        if similarity not in SIMILARITIES:
            raise PuncError(
                f"baseline seed_ensemble: similarity must be one of {SIMILARITIES}, got {similarity!r}"
            )
        self.similarity = similarity
        self.encoder_spec = encoder
        self._encoder_path = resolve_encoder_spec(encoder) if similarity == "cosine" else None

    def signature(self) -> str:
        if self.similarity == "ssim":
            return f"seed_ensemble:sim=ssim:win=7:skimage:{versions('scikit-image', 'numpy')}"
        return (
            f"seed_ensemble:sim=cosine:encoder={encoder_identity(self._encoder_path)}:pool=mean"
            f":{versions('transformers', 'torch')}"
        )

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        if self.similarity == "ssim":
            return Outcome(ssim_uncertainty(images), passes=0)
        encoder = self.resources.encoder(self._encoder_path)
        return Outcome(cosine_uncertainty(encoder.encode(images)), passes=len(images))


class SeedEnsembleSSIM(SeedEnsemble):
    """1 − mean pairwise SSIM of the K images (seed ensemble in pixel space, scikit-image)."""

    def __init__(
        self, resources: Resources | None = None, similarity: str = "ssim", encoder: str | None = None
    ) -> None:
        super().__init__(resources, similarity, encoder)
