"""Audit any judge on the embedded world's ground truth: render scenes whose description is known,
caption them with the judge, and measure what the captions get right.

Two kinds of measure, so that any judge can be audited:
- parsed accuracy (as scripts/audit_world.py measures the world's own captioner): the caption is parsed
  back into objects (harness.world.captions.parse_caption); per object, matched by position, is each
  attribute right; is the number of objects and the background right; is the caption exact.
- mentions, for free-text judges whose captions do not follow the world's template: the share of the
  true attribute words (shape, colour, size) that the caption names anywhere, and the share of
  captions that name a shape or colour the scene does not contain (hallucination).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from typing import Any

from harness.errors import PuncError

ATTRS = ("shape", "colour", "size", "position")
DEFAULT_SEED = 777


def audit_scenes(n: int, seed: int = DEFAULT_SEED) -> tuple[list[dict[str, Any]], list[Any], list[str]]:
    """n random scenes, their renders and exact descriptions (the same draw as scripts/audit_world.py)."""
    from harness.world.render import random_scene, render

    rng = random.Random(seed)
    scenes = [random_scene(rng) for _ in range(n)]
    rendered = [render(scene, rng) for scene in scenes]
    return scenes, [image for image, _ in rendered], [truth for _, truth in rendered]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def score_captions(
    scenes: list[dict[str, Any]], truths: list[str], captions: list[str | None]
) -> dict[str, Any]:
    """Accuracy of `captions` (None: the judge failed on that image, counted as wrong) against the scenes."""
    from harness.world.captions import parse_caption
    from harness.world.vocabulary import COLOURS, SHAPES

    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    mention_hits: Counter[str] = Counter()
    mention_totals: Counter[str] = Counter()
    hallucinated = exact = 0
    for scene, truth, text in zip(scenes, truths, captions, strict=True):
        parsed = parse_caption(text) if text else {"objects": [], "background": None}
        by_position = {o["position"]: o for o in parsed["objects"]}
        words = _words(text or "")
        for obj in scene["objects"]:
            guess = by_position.get(obj["position"], {})
            for attr in ATTRS:
                totals[attr] += 1
                hits[attr] += int(
                    obj["position"] in by_position if attr == "position" else guess.get(attr) == obj[attr]
                )
            for attr in ("shape", "colour", "size"):
                mention_totals[attr] += 1
                mention_hits[attr] += int(obj[attr] in words)
        totals["background"] += 1
        hits["background"] += int(parsed["background"] == scene.get("background"))
        totals["n_objects"] += 1
        hits["n_objects"] += int(len(parsed["objects"]) == len(scene["objects"]))
        present = {o["shape"] for o in scene["objects"]} | {o["colour"] for o in scene["objects"]}
        named = {w for w in words if w in SHAPES or w in COLOURS}
        hallucinated += int(bool(named - present))
        exact += int(text == truth)
    n = len(scenes)
    return {
        "n_images": n,
        "failed": sum(c is None for c in captions),
        "accuracy": {k: hits[k] / totals[k] for k in (*ATTRS, "background", "n_objects")}
        | {"exact_caption": exact / n},
        "mentions": {k: mention_hits[k] / mention_totals[k] for k in ("shape", "colour", "size")},
        "hallucination_rate": hallucinated / n,
    }


def audit_judge(
    config: Any, n: int = 500, seed: int = DEFAULT_SEED, device: str | None = None
) -> dict[str, Any]:
    """Caption n rendered scenes with the judge of `config` (a JudgeConfig) and score the captions."""
    from harness.judges import build_judge
    from harness.judges.base import CaptionRequest

    if config.show_prompt:
        raise PuncError(
            f"judge {config.name!r} has show_prompt: true; it would read the scene's description from the "
            "prompt, so its captions say nothing about what it sees. Audit it with show_prompt: false."
        )
    scenes, images, truths = audit_scenes(n, seed)
    judge = build_judge(config, device=device)
    try:
        started = time.perf_counter()
        captions: list[str | None] = []
        errors: Counter[str] = Counter()
        for start in range(0, n, config.batch_size):
            requests = [
                CaptionRequest(key=str(i), image=images[i], prompt_text="an image")
                for i in range(start, min(n, start + config.batch_size))
            ]
            for result in judge.caption(requests):
                captions.append(result.text.strip() if result.ok and result.text else None)
                if not result.ok:
                    errors[result.error or "empty caption"] += 1
        seconds = time.perf_counter() - started
    finally:
        judge.close()
    report = score_captions(scenes, truths, captions)
    worst = [
        {"truth": truth, "caption": caption}
        for truth, caption in zip(truths, captions, strict=True)
        if caption != truth
    ][:10]
    return {
        "judge": {
            "name": config.name,
            "fingerprint": config.fingerprint,
            "backend": config.backend,
            "model": config.model,
        },
        "seed": seed,
        **report,
        "images_per_s": n / seconds if seconds > 0 else None,
        "errors": dict(errors.most_common(5)),
        "examples_wrong": worst,
    }


def audit_markdown(report: dict[str, Any]) -> str:
    acc, men = report["accuracy"], report["mentions"]
    j = report["judge"]
    lines = [
        f"# Judge audit: {j['name']} on the embedded world ({report['n_images']} scenes, seed {report['seed']})",
        "",
        f"Judge fingerprint `{j['fingerprint']}`, backend {j['backend']}, model {j['model']}; "
        f"{report['failed']} image(s) without a caption (counted as wrong).",
        "",
        "| measure | value |",
        "|---|---:|",
        *[f"| accuracy: {k.replace('_', ' ')} | {v:.3f} |" for k, v in acc.items()],
        *[f"| mentions: true {k} named | {v:.3f} |" for k, v in men.items()],
        f"| hallucination: captions naming an absent shape or colour | {report['hallucination_rate']:.3f} |",
    ]
    if report.get("images_per_s"):
        lines.append(f"| speed (images/s) | {report['images_per_s']:.1f} |")
    if report["examples_wrong"]:
        lines += ["", "Captions that differ from the truth (first 10):", ""]
        lines += [f"- truth: {e['truth']!s} / caption: {e['caption']!s}" for e in report["examples_wrong"]]
    return "\n".join(lines) + "\n"
