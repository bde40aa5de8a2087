"""Judge disagreement: how much the per-prompt uncertainties move when another judge captions the same images.

A run directory can hold captions of several judges: `punc eval --judge OTHER --out RUN` reuses the
run's images and adds the other judge's captions and scores (each record names its judge by
fingerprint). Several run directories (or board bundles) of the same task and the same images can be
read together too. Per prompt and judge: U = 1 - P (ale), 1 - R (epi), 1 - F1 (tot) of the chosen
scorer, samples averaged per image, then the mean over the images, as in results.json. The spread of a
prompt is the range (max - min) of its U across judges; the prompts with the largest U_tot spread are
flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import PuncError
from harness.run.reader import RunReader, load_results
from harness.run.schema import UNCERTAINTY_KEYS, Results

OUTPUT_OF = {"u_ale": "precision", "u_epi": "recall", "u_tot": "f1"}


@dataclass
class JudgeScores:
    """Per judge fingerprint: prompt -> image index -> output -> sample values."""

    names: dict[str, str] = field(default_factory=dict)
    cells: dict[str, dict[str, dict[int, dict[str, list[float]]]]] = field(default_factory=dict)


@dataclass
class PromptSpread:
    prompt_id: str
    text: str
    labels: dict[str, Any]
    per_judge: dict[str, dict[str, float]]  # judge name -> u_* -> value
    spread: dict[str, float]  # u_* -> max - min over judges
    flagged: bool = False


def _images(run_dir: Path) -> dict[tuple[str, int], str]:
    return {
        (str(r.get("prompt_id")), int(r["index"])): str(r.get("image_hash"))
        for r in RunReader(run_dir).images(checked=False)
        if isinstance(r.get("index"), int)
    }


def shipped_judge_names() -> dict[str, str]:
    """Fingerprint -> name of the judge YAMLs the harness ships (judges/), to name judges that no
    results.json names any more (a run's results.json describes the judge that scored it last)."""
    from harness.config.judge import load_judge
    from harness.locate import list_shipped

    names: dict[str, str] = {}
    for path in list_shipped("judges", ".yaml"):
        try:
            config = load_judge(path)
            names.setdefault(config.fingerprint, config.name)
        except Exception:  # noqa: S112 - a broken example YAML must not stop the report
            continue
    return names


def read_judge_scores(run_dirs: list[Path], scorer: str | None) -> tuple[JudgeScores, Results, str]:
    """Every judge's scores of `scorer` (default: the first run's primary scorer) over the same images."""
    first = load_results(run_dirs[0])
    chosen = scorer or first.primary_scorer
    if not chosen or chosen not in first.scorers:
        raise PuncError(
            f"{run_dirs[0] / 'results.json'}: scorer {chosen!r} is not one of this run's scorers "
            f"({', '.join(sorted(first.scorers)) or 'none'})"
        )
    signature = first.scorers[chosen]
    images = _images(Path(run_dirs[0]))
    out = JudgeScores()
    for run_dir in map(Path, run_dirs):
        results = first if run_dir == Path(run_dirs[0]) else load_results(run_dir)
        if results.task.hash != first.task.hash:
            raise PuncError(
                f"{run_dir}: task hash {results.task.hash!r} differs from {first.task.hash!r} "
                f"in {run_dirs[0]}; judges can only be compared on the same prompts"
            )
        if results.scorers.get(chosen) != signature:
            raise PuncError(
                f"{run_dir}: scorer {chosen!r} has signature {results.scorers.get(chosen)!r}, "
                f"{signature!r} in {run_dirs[0]}; the spread would mix judges and scorers"
            )
        theirs = _images(run_dir)
        for key in set(images) & set(theirs):
            if images[key] != theirs[key]:
                raise PuncError(
                    f"{run_dir}: prompt {key[0]!r} image {key[1]} is not the image of {run_dirs[0]} "
                    "(another generator or seed); judges must caption the same images"
                )
        images.update({k: v for k, v in theirs.items() if k not in images})
        fp, name = results.judge.fingerprint, results.judge.name
        if fp and name:
            out.names.setdefault(str(fp), str(name))
        run = RunReader(run_dir)
        if not run.layout.scores_log.is_file():
            raise PuncError(f"{run.layout.scores_log}: expected the run's scores (scores.jsonl)")
        for rec in run.scores(checked=False):
            if rec.get("scorer") != chosen or rec.get("signature") not in (None, signature):
                continue
            judge, values = rec.get("judge"), rec.get("values")
            if (
                not isinstance(judge, str)
                or not isinstance(values, dict)
                or not isinstance(rec.get("index"), int)
            ):
                continue
            pid, index = str(rec.get("prompt_id")), int(rec["index"])
            if images.get((pid, index)) not in (None, rec.get("image_hash")):
                continue  # a score of an image this run no longer holds
            cell = out.cells.setdefault(judge, {}).setdefault(pid, {}).setdefault(index, defaultdict(list))
            for output, value in values.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cell[output].append(float(value))
    return out, first, chosen


def prompt_uncertainty(images: dict[int, dict[str, list[float]]]) -> dict[str, float] | None:
    """Mean over images of 1 - (mean over the image's samples) of P, R and F1; None when one is missing."""
    per_output: dict[str, list[float]] = defaultdict(list)
    for cell in images.values():
        for output in OUTPUT_OF.values():
            if cell.get(output):
                per_output[output].append(float(np.mean(cell[output])))
    if not all(per_output.get(o) for o in OUTPUT_OF.values()):
        return None
    # rounded to 1e-6 so that float noise between identical captions does not break ties in rank correlations
    return {u: round(1.0 - float(np.mean(per_output[o])), 6) for u, o in OUTPUT_OF.items()}


def judge_spread(run_dirs: list[Path], scorer: str | None = None, top: int = 10) -> dict[str, Any]:
    """Per-prompt spread across judges, the `top` prompts of largest U_tot spread, and agreement summaries."""
    from scipy.stats import spearmanr

    scores, results, chosen = read_judge_scores(run_dirs, scorer)
    judges = sorted(scores.cells)
    if len(judges) < 2:
        raise PuncError(
            f"{', '.join(map(str, run_dirs))}: captioned by {len(judges)} judge(s) for scorer {chosen!r}; "
            "the spread needs at least two. Caption the same images with another judge: "
            "`punc eval TASK --generator SAME --judge OTHER.yaml --out RUN_DIR`."
        )
    shipped = shipped_judge_names() if any(fp not in scores.names for fp in judges) else {}
    names = {fp: scores.names.get(fp) or shipped.get(fp) or fp[:12] for fp in judges}
    if len(set(names.values())) < len(names):  # two configs of one judge name: add enough fingerprint
        width = next(
            (w for w in range(8, 65) if len({f"{names[fp]} ({fp[:w]})" for fp in judges}) == len(judges)), 64
        )
        names = {fp: f"{names[fp]} ({fp[:width]})" for fp in judges}
    rows: list[PromptSpread] = []
    for prompt in results.per_prompt:
        per_judge = {}
        for fp in judges:
            u = prompt_uncertainty(scores.cells[fp].get(prompt.prompt_id, {}))
            if u is not None:
                per_judge[names[fp]] = u
        if len(per_judge) < 2:
            continue
        spread = {
            k: max(v[k] for v in per_judge.values()) - min(v[k] for v in per_judge.values())
            for k in UNCERTAINTY_KEYS
        }
        rows.append(PromptSpread(prompt.prompt_id, prompt.text, prompt.labels, per_judge, spread))
    if not rows:
        raise PuncError("no prompt was scored by two judges; nothing to compare")
    for row in sorted(rows, key=lambda r: (-r.spread["u_tot"], r.prompt_id))[:top]:
        row.flagged = True
    shown = [names[fp] for fp in judges]
    means = {
        j: {
            k: float(np.mean([r.per_judge[j][k] for r in rows if j in r.per_judge])) for k in UNCERTAINTY_KEYS
        }
        for j in shown
    }
    agreement = []
    for a, b in combinations(shown, 2):
        both = [r for r in rows if a in r.per_judge and b in r.per_judge]
        x = [r.per_judge[a]["u_tot"] for r in both]
        y = [r.per_judge[b]["u_tot"] for r in both]
        rho = float(spearmanr(x, y).statistic) if len(both) > 2 and np.ptp(x) > 0 and np.ptp(y) > 0 else None
        agreement.append({"a": a, "b": b, "n": len(both), "spearman_u_tot": rho})
    by_shift: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_shift[str(r.labels.get("shift", "all"))].append(r.spread["u_tot"])
    return {
        "scorer": chosen,
        "judges": [{"name": names[fp], "fingerprint": fp} for fp in judges],
        "n_prompts": len(rows),
        "mean_u": means,
        "mean_spread": {k: float(np.mean([r.spread[k] for r in rows])) for k in UNCERTAINTY_KEYS},
        "mean_spread_u_tot_by_shift": {k: float(np.mean(v)) for k, v in sorted(by_shift.items())},
        "agreement": agreement,
        "flagged": [
            r.prompt_id for r in sorted(rows, key=lambda r: (-r.spread["u_tot"], r.prompt_id)) if r.flagged
        ],
        "prompts": [
            {
                "prompt_id": r.prompt_id,
                "text": r.text,
                "labels": r.labels,
                "per_judge": r.per_judge,
                "spread": r.spread,
                "flagged": r.flagged,
            }
            for r in rows
        ],
    }


def spread_markdown(report: dict[str, Any]) -> str:
    judges = [j["name"] for j in report["judges"]]
    lines = [
        f"# Judge disagreement ({report['scorer']}, {report['n_prompts']} prompts)",
        "",
        "| judge | fingerprint | mean U_ale | mean U_epi | mean U_tot |",
        "|---|---|---:|---:|---:|",
    ]
    for j in report["judges"]:
        m = report["mean_u"][j["name"]]
        lines.append(
            f"| {j['name']} | `{j['fingerprint'][:16]}` | {m['u_ale']:.4f} | {m['u_epi']:.4f} | {m['u_tot']:.4f} |"
        )
    s = report["mean_spread"]
    lines += [
        "",
        f"Mean spread across judges (max − min per prompt): U_ale {s['u_ale']:.4f}, U_epi {s['u_epi']:.4f}, "
        f"U_tot {s['u_tot']:.4f}.",
        "By shift (U_tot): "
        + ", ".join(f"{k} {v:.4f}" for k, v in report["mean_spread_u_tot_by_shift"].items())
        + ".",
    ]
    for a in report["agreement"]:
        rho = "–" if a["spearman_u_tot"] is None else f"{a['spearman_u_tot']:.3f}"
        lines.append(
            f"Spearman correlation of per-prompt U_tot, {a['a']} vs {a['b']} ({a['n']} prompts): {rho}."
        )
    lines += [
        "",
        f"## Prompts where the judges disagree most ({len(report['flagged'])} flagged, by U_tot spread)",
        "",
        "| prompt | text | "
        + " | ".join(f"U_tot {j}" for j in judges)
        + " | spread U_tot | spread U_ale | spread U_epi |",
        "|---|---|" + "---:|" * (len(judges) + 3),
    ]
    by_id = {p["prompt_id"]: p for p in report["prompts"]}
    for pid in report["flagged"]:
        p = by_id[pid]
        cells = [f"{p['per_judge'][j]['u_tot']:.4f}" if j in p["per_judge"] else "–" for j in judges]
        text = " ".join(str(p["text"]).split()).replace("|", "\\|")
        lines.append(
            f"| {pid} | {text} | "
            + " | ".join(cells)
            + f" | {p['spread']['u_tot']:.4f} | {p['spread']['u_ale']:.4f} | {p['spread']['u_epi']:.4f} |"
        )
    return "\n".join(lines) + "\n"
