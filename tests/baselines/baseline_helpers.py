"""Tiny models and images for the baseline tests: a StableDiffusionPipeline and a ViT encoder-decoder (the shape
of the embedded judge), both random weights built offline from configs, built once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tiny_judges import build_tiny_captioner  # noqa: F401  (re-exported for conftest)
from tiny_pipelines import build_tiny_sd_pipeline  # noqa: F401  (re-exported for conftest)


def structured_image(seed: int, size: int = 16) -> Image.Image:
    """A smooth random image (blocks of colour), so noise-perturbed copies differ measurably."""
    rng = np.random.default_rng(seed)
    blocks = rng.uniform(0, 255, (4, 4, 3))
    arr = np.kron(blocks, np.ones((size // 4, size // 4, 1)))
    return Image.fromarray(arr.astype(np.uint8))


def perturbed(image: Image.Image, sigma: float, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = np.asarray(image, dtype=np.float64) + rng.normal(0, sigma * 255, np.asarray(image).shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def build_tiny_pixel_pipeline(path: Path, size: int = 16, seed: int = 0) -> Path:
    """A DDPMPipeline (pixel space, unconditional UNet2DModel) of tiny random weights."""
    import torch
    from diffusers import DDIMScheduler, DDPMPipeline, UNet2DModel

    torch.manual_seed(seed)
    unet = UNet2DModel(
        sample_size=size,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=4,
    )
    DDPMPipeline(
        unet=unet, scheduler=DDIMScheduler(num_train_timesteps=100, clip_sample=False)
    ).save_pretrained(path)
    return path
