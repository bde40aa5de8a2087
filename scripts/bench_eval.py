"""Whole `punc eval` runs on the embedded world: caching, scaling with the prompt count, and sharding.

    python scripts/bench_eval.py                      # --limit 1, 2, 4 (16, 32, 64 images); ~5 min on 2 cores
    python scripts/bench_eval.py --limits 1 2 --out /tmp/bench-eval.json

Each measurement is a fresh Python process (so peak memory is that run's own), all on the same task
and in one sitting; wall time and CPU time of the whole process (imports included) are recorded, CPU
time being what the contention of a shared machine disturbs least. The script prints ratios:

- a fully cached re-run of the first size against its fresh run (target <= 5 %);
- fresh runs at 1x, 2x, 4x the prompts: seconds per image and peak resident memory (targets: time
  linear, memory flat);
- the time the sharding machinery (joining processes, folding shard logs, stage tallies) takes inside
  a 1-process run, against the run's total (target < 5 %);
- the 2-process run (`--num-processes 2`) of the first size against the 1-process run: identical
  images and captions (bytes), largest score difference, and wall time of both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "tasks" / "world_default.yaml"


def child(out: Path, limit: int) -> None:
    """One evaluation in this process; prints seconds, peak memory and time inside sharding code."""
    sys.path.insert(0, str(ROOT))
    import harness.run.evaluate as evaluate
    import harness.run.stages as stages
    from harness.config.judge import load_judge
    from harness.config.task import load_task

    spent = {"sharding_s": 0.0}

    def timed(fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent["sharding_s"] += time.perf_counter() - started

        return wrapper

    stages.StageRunner.fold = timed(stages.StageRunner.fold)
    stages.StageRunner.tally = timed(stages.StageRunner.tally)
    evaluate.join_processes = timed(evaluate.join_processes)
    evaluate.fold_shards = timed(evaluate.fold_shards)
    task = load_task(TASK)
    options = evaluate.EvalOptions(
        task=task,
        generator=task.resolve_path(task.config.generator),
        judge=load_judge(task.resolve_path(task.config.judge)),
        out_dir=out,
        limit=limit,
        device="cpu",
        progress=False,
    )
    started = time.perf_counter()
    results = evaluate.evaluate(options)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib = usage.ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,  # whole process, imports included
                "peak_rss_mib": peak_mib,
                "images": results.counts.images,
                "sharding_s": spent["sharding_s"],
                "timings": results.timings,
            }
        )
    )


def measure(out: Path, limit: int) -> dict:
    """One run in a fresh process: `seconds` inside evaluate(), `process_s` the whole process's wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(out), str(limit)],
        capture_output=True,
        text=True,
        check=False,
    )
    process_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_s": process_s}


def score_table(out: Path) -> dict:
    rows = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    return {(r["prompt_id"], r["index"], r["sample_index"], r["scorer"]): r["values"] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limits", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "eval-cpu.json")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]))
        return

    record: dict = {
        "script": "scripts/bench_eval.py",
        "command": "python scripts/bench_eval.py " + " ".join(sys.argv[1:]),
        "task": "world_default (embedded world), device cpu",
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} usable cores (shared)",
        "load_average_at_start": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        sizes = []
        for limit in args.limits:
            fresh = {**measure(base / f"fresh{limit}", limit), "limit": limit}
            sizes.append(fresh)
            print(f"limit {limit}: {fresh['images']} images, {fresh['process_s']:.1f} s wall, "
                  f"{fresh['cpu_seconds']:.1f} s CPU, peak {fresh['peak_rss_mib']:.0f} MiB")  # fmt: skip
        first = sizes[0]
        cached = measure(base / f"fresh{args.limits[0]}", args.limits[0])
        record["cached_rerun"] = {
            "fresh_process_s": first["process_s"],
            "cached_process_s": cached["process_s"],
            "ratio_process_wall": cached["process_s"] / first["process_s"],
            "ratio_process_cpu": cached["cpu_seconds"] / first["cpu_seconds"],
            "ratio_inside_evaluate": cached["seconds"] / first["seconds"],
        }
        cr = record["cached_rerun"]
        print(f"cached re-run (whole process): {cached['process_s']:.2f} s = {cr['ratio_process_wall']:.1%} of the "
              f"fresh run's wall time, {cr['ratio_process_cpu']:.1%} of its CPU time")  # fmt: skip
        record["scaling"] = {
            "sizes": sizes,
            "images_ratio_vs_first": [s["images"] / first["images"] for s in sizes],
            "wall_ratio_vs_first": [s["process_s"] / first["process_s"] for s in sizes],
            "cpu_ratio_vs_first": [s["cpu_seconds"] / first["cpu_seconds"] for s in sizes],
            # time = fixed start-up + a cost per image: what each added image costs, size to size
            # (CPU time is what contention on a shared machine disturbs least)
            "marginal_cpu_seconds_per_image": [
                (b["cpu_seconds"] - a["cpu_seconds"]) / (b["images"] - a["images"])
                for a, b in zip(sizes, sizes[1:], strict=False)
            ],
            "marginal_wall_seconds_per_image": [
                (b["process_s"] - a["process_s"]) / (b["images"] - a["images"])
                for a, b in zip(sizes, sizes[1:], strict=False)
            ],
            "peak_rss_ratio_vs_first": [s["peak_rss_mib"] / first["peak_rss_mib"] for s in sizes],
        }
        sc = record["scaling"]
        print("images vs first size:", [f"{r:.1f}" for r in sc["images_ratio_vs_first"]])
        print("CPU time vs first size:", [f"{r:.2f}" for r in sc["cpu_ratio_vs_first"]])
        print("CPU seconds per added image:", [f"{m:.2f}" for m in sc["marginal_cpu_seconds_per_image"]])
        print("peak memory vs first size:", [f"{r:.2f}" for r in sc["peak_rss_ratio_vs_first"]])
        overhead = [s["sharding_s"] / s["seconds"] for s in sizes]
        record["sharding_overhead_at_n1"] = {
            "fraction_of_run": overhead,
            "seconds": [s["sharding_s"] for s in sizes],
        }
        print("sharding machinery at N=1, fraction of run:", [f"{o:.3%}" for o in overhead])

        two = base / "two"
        started = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("punc")), "eval", str(TASK), "--limit", str(args.limits[0]),
             "--out", str(two), "--device", "cpu", "-q", "--num-processes", "2"],
            check=True, capture_output=True,
        )  # fmt: skip
        two_s = time.perf_counter() - started
        one = base / f"fresh{args.limits[0]}"
        same = {
            name: (one / name).read_bytes() == (two / name).read_bytes()
            for name in ("images.jsonl", "captions.jsonl", "scores.jsonl")
        }
        a, b = score_table(one), score_table(two)
        worst = max(abs(a[k][o] - b[k][o]) for k in a for o in a[k]) if a.keys() == b.keys() else None
        record["two_processes"] = {
            "identical_bytes": same,
            "same_score_items": a.keys() == b.keys(),
            "max_score_difference": worst,
            "one_process_wall_s": first["process_s"],
            "two_processes_wall_s_including_launch": two_s,
        }
        print(f"N=2 vs N=1: identical bytes {same}, max score difference {worst}, "
              f"{two_s:.1f} s vs {first['process_s']:.1f} s wall")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
