"""`punc compare RUN_A RUN_B [...]`: paired per-prompt differences between runs, with corrected tests."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from harness.cli.app import app


@app.command("compare")
def compare_command(
    runs: list[Path] = typer.Argument(..., help="Two or more run directories (or board bundles)."),
    scorer: str = typer.Option(
        None, "--scorer", help="Scorer whose P/R give the uncertainties (default: primary)."
    ),
    by: str = typer.Option(
        "shift,category", "--by", help="Prompt labels to group by, comma-separated; 'none' for overall only."
    ),
    correction: str = typer.Option("holm", "--correction", help="holm, bonferroni or none."),
    alpha: float = typer.Option(0.05, "--alpha", min=0.0, max=1.0, help="Family-wise significance level."),
    resamples: int = typer.Option(9999, "--resamples", min=99, help="Bootstrap and permutation resamples."),
    seed: int = typer.Option(0, "--seed", help="Seed of the resampling (reruns give the same numbers)."),
    json_out: Path = typer.Option(None, "--json", help="Also write every row as JSON to this file."),
    markdown_out: Path = typer.Option(
        None, "--markdown", help="Also write the tables as Markdown to this file."
    ),
) -> None:
    """Is run A really less uncertain than run B? Paired bootstrap intervals and permutation p-values."""
    from rich.console import Console

    from harness.comparison.compare import compare_runs, rows_as_dicts
    from harness.comparison.render import correction_text, markdown_table, rich_tables
    from harness.comparison.runs import load_run_values
    from harness.errors import PuncError
    from harness.run.jsonl import atomic_write_json, atomic_write_text

    if len(runs) < 2:
        raise PuncError("compare needs at least two runs: punc compare RUN_A RUN_B [...]")
    groups = () if by.strip().lower() == "none" else tuple(g.strip() for g in by.split(",") if g.strip())
    loaded = [load_run_values(path, scorer) for path in runs]
    rows = compare_runs(loaded, groups, correction, alpha, resamples, seed)
    sampled = [r for r in rows if not r.exact]
    floor = 2 / (resamples + 1)  # smallest two-sided p of a sampled permutation test
    if correction != "none" and sampled and len(rows) * floor >= alpha:
        typer.echo(
            f"warning: {len(rows)} tests and {resamples} resamples: a sampled p-value is at least {floor:.1e}, "
            f"so after the correction none can fall below alpha {alpha}; raise --resamples "
            f"(to more than {int(2 * len(rows) / alpha)}) or test fewer groups (--by).",
            err=True,
        )
    console = Console(width=160)
    for table in rich_tables(rows):
        console.print(table)
    typer.echo(
        f"scorer {loaded[0].scorer}; {len(rows)} paired tests, p-values {correction_text(correction)} "
        f"together; 95% percentile-bootstrap intervals over prompts ({resamples} resamples, seed {seed})."
    )
    if json_out:
        atomic_write_json(
            json_out,
            {
                "runs": [{"path": str(r.path), "name": r.name} for r in loaded],
                "scorer": loaded[0].scorer,
                "correction": correction,
                "alpha": alpha,
                "resamples": resamples,
                "seed": seed,
                "rows": json.loads(json.dumps(rows_as_dicts(rows))),
            },
        )
        typer.echo(f"wrote {json_out}")
    if markdown_out:
        atomic_write_text(markdown_out, markdown_table(rows, correction, alpha))
        typer.echo(f"wrote {markdown_out}")
