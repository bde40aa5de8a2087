"""Feature entropy across generations, a stand-in for Jazbec et al. (2025)'s semantic likelihood.

u = ½ Σ_d log(v_d + σ²) + (D/2)(log 2π + 1): the entropy of a diagonal Gaussian whose variances are
the per-dimension variances v_d (population variance, ddof=0) of the image features of the K
generations, plus σ² = 1e-3. Jazbec et al. draw their generations from a last-layer Laplace
posterior over the denoiser's weights; here the K seed-ensemble images stand in for posterior
samples (SEED-ENSEMBLE STAND-IN, not their Laplace posterior), as the signature says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources
from harness.baselines.features import encoder_identity, resolve_encoder_spec
from harness.devices import versions

SIGMA2 = 1e-3


def feature_entropy(features: np.ndarray, sigma2: float = SIGMA2) -> float:
    """½ Σ_d log(v_d + σ²) + (D/2)(log 2π + 1), v_d = np.var(features[:, d]) (ddof=0)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError("feature entropy needs a (K ≥ 2, D) feature matrix")
    v = features.var(axis=0)
    d = features.shape[1]
    return float(0.5 * np.sum(np.log(v + sigma2)) + 0.5 * d * (math.log(2 * math.pi) + 1.0))


class FeatureEntropy(Baseline):
    """Gaussian entropy of the K images' features (seed-ensemble stand-in for Jazbec et al. 2025)."""

    kind: ClassVar[str] = "feature_entropy"

    def __init__(
        self, resources: Resources | None = None, encoder: str | None = None, sigma2: float = SIGMA2
    ) -> None:
        super().__init__(resources)
        self.sigma2 = float(sigma2)
        self._encoder_path = resolve_encoder_spec(encoder)

    def signature(self) -> str:
        return (
            f"feature_entropy:posterior=seed-ensemble-stand-in-for-laplace:sigma2={self.sigma2:g}:var=ddof0"
            f":encoder={encoder_identity(self._encoder_path)}:pool=mean:{versions('transformers', 'torch')}"
        )

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        encoder = self.resources.encoder(self._encoder_path)
        return Outcome(feature_entropy(encoder.encode(images), self.sigma2), passes=len(images))
