"""Generation and captioning as punc runs them against the loops a user would write, on the same inputs.

    python scripts/bench_stages.py                       # 32 images of the embedded world, 1 thread
    python scripts/bench_stages.py --images 64 --threads 2

- generation: punc's diffusers generator (one batched pipeline call per batch, a CPU torch.Generator
  per image) against a loop of one `pipe(prompt, generator=...)` call per image, same prompts,
  seeds and settings as the task; also checks the two give the same images (max pixel difference);
- captioning: punc's transformers judge (batches from the judge YAML) against the same judge
  called with one image at a time; checks the captions are the same.

Both run in this process, on CPU, one after the other; prints images/s, captions/s and the ratios,
and writes benchmarks/stages-cpu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "stages-cpu.json")
    args = parser.parse_args()

    import numpy as np
    import torch

    from harness.config.judge import load_judge
    from harness.config.task import load_task
    from harness.generators import ImageRequest
    from harness.generators.diffusers_pipeline import DiffusersGenerator
    from harness.judges import build_judge
    from harness.judges.base import CaptionRequest

    torch.set_num_threads(args.threads)
    task = load_task(ROOT / "tasks" / "world_default.yaml")
    c = task.config
    prompts = [task.prompts[i % len(task.prompts)] for i in range(args.images)]
    requests = [
        ImageRequest(
            prompt_id=p.id, prompt_text=p.text, index=0, seed=c.seed_for(i), width=c.width, height=c.height,
            steps=c.steps, guidance=c.guidance,
        )
        for i, p in enumerate(prompts)
    ]  # fmt: skip
    generator = DiffusersGenerator(task.resolve_path(c.generator), device="cpu")
    batch = generator.batch_size
    pipe = generator.pipe

    def punc_generate() -> list:
        return [
            item.image
            for s in range(0, len(requests), batch)
            for item in generator.generate(requests[s : s + batch])
        ]

    def naive_generate() -> list:
        images = []
        with torch.inference_mode():
            for r in requests:
                out = pipe(
                    r.prompt_text, generator=torch.Generator("cpu").manual_seed(r.seed), num_inference_steps=r.steps,
                    guidance_scale=r.guidance, width=r.width, height=r.height,
                )  # fmt: skip
                images.append(out.images[0])
        return images

    generator.generate(requests[:2])  # warm-up
    started = time.perf_counter()
    batched_images = punc_generate()
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    naive_images = naive_generate()
    naive_s = time.perf_counter() - started
    pixel_gap = max(
        int(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max())
        for a, b in zip(batched_images, naive_images, strict=True)
    )
    generator.close()

    judge_config = load_judge(task.resolve_path(c.judge))
    judge = build_judge(judge_config, device="cpu")
    one_by_one = build_judge(judge_config.model_copy(update={"batch_size": 1}), device="cpu")
    caption_requests = [
        CaptionRequest(key=f"{r.prompt_id}/{i}", image=img, prompt_text=r.prompt_text, sample_index=0)
        for i, (r, img) in enumerate(zip(requests, batched_images, strict=True))
    ]
    judge.caption(caption_requests[:2])
    one_by_one.caption(caption_requests[:1])
    started = time.perf_counter()
    batched_captions = judge.caption(caption_requests)
    batched_cap_s = time.perf_counter() - started
    started = time.perf_counter()
    naive_captions = [one_by_one.caption([r])[0] for r in caption_requests]
    naive_cap_s = time.perf_counter() - started
    same_captions = [a.text for a in batched_captions] == [b.text for b in naive_captions]

    n = args.images
    record = {
        "script": "scripts/bench_stages.py",
        "command": "python scripts/bench_stages.py " + " ".join(sys.argv[1:]),
        "threads": args.threads,
        "generation": {
            "images": n,
            "batch_size": batch,
            "steps": c.steps,
            "size": c.width,
            "punc_images_per_s": n / batched_s,
            "naive_images_per_s": n / naive_s,
            "speedup": naive_s / batched_s,
            "max_pixel_difference_batched_vs_naive": pixel_gap,
        },
        "captioning": {
            "captions": n,
            "batch_size": judge_config.batch_size,
            "punc_captions_per_s": n / batched_cap_s,
            "naive_captions_per_s": n / naive_cap_s,
            "speedup": naive_cap_s / batched_cap_s,
            "same_captions": same_captions,
        },
        "load_average_at_end": os.getloadavg()[0],
    }
    g, k = record["generation"], record["captioning"]
    print(f"generation: punc {g['punc_images_per_s']:.2f} images/s, naive loop {g['naive_images_per_s']:.2f}: "
          f"{g['speedup']:.1f}x (max pixel difference {pixel_gap})")  # fmt: skip
    print(f"captioning: punc {k['punc_captions_per_s']:.1f} captions/s, naive loop {k['naive_captions_per_s']:.1f}: "
          f"{k['speedup']:.1f}x (same captions: {same_captions})")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
