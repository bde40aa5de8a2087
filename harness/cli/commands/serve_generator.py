"""`punc serve-generator PIPELINE --port P`: serve a diffusers pipeline over the OpenAI images protocol."""

from __future__ import annotations

import os

import typer

from harness.cli.app import app
from harness.cli.commands.eval import Dtype
from harness.errors import PuncError


@app.command("serve-generator")
def serve_generator(
    pipeline: str = typer.Argument(..., help="Diffusers hub id or local pipeline folder."),
    port: int = typer.Option(8000, "--port", "-p", help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for all)."),
    device: str | None = typer.Option(
        None, "--device", help="cpu, cuda, cuda:1, mps (default: best available)."
    ),
    dtype: Dtype = typer.Option(
        None, "--dtype", help="Weights dtype (default: float32 on CPU, bf16/fp16 on GPUs)."
    ),
    revision: str | None = typer.Option(None, "--revision", help="Hub revision (commit) of the pipeline."),
    model_name: str | None = typer.Option(
        None, "--model-name", help="The model id clients send and see (default: the pipeline's name)."
    ),
    api_key_env: str | None = typer.Option(
        None,
        "--api-key-env",
        help="Require 'Authorization: Bearer <key>' with the key in this environment variable.",
    ),
) -> None:
    """Serve a diffusers pipeline as an OpenAI-compatible images endpoint (POST /v1/images/generations)."""
    from harness.generators.diffusers_pipeline import DiffusersGenerator
    from harness.generators.image_server import ImageServer

    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env) or None
        if api_key is None:
            raise PuncError(f"--api-key-env: the environment variable {api_key_env} is not set or empty")
    generator = DiffusersGenerator(
        pipeline, device=device, dtype=dtype.value if dtype else None, revision=revision
    )
    try:
        server = ImageServer(generator, host=host, port=port, model_name=model_name, api_key=api_key)
        typer.echo(
            f"serving generator '{server.model_name}' ({type(generator.pipe).__name__}, {generator.device}) at "
            f"{server.base_url} (POST /images/generations, GET /models, GET /health); Ctrl-C stops",
            err=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            typer.echo("stopped", err=True)
    finally:
        generator.close()
