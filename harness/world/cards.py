"""Write models/embedded/*/README.md model cards from each model's training_log.json.

python -m harness.world.cards"""

from __future__ import annotations

import json
from pathlib import Path

from .models import GENERATOR_LONG, GENERATOR_SHORT, JUDGE


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


GEN_TEXT = """# {name}: embedded-world generator ({length} training)

A tiny latent text-to-image pipeline (diffusers `StableDiffusionPipeline`) for punc-harness's
offline embedded world. Not a general model: it draws 32x32 scenes of ONE object on a plain
background.

- Components: `AutoencoderKL` (32x32x3 <-> 8x8x4, channels 16/32/64), `UNet2DConditionModel`
  (8x8 -> 4x4 -> 2x2, channels 32/64/64, cross-attention dim 64, v-prediction), `CLIPTextModel` (2 layers, width 64, 32 tokens),
  `CLIPTokenizer` written offline (whole words of the training vocabulary + single characters; world v2
  added one whole-word token for every other world word, with untrained embedding rows drawn from CLIP's
  initialisation: `harness/world/tokenizer.py`),
  `DPMSolverMultistepScheduler`; `safety_checker=None`, `requires_safety_checker=False`.
- Trained on: renders from `harness/world/render.py` of shapes circle, square, triangle, star,
  cross; colours red, green, blue, yellow, white; sizes small/large; positions top left, top right,
  bottom left, bottom right, center; plain background only; prompts in the judge's template with
  random attributes left open (50 % full, 25 % one open, 15 % two+ open, 10 % empty); all
  evaluation prompt texts excluded.
- Never seen: diamond, heart, ring; purple, orange, black; striped/dotted/checkered backgrounds;
  two-object scenes.
- **Deliberate bias**: prompt names no colour and the shape is a circle -> red with probability 0.8
  (else uniform over green, blue, yellow, white); other shapes with no colour -> uniform over the 5 colours.
- UNet/text-encoder steps: {total_unet_steps} in total (batch {batch}); VAE steps: {vae_steps}; seed {seed}.
- Training time measured here (2 CPU cores shared with other jobs): {time_text}
- Size: {size:.2f} MB on disk.
- How it was built (exact commands, in order):
{lineage}
- One-command rebuild (trains its own VAE; equivalent, not bit-identical; its long checkpoint has
  2000 UNet steps): `python scripts/train_world_generator.py --out-dir models/embedded`

Usage:
```python
import torch
from diffusers import DiffusionPipeline
pipe = DiffusionPipeline.from_pretrained("models/embedded/{name}")
imgs = pipe(prompt=["a small red circle at the top left"], num_inference_steps=15, guidance_scale=4.0,
            generator=[torch.Generator().manual_seed(0)], height=32, width=32, output_type="pil").images
```
"""

JUDGE_TEXT = """# judge: embedded-world image captioner

A tiny transformers `VisionEncoderDecoderModel` (ViT encoder 32x32, patch 4, width 96, 3 layers +
GPT-2 decoder width 96, 2 layers, cross-attention) with `ViTImageProcessor` and a word-level
`PreTrainedTokenizerFast`. It always writes the world's caption template (it takes no instruction):
`a {{size}} {{colour}} {{shape}} at the {{position}}[ and a ...][ on a {{background}} background]`.

- Trained on: renders of the WHOLE vocabulary (8 shapes, 8 colours, 2 sizes, 5 positions,
  4 backgrounds, 1 or 2 objects, {n_train} images) with blur, brightness and noise augmentation.
- Steps: {steps} (batch {batch}), seed {seed}; held-out exact-caption match at the end of training: {em:.3f}.
- Training time measured here (2 shared CPU cores, {threads} torch threads): {train_seconds:.0f} s.
- Size: {size:.2f} MB on disk.
- Rebuild: `{command}`

Usage:
```python
from transformers import AutoImageProcessor, AutoTokenizer, VisionEncoderDecoderModel
m = VisionEncoderDecoderModel.from_pretrained("models/embedded/judge")  # or AutoModelForImageTextToText
proc = AutoImageProcessor.from_pretrained("models/embedded/judge")
tok = AutoTokenizer.from_pretrained("models/embedded/judge")
ids = m.generate(pixel_values=proc(images=[img], return_tensors="pt").pixel_values, max_new_tokens=32)
print(tok.batch_decode(ids, skip_special_tokens=True))
```
"""


def main() -> None:
    for path, length in ((GENERATOR_SHORT, "short"), (GENERATOR_LONG, "long")):
        log = json.loads((path / "training_log.json").read_text())
        lin = log.get("lineage", [log["command"]])
        (path / "README.md").write_text(
            GEN_TEXT.format(
                name=path.name,
                length=length,
                size=_size_mb(path),
                lineage="\n".join(f"  {i + 1}. `{c}`" for i, c in enumerate(lin)),
                total_unet_steps=log.get("total_unet_steps", log["unet_steps"]),
                time_text=log.get("time_text", f"{log['train_seconds']:.0f} s"),
                **{k: v for k, v in log.items() if k not in ("lineage", "total_unet_steps", "time_text")},
            )
        )
    log = json.loads((JUDGE / "training_log.json").read_text())
    (JUDGE / "README.md").write_text(
        JUDGE_TEXT.format(size=_size_mb(JUDGE), em=log["heldout_exact_match"], **log)
    )
    for p in (GENERATOR_SHORT, GENERATOR_LONG, JUDGE):
        print(p, f"{_size_mb(p):.2f} MB")


if __name__ == "__main__":
    main()
