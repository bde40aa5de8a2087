"""Tiny text-to-image pipelines of real diffusers architectures, random weights, built offline from configs.

The shapes follow diffusers' own test suites (get_dummy_components), shrunk to 1 layer and 8-32 channels.
Text-encoder tokenizers are built offline too (a character-level CLIP BPE; word- or character-level fast
tokenizers standing in for T5 and Qwen sentencepiece/BPE files that would need a download).
Each builder saves the pipeline with save_pretrained into `path` and returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tiny_tokenizers import char_tokenizer, clip_tokenizer, t5_style_tokenizer

QWEN_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _clip_text(tokenizer, hidden: int = 16, with_projection: bool = False):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=77,
        projection_dim=hidden,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    return (CLIPTextModelWithProjection if with_projection else CLIPTextModel)(config)


def _t5(vocab_size: int, d_model: int = 32):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(
            vocab_size=vocab_size,
            d_model=d_model,
            d_kv=8,
            d_ff=2 * d_model,
            num_layers=1,
            num_heads=2,
            pad_token_id=0,
            eos_token_id=1,
        )
    )


def _vae(latent_channels: int = 4, flow: bool = False):
    from diffusers import AutoencoderKL

    extra = {"use_quant_conv": False, "use_post_quant_conv": False, "shift_factor": 0.06} if flow else {}
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        latent_channels=latent_channels,
        norm_num_groups=4,
        sample_size=32,
        **extra,
    )


def _unet(cross_attention_dim: int = 16, **extra):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=2,
        norm_num_groups=4,
        **extra,
    )


def build_sd15(path: Path, seed: int = 0) -> Path:
    """StableDiffusionPipeline (SD 1.5 layout): CLIP text encoder, UNet, KL VAE, DDIM."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    _seed(seed)
    tokenizer = clip_tokenizer(path.parent / f"{path.name}-tokenizer")
    scheduler = DDIMScheduler(
        num_train_timesteps=100, beta_schedule="linear", clip_sample=False, steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=_clip_text(tokenizer),
        tokenizer=tokenizer,
        unet=_unet(),
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path)
    return path


def build_sdxl(path: Path, seed: int = 0) -> Path:
    """StableDiffusionXLPipeline: two CLIP encoders (one with projection), text-time added conditions."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline

    _seed(seed)
    tokenizer = clip_tokenizer(path.parent / f"{path.name}-tokenizer")
    unet = _unet(
        cross_attention_dim=32,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=8 * 6 + 16,
        use_linear_projection=True,
    )
    pipe = StableDiffusionXLPipeline(
        vae=_vae(),
        text_encoder=_clip_text(tokenizer),
        text_encoder_2=_clip_text(tokenizer, with_projection=True),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(num_train_timesteps=100),
    )
    pipe.save_pretrained(path)
    return path


def build_lcm(path: Path, seed: int = 0) -> Path:
    """LatentConsistencyModelPipeline: a UNet with a guidance embedding (time_cond_proj_dim), LCM scheduler."""
    from diffusers import LatentConsistencyModelPipeline, LCMScheduler

    _seed(seed)
    tokenizer = clip_tokenizer(path.parent / f"{path.name}-tokenizer")
    pipe = LatentConsistencyModelPipeline(
        vae=_vae(),
        text_encoder=_clip_text(tokenizer),
        tokenizer=tokenizer,
        unet=_unet(time_cond_proj_dim=8),
        scheduler=LCMScheduler(num_train_timesteps=100, beta_schedule="linear"),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path)
    return path


def _pixart_transformer():
    from diffusers import PixArtTransformer2DModel

    return PixArtTransformer2DModel(
        sample_size=16,
        num_layers=1,
        patch_size=2,
        attention_head_dim=8,
        num_attention_heads=2,
        caption_channels=32,
        in_channels=4,
        cross_attention_dim=16,
        out_channels=8,
        attention_bias=True,
        activation_fn="gelu-approximate",
        num_embeds_ada_norm=1000,
        norm_type="ada_norm_single",
        norm_elementwise_affine=False,
        norm_eps=1e-6,
    )


def build_pixart_alpha(path: Path, seed: int = 0) -> Path:
    """PixArtAlphaPipeline: T5 text encoder, DiT with ada-norm-single. Needs use_resolution_binning: false
    at this tiny size (binning knows only sample sizes 32/64/128)."""
    from diffusers import DDIMScheduler, PixArtAlphaPipeline

    _seed(seed)
    tokenizer, vocab = t5_style_tokenizer()
    pipe = PixArtAlphaPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5(vocab),
        vae=_vae(),
        transformer=_pixart_transformer(),
        scheduler=DDIMScheduler(num_train_timesteps=100),
    )
    pipe.save_pretrained(path)
    return path


def build_pixart_sigma(path: Path, seed: int = 0) -> Path:
    """PixArtSigmaPipeline (same DiT family, Sigma's pipeline and defaults)."""
    from diffusers import DPMSolverMultistepScheduler, PixArtSigmaPipeline

    _seed(seed)
    tokenizer, vocab = t5_style_tokenizer()
    pipe = PixArtSigmaPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5(vocab),
        vae=_vae(),
        transformer=_pixart_transformer(),
        scheduler=DPMSolverMultistepScheduler(num_train_timesteps=100),
    )
    pipe.save_pretrained(path)
    return path


def build_sd3(path: Path, seed: int = 0) -> Path:
    """StableDiffusion3Pipeline: two CLIP encoders with projection, T5, MMDiT, flow-matching Euler."""
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline

    _seed(seed)
    clip_tok = clip_tokenizer(path.parent / f"{path.name}-tokenizer")
    t5_tok, vocab = t5_style_tokenizer()
    transformer = SD3Transformer2DModel(
        sample_size=16,
        patch_size=1,
        in_channels=4,
        num_layers=1,
        attention_head_dim=8,
        num_attention_heads=2,
        caption_projection_dim=16,
        joint_attention_dim=32,
        pooled_projection_dim=32,
        out_channels=4,
        pos_embed_max_size=32,
    )
    pipe = StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=_vae(flow=True),
        text_encoder=_clip_text(clip_tok, with_projection=True),
        tokenizer=clip_tok,
        text_encoder_2=_clip_text(clip_tok, with_projection=True),
        tokenizer_2=clip_tok,
        text_encoder_3=_t5(vocab),
        tokenizer_3=t5_tok,
    )
    pipe.save_pretrained(path)
    return path


def _build_flux(path: Path, seed: int, guidance_embeds: bool) -> Path:
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    _seed(seed)
    clip_tok = clip_tokenizer(path.parent / f"{path.name}-tokenizer")
    t5_tok, vocab = t5_style_tokenizer()
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=16,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=8,
        num_attention_heads=2,
        joint_attention_dim=32,
        pooled_projection_dim=16,
        guidance_embeds=guidance_embeds,
        axes_dims_rope=(2, 2, 4),
    )
    pipe = FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=_vae(flow=True),
        text_encoder=_clip_text(clip_tok),
        tokenizer=clip_tok,
        text_encoder_2=_t5(vocab),
        tokenizer_2=t5_tok,
        transformer=transformer,
    )
    pipe.save_pretrained(path)
    return path


def build_flux_dev(path: Path, seed: int = 0) -> Path:
    """FluxPipeline, FLUX.1-dev layout: guidance is a distilled embedding, true CFG via true_cfg_scale."""
    return _build_flux(path, seed, guidance_embeds=True)


def build_flux_schnell(path: Path, seed: int = 0) -> Path:
    """FluxPipeline, FLUX.1-schnell layout: no guidance embedding (guidance_scale is ignored)."""
    return _build_flux(path, seed, guidance_embeds=False)


def build_flux2_klein(path: Path, seed: int = 0) -> Path:
    """Flux2KleinPipeline: Qwen3 text encoder, Flux2 transformer, Flux2 VAE; takes no negative_prompt.
    Needs text_encoder_out_layers: [1] (one text-encoder layer instead of 36)."""
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    _seed(seed)
    tokenizer, vocab = char_tokenizer(QWEN_CHAT_TEMPLATE)
    text_encoder = Qwen3ForCausalLM(
        Qwen3Config(
            vocab_size=vocab,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=8,
            max_position_embeddings=1024,
            pad_token_id=0,
        )
    )
    transformer = Flux2Transformer2DModel(
        patch_size=1,
        in_channels=16,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=8,
        num_attention_heads=2,
        joint_attention_dim=16,
        timestep_guidance_channels=16,
        axes_dims_rope=(2, 2, 2, 2),
        guidance_embeds=False,
    )
    vae = AutoencoderKLFlux2(
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=32,
    )
    pipe = Flux2KleinPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        is_distilled=False,
    )
    pipe.save_pretrained(path)
    return path


def build_qwenimage(path: Path, seed: int = 0) -> Path:
    """QwenImagePipeline: Qwen2.5-VL text encoder, QwenImage MMDiT, causal-3D VAE; CFG via true_cfg_scale."""
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImagePipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    _seed(seed)
    tokenizer, vocab = char_tokenizer(QWEN_CHAT_TEMPLATE)
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": vocab,
            "hidden_size": 16,
            "intermediate_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "rope_parameters": {"mrope_section": [1, 1, 2], "rope_type": "default", "rope_theta": 1e6},
        },
        vision_config={
            "depth": 1,
            "hidden_size": 16,
            "intermediate_size": 16,
            "num_heads": 2,
            "out_hidden_size": 16,
        },
        vocab_size=vocab,
        vision_start_token_id=vocab + 1,
        vision_end_token_id=vocab + 2,
        vision_token_id=vocab + 3,
        image_token_id=vocab + 4,
        video_token_id=vocab + 5,
    )
    text_encoder = Qwen2_5_VLForConditionalGeneration(config)
    transformer = QwenImageTransformer2DModel(
        patch_size=2,
        in_channels=16,
        out_channels=4,
        num_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=16,
        guidance_embeds=False,
        axes_dims_rope=(8, 4, 4),
    )
    vae = AutoencoderKLQwenImage(
        base_dim=24,
        z_dim=4,
        dim_mult=[1, 2, 4],
        num_res_blocks=1,
        temperal_downsample=[False, True],
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    )
    pipe = QwenImagePipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
    pipe.save_pretrained(path)
    return path


#: architecture -> (builder, generator_kwargs a tiny model of it needs, image side in pixels)
SINGLE_FILE_CONFIG = "sd15-single-file-config"


def build_sd15_single_file(path: Path, seed: int = 0) -> Path:
    """SD1.5 as ONE original-layout `.safetensors` file (tests/single_file_checkpoints.py), with a weightless
    config folder `SINGLE_FILE_CONFIG` beside it; returns the file."""
    import shutil

    from single_file_checkpoints import strip_weights, write_original_sd15_checkpoint

    folder = build_sd15(path.parent / f"{path.name}-diffusers", seed)
    checkpoint = write_original_sd15_checkpoint(folder, path.parent / f"{path.name}.safetensors")
    strip_weights(Path(shutil.copytree(folder, path.parent / SINGLE_FILE_CONFIG)))
    return checkpoint


GENERATORS: dict[str, tuple[Callable[[Path, int], Path], dict, int]] = {
    "SD1.5": (build_sd15, {}, 32),
    "SDXL": (build_sdxl, {}, 32),
    "LCM": (build_lcm, {}, 32),
    "PixArt-α": (build_pixart_alpha, {"use_resolution_binning": False}, 32),
    "PixArt-Σ": (build_pixart_sigma, {"use_resolution_binning": False}, 32),
    "SD3": (build_sd3, {}, 32),
    "Flux-dev": (build_flux_dev, {}, 32),
    "Flux-schnell": (build_flux_schnell, {}, 32),
    "Flux2-klein": (build_flux2_klein, {"text_encoder_out_layers": [1]}, 32),
    "QwenImage": (build_qwenimage, {}, 32),
    # the config folder is task-relative: the matrix writes tasks one level above its models/ folder
    "SD1.5 single file": (build_sd15_single_file, {"config": f"models/{SINGLE_FILE_CONFIG}"}, 32),
}
