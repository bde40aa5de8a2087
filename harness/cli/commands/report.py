"""`punc report ...`: application reports on a finished run (bias)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app

report_app = typer.Typer(help="Reports on a finished run: bias.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("bias")
def bias_command(
    run: Path = typer.Argument(..., help="Run directory (results.json, captions.jsonl)."),
    attribute: str = typer.Option("colour", "--attribute", "-a", help="The attribute prompts leave open."),
    values: str = typer.Option(
        None,
        "--values",
        help="Comma-separated vocabulary (default: the values in-distribution prompts name).",
    ),
    by: str = typer.Option("shape", "--by", help="Group by this prompt attribute; 'none' for one group."),
    alpha: float = typer.Option(0.01, "--alpha", min=0.0, max=1.0, help="Family-wise significance level."),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for bias_ATTRIBUTE.json and bias_ATTRIBUTE.md (default: the run).",
    ),
) -> None:
    """Distribution of an attribute the prompt left open, per group, against uniform (chi-square)."""
    from harness.evaluation.bias import bias_markdown, run_bias
    from harness.run.jsonl import atomic_write_json, atomic_write_text

    vocab = [v.strip() for v in values.split(",") if v.strip()] if values else None
    group_by = None if by.lower() == "none" else by
    table = run_bias(run, attribute, vocab, group_by, alpha)
    target = out or run
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_json(target / f"bias_{attribute}.json", table)
    markdown = bias_markdown(table)
    atomic_write_text(target / f"bias_{attribute}.md", markdown)
    typer.echo(markdown)
    biased = table["biased_groups"]
    typer.echo(
        f"verdict: {'BIASED in ' + ', '.join(biased) if biased else 'no group biased'} "
        f"(alpha {alpha}, Bonferroni over tested groups)"
    )
