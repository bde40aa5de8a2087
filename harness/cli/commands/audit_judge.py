"""`punc audit-judge [JUDGE]`: how well a judge describes scenes whose truth is known (the embedded world)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app


@app.command("audit-judge")
def audit_judge_command(
    judge: str = typer.Argument(
        None, help="Judge YAML path or name in judges/ (default: the world's captioner)."
    ),
    n: int = typer.Option(500, "--n", min=1, max=100_000, help="Number of rendered scenes."),
    seed: int = typer.Option(777, "--seed", help="Seed of the scenes (777 = scripts/audit_world.py's)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    json_out: Path = typer.Option(None, "--json", help="Also write the report as JSON."),
    markdown_out: Path = typer.Option(None, "--markdown", help="Also write the report as Markdown."),
) -> None:
    """Caption N rendered scenes with JUDGE; per-attribute accuracy, mentions and hallucinations."""
    from harness.config.judge import load_judge
    from harness.evaluation.judge_audit import audit_judge, audit_markdown
    from harness.locate import resolve_judge_path
    from harness.run.jsonl import atomic_write_json, atomic_write_text

    config = load_judge(resolve_judge_path(judge or "world"))
    report = audit_judge(config, n=n, seed=seed, device=device)
    text = audit_markdown(report)
    typer.echo(text)
    if json_out:
        atomic_write_json(json_out, report)
        typer.echo(f"wrote {json_out}")
    if markdown_out:
        atomic_write_text(markdown_out, text)
        typer.echo(f"wrote {markdown_out}")
