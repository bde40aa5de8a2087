"""Tiny models and images for the baseline tests: a StableDiffusionPipeline and a ViT encoder-decoder (the shape
of the embedded judge), both random weights built offline from configs, built once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tiny_pipelines import build_tiny_sd_pipeline  # noqa: F401  (re-exported for conftest)


def build_tiny_vit_judge(path: Path, seed: int = 0) -> Path:
    """A VisionEncoderDecoderModel (tiny ViT + tiny GPT-2), the shape of the embedded judge."""
    import torch
    from transformers import (
        GPT2Config,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    torch.manual_seed(seed)
    encoder = ViTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        image_size=32,
        patch_size=8,
    )
    decoder = GPT2Config(
        vocab_size=16, n_positions=32, n_embd=32, n_layer=1, n_head=2, add_cross_attention=True
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    VisionEncoderDecoderModel(config=config).save_pretrained(path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


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
