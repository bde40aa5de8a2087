"""Synthetic run directories built through the results schema (no models needed)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from harness.run.jsonl import atomic_write_json
from harness.run.schema import GroupSummary, PromptResult, Results, Stat


def run_punc(*args: str) -> tuple[int, str, str]:
    from harness.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def write_results(
    root: Path, prompts: list[dict[str, Any]], model: str = "tiny", k: int = 4, s: int = 2
) -> Path:
    """prompts: {"id", "text", "labels", "u": {"u_ale", "u_epi", "u_tot"}}; writes root/results.json."""
    root.mkdir(parents=True, exist_ok=True)
    per_prompt = [
        PromptResult(
            prompt_id=p["id"],
            text=p["text"],
            labels=p["labels"],
            n_images=k,
            n_captions=k * s,
            metrics={},
            uncertainty={"bertscore": {key: Stat(mean=v, std=0.0, n=k) for key, v in p.get("u", {}).items()}},
        )
        for p in prompts
    ]
    empty = GroupSummary(n_prompts=len(prompts), metrics={})
    results = Results(
        harness_version="0",
        created="2025-01-01T00:00:00",
        model_name=model,
        complete=True,
        task={"name": "synthetic"},
        prompts={"count": len(prompts)},
        generator={"spec": "synthetic"},
        generation_recipe={"images_per_prompt": k},
        judge={"name": "j", "fingerprint": "fp", "samples_per_image": s},
        scorers={"bertscore": "bertscore:synthetic"},
        primary_scorer="bertscore",
        image_policy={},
        counts={"prompts": len(prompts)},
        overall=empty,
        by_shift={},
        by_category={},
        per_prompt=per_prompt,
        failures=[],
        versions={},
        git_commit=None,
        timings={"caption_s": 2.0 * len(prompts), "score_s": 0.5 * len(prompts)},
        bootstrap={},
    )
    atomic_write_json(root / "results.json", results.model_dump(mode="json"))
    return root


def synthetic_shift_run(root: Path, model: str = "tiny", n: int = 20, seed: int = 0) -> Path:
    """In-distribution prompts low on everything; OOD high on U_epi; vague high on U_ale; a baseline
    that separates nothing (pure noise) with two components."""
    rng = np.random.default_rng(seed)
    prompts = []
    for shift, ale, epi in (("none", 0.1, 0.1), ("vague", 0.6, 0.1), ("ood", 0.1, 0.6)):
        for i in range(n):
            a, e = ale + rng.normal(0, 0.05), epi + rng.normal(0, 0.05)
            prompts.append(
                {
                    "id": f"{shift}.{i}",
                    "text": f"{shift} {i}",
                    "labels": {"shift": shift},
                    "u": {"u_ale": a, "u_epi": e, "u_tot": a + e},
                }
            )
    write_results(root, prompts, model=model)
    with open(root / "baselines.jsonl", "w") as fh:
        for p in prompts:
            comps = {"nmse": float(rng.normal()), "feature": float(rng.normal())}
            line = {
                "prompt_id": p["id"],
                "baseline": "reconstruction",
                "signature": "reconstruction:x",
                "u": 0.0,
                "components": comps,
                "cost": {"network_passes_per_prompt": 20, "seconds_per_prompt": 1.5},
            }
            fh.write(json.dumps(line) + "\n")
    return root
