"""punc's BERTScore against the `bert-score` package: same numbers, and at least as fast.

    python scripts/bench_bertscore.py                     # 512 pairs, 3 alternating rounds, 1 thread
    python scripts/bench_bertscore.py --pairs 2048 --threads 2

Both score the same (prompt, caption-like) pairs from the embedded world's prompt files with the
default backbone and layer, on CPU, in this one process; rounds alternate so load drifts hit both.
Prints the speed ratio (bert-score seconds / punc seconds: >= 1 means punc is at least as fast) and
the largest difference in P, R and F1, and writes benchmarks/bertscore-cpu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bert_score_reference import reference_bertscore  # noqa: E402  (the wrapper the tests use)


def world_pairs(count: int) -> tuple[list[str], list[str]]:
    texts = []
    for path in sorted((ROOT / "prompts").glob("world_*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    rng = random.Random(0)
    refs = [rng.choice(texts) for _ in range(count)]
    cands = [rng.choice(texts) for _ in range(count)]
    return refs, cands


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "bertscore-cpu.json")
    args = parser.parse_args()

    import torch
    from transformers.utils import logging as hf_logging

    from harness.scorers import BERTScoreScorer
    from harness.scorers.base import default_model_path

    torch.set_num_threads(args.threads)
    hf_logging.disable_progress_bar()
    refs, cands = world_pairs(args.pairs)
    scorer = BERTScoreScorer(device="cpu")
    layer = scorer._resolve_layer()
    model = default_model_path()

    def punc() -> list[dict[str, float]]:
        return scorer.score(refs, cands)

    def package() -> list[dict[str, float]]:
        return reference_bertscore(cands, refs, model, layer)

    punc(), package()  # load both models and warm up
    times: dict[str, list[float]] = {"punc": [], "bert_score": []}
    for _ in range(args.rounds):
        for name, fn in (("punc", punc), ("bert_score", package)):
            started = time.perf_counter()
            values = fn()
            times[name].append(time.perf_counter() - started)
            if name == "punc":
                ours = values
            else:
                theirs = values
    worst = max(
        abs(a[k] - b[k]) for a, b in zip(ours, theirs, strict=True) for k in ("precision", "recall", "f1")
    )
    # pairs off by more than float32 noise: score them alone with bert-score too (batch-of-one values)
    gaps = [max(abs(a[k] - b[k]) for k in a) for a, b in zip(ours, theirs, strict=True)]
    outliers = []
    for i, gap in enumerate(gaps):
        if gap > 1e-5:
            alone = reference_bertscore([cands[i]], [refs[i]], model, layer)[0]
            outliers.append(
                {
                    "reference": refs[i],
                    "candidate": cands[i],
                    "difference_in_batch": gap,
                    "difference_vs_bert_score_alone": max(abs(ours[i][k] - alone[k]) for k in alone),
                }
            )
    punc_s, package_s = statistics.median(times["punc"]), statistics.median(times["bert_score"])
    record = {
        "script": "scripts/bench_bertscore.py",
        "command": "python scripts/bench_bertscore.py " + " ".join(sys.argv[1:]),
        "pairs": args.pairs,
        "threads": args.threads,
        "backbone": f"all-MiniLM-L6-v2 layer {layer}",
        "seconds": times,
        "punc_median_s": punc_s,
        "bert_score_median_s": package_s,
        "speed_ratio_bert_score_over_punc": package_s / punc_s,
        "max_abs_difference": worst,
        "pairs_within_1e-5": sum(g <= 1e-5 for g in gaps),
        "pairs_beyond_1e-5": outliers,
        "load_average_at_end": os.getloadavg()[0],
    }
    print(f"{args.pairs} pairs: punc {punc_s:.3f} s, bert-score {package_s:.3f} s, "
          f"punc is {package_s / punc_s:.2f}x bert-score's speed; largest difference {worst:.2e}")  # fmt: skip
    for o in outliers:
        print(f"  beyond 1e-5: {o['reference']!r} / {o['candidate']!r}: {o['difference_in_batch']:.1e} in the batch, "
              f"{o['difference_vs_bert_score_alone']:.1e} against bert-score scoring the pair alone")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
