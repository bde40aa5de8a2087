"""Can an uncertainty score tell shifted prompts from in-distribution ones? (spec section 5)

For each shifted set (vague, corrupted, ood) against the in-distribution set (shift none), with the
shifted prompts as positives and higher score = more likely shifted:
- AUROC: `sklearn.metrics.roc_auc_score` (ties count one half).
- AUPR: `sklearn.metrics.average_precision_score` (step-wise average precision, no interpolation).
- FPR95: from `sklearn.metrics.roc_curve(drop_intermediate=False)`, the smallest FPR among the ROC
  operating points (score thresholds) whose TPR ≥ 0.95; no interpolation between points.
- Confidence intervals: percentile bootstrap over prompts, positives and negatives resampled
  separately (so each replicate keeps n_pos and n_neg), seeded.

Beside the scores, always: prompt-only null baselines (harness/evaluation/prompt_baselines.py), each
in the direction that separates best, with PUNC's margin over the best of them per shift; and the
disentanglement AUROC: for each aleatoric shift (vague, corrupted) against the epistemic one (ood),
how well U_ale − U_epi tells them apart (aleatoric prompts positive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import PuncError
from harness.run.reader import RunReader
from harness.run.store import RunLayout
from harness.safe_load import read_json_file

SHIFTED = ("vague", "corrupted", "ood")
IN_DISTRIBUTION = "none"
PUNC_SCORES = {"u_ale": "U_ale", "u_epi": "U_epi", "u_tot": "U_tot"}
ALEATORIC_SHIFTS = ("vague", "corrupted")
EPISTEMIC_SHIFTS = ("ood",)
METRICS = ("auroc", "aupr", "fpr95")
FPR95_RULE = (
    "smallest FPR among ROC operating points (sklearn roc_curve, drop_intermediate=False) with TPR >= 0.95; "
    "no interpolation"
)


# -- metrics -----------------------------------------------------------------------------------
def _labels(pos: Sequence[float], neg: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    if pos.size == 0 or neg.size == 0:
        raise ValueError("need at least one positive and one negative")
    y = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
    return y, np.concatenate([pos, neg])


def fpr_at_tpr(y: np.ndarray, scores: np.ndarray, target: float = 0.95) -> float:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, scores, drop_intermediate=False)
    return float(fpr[tpr >= target - 1e-12].min())


def detection_metrics(pos: Sequence[float], neg: Sequence[float]) -> dict[str, float]:
    """AUROC, AUPR and FPR at 95 % TPR with the positives (shifted prompts) as the positive class."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, s = _labels(pos, neg)
    return {
        "auroc": float(roc_auc_score(y, s)),
        "aupr": float(average_precision_score(y, s)),
        "fpr95": fpr_at_tpr(y, s),
    }


def fast_metrics(pos: np.ndarray, neg: np.ndarray) -> dict[str, float]:
    """The same three numbers as `detection_metrics` in plain numpy (for the bootstrap's thousands of
    replicates); tests check it equals the scikit-learn values, ties included."""
    from scipy.stats import rankdata

    y, s = _labels(pos, neg)
    n_pos, n_neg = pos.size, neg.size
    ranks = rankdata(s)
    auroc = (ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.where(np.diff(s_sorted))[0], y.size - 1]
    tps = np.cumsum(y_sorted)[last]
    fps = last + 1 - tps
    precision = tps / (tps + fps)
    recall = tps / n_pos
    aupr = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    fpr95 = float((fps / n_neg)[recall >= 0.95 - 1e-12].min())
    return {"auroc": float(auroc), "aupr": aupr, "fpr95": fpr95}


def bootstrap_ci(
    pos: Sequence[float],
    neg: Sequence[float],
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, list[float]]:
    """Percentile intervals; positives and negatives resampled separately with replacement."""
    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    if n_boot <= 0:
        point = detection_metrics(pos, neg)
        return {m: [point[m], point[m]] for m in METRICS}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {m: [] for m in METRICS}
    for _ in range(n_boot):
        p = pos[rng.integers(0, pos.size, pos.size)]
        n = neg[rng.integers(0, neg.size, neg.size)]
        for key, value in fast_metrics(p, n).items():
            draws[key].append(value)
    alpha = (1.0 - confidence) / 2.0
    return {m: [float(np.quantile(v, alpha)), float(np.quantile(v, 1.0 - alpha))] for m, v in draws.items()}


# -- reading a run -----------------------------------------------------------------------------
@dataclass
class RunScores:
    run: str
    model: str
    scorer: str
    shifts: dict[str, str]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # score name -> prompt id -> value
    costs: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    prompt_only: dict[str, dict[str, float]] = field(default_factory=dict)  # feature -> prompt id -> value
    modal_caption: str | None = None
    tokenizer: str | None = None


def punc_cost(results: Any) -> dict[str, Any]:
    """PUNC's own cost per prompt: K × S judge caption calls plus text scoring (generation excluded,
    as it is shared with every baseline); seconds from the run's caption and score timings."""
    n = max(int(results.counts.prompts), 1)
    k = int(results.generation_recipe.get("images_per_prompt") or 0)
    s = int(results.judge.samples_per_image or 1)
    seconds = (results.timings.get("caption_s", 0.0) + results.timings.get("score_s", 0.0)) / n
    return {
        "network_passes_per_prompt": k * s,
        "seconds_per_prompt": round(seconds, 6),
        "unit": "judge caption calls (one generate() each) per prompt",
    }


def _zscored_baseline(lines: list[dict[str, Any]], shifts: dict[str, str]) -> dict[str, float]:
    """u per prompt; with several components, the sum of components z-scored on in-distribution prompts."""
    keys = sorted(lines[0].get("components") or {}) if lines else []
    if len(keys) < 2 or not all(set(r.get("components") or {}) >= set(keys) for r in lines):
        return {r["prompt_id"]: float(r["u"]) for r in lines}
    ref = [r for r in lines if shifts.get(r["prompt_id"]) == IN_DISTRIBUTION] or lines
    stats = {}
    for key in keys:
        values = np.array([r["components"][key] for r in ref], dtype=float)
        stats[key] = (values.mean(), values.std() if values.std() > 1e-12 else 1.0)
    return {
        r["prompt_id"]: float(sum((r["components"][k] - stats[k][0]) / stats[k][1] for k in keys))
        for r in lines
    }


def load_run_scores(run_dir: str | Path, scorer: str | None = None) -> RunScores:
    from harness.baselines import mean_cost

    run_dir = Path(run_dir)
    run = RunReader(run_dir)
    results = run.results
    available = sorted({name for p in results.per_prompt for name in p.uncertainty})
    chosen = scorer or results.primary_scorer or (available[0] if available else None)
    if chosen is None or chosen not in available:
        raise PuncError(
            f"{run_dir}: no uncertainty for scorer {chosen!r}; scorers with U_ale/U_epi/U_tot here: "
            f"{', '.join(available) or 'none'}"
        )
    shifts = {p.prompt_id: str(p.labels.get("shift", IN_DISTRIBUTION)) for p in results.per_prompt}
    out = RunScores(run=str(run_dir), model=results.model_name, scorer=chosen, shifts=shifts)
    cost = punc_cost(results)
    for key, label in PUNC_SCORES.items():
        name = f"{label} ({chosen})"
        out.scores[name] = {
            p.prompt_id: float(p.uncertainty[chosen][key].mean)
            for p in results.per_prompt
            if chosen in p.uncertainty and key in p.uncertainty[chosen]
        }
        out.costs[name] = cost
        out.signatures[name] = results.scorers.get(chosen, "")
    add_prompt_only(out, results, run)
    lines = run.baselines()
    by_name: dict[str, list[dict[str, Any]]] = {}
    for record in lines:
        by_name.setdefault(record["baseline"], []).append(record)
    for name, records in sorted(by_name.items()):
        recorded = (results.baselines.get(name) or {}).get("signature")
        signature = recorded or records[-1]["signature"]
        chosen_lines = {r["prompt_id"]: r for r in records if r["signature"] == signature}
        kept = [r for pid, r in chosen_lines.items() if pid in shifts]
        if not kept:
            continue
        out.scores[name] = _zscored_baseline(kept, shifts)
        out.costs[name] = mean_cost(kept)
        out.signatures[name] = signature
        # further scores of the same computation (e.g. the ensemble's caption-entropy split): own rows
        for key in dict.fromkeys(k for r in kept for k in r.get("extra_scores") or {}):
            row = f"{name}: {key}"
            out.scores[row] = {
                r["prompt_id"]: float(r["extra_scores"][key])
                for r in kept
                if key in (r.get("extra_scores") or {})
            }
            out.costs[row] = out.costs[name]
            out.signatures[row] = signature
    return out


def add_prompt_only(out: RunScores, results: Any, run: RunReader) -> None:
    """Prompt-only features of every prompt: text, the generator's tokenizer, the run's modal caption."""
    from harness.evaluation.prompt_baselines import (
        generator_tokenizer,
        modal_caption,
        prompt_features,
        word_pieces,
    )

    texts = {p.prompt_id: p.text for p in results.per_prompt}
    fingerprint = str(results.judge.fingerprint or "")
    latest = {  # one caption per grid item, the last one logged
        (r["prompt_id"], r["index"], r["image_hash"], r["sample_index"]): r
        for r in run.captions()
        if r["judge"] == fingerprint
    }
    captions = [r.get("caption", "") for (pid, *_), r in latest.items() if pid in texts]
    out.modal_caption = modal_caption(captions)
    tokenizer = generator_tokenizer(results.generator.model_dump())
    out.tokenizer = getattr(tokenizer, "name_or_path", None) if tokenizer is not None else None
    tokenize = word_pieces(tokenizer) if tokenizer is not None else None
    out.prompt_only = prompt_features(texts, tokenize, out.modal_caption)


#: fewer shifted (positive) or in-distribution (negative) prompts than this: too small to trust
MIN_DETECTION_SIDE = 10


# -- comparisons -------------------------------------------------------------------------------
def compare(run: RunScores, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    comparisons = []
    present = sorted(set(run.shifts.values()))
    if IN_DISTRIBUTION not in present:
        raise PuncError(f"{run.run}: no in-distribution prompts (shift none) to compare against")
    for shift in [s for s in SHIFTED if s in present]:
        for name, values in run.scores.items():
            pos = [v for pid, v in values.items() if run.shifts.get(pid) == shift and np.isfinite(v)]
            neg = [
                v for pid, v in values.items() if run.shifts.get(pid) == IN_DISTRIBUTION and np.isfinite(v)
            ]
            if not pos or not neg:
                continue
            point = detection_metrics(pos, neg)
            comparisons.append(
                {
                    "shift": shift,
                    "score": name,
                    **point,
                    "ci": bootstrap_ci(pos, neg, n_boot, seed),
                    "n_pos": len(pos),
                    "n_neg": len(neg),
                    "too_small": min(len(pos), len(neg)) < MIN_DETECTION_SIDE,
                    "cost": run.costs.get(name),
                }
            )
        comparisons += prompt_only_comparisons(run, shift, n_boot, seed)
    return comparisons


def _split(values: dict[str, float], shifts: dict[str, str], shift: str) -> list[float]:
    return [v for pid, v in values.items() if shifts.get(pid) == shift and np.isfinite(v)]


def prompt_only_comparisons(run: RunScores, shift: str, n_boot: int, seed: int) -> list[dict[str, Any]]:
    """Each prompt-only feature in the direction that separates this shift best (ties: higher)."""
    from harness.evaluation.prompt_baselines import PROMPT_ONLY, label

    rows = []
    for feature, values in run.prompt_only.items():
        pos, neg = _split(values, run.shifts, shift), _split(values, run.shifts, IN_DISTRIBUTION)
        if not pos or not neg:
            continue
        higher = detection_metrics(pos, neg)
        sign = 1.0 if higher["auroc"] >= 0.5 else -1.0
        pos_s, neg_s = [sign * v for v in pos], [sign * v for v in neg]
        direction = "higher" if sign > 0 else "lower"
        rows.append(
            {
                "shift": shift,
                "score": f"{label(feature)} ({direction})",
                "kind": PROMPT_ONLY,
                "feature": feature,
                "direction": direction,
                **(higher if sign > 0 else detection_metrics(pos_s, neg_s)),
                "ci": bootstrap_ci(pos_s, neg_s, n_boot, seed),
                "n_pos": len(pos),
                "n_neg": len(neg),
                "too_small": min(len(pos), len(neg)) < MIN_DETECTION_SIDE,
                "cost": None,
            }
        )
    return rows


def margins(run: RunScores, comparisons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per shift: PUNC's best score (U_ale, U_epi or U_tot), the best prompt-only baseline, the margin."""
    from harness.evaluation.prompt_baselines import PROMPT_ONLY

    punc_names = {f"{label} ({run.scorer})" for label in PUNC_SCORES.values()}
    out = []
    for shift in dict.fromkeys(c["shift"] for c in comparisons):
        rows = [c for c in comparisons if c["shift"] == shift]
        punc = [c for c in rows if c["score"] in punc_names]
        null = [c for c in rows if c.get("kind") == PROMPT_ONLY]
        if not punc:
            continue
        best_punc = max(punc, key=lambda c: c["auroc"])
        best_null = max(null, key=lambda c: c["auroc"]) if null else None
        out.append(
            {
                "shift": shift,
                "punc_score": best_punc["score"],
                "punc_auroc": best_punc["auroc"],
                "prompt_only_score": best_null["score"] if best_null else None,
                "prompt_only_auroc": best_null["auroc"] if best_null else None,
                "margin": best_punc["auroc"] - best_null["auroc"] if best_null else None,
            }
        )
    return out


def disentanglement(run: RunScores, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """AUROC of U_ale − U_epi for each (aleatoric, epistemic) pair of shifts present, aleatoric positive."""
    ale = run.scores.get(f"U_ale ({run.scorer})", {})
    epi = run.scores.get(f"U_epi ({run.scorer})", {})
    gap = {pid: ale[pid] - epi[pid] for pid in ale.keys() & epi.keys()}
    rows = []
    for a in ALEATORIC_SHIFTS:
        for e in EPISTEMIC_SHIFTS:
            pos, neg = _split(gap, run.shifts, a), _split(gap, run.shifts, e)
            if not pos or not neg:
                continue
            rows.append(
                {
                    "positive": a,
                    "negative": e,
                    "score": f"U_ale - U_epi ({run.scorer})",
                    "auroc": detection_metrics(pos, neg)["auroc"],
                    "ci": bootstrap_ci(pos, neg, n_boot, seed)["auroc"],
                    "n_pos": len(pos),
                    "n_neg": len(neg),
                }
            )
    return rows


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.3f}"


def markdown_table(
    run: RunScores,
    comparisons: list[dict[str, Any]],
    margin_rows: list[dict[str, Any]] | None = None,
    disentangle_rows: list[dict[str, Any]] | None = None,
) -> str:
    punc = run.costs.get(next(iter(run.scores), ""), {}) or {}
    lines = [
        f"# Shift detection: {run.model}",
        "",
        f"Run `{run.run}`; PUNC scorer `{run.scorer}`. Positives: shifted prompts; negatives: shift none.",
        f"95 % percentile-bootstrap intervals over prompts. FPR95 rule: {FPR95_RULE}.",
        "",
        "| shift | score | AUROC [95 % CI] | AUPR [95 % CI] | FPR95 [95 % CI] | n+/n− | passes/prompt | s/prompt |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        cells = [f"{_fmt(c[m])} [{_fmt(c['ci'][m][0])}, {_fmt(c['ci'][m][1])}]" for m in METRICS]
        cost = c.get("cost") or {}
        lines.append(
            f"| {c['shift']} | {c['score']} | {' | '.join(cells)} | {c['n_pos']}/{c['n_neg']}"
            f"{'*' if c.get('too_small') else ''} | "
            f"{_fmt(cost.get('network_passes_per_prompt'), 1)} | {_fmt(cost.get('seconds_per_prompt'), 4)} |"
        )
    if any(c.get("too_small") for c in comparisons):
        lines += ["", f"\\* fewer than {MIN_DETECTION_SIDE} positives or negatives: too small to trust."]
    lines += [
        "",
        f"PUNC passes are judge caption calls ({punc.get('network_passes_per_prompt')}/prompt); baseline "
        "passes count denoiser, VAE and image-encoder forward passes. Generating the K images is shared "
        "by all methods and not counted.",
    ]
    if margin_rows:
        lines += [
            "",
            "## PUNC against the prompt-only baselines",
            "",
            "Prompt-only rows use the prompt text alone (no image, no judge): words, characters, tokens and "
            "split words of the generator's tokenizer"
            + (f" (`{run.tokenizer}`)" if run.tokenizer else " (no tokenizer found for this generator)")
            + ", and ROUGE-1 F1 against the run's most frequent caption"
            + (f" (`{run.modal_caption}`)" if run.modal_caption else "")
            + "; each in the direction that separates best. If the margin is small, PUNC's score says little "
            "beyond the wording of the prompts.",
            "",
            "| shift | PUNC score | AUROC | best prompt-only | AUROC | margin |",
            "|---|---|---|---|---|---|",
        ]
        for m in margin_rows:
            lines.append(
                f"| {m['shift']} | {m['punc_score']} | {_fmt(m['punc_auroc'])} | {m['prompt_only_score'] or '–'} | "
                f"{_fmt(m['prompt_only_auroc'])} | {_signed(m['margin'])} |"
            )
    if disentangle_rows:
        lines += [
            "",
            "## Disentanglement",
            "",
            "AUROC of U_ale − U_epi for telling an aleatoric shift (positive) from an epistemic one: "
            "1.0 when every aleatoric prompt has a larger aleatoric-minus-epistemic gap than every epistemic one.",
            "",
            "| aleatoric (positive) | epistemic | score | AUROC [95 % CI] | n+/n− |",
            "|---|---|---|---|---|",
        ]
        for d in disentangle_rows:
            lines.append(
                f"| {d['positive']} | {d['negative']} | {d['score']} | {_fmt(d['auroc'])} "
                f"[{_fmt(d['ci'][0])}, {_fmt(d['ci'][1])}] | {d['n_pos']}/{d['n_neg']} |"
            )
    return "\n".join(lines) + "\n"


def plot_roc(run: RunScores, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    paths = []
    for shift in [s for s in SHIFTED if s in set(run.shifts.values())]:
        fig, ax = plt.subplots(figsize=(5, 5))
        drawn = 0
        for name, values in run.scores.items():
            pos = [v for pid, v in values.items() if run.shifts.get(pid) == shift]
            neg = [v for pid, v in values.items() if run.shifts.get(pid) == IN_DISTRIBUTION]
            if not pos or not neg:
                continue
            y, s = _labels(pos, neg)
            fpr, tpr, _ = roc_curve(y, s)
            ax.plot(fpr, tpr, label=f"{name} ({detection_metrics(pos, neg)['auroc']:.2f})")
            drawn += 1
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set(
            xlabel="false positive rate", ylabel="true positive rate", title=f"{run.model}: {shift} vs none"
        )
        ax.legend(fontsize=7, loc="lower right")
        if drawn:
            path = out_dir / f"roc_{shift}.png"
            fig.savefig(path, dpi=120, bbox_inches="tight")
            paths.append(path)
        plt.close(fig)
    return paths


def detect(
    run_dir: str | Path, out_dir: str | Path, scorer: str | None = None, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Compute, write detection.json, detection.md and roc_<shift>.png into out_dir; return the JSON."""
    from harness.run.jsonl import atomic_write_json, atomic_write_text

    run = load_run_scores(run_dir, scorer)
    comparisons = compare(run, n_boot, seed)
    margin_rows = margins(run, comparisons)
    disentangle_rows = disentanglement(run, n_boot, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "run": run.run,
        "model": run.model,
        "scorer": run.scorer,
        "positives": "shifted prompts",
        "negatives": "shift none",
        "bootstrap": {"samples": n_boot, "seed": seed, "confidence": 0.95, "method": "percentile, strata"},
        "fpr95_rule": FPR95_RULE,
        "signatures": run.signatures,
        "comparisons": comparisons,
        "prompt_only": {
            "features": sorted(run.prompt_only),
            "tokenizer": run.tokenizer,
            "modal_caption": run.modal_caption,
            "direction": "each feature oriented per shift so that its AUROC is >= 0.5",
        },
        "margins": margin_rows,
        "disentanglement": disentangle_rows,
    }
    atomic_write_json(RunLayout(out_dir).detection_file, payload)
    atomic_write_text(
        out_dir / "detection.md", markdown_table(run, comparisons, margin_rows, disentangle_rows)
    )
    plot_roc(run, out_dir)
    return payload


def read_detection(path: str | Path) -> dict[str, Any]:
    return read_json_file(path, "detection results")
