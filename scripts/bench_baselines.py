"""Cost of each image-space baseline relative to PUNC, measured in one run.

    python scripts/bench_baselines.py [RUN_DIR] [--record benchmarks/baselines-cpu.json]

RUN_DIR defaults to the results-table run (runs/results_table/run, see make_results_table.py).
With --fresh N it first runs `punc eval` on the first N prompts of each shift into runs/bench with
every baseline enabled, so PUNC's caption and score time are measured in the same run (a resumed
run's timings only cover the work that invocation did).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", nargs="?", type=Path, default=ROOT / "runs" / "results_table" / "run")
    ap.add_argument(
        "--fresh", type=int, default=None, metavar="N", help="new run on N prompts per shift first"
    )
    ap.add_argument("--task", type=Path, default=ROOT / "tasks" / "world_default.yaml")
    ap.add_argument("--device", default=None)
    ap.add_argument("--record", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    run = args.run
    if args.fresh:
        from scripts.make_results_table import derived_task  # noqa: PLC0415

        out = ROOT / "runs" / "bench"
        shutil.rmtree(out, ignore_errors=True)
        task = derived_task(args.task, out)
        run = out / "run"
        cmd = [
            sys.executable,
            "-m",
            "harness",
            "eval",
            str(task),
            "--out",
            str(run),
            "--limit",
            str(args.fresh),
            "-q",
        ]
        if args.device:
            cmd += ["--device", args.device]
        subprocess.run(cmd, cwd=ROOT, check=True)

    from harness.baselines import read_baselines
    from harness.evaluation.detection import punc_cost
    from harness.run.reader import load_results

    results = load_results(run)
    punc = punc_cost(results)
    lines = read_baselines(run)
    print(
        f"run {run}: {results.counts.prompts} prompts, K = {results.generation_recipe.get('images_per_prompt')}"
    )
    print(f"{'method':<22}{'s/prompt':>12}{'passes/prompt':>16}{'s vs PUNC':>12}{'passes vs PUNC':>16}")
    p_s, p_n = punc["seconds_per_prompt"], punc["network_passes_per_prompt"]
    print(f"{'PUNC (caption+score)':<22}{p_s:>12.4f}{p_n:>16.1f}{'1.0x':>12}{'1.0x':>16}")
    names = dict.fromkeys(r["baseline"] for r in lines)
    summary = {}
    for name in names:
        sig = (results.baselines.get(name) or {}).get("signature") or [
            r for r in lines if r["baseline"] == name
        ][-1]["signature"]
        rows = [r for r in lines if r["baseline"] == name and r["signature"] == sig]
        secs = sum(r["cost"]["seconds_per_prompt"] for r in rows) / len(rows)
        passes = sum(r["cost"]["network_passes_per_prompt"] for r in rows) / len(rows)
        rs = f"{secs / p_s:.1f}x" if p_s else "-"
        rn = f"{passes / p_n:.1f}x" if p_n else "-"
        print(f"{name:<22}{secs:>12.4f}{passes:>16.1f}{rs:>12}{rn:>16}")
        summary[name] = {"seconds_per_prompt": secs, "passes_per_prompt": passes}
    fits = [r["info"] for r in lines if "laplace_fit_seconds" in (r.get("info") or {})]
    record = {
        "script": "scripts/bench_baselines.py",
        "command": "python scripts/bench_baselines.py " + " ".join(sys.argv[1:]),
        "run": str(run),
        "prompts": results.counts.get("prompts"),
        "images_per_prompt": results.generation_recipe.get("images_per_prompt"),
        "punc": punc,
        "baselines": summary,
        "seconds_vs_punc": {k: (v["seconds_per_prompt"] / p_s if p_s else None) for k, v in summary.items()},
        "laplace_fit": ({k: v for k, v in fits[0].items() if k != "laplace_from_cache"} if fits else None),
    }
    print(json.dumps(record, indent=None))
    if args.record:
        args.record.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
