"""`punc publish`: add a finished run to a leaderboard."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app


@app.command("publish")
def publish(
    run_dir: Path = typer.Argument(..., help="Run directory written by `punc eval`."),
    board: str = typer.Option(..., "--board", help="Board name (a safe id: letters, digits, _ . -)."),
    boards_dir: Path = typer.Option(Path("leaderboards"), "--boards-dir", help="Folder holding the boards."),
    new_board: bool = typer.Option(
        False, "--new-board", help="Start a new board with this name (never overwrites an existing one)."
    ),
    allow_partial: bool = typer.Option(
        False, "--allow-partial", help="Publish an incomplete run or one with failures; the board marks it."
    ),
    name: str | None = typer.Option(
        None, "--name", help="Model label shown on the board (default: model_name)."
    ),
    push_to_hub: str | None = typer.Option(
        None,
        "--push-to-hub",
        help="Also upload the board to this Hugging Face dataset repo (token: HF_TOKEN).",
    ),
) -> None:
    """Validate RUN_DIR and add it to a board, then rebuild the board's index.json, README.md and index.html."""
    from harness.leaderboard.publish import publish_run

    result = publish_run(
        run_dir,
        board,
        boards_dir,
        new_board=new_board,
        allow_partial=allow_partial,
        label=name,
        push_to_hub=push_to_hub,
    )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if result.created_board:
        typer.echo(f"created board {board!r} at {result.board_dir}")
    images = result.images
    typer.echo(
        f"published {run_dir} as {result.bundle_id!r} on board {board!r}"
        + (" (partial)" if result.partial else "")
        + f"; images: {images['copied']} of {images['in_run']} copied ({images['policy']})"
    )
    typer.echo(f"board: {result.board_dir / 'index.html'}")
    if result.pushed:
        typer.echo(f"pushed to {result.pushed}")
