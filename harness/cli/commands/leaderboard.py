"""`punc leaderboard build|serve|push`: render and view a board."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app

leaderboard_app = typer.Typer(
    name="leaderboard",
    help="Build, serve and push leaderboards made by `punc publish`.",
    no_args_is_help=True,
)
app.add_typer(leaderboard_app, name="leaderboard")

BOARDS_DIR = typer.Option(Path("leaderboards"), "--boards-dir", help="Folder holding the boards.")


@leaderboard_app.command("build")
def build(name: str = typer.Argument(..., help="Board name."), boards_dir: Path = BOARDS_DIR) -> None:
    """Write index.json, README.md and a self-contained index.html (works from file://, no network)."""
    from harness.leaderboard.build import build_board

    result = build_board(name, boards_dir)
    typer.echo(f"built board {name!r} ({result.n_models} run(s)): {result.index_html}")
    typer.echo(f"  {result.readme}\n  {result.index_json}")


@leaderboard_app.command("serve")
def serve(
    name: str = typer.Argument(..., help="Board name."),
    boards_dir: Path = BOARDS_DIR,
    port: int = typer.Option(8000, "--port", help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
) -> None:
    """Serve the board folder over HTTP (standard library) and print its URL."""
    from harness.leaderboard.serve import serve_board

    serve_board(name, boards_dir, host=host, port=port, echo=typer.echo)


@leaderboard_app.command("push")
def push(
    name: str = typer.Argument(..., help="Board name."),
    repo: str = typer.Option(..., "--repo", help="Hugging Face dataset repo id, e.g. owner/punc-board."),
    boards_dir: Path = BOARDS_DIR,
) -> None:
    """Upload the board folder to a Hugging Face dataset repo (token from HF_TOKEN)."""
    from harness.leaderboard.board_files import board_path
    from harness.leaderboard.hub import push_board

    url = push_board(board_path(name, boards_dir), repo)
    typer.echo(f"pushed board {name!r} to {url}")
