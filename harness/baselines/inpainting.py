"""Masking and inpainting (LMD style, Liu et al. 2023): u = median over masks of d(x, Inpaint(x, m, c*)).

Fixed masks at the latent resolution: a checkerboard and horizontal and vertical stripes, each with
its complement (1 = known, 0 = to inpaint). Inpainting uses the generator's own pipeline by latent
blending (RePaint-style): the latent is noised to `strength` (1.0 = pure noise), and after every
denoising step the known region is replaced with the original latent noised to the next level
(the clean latent after the last step). The decoded result is composited with the input in pixel
space (known pixels are the input's), so an all-known mask returns the input exactly. d is the same
normalised MSE + feature distance as the reconstruction baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources
from harness.baselines.features import encoder_identity, resolve_encoder_spec
from harness.baselines.reconstruction import image_distance
from harness.devices import versions
from harness.errors import PuncError

MASKS = ("checker", "checker_inv", "hstripes", "hstripes_inv", "vstripes", "vstripes_inv")


def make_mask(name: str, height: int, width: int, tiles: int = 4) -> np.ndarray:
    """A (height, width) float mask, 1 = known, in `tiles` cells per side."""
    rows = (np.arange(height) * tiles // max(height, 1)) % 2
    cols = (np.arange(width) * tiles // max(width, 1)) % 2
    base, _, inv = name.partition("_")
    if base == "checker":
        mask = (rows[:, None] + cols[None, :]) % 2
    elif base == "hstripes":
        mask = np.repeat(rows[:, None], width, axis=1)
    elif base == "vstripes":
        mask = np.repeat(cols[None, :], height, axis=0)
    elif base == "known":
        mask = np.ones((height, width))
    else:
        raise PuncError(f"baseline inpainting: unknown mask {name!r}; known: {MASKS}")
    mask = mask.astype(np.float32)
    return 1.0 - mask if inv == "inv" else mask


def inpaint(
    adapter: Any,
    image: Image.Image,
    known_mask: np.ndarray,
    text: str,
    steps: int = 8,
    seed: int = 0,
    strength: float = 1.0,
    guidance: float = 1.0,
) -> Image.Image:
    """Inpaint the unknown region (mask 0, latent resolution) of `image`; known pixels are kept."""
    torch = adapter.torch
    x = adapter.images_to_tensor([image])
    z0 = adapter.encode(x)
    mask = np.asarray(known_mask, dtype=np.float32)
    if mask.shape != tuple(z0.shape[-2:]):
        raise PuncError(f"inpainting mask shape {mask.shape}, latent shape {tuple(z0.shape[-2:])}")
    if mask.min() >= 1.0:
        return image.convert("RGB").copy()
    m = torch.from_numpy(mask)[None, None]
    z = adapter.denoise_from(z0, text, strength, steps, seed=seed, guidance=guidance, known_mask=m)
    decoded = adapter.decode(z)
    f = adapter.vae_scale_factor
    m_pix = torch.from_numpy(np.kron(mask, np.ones((f, f), dtype=np.float32)))[None, None]
    if m_pix.shape[-2:] != x.shape[-2:]:
        m_pix = torch.nn.functional.interpolate(m_pix, size=x.shape[-2:], mode="nearest")
    return adapter.tensor_to_images(m_pix * x + (1.0 - m_pix) * decoded)[0]


def inpainting_distance(
    adapter: Any,
    image: Image.Image,
    known_mask: np.ndarray,
    text: str,
    steps: int = 8,
    seed: int = 0,
    encoder: Any = None,
    strength: float = 1.0,
    guidance: float = 1.0,
) -> dict[str, float]:
    return image_distance(
        image, inpaint(adapter, image, known_mask, text, steps, seed, strength, guidance), encoder
    )


class Inpainting(Baseline):
    """Distance of each image to its masked-and-inpainted versions by the generator pipeline."""

    kind: ClassVar[str] = "inpainting"
    needs_pipeline: ClassVar[bool] = True

    def __init__(
        self,
        resources: Resources | None = None,
        masks: Sequence[str] = MASKS,
        tiles: int = 4,
        steps: int = 8,
        strength: float = 1.0,
        images: int = 1,
        guidance: float = 1.0,
        seed: int = 0,
        encoder: str | None = None,
        feature: bool = True,
    ) -> None:
        super().__init__(resources)
        self.masks = tuple(masks)
        for name in self.masks:
            make_mask(name, 2, 2)
        self.tiles, self.steps, self.strength = int(tiles), int(steps), float(strength)
        self.images, self.guidance, self.seed = int(images), float(guidance), int(seed)
        self.feature = bool(feature)
        self._encoder_path = resolve_encoder_spec(encoder) if self.feature else None

    def signature(self) -> str:
        from harness.generators.identity import generator_identity

        gen = generator_identity(self.resources.generator_spec) if self.resources.generator_spec else "none"
        enc = encoder_identity(self._encoder_path) if self._encoder_path else "none"
        return (
            f"inpainting:masks={','.join(self.masks)}:tiles={self.tiles}:steps={self.steps}"
            f":strength={self.strength:g}:images={self.images}:guidance={self.guidance:g}:seed={self.seed}"
            f":blend=repaint-latent+pixel-composite:agg=median:d=nmse+feature:encoder={enc}:generator={gen}"
            f":{versions('diffusers', 'transformers', 'torch')}"
        )

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        adapter = self.resources.adapter()
        encoder = self.resources.encoder(self._encoder_path) if self.feature else None
        before = adapter.passes + (encoder.passes if encoder else 0)
        per_mask: list[dict[str, float]] = []
        for m_index, name in enumerate(self.masks):
            comps: dict[str, list[float]] = {}
            for index, image in enumerate(images[: self.images]):
                w, h = image.size
                f = adapter.vae_scale_factor
                mask = make_mask(name, h // f, w // f, self.tiles)
                seed = self.seed + 1000 * index + m_index
                d = inpainting_distance(
                    adapter, image, mask, prompt_text, self.steps, seed, encoder, self.strength, self.guidance
                )
                for key, value in d.items():
                    comps.setdefault(key, []).append(value)
            per_mask.append({k: float(np.mean(v)) for k, v in comps.items()})
        totals = [sum(d.values()) for d in per_mask]
        components = {k: float(np.median([d[k] for d in per_mask])) for k in per_mask[0]}
        passes = adapter.passes + (encoder.passes if encoder else 0) - before
        return Outcome(float(np.median(totals)), passes=passes, components=components)
