"""Write the embedded world's prompt sets to prompts/world_{id,vague,corrupted,ood}.jsonl.

    python scripts/make_world_prompts.py
Deterministic (fixed seed in harness/world/prompts.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.world.prompts import build_all, build_bias_probe  # noqa: E402


def main(out_dir: Path = ROOT / "prompts") -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, prompts in {**build_all(), "bias_probe": build_bias_probe()}.items():
        path = out_dir / f"world_{name}.jsonl"
        with path.open("w") as f:
            for p in prompts:
                f.write(json.dumps(p, sort_keys=False) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(prompts)} prompts")


if __name__ == "__main__":
    main()
