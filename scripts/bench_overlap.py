#!/usr/bin/env python
"""Captioning while generating (`--overlap`) against the sequential stages, with a real remote judge.

    python scripts/bench_overlap.py                                   # ~14 min on 2 cores
    python scripts/bench_overlap.py --latency-s 1.0 --repeats 2 --out /tmp/overlap.json

The same `punc eval` (the embedded world, `--limit 4 -k 4`: 64 images in generation batches of 4) is
run with `--no-overlap` and with overlap (after one unmeasured warm-up run), against one `punc serve-judge` on 127.0.0.1, in several
repeats alternating the order (sequential first, then overlapped first). Every pair must write the
same images, captions and scores; the script prints, per setting, the ratio sequential / overlapped
of the whole command's wall time and of the generate + caption stages, each measured in one repeat.

Emulating a remote GPU judge on this 2-core machine, honestly: a judge on other hardware costs this
machine nothing but waiting, and answers after its own latency. So

- the judge server is pinned to core 1 (`taskset -c 1`, one torch thread) and `punc eval` to core 0
  (`taskset -c 0 ... --threads 1`): the judge's own compute does not slow the generator down (other
  users' jobs still share both cores);
- every caption request waits LATENCY seconds in the server before it is answered (serve-judge's
  test-only fault plan `{"*": ["slow:LATENCY", ...]}`, set through PUNC_SERVE_JUDGE_FAULTS): the
  decode time of a remote VLM (64 tokens at 32 tokens/s is 2 s), with requests answered in parallel
  as a batching server (vLLM) answers them. The embedded captioner itself takes ~0.05 s per image.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUNC = Path(sys.executable).with_name("punc")
TASK = ROOT / "tasks" / "world_default.yaml"
JUDGE = ROOT / "judges" / "world.yaml"


def start_server(latency_s: float, cpu: int) -> tuple[subprocess.Popen, str]:
    """`punc serve-judge` of the embedded judge on a free port, pinned to `cpu`, LATENCY s per request."""
    plan = {"*": [f"slow:{latency_s}"] * 10_000} if latency_s > 0 else {}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    if plan:
        env["PUNC_SERVE_JUDGE_FAULTS"] = json.dumps(plan)
    cmd = ["taskset", "-c", str(cpu), str(PUNC), "serve-judge", str(JUDGE), "--port", "0", "--device", "cpu"]
    process = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    banner = ""
    while "serving judge" not in banner:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            raise SystemExit(f"serve-judge did not start:\n{banner}")
        banner += line
    return process, banner.split(" at ")[1].split(" ")[0]


def judge_yaml(folder: Path, base_url: str, batch: int, concurrency: int) -> Path:
    path = folder / "remote.yaml"
    path.write_text(
        f"name: world-remote\nbackend: openai\nmodel: world-captioner\nbase_url: {base_url}\n"
        f"decoding: {{temperature: 0.0}}\nmax_new_tokens: 32\nbatch_size: {batch}\n"
        f"concurrency: {concurrency}\nmax_retries: 0\ntimeout_s: 300\n"
    )
    return path


def one_run(args: argparse.Namespace, judge: Path, out: Path, overlap: bool) -> dict:
    cmd = [
        "taskset", "-c", str(args.eval_cpu), str(PUNC), "eval", str(TASK), "--limit", str(args.limit),
        "-k", str(args.k), "--judge", str(judge), "--out", str(out), "--batch-size", str(args.gen_batch),
        "--device", "cpu", "--threads", "1", "-q", "--overlap" if overlap else "--no-overlap",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"punc eval failed ({done.returncode}):\n{done.stderr[-3000:]}")
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    stages = {e["stage"]: e["seconds"] for e in events if e["event"] == "stage"}
    overlap_event = next((e for e in events if e["event"] == "overlap"), None)
    return {
        "overlap": overlap,
        "process_wall_s": round(wall, 3),
        "stage_s": stages,
        "generate_plus_caption_s": round(stages["generate"] + stages["caption"], 3),
        "overlap_event": overlap_event,
    }


def same_outputs(a: Path, b: Path) -> dict:
    """Byte equality of the logs, and the largest score difference (BERTScore may round across processes)."""
    same = {
        log: (a / log).read_bytes() == (b / log).read_bytes() for log in ("images.jsonl", "captions.jsonl")
    }
    scores = [
        {
            (r["prompt_id"], r["index"], r["sample_index"], r["scorer"]): r["values"]
            for r in map(json.loads, lines)
        }
        for lines in ((d / "scores.jsonl").read_text().splitlines() for d in (a, b))
    ]
    assert scores[0].keys() == scores[1].keys(), "different score items"
    largest = max(
        abs(v - scores[1][k][name]) for k, values in scores[0].items() for name, v in values.items()
    )
    return {**same, "scores_largest_difference": largest}


def summarize(repeats: list[dict]) -> dict:
    """Medians (and ranges) over the repeats: ratios, and the stage seconds that explain them."""

    def spread(values: list[float]) -> dict:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    def median_of(mode: str, stage: str) -> float:
        return statistics.median(r[mode]["stage_s"][stage] for r in repeats)

    return {
        "ratio_process_wall": spread([r["ratio_process_wall"] for r in repeats]),
        "ratio_generate_plus_caption": spread([r["ratio_generate_plus_caption"] for r in repeats]),
        "sequential_generate_s": median_of("sequential", "generate"),
        "overlapped_generate_s": median_of("overlapped", "generate"),
        # the caption stage's seconds: all of captioning when sequential, what it added after
        # generation when overlapped
        "sequential_caption_s": median_of("sequential", "caption"),
        "overlapped_caption_s": median_of("overlapped", "caption"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--latency-s",
        type=float,
        nargs="+",
        default=[1.0, 0.25, 0.0],
        help="per-request latency (0: none added)",
    )
    parser.add_argument("--repeats", type=int, default=4, help="pairs per setting, alternating the order")
    parser.add_argument("--limit", type=int, default=4, help="prompts per shift (4 shifts)")
    parser.add_argument("-k", type=int, default=4, help="images per prompt")
    parser.add_argument("--gen-batch", type=int, default=4, help="generation batch size")
    parser.add_argument("--judge-batch", type=int, default=4, help="caption batch size (judge batch_size)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (judge concurrency)")
    parser.add_argument("--eval-cpu", type=int, default=0)
    parser.add_argument("--server-cpu", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "overlap.json")
    args = parser.parse_args()

    record: dict = {
        "script": "scripts/bench_overlap.py",
        "command": "python scripts/bench_overlap.py " + " ".join(sys.argv[1:]),
        "task": f"world_default (embedded world), --limit {args.limit} -k {args.k}, generation batch {args.gen_batch}",
        "emulation": (
            "remote GPU judge: `punc serve-judge judges/world.yaml` pinned to core "
            f"{args.server_cpu} (taskset, 1 torch thread), `punc eval` pinned to core {args.eval_cpu} "
            "(--threads 1); each caption request waits latency_s in the server before its answer "
            "(fault plan slow:latency_s), requests answered in parallel; other users' jobs share both cores"
        ),
        "judge": {"batch_size": args.judge_batch, "concurrency": args.concurrency},
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} usable cores (shared)",
        "load_average_at_start": os.getloadavg()[0],
        "settings": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-overlap-") as tmp:
        for latency in args.latency_s:
            server, base_url = start_server(latency, args.server_cpu)
            try:
                judge = judge_yaml(Path(tmp), base_url, args.judge_batch, args.concurrency)
                one_run(args, judge, Path(tmp) / f"l{latency}-warm-up", False)  # file caches, not measured
                repeats = []
                for repeat in range(args.repeats):
                    order = (False, True) if repeat % 2 == 0 else (True, False)
                    runs = {}
                    for overlap in order:
                        out = Path(tmp) / f"l{latency}-r{repeat}-{'overlap' if overlap else 'sequential'}"
                        runs[overlap] = one_run(args, judge, out, overlap)
                    outputs = same_outputs(
                        Path(tmp) / f"l{latency}-r{repeat}-sequential",
                        Path(tmp) / f"l{latency}-r{repeat}-overlap",
                    )
                    seq, ovl = runs[False], runs[True]
                    entry = {
                        "order": "sequential first" if order[0] is False else "overlapped first",
                        "sequential": seq,
                        "overlapped": ovl,
                        "same_outputs": outputs,
                        "ratio_process_wall": round(seq["process_wall_s"] / ovl["process_wall_s"], 3),
                        "ratio_generate_plus_caption": round(
                            seq["generate_plus_caption_s"] / ovl["generate_plus_caption_s"], 3
                        ),
                    }
                    repeats.append(entry)
                    print(
                        f"latency {latency} s, repeat {repeat + 1} ({entry['order']}): whole command "
                        f"{seq['process_wall_s']:.1f} vs {ovl['process_wall_s']:.1f} s = {entry['ratio_process_wall']:.2f}x; "
                        f"generate+caption {seq['generate_plus_caption_s']:.1f} vs {ovl['generate_plus_caption_s']:.1f} s "
                        f"= {entry['ratio_generate_plus_caption']:.2f}x "
                        f"(sequential: generate {seq['stage_s']['generate']:.1f} s, caption {seq['stage_s']['caption']:.1f} s); "
                        f"same images/captions: {outputs['images.jsonl'] and outputs['captions.jsonl']}, "
                        f"largest score difference {outputs['scores_largest_difference']:.1e}",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)
            record["settings"].append(
                {"latency_s": latency, "repeats": repeats, "summary": summarize(repeats)}
            )
    record["load_average_at_end"] = os.getloadavg()[0]
    record["versions"] = {"python": platform.python_version()}
    for name in ("torch", "diffusers", "transformers", "httpx"):
        try:
            from importlib.metadata import version

            record["versions"][name] = version(name)
        except Exception:
            continue
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for setting in record["settings"]:
        m = setting["summary"]
        print(
            f"latency {setting['latency_s']} s, {len(setting['repeats'])} repeats: whole command "
            f"{m['ratio_process_wall']['median']:.2f}x faster overlapped (median; "
            f"{m['ratio_process_wall']['min']:.2f} to {m['ratio_process_wall']['max']:.2f}), generate+caption "
            f"{m['ratio_generate_plus_caption']['median']:.2f}x ({m['ratio_generate_plus_caption']['min']:.2f} to "
            f"{m['ratio_generate_plus_caption']['max']:.2f}); median seconds: generate {m['sequential_generate_s']:.1f} "
            f"sequential vs {m['overlapped_generate_s']:.1f} overlapped, caption time after generation "
            f"{m['sequential_caption_s']:.1f} vs {m['overlapped_caption_s']:.1f}"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
