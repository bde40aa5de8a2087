"""`punc detect`: AUROC, AUPR and FPR95 of every uncertainty score for each shifted prompt set."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from harness.cli.app import app


@app.command("detect")
def detect_command(
    runs: list[Path] = typer.Argument(..., help="Run directories (each with results.json)."),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Output folder (default: the run directory; with several runs, OUT/<model>).",
    ),
    scorer: str = typer.Option(
        None, "--scorer", help="P/R scorer whose U_ale/U_epi/U_tot to use (default: primary)."
    ),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Bootstrap replicates for the intervals."),
    seed: int = typer.Option(0, "--seed", min=0, help="Bootstrap seed."),
) -> None:
    """Shifted prompts (vague, corrupted, ood) against in-distribution ones, for PUNC, the baselines and
    the prompt-only null baselines; plus the disentanglement AUROC of U_ale - U_epi."""
    from harness.evaluation.detection import MIN_DETECTION_SIDE, detect
    from harness.run.reader import load_results
    from harness.safe_ids import is_safe_id

    used: dict[str, int] = {}
    for run in runs:
        if out is None:
            target = run
        elif len(runs) == 1:
            target = out
        else:
            name = load_results(run).model_name
            model = (
                name if is_safe_id(name) else re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-") or "model"
            )
            used[model] = used.get(model, 0) + 1
            target = out / (model if used[model] == 1 else f"{model}-{used[model]}")
        payload = detect(run, target, scorer=scorer, n_boot=bootstrap, seed=seed)
        typer.echo(
            f"{run}: {len(payload['comparisons'])} comparisons -> {target}/detection.json, detection.md"
        )
        best: dict[str, tuple[float, str, str]] = {}
        for c in payload["comparisons"]:
            if c.get("kind") == "prompt-only":
                continue
            if c["shift"] not in best or c["auroc"] > best[c["shift"]][0]:
                small = (
                    f"  (too small to trust: {c['n_pos']} shifted / {c['n_neg']} in-distribution prompts,"
                    f" fewer than {MIN_DETECTION_SIDE})"
                    if c.get("too_small")
                    else ""
                )
                best[c["shift"]] = (c["auroc"], c["score"], small)
        for shift, (auroc, score, small) in best.items():
            typer.echo(f"  {shift:<10} best AUROC {auroc:.3f}  {score}{small}")
        for m in payload["margins"]:
            if m["prompt_only_auroc"] is not None:
                typer.echo(
                    f"  {m['shift']:<10} PUNC {m['punc_auroc']:.3f} ({m['punc_score']})  best prompt-only "
                    f"{m['prompt_only_auroc']:.3f} ({m['prompt_only_score']})  margin {m['margin']:+.3f}"
                )
        for d in payload["disentanglement"]:
            typer.echo(
                f"  disentanglement {d['positive']} vs {d['negative']}: AUROC {d['auroc']:.3f}  {d['score']}"
            )
