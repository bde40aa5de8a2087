"""Reconstruction across noise levels (DDPM-OOD style, Graham et al. 2023).

For each level t in T (a fraction of the pipeline's noise schedule, img2img style), the image's
latent (via `pipe.vae`, or the pixels when there is no VAE) is noised to t with the pipeline's
own scheduler and denoised in `steps` steps conditioned on the prompt; the distance
d(x, x̂_t) = normalised MSE + feature distance is averaged over t (and over the first `images`
images of the prompt). Normalised MSE = mean((x − x̂)²) / max(mean(x²), 1e-3) on pixels scaled to
[−1, 1]; feature distance = 1 − cosine of image-encoder features. The two components are stored
separately; `punc detect` z-scores each on the in-distribution prompts before summing them.
Cost: per image |T| × steps denoiser passes (× 2 with guidance > 1), plus VAE and encoder passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources
from harness.baselines.features import encoder_identity, feature_distance, resolve_encoder_spec
from harness.devices import versions
from harness.errors import PuncError

DEFAULT_LEVELS = (0.2, 0.4, 0.6, 0.8)


def normalised_mse(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Pixels in [0, 1] are rescaled to [−1, 1]; MSE divided by the mean square of x (floored)."""
    a = np.asarray(x, dtype=np.float64) * 2.0 - 1.0
    b = np.asarray(x_hat, dtype=np.float64) * 2.0 - 1.0
    return float(np.mean((a - b) ** 2) / max(float(np.mean(a**2)), 1e-3))


def image_distance(x: Image.Image, x_hat: Image.Image, encoder: Any = None) -> dict[str, float]:
    """{"nmse": ..., "feature": ...} (feature only with an encoder)."""
    a = np.asarray(x.convert("RGB"), dtype=np.float64) / 255.0
    b = np.asarray(x_hat.convert("RGB").resize(x.size), dtype=np.float64) / 255.0
    out = {"nmse": normalised_mse(a, b)}
    if encoder is not None:
        feats = encoder.encode([x, x_hat])
        out["feature"] = feature_distance(feats[0], feats[1])
    return out


def reconstruct(
    adapter: Any,
    image: Image.Image,
    text: str,
    level: float,
    steps: int,
    seed: int = 0,
    guidance: float = 1.0,
) -> Image.Image:
    """Noise `image` to `level` and denoise it with the pipeline conditioned on `text`."""
    z0 = adapter.encode(adapter.images_to_tensor([image]))
    z = adapter.denoise_from(z0, text, level, steps, seed=seed, guidance=guidance)
    return adapter.tensor_to_images(adapter.decode(z))[0]


def reconstruction_errors(
    adapter: Any,
    image: Image.Image,
    text: str,
    levels: Sequence[float] = DEFAULT_LEVELS,
    steps: int = 4,
    seed: int = 0,
    guidance: float = 1.0,
    encoder: Any = None,
) -> dict[float, dict[str, float]]:
    """level -> distance components between the image and its reconstruction from that level."""
    return {
        t: image_distance(image, reconstruct(adapter, image, text, t, steps, seed, guidance), encoder)
        for t in levels
    }


class Reconstruction(Baseline):
    """Distance of each image to its noised-and-denoised reconstruction by the generator pipeline."""

    kind: ClassVar[str] = "reconstruction"
    needs_pipeline: ClassVar[bool] = True

    def __init__(
        self,
        resources: Resources | None = None,
        levels: Sequence[float] = DEFAULT_LEVELS,
        steps: int = 4,
        images: int = 1,
        guidance: float = 1.0,
        seed: int = 0,
        encoder: str | None = None,
        feature: bool = True,
    ) -> None:
        super().__init__(resources)
        self.levels = tuple(float(t) for t in levels)
        if not self.levels or any(not 0 < t <= 1 for t in self.levels):
            raise PuncError(f"baseline reconstruction: levels must be fractions in (0, 1], got {levels}")
        self.steps, self.images, self.guidance, self.seed = (
            int(steps),
            int(images),
            float(guidance),
            int(seed),
        )
        self.feature = bool(feature)
        self._encoder_path = resolve_encoder_spec(encoder) if self.feature else None

    def signature(self) -> str:
        from harness.generators.identity import generator_identity

        gen = generator_identity(self.resources.generator_spec) if self.resources.generator_spec else "none"
        enc = encoder_identity(self._encoder_path) if self._encoder_path else "none"
        levels = ",".join(f"{t:g}" for t in self.levels)
        return (
            f"reconstruction:levels={levels}:steps={self.steps}:images={self.images}:guidance={self.guidance:g}"
            f":seed={self.seed}:d=nmse+feature:encoder={enc}:generator={gen}"
            f":{versions('diffusers', 'transformers', 'torch')}"
        )

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        adapter = self.resources.adapter()
        encoder = self.resources.encoder(self._encoder_path) if self.feature else None
        before = adapter.passes + (encoder.passes if encoder else 0)
        comps: dict[str, list[float]] = {}
        for index, image in enumerate(images[: self.images]):
            errors = reconstruction_errors(
                adapter,
                image,
                prompt_text,
                self.levels,
                self.steps,
                self.seed + index,
                self.guidance,
                encoder,
            )
            for values in errors.values():
                for key, value in values.items():
                    comps.setdefault(key, []).append(value)
        means = {k: float(np.mean(v)) for k, v in comps.items()}
        passes = adapter.passes + (encoder.passes if encoder else 0) - before
        return Outcome(float(sum(means.values())), passes=passes, components=means)
