"""Throughput of full-size architectures on one GPU: batched generation and captioning against naive loops.

Random weights cost the same FLOPs as trained ones, so every model is built from its published
configuration (nothing is downloaded): the Stable Diffusion 1.5 pipeline (UNet, VAE, CLIP text
encoder) at 512x512, a Qwen2-VL-2B judge, and, with --sdxl, the SDXL UNet at 1024x1024. Each
comparison runs in one process on the same inputs and prints its ratio:

- images/s: the batched pipeline call punc's diffusers generator makes (one CPU torch.Generator per
  image, a list of prompts per call) against a loop that makes one image per call;
- captions/s: one batched greedy `generate` over B images against B calls of one image each;
- denoiser model-FLOPs utilisation: FLOPs of one UNet forward counted by torch's FlopCounterMode on
  the architecture built from the config, times forwards per second, over the GPU's dense bf16 peak.

    python scripts/bench_gpu.py --out benchmarks/gpu-h200.json            # on a GPU (bf16)
    python scripts/bench_gpu.py --tiny --out /tmp/gpu-tiny.json           # smoke test on CPU
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

H200_DENSE_BF16_PEAK = 989e12  # NVIDIA's H100/H200 SXM datasheet, dense (no sparsity)
H200_MEASURED_MATMUL = 788e12  # 8192^3 bf16 matmul on random data, measured on this workplace's H200s


def sd15_unet_config(tiny: bool) -> dict[str, Any]:
    """runwayml/stable-diffusion-v1-5 unet/config.json (the fields that shape compute)."""
    if tiny:
        return {
            "sample_size": 8,
            "block_out_channels": (32, 64),
            "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
            "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
            "cross_attention_dim": 32,
            "attention_head_dim": 8,
            "layers_per_block": 1,
            "norm_num_groups": 32,
        }
    return {
        "sample_size": 64,
        "in_channels": 4,
        "out_channels": 4,
        "block_out_channels": (320, 640, 1280, 1280),
        "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        "cross_attention_dim": 768,
        "attention_head_dim": 8,
        "layers_per_block": 2,
        "norm_num_groups": 32,
    }


def sd15_vae_config(tiny: bool) -> dict[str, Any]:
    channels = (32, 64) if tiny else (128, 256, 512, 512)
    return {
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": 4,
        "block_out_channels": channels,
        "down_block_types": ("DownEncoderBlock2D",) * len(channels),
        "up_block_types": ("UpDecoderBlock2D",) * len(channels),
        "layers_per_block": 1 if tiny else 2,
        "norm_num_groups": 32,
        "sample_size": 16 if tiny else 512,
    }


def clip_text_config(tiny: bool):
    from transformers import CLIPTextConfig

    if tiny:
        return CLIPTextConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=1000
        )
    # openai/clip-vit-large-patch14 text tower, the SD1.5 text encoder
    return CLIPTextConfig(
        hidden_size=768,
        intermediate_size=3072,
        num_hidden_layers=12,
        num_attention_heads=12,
        vocab_size=49408,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        projection_dim=768,
    )


def sdxl_unet_config() -> dict[str, Any]:
    """stabilityai/stable-diffusion-xl-base-1.0 unet/config.json (the fields that shape compute)."""
    return {
        "sample_size": 128,
        "block_out_channels": (320, 640, 1280),
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        "transformer_layers_per_block": (1, 2, 10),
        "attention_head_dim": (5, 10, 20),
        "cross_attention_dim": 2048,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,
        "use_linear_projection": True,
        "layers_per_block": 2,
    }


def qwen2_vl_2b_config(tiny: bool):
    """Qwen/Qwen2-VL-2B-Instruct config.json (vision tower, merger and the 1.5B language model)."""
    from transformers import Qwen2VLConfig

    if tiny:
        text = {
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "vocab_size": 151936,
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 1e6},
        }
        vision = {"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 4}
    else:
        text = {
            "hidden_size": 1536,
            "intermediate_size": 8960,
            "num_hidden_layers": 28,
            "num_attention_heads": 12,
            "num_key_value_heads": 2,
            "vocab_size": 151936,
            "max_position_embeddings": 32768,
            "rms_norm_eps": 1e-6,
            "rope_parameters": {"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1e6},
        }
        vision = {"depth": 32, "embed_dim": 1280, "hidden_size": 1536, "num_heads": 16, "mlp_ratio": 4}
    return Qwen2VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=True)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, fn: Callable[[], Any]) -> float:
    synchronize(device)
    started = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - started


def release(device: str) -> None:
    """Free the last benchmark's models before the next one is built."""
    import gc

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def count_flops(fn: Callable[[], Any]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        fn()
    return int(counter.get_total_flops())


# -- generation -------------------------------------------------------------------------------------
def build_sd15(device: str, dtype: torch.dtype, tiny: bool):
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    with torch.device(device):
        unet = UNet2DConditionModel(**sd15_unet_config(tiny)).to(dtype)
        vae = AutoencoderKL(**sd15_vae_config(tiny)).to(dtype)
        text_encoder = CLIPTextModel(clip_text_config(tiny)).to(dtype)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=None,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def bench_generation(args: argparse.Namespace, device: str, dtype: torch.dtype) -> dict[str, Any]:
    pipe = build_sd15(device, dtype, args.tiny)
    vocab = pipe.text_encoder.config.vocab_size
    seq = 77 if not args.tiny else 16
    size = 512 if not args.tiny else 64
    token_rows = torch.randint(
        0, vocab, (max(args.images, args.naive_images), seq), generator=torch.Generator().manual_seed(1)
    )
    empty_row = torch.zeros((1, seq), dtype=torch.long)

    def encode(ids: torch.Tensor) -> torch.Tensor:
        return pipe.text_encoder(ids.to(device))[0]

    def make(indices: list[int]) -> list[Any]:
        prompt_embeds = encode(token_rows[indices])
        negative = encode(empty_row.expand(len(indices), -1))
        generators = [torch.Generator("cpu").manual_seed(1000 + i) for i in indices]
        return pipe(
            prompt_embeds=prompt_embeds,
            negative_prompt_embeds=negative,
            generator=generators,
            num_inference_steps=args.steps,
            guidance_scale=7.5,
            width=size,
            height=size,
            output_type="pil",
        ).images

    batch = args.gen_batch
    with torch.inference_mode():
        make(list(range(min(batch, 2))))  # warm-up: kernels, allocator
        make([0])
        naive_s = timed(device, lambda: [make([i]) for i in range(args.naive_images)])
        batched_s = timed(
            device, lambda: [make(list(range(s, s + batch))) for s in range(0, args.images, batch)]
        )
    # denoiser alone: FLOPs of one forward from the architecture, then forwards/s at the batched size
    unet = pipe.unet
    latent = size // 8
    cross = pipe.text_encoder.config.hidden_size
    cfg_batch = 2 * batch

    def unet_inputs(n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (
            torch.randn(n, 4, latent, latent, device=device, dtype=dtype),
            torch.full((n,), 500, device=device),
            torch.randn(n, seq, cross, device=device, dtype=dtype),
        )

    one = unet_inputs(1)
    flops_per_sample = count_flops(lambda: unet(*one))
    many = unet_inputs(cfg_batch)
    with torch.inference_mode():
        for _ in range(2):
            unet(*many)
        reps = args.unet_reps
        unet_s = timed(device, lambda: [unet(*many) for _ in range(reps)])
    unet_flops_per_s = flops_per_sample * cfg_batch * reps / unet_s
    pipeline_denoiser_flops = flops_per_sample * 2 * args.steps * args.images
    return {
        "model": "Stable Diffusion 1.5 (UNet 860M, VAE, CLIP ViT-L/14 text), random weights from config",
        "resolution": size,
        "steps": args.steps,
        "guidance": 7.5,
        "scheduler": "DDIMScheduler",
        "batched_images": args.images,
        "batch_size": batch,
        "naive_images": args.naive_images,
        "batched_images_per_s": args.images / batched_s,
        "naive_images_per_s": args.naive_images / naive_s,
        "speedup_batched_vs_naive": (args.images / batched_s) / (args.naive_images / naive_s),
        "unet_flops_per_forward_per_sample": flops_per_sample,
        "unet_forward_batch": cfg_batch,
        "unet_forwards_timed": reps,
        "unet_tflops_per_s": unet_flops_per_s / 1e12,
        "unet_mfu_vs_dense_peak": unet_flops_per_s / H200_DENSE_BF16_PEAK,
        "unet_mfu_vs_measured_matmul": unet_flops_per_s / H200_MEASURED_MATMUL,
        "pipeline_denoiser_tflops_per_s": pipeline_denoiser_flops / batched_s / 1e12,
        "pipeline_denoiser_mfu_vs_dense_peak": pipeline_denoiser_flops / batched_s / H200_DENSE_BF16_PEAK,
    }


def bench_sdxl_unet(args: argparse.Namespace, device: str, dtype: torch.dtype) -> dict[str, Any]:
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    with torch.device(device):
        unet = UNet2DConditionModel(**sdxl_unet_config()).to(dtype)

    def inputs(n: int) -> tuple[tuple, dict]:
        return (
            torch.randn(n, 4, 128, 128, device=device, dtype=dtype),
            torch.full((n,), 500, device=device),
            torch.randn(n, 77, 2048, device=device, dtype=dtype),
        ), {
            "added_cond_kwargs": {
                "text_embeds": torch.randn(n, 1280, device=device, dtype=dtype),
                "time_ids": torch.randn(n, 6, device=device, dtype=dtype),
            }
        }

    a, kw = inputs(1)
    flops = count_flops(lambda: unet(*a, **kw))
    n = args.sdxl_batch
    a, kw = inputs(n)
    with torch.inference_mode():
        unet(*a, **kw)
        seconds = timed(device, lambda: [unet(*a, **kw) for _ in range(args.unet_reps)])
    rate = flops * n * args.unet_reps / seconds
    return {
        "model": "SDXL base UNet (2.6B), random weights from config, 1024x1024 (128x128 latents)",
        "flops_per_forward_per_sample": flops,
        "forward_batch": n,
        "tflops_per_s": rate / 1e12,
        "mfu_vs_dense_peak": rate / H200_DENSE_BF16_PEAK,
        "mfu_vs_measured_matmul": rate / H200_MEASURED_MATMUL,
        "seconds_per_image_at_30_steps_cfg": 2 * 30 * seconds / (n * args.unet_reps),
    }


# -- captioning -------------------------------------------------------------------------------------
def bench_captioning(args: argparse.Namespace, device: str, dtype: torch.dtype) -> dict[str, Any]:
    import numpy as np
    from transformers import (
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,  # the torchvision one where installed, else PIL
    )

    config = qwen2_vl_2b_config(args.tiny)
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2VLForConditionalGeneration(config).to(dtype).eval()
    parameters = sum(p.numel() for p in model.parameters())
    processor = Qwen2VLImageProcessor()
    size = 512 if not args.tiny else 56
    rng = np.random.default_rng(0)
    n = max(args.captions, args.naive_captions)
    images = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]
    text_tokens = rng.integers(0, 150000, (n, 24))

    def inputs(indices: list[int]) -> dict[str, torch.Tensor]:
        vision = processor(images=[images[i] for i in indices], return_tensors="pt")
        grid = vision["image_grid_thw"]
        image_tokens = int(grid[0].prod()) // processor.merge_size**2
        rows = [
            [*text_tokens[i][:16], config.vision_start_token_id]
            + [config.image_token_id] * image_tokens
            + [config.vision_end_token_id, *text_tokens[i][16:]]
            for i in indices
        ]
        ids = torch.tensor(rows, dtype=torch.long, device=device)
        return {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "pixel_values": vision["pixel_values"].to(device, dtype),
            "image_grid_thw": grid.to(device),
        }

    tokens = args.new_tokens

    def caption(indices: list[int]) -> torch.Tensor:
        return model.generate(
            **inputs(indices),
            max_new_tokens=tokens,
            min_new_tokens=tokens,  # random weights: no early end of sequence, every caption is `tokens` long
            do_sample=False,
            pad_token_id=0,
        )

    batch = args.cap_batch
    with torch.inference_mode():
        caption(list(range(min(batch, 2))))
        caption([0])
        naive_s = timed(device, lambda: [caption([i]) for i in range(args.naive_captions)])
        batched_s = timed(
            device, lambda: [caption(list(range(s, s + batch))) for s in range(0, args.captions, batch)]
        )
    return {
        "model": "Qwen2-VL-2B (vision tower 675M + Qwen2 1.5B), random weights from config",
        "parameters": parameters,
        "image_size": size,
        "new_tokens_per_caption": tokens,
        "batched_captions": args.captions,
        "batch_size": batch,
        "naive_captions": args.naive_captions,
        "batched_captions_per_s": args.captions / batched_s,
        "naive_captions_per_s": args.naive_captions / naive_s,
        "speedup_batched_vs_naive": (args.captions / batched_s) / (args.naive_captions / naive_s),
    }


def save(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tiny", action="store_true", help="tiny configs on CPU (a smoke test)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--naive-images", type=int, default=8)
    parser.add_argument("--gen-batch", type=int, default=8, help="punc's default GPU generation batch")
    parser.add_argument("--unet-reps", type=int, default=10)
    parser.add_argument("--captions", type=int, default=64)
    parser.add_argument("--naive-captions", type=int, default=8)
    parser.add_argument("--cap-batch", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--sdxl", action="store_true")
    parser.add_argument("--sdxl-batch", type=int, default=4)
    parser.add_argument("--only", choices=["generation", "captioning"], default=None)
    args = parser.parse_args()

    device = "cpu" if args.tiny or not torch.cuda.is_available() else "cuda"
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    if device == "cpu":
        torch.set_num_threads(1)
    record: dict[str, Any] = {
        "script": "scripts/bench_gpu.py",
        "command": "python scripts/bench_gpu.py " + " ".join(sys.argv[1:]),
        "device": torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu",
        "dtype": str(dtype).removeprefix("torch."),
        "peak_used_for_mfu": "989 TFLOP/s dense bf16 (H100/H200 SXM datasheet); also vs 788 TFLOP/s measured 8192^3 bf16 matmul",
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "tiny": args.tiny,
    }
    for name in ("diffusers", "transformers"):
        record["versions"][name] = __import__(name).__version__
    started = time.perf_counter()
    if args.only in (None, "generation"):
        record["generation"] = bench_generation(args, device, dtype)
        save(args.out, record)  # what was measured survives a failure further on
        print("generation", json.dumps(record["generation"], indent=1), flush=True)
        release(device)
    if args.only in (None, "captioning"):
        record["captioning"] = bench_captioning(args, device, dtype)
        save(args.out, record)  # what was measured survives a failure further on
        print("captioning", json.dumps(record["captioning"], indent=1), flush=True)
        release(device)
    if args.sdxl and device == "cuda":
        record["sdxl_unet"] = bench_sdxl_unet(args, device, dtype)
        save(args.out, record)  # what was measured survives a failure further on
        print("sdxl", json.dumps(record["sdxl_unet"], indent=1), flush=True)
    if device == "cuda":
        record["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    record["seconds"] = time.perf_counter() - started
    save(args.out, record)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
