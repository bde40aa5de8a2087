"""Thin helpers to load and run the shipped embedded-world models (plain from_pretrained)."""

from __future__ import annotations

from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models" / "embedded"
GENERATOR_SHORT = MODELS / "generator-short"
GENERATOR_LONG = MODELS / "generator-long"
JUDGE = MODELS / "judge"
DEFAULT_STEPS = 15
DEFAULT_GUIDANCE = 4.0


def load_generator(path: str | Path = GENERATOR_LONG):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(path))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generate(
    pipe,
    prompts: list[str],
    seeds: list[int],
    steps: int = DEFAULT_STEPS,
    guidance: float = DEFAULT_GUIDANCE,
    batch: int = 128,
):
    """One image per (prompt, seed) pair, batched; returns a list of 32x32 PIL images."""
    out = []
    for i in range(0, len(prompts), batch):
        ps, ss = prompts[i : i + batch], seeds[i : i + batch]
        gens = [torch.Generator().manual_seed(int(s)) for s in ss]
        with torch.no_grad():
            out += pipe(
                prompt=ps,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=gens,
                height=32,
                width=32,
                output_type="pil",
            ).images
    return out


def load_judge(path: str | Path = JUDGE):
    from transformers import AutoImageProcessor, AutoTokenizer, VisionEncoderDecoderModel

    model = VisionEncoderDecoderModel.from_pretrained(str(path)).eval()
    return model, AutoImageProcessor.from_pretrained(str(path)), AutoTokenizer.from_pretrained(str(path))


def caption_images(judge, images, batch: int = 256, max_new_tokens: int = 32) -> list[str]:
    model, proc, tok = judge
    out: list[str] = []
    for i in range(0, len(images), batch):
        pv = proc(images=images[i : i + batch], return_tensors="pt").pixel_values
        with torch.no_grad():
            ids = model.generate(pixel_values=pv, max_new_tokens=max_new_tokens)
        out += [t.strip() for t in tok.batch_decode(ids, skip_special_tokens=True)]
    return out
