"""Fixture runs in the layout `punc eval` writes, with hand-chosen numbers the tests can check."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from harness.run.schema import Results

XSS_PROMPT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
TASK_HASH = "task-0123abcd"
JUDGE_FP = "judge-fp-aaaa"
SCORERS = {"rougeL": "rougeL|rouge-score=0.1.2|stemmer=on", "cosine": "cosine|all-MiniLM-L6-v2|st=3.0"}
PRIMARY = "rougeL"


@dataclass
class ModelSpec:
    """Per-prompt values for prompts p1 and p2; overall means are their averages (hand-checkable)."""

    name: str
    u_ale: tuple[float, float]
    u_epi: tuple[float, float]
    u_tot: tuple[float, float]
    precision: tuple[float, float]
    recall: tuple[float, float]
    ci_halfwidth: float = 0.02
    created: str = "2025-03-01T12:00:00+00:00"
    auroc: float | None = None
    color: tuple[int, int, int] = (200, 30, 30)
    extra: dict[str, Any] = field(default_factory=dict)


MODEL_A = ModelSpec("model-a", (0.15, 0.25), (0.04, 0.06), (0.19, 0.31), (0.8, 0.8), (0.6, 0.8), auroc=0.81)
MODEL_B = ModelSpec(
    "model-b",
    (0.05, 0.15),
    (0.10, 0.14),
    (0.15, 0.29),
    (0.5, 0.7),
    (0.9, 0.9),
    created="2025-03-02T08:00:00+00:00",
    color=(30, 160, 60),
)
MODEL_C = ModelSpec(
    "model-c",
    (0.30, 0.30),
    (0.00, 0.02),
    (0.30, 0.32),
    (0.7, 0.7),
    (0.4, 0.6),
    created="2025-03-03T09:30:00+00:00",
    color=(40, 60, 220),
)

PROMPTS = [
    {
        "prompt_id": "p1",
        "text": "a red cube on a wooden table",
        "labels": {"category": "color", "shift": "id"},
    },
    {"prompt_id": "p2", "text": XSS_PROMPT, "labels": {"category": "count", "shift": "ood"}},
]


def png_bytes(color: tuple[int, int, int], size: int = 16) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def _interval(mean: float, half: float, n: int) -> dict[str, Any]:
    return {"mean": mean, "low": round(mean - half, 6), "high": round(mean + half, 6), "n": n}


def _mean(values: tuple[float, ...] | list[float]) -> float:
    return sum(values) / len(values)


def make_run(
    root: Path,
    spec: ModelSpec,
    *,
    task_hash: str = TASK_HASH,
    judge_fp: str = JUDGE_FP,
    scorers: dict[str, str] | None = None,
    complete: bool = True,
    failures: list[dict[str, Any]] | None = None,
    k: int = 2,
    image_size: int = 16,
    detection: bool = True,
) -> Path:
    """Write RUN_DIR (run.json, images, images.jsonl, captions.jsonl, scores.jsonl, results.json...)."""
    scorers = dict(SCORERS if scorers is None else scorers)
    run = root / spec.name
    (run / "images").mkdir(parents=True)
    manifest, captions, scores, per_prompt = [], [], [], []
    keys = ("u_ale", "u_epi", "u_tot", "precision", "recall")
    for pi, prompt in enumerate(PROMPTS):
        vals = {key: getattr(spec, key)[pi] for key in keys}
        vals["f1"] = 2 * vals["precision"] * vals["recall"] / (vals["precision"] + vals["recall"])
        for index in range(k):
            color = tuple((c + 40 * pi + 7 * index) % 256 for c in spec.color)
            data = png_bytes(color, image_size)
            h = hashlib.sha256(data).hexdigest()
            (run / "images" / h[:2]).mkdir(exist_ok=True)
            (run / "images" / h[:2] / f"{h}.png").write_bytes(data)
            recipe = {"pipeline": "FakePipeline", "model_id": spec.name, "seed": 1000 + index, "steps": 4}
            (run / "images" / h[:2] / f"{h}.json").write_text(json.dumps(recipe))
            manifest.append(
                {
                    "prompt_id": prompt["prompt_id"],
                    "index": index,
                    "seed": 1000 + index,
                    "image_hash": h,
                    "recipe": recipe,
                }
            )
            caption = f"caption of {prompt['prompt_id']} image {index} by {spec.name}"
            if pi == 1:
                caption = f"</script><b>bold</b> caption {index}"
            captions.append(
                {
                    "prompt_id": prompt["prompt_id"],
                    "index": index,
                    "image_hash": h,
                    "judge": judge_fp,
                    "sample_index": 0,
                    "caption": caption,
                }
            )
            scores.append(
                {
                    "prompt_id": prompt["prompt_id"],
                    "index": index,
                    "image_hash": h,
                    "judge": judge_fp,
                    "sample_index": 0,
                    "scorer": "rougeL",
                    "signature": scorers.get("rougeL"),
                    "values": {"precision": vals["precision"], "recall": vals["recall"], "f1": vals["f1"]},
                }
            )
        per_prompt.append(
            {
                "prompt_id": prompt["prompt_id"],
                "text": prompt["text"],
                "labels": prompt["labels"],
                "n_images": k,
                "n_captions": k,
                "metrics": {
                    "rougeL": {
                        m: {"mean": vals[m], "std": 0.01, "n": k} for m in ("precision", "recall", "f1")
                    }
                },
                "uncertainty": {
                    "rougeL": {u: {"mean": vals[u], "std": 0.0, "n": k} for u in ("u_ale", "u_epi", "u_tot")}
                },
            }
        )

    def summary(indices: list[int]) -> dict[str, Any]:
        metrics = {}
        for key in (*keys, "f1"):
            if key == "f1":
                values = [
                    pp["metrics"]["rougeL"]["f1"]["mean"] for i, pp in enumerate(per_prompt) if i in indices
                ]
            else:
                values = [getattr(spec, key)[i] for i in indices]
            metrics[key] = _interval(_mean(values), spec.ci_halfwidth, len(indices))
        return {"n_prompts": len(indices), "metrics": {"rougeL": metrics}}

    failures = failures or []
    results = {
        "schema_version": 1,
        "harness_version": "0.1.0",
        "created": spec.created,
        "model_name": spec.name,
        "complete": complete,
        "task": {"name": "toy-task", "version": "1", "hash": task_hash, "source": "fixture"},
        "prompts": {"files": ["prompts.jsonl"], "hash": "prompts-hash", "count": len(PROMPTS)},
        "generator": {"name": "premade", "model": spec.name},
        "generation_recipe": {"steps": 4},
        "judge": {"name": "toy-judge", "fingerprint": judge_fp, "backend": "fake"},
        "scorers": scorers,
        "primary_scorer": PRIMARY,
        "image_policy": {"k": k},
        "counts": {"prompts": len(PROMPTS), "images": k * len(PROMPTS), "captions": k * len(PROMPTS)},
        "overall": summary([0, 1]),
        "by_shift": {"id": summary([0]), "ood": summary([1])},
        "by_category": {"color": summary([0]), "count": summary([1])},
        "per_prompt": per_prompt,
        "failures": failures,
        "versions": {"python": "3.11"},
        "git_commit": None,
        "timings": {"total": 1.0},
        "bootstrap": {"n": 1000, "seed": 0},
        **spec.extra,
    }
    Results.model_validate(results)  # the fixture must match the schema
    (run / "results.json").write_text(json.dumps(results, indent=2))
    for name, records in (("images.jsonl", manifest), ("captions.jsonl", captions), ("scores.jsonl", scores)):
        (run / name).write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "failures.jsonl").write_text("".join(json.dumps(f) + "\n" for f in failures))
    (run / "run.json").write_text(
        json.dumps(
            {
                "task_hash": task_hash,
                "generator": {"name": "premade"},
                "judge": judge_fp,
                "created": spec.created,
            }
        )
    )
    if detection and spec.auroc is not None:
        (run / "detection.json").write_text(
            json.dumps(
                {
                    "comparisons": [
                        {
                            "shift": "ood",
                            "score": "u_epi",
                            "auroc": spec.auroc,
                            "aupr": 0.7,
                            "fpr95": 0.4,
                            "ci": {"auroc": [0.7, 0.9]},
                        }
                    ]
                }
            )
        )
    return run


def publish_three(runs_root: Path, boards_dir: Path, board: str = "toy") -> Path:
    from harness.leaderboard.publish import publish_run

    for i, spec in enumerate((MODEL_A, MODEL_B, MODEL_C)):
        publish_run(make_run(runs_root, spec), board, boards_dir, new_board=(i == 0))
    return boards_dir / board
