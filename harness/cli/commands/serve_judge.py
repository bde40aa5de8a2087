"""`punc serve-judge JUDGE.yaml --port P`: serve a transformers judge over chat completions."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from harness.cli.app import app
from harness.errors import PuncError
from harness.redact import SecretRefused, check_key
from harness.redact import register as register_secret


@app.command("serve-judge")
def serve_judge(
    judge_yaml: Path = typer.Argument(
        ..., help="Judge YAML with backend: transformers, or its name in `punc ls judges`."
    ),
    port: int = typer.Option(8000, "--port", "-p", help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for all)."),
    device: str | None = typer.Option(
        None, "--device", help="Override the judge's device (cpu, cuda, cuda:1)."
    ),
    api_key_env: str | None = typer.Option(
        None,
        "--api-key-env",
        help="Require 'Authorization: Bearer <key>' with the key in this environment variable.",
    ),
    faults: str | None = typer.Option(None, "--faults", hidden=True),
) -> None:
    """Serve a transformers judge as an OpenAI-compatible server (POST /v1/chat/completions)."""
    from harness.config.judge import load_judge
    from harness.judges.server import FAULTS_ENV, JudgeServer, parse_fault_plan
    from harness.judges.transformers_backend import TransformersJudge
    from harness.locate import resolve_judge_path

    judge_yaml = resolve_judge_path(str(judge_yaml))
    config = load_judge(judge_yaml)
    if config.backend != "transformers":
        raise PuncError(
            f"{judge_yaml}: serve-judge serves judges with backend: transformers (got '{config.backend}'); "
            "for vLLM models use `vllm serve`"
        )
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env) or None
        if api_key is None:
            raise PuncError(f"--api-key-env: the environment variable {api_key_env} is not set or empty")
        register_secret(api_key)
        try:
            check_key(api_key, f"--api-key-env: environment variable {api_key_env}")
        except SecretRefused as exc:
            raise PuncError(str(exc)) from None
    plan = parse_fault_plan(faults if faults is not None else os.environ.get(FAULTS_ENV))
    judge = TransformersJudge(config, device=device)
    server = JudgeServer(judge, host=host, port=port, api_key=api_key, faults=plan)
    typer.echo(
        f"serving judge '{config.name}' ({judge.mode}, {judge.device}) at {server.base_url} "
        f"(POST /chat/completions, GET /models, GET /health); Ctrl-C stops",
        err=True,
    )
    if plan:
        typer.echo("fault injection is ON", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
    finally:
        judge.close()
