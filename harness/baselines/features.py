"""Image encoders for the image-space baselines: one feature vector per image.

`ImageEncoder.load(spec)` accepts
- a CLIP checkpoint (hub id or folder): the projected image embedding (`get_image_features`);
- a VisionEncoderDecoderModel folder (the embedded judge at models/embedded/judge): its vision
  encoder, last hidden state mean-pooled over tokens;
- any other transformers vision model (ViT, DINOv2, ...): last hidden state mean-pooled.
The offline default is the embedded judge's vision encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from harness.errors import PuncError

DEFAULT_ENCODER = "models/embedded/judge"


def resolve_encoder_spec(spec: str | None) -> str:
    """A local folder (relative to the working directory or the checkout) or a hub id, as given."""
    from harness.locate import find_shipped

    value = spec or DEFAULT_ENCODER
    if Path(value).exists():
        return str(Path(value).resolve())
    found = find_shipped(value)
    if found is not None:
        return str(found.resolve())
    if spec is None:
        raise PuncError(
            f"the default image encoder {DEFAULT_ENCODER} (the embedded judge) was not found; "
            "pass encoder=<CLIP hub id or folder> in the baseline's params"
        )
    return value


def encoder_identity(spec: str) -> str:
    """What the signature records: folder name plus content identity, or the hub id."""
    from harness.fingerprint import local_model_identity

    local = local_model_identity(spec) if Path(spec).exists() else None
    return f"{Path(spec).name}@{local}" if local else spec


class ImageEncoder:
    """Frozen image encoder on one device; `encode` returns float64 features of shape (N, D)."""

    def __init__(self, model: Any, processor: Any, kind: str, device: str, image_size: int | None) -> None:
        self.model = model
        self.processor = processor
        self.kind = kind
        self.device = device
        self.image_size = image_size
        self.passes = 0  # forward passes so far (one per batch of images)

    @classmethod
    def load(cls, spec: str | None = None, device: str | None = None) -> ImageEncoder:
        from harness.devices import pick_device
        from harness.hub import resolve_model_source

        path = resolve_encoder_spec(spec)
        device = pick_device(device, mps=True)
        resolve_model_source(path, what="image encoder")
        import transformers

        try:
            config = transformers.AutoConfig.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise PuncError(f"image encoder '{path}': no readable transformers config ({exc})") from None
        processor = None
        try:
            processor = transformers.AutoImageProcessor.from_pretrained(path)
        except (OSError, ValueError, KeyError):
            processor = None
        kind = config.model_type
        try:
            if kind == "vision-encoder-decoder":
                model = transformers.VisionEncoderDecoderModel.from_pretrained(path).get_encoder()
            elif kind == "clip":
                model = transformers.CLIPModel.from_pretrained(path)
            elif kind == "clip_vision_model":
                model = transformers.CLIPVisionModelWithProjection.from_pretrained(path)
            else:
                model = transformers.AutoModel.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise PuncError(f"image encoder '{path}': could not load ({exc})") from None
        model = model.to(device).eval()
        vision_config = getattr(config, "encoder", None) or getattr(config, "vision_config", None) or config
        size = getattr(vision_config, "image_size", None)
        return cls(model, processor, kind, device, size if isinstance(size, int) else None)

    @classmethod
    def from_model(
        cls, model: Any, image_size: int, processor: Any = None, kind: str = "vit"
    ) -> ImageEncoder:
        """Wrap an in-memory vision model (tests, notebooks)."""
        return cls(model.eval(), processor, kind, str(next(model.parameters()).device), image_size)

    def _pixels(self, images: Sequence[Image.Image]) -> Any:
        import torch

        rgb = [im.convert("RGB") for im in images]
        if self.processor is not None:
            return self.processor(images=rgb, return_tensors="pt")["pixel_values"]
        size = self.image_size or 224
        arrays = [np.asarray(im.resize((size, size), Image.BICUBIC), dtype=np.float32) / 255.0 for im in rgb]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
        return batch * 2.0 - 1.0

    def encode(self, images: Sequence[Image.Image], batch_size: int = 32) -> np.ndarray:
        import torch

        out = []
        dtype = next(self.model.parameters()).dtype
        for start in range(0, len(images), batch_size):
            pixels = self._pixels(images[start : start + batch_size]).to(self.device, dtype)
            with torch.inference_mode():
                if self.kind == "clip":
                    feats = self.model.get_image_features(pixel_values=pixels)
                    feats = getattr(feats, "pooler_output", feats)
                elif self.kind == "clip_vision_model":
                    feats = self.model(pixel_values=pixels).image_embeds
                else:
                    feats = self.model(pixel_values=pixels).last_hidden_state.mean(dim=1)
            self.passes += 1
            out.append(feats.float().cpu().numpy().astype(np.float64))
        return np.concatenate(out, axis=0)


def cosine_matrix(features: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.maximum(norm, 1e-12)
    return unit @ unit.T


def feature_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 − cosine similarity of two feature vectors (0 for identical features)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return 0.0 if np.allclose(a, b) else 1.0
    return float(max(0.0, 1.0 - np.dot(a, b) / (na * nb)))
