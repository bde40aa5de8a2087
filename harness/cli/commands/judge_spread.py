"""`punc judge-spread RUN [RUN...]`: how much each prompt's uncertainty moves with the judge."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app


@app.command("judge-spread")
def judge_spread_command(
    runs: list[Path] = typer.Argument(
        ..., help="Run directories (or board bundles) whose images were captioned by two or more judges."
    ),
    scorer: str = typer.Option(
        None, "--scorer", help="Scorer whose P/R give the uncertainties (default: primary)."
    ),
    top: int = typer.Option(10, "--top", min=1, help="Flag this many prompts with the largest U_tot spread."),
    json_out: Path = typer.Option(None, "--json", help="Also write the full report (every prompt) as JSON."),
    markdown_out: Path = typer.Option(None, "--markdown", help="Also write the report as Markdown."),
) -> None:
    """Per-prompt spread of U_ale, U_epi, U_tot across judges; flags the prompts judges disagree on most."""
    from harness.comparison.judges import judge_spread, spread_markdown
    from harness.run.jsonl import atomic_write_json, atomic_write_text

    report = judge_spread(runs, scorer, top)
    text = spread_markdown(report)
    typer.echo(text)
    if json_out:
        atomic_write_json(json_out, report)
        typer.echo(f"wrote {json_out}")
    if markdown_out:
        atomic_write_text(markdown_out, text)
        typer.echo(f"wrote {markdown_out}")
