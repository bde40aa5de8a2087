"""Tiny models and images for the baseline tests: a StableDiffusionPipeline and a ViT encoder-decoder (the shape
of the embedded judge), both random weights built offline from configs, built once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_clip_tokenizer(folder: Path) -> None:
    """A character-level CLIP BPE vocabulary written offline: every word tokenizes."""
    import json
    import string

    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + ".,!?'-")
    vocab: dict[str, int] = {}
    for token in ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]:
        vocab.setdefault(token, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77
    ).save_pretrained(folder)


def build_tiny_sd_pipeline(path: Path, seed: int = 0) -> Path:
    """StableDiffusionPipeline of tiny random parts: 16x16 images, 8x8x4 latents, DDIM (100 steps)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    tok_dir = path.parent / f"{path.name}-tokenizer"
    write_clip_tokenizer(tok_dir)
    tokenizer = CLIPTokenizer.from_pretrained(tok_dir)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        latent_channels=4,
        norm_num_groups=4,
        sample_size=16,
    )
    StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(num_train_timesteps=100, beta_schedule="linear", clip_sample=False),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    ).save_pretrained(path)
    return path


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
