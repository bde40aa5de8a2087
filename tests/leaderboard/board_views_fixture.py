"""A board built to stress the page: six models with nearly equal precision and recall (their scatter
labels would collide), a long label, nine AUROC scores over three shifts, and one run with a cost."""

from __future__ import annotations

import json
from pathlib import Path

from lb_fixtures import ModelSpec, make_run

from harness.leaderboard.publish import publish_run

COST = {
    "total_usd": 1.25,
    "device_seconds": 3600.0,
    "per_stage": {
        "generate": {"items": 4, "seconds": 3000.0, "items_per_s": 0.0013, "device": "cuda", "usd": 1.0}
    },
}
LONG_LABEL = "a-model-with-a-very-long-name-that-would-push-a-table-wider-than-the-page-v2-final"


def specs() -> list[ModelSpec]:
    out = []
    for i in range(6):
        d = 0.002 * i  # precision and recall within 0.01 of each other across all six models
        out.append(
            ModelSpec(
                LONG_LABEL if i == 5 else f"crowd-{i}",
                (0.20 + d, 0.30 + d),
                (0.10 + d, 0.12 + d),
                (0.25 + d, 0.35 + d),
                (0.80 - d, 0.80 - d),
                (0.70 + d, 0.70 + d),
                created=f"2025-04-0{i + 1}T00:00:00+00:00",
                color=(30 * i, 100, 200 - 20 * i),
                extra={"cost": COST} if i == 0 else {},
            )
        )
    return out


def detection(i: int) -> dict:
    comps = [
        {"shift": shift, "score": score, "auroc": round(0.5 + 0.05 * j + 0.01 * i, 3)}
        for j, (shift, score) in enumerate(
            (s, u) for s in ("vague", "corrupted", "ood") for u in ("u_ale", "u_epi", "u_tot")
        )
    ]
    return {"comparisons": comps}


def publish_crowd(runs_root: Path, boards_dir: Path, board: str = "crowd") -> Path:
    for i, spec in enumerate(specs()):
        run = make_run(runs_root, spec)
        (run / "detection.json").write_text(json.dumps(detection(i)))
        publish_run(run, board, boards_dir, new_board=(i == 0))
    return boards_dir / board
