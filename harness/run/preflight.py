"""Pre-flight: check the judge, every scorer and the generator before the first image is made.

A run that cannot finish must fail in seconds, not after an hour of generation. Every check here is
cheap (files, imports, one short network probe); models are loaded later, by the stages that use them.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from harness.errors import InputError, InputErrors, PuncError
from harness.registry import JUDGES

if TYPE_CHECKING:
    from harness.config.judge import JudgeConfig
    from harness.config.task import ScorerSpec, TaskConfig

JUDGE_PROBE_TIMEOUT_S = 5.0


def check_scorers(specs: list[ScorerSpec], device: str | None = None, file: str | None = None) -> None:
    """Every scorer name is registered and every parameter is accepted (models are not loaded).

    Raises InputErrors naming the file and `scorers[i]`, one per bad scorer.
    """
    from harness.scorers import available_scorers, build_scorer, scorer_params

    problems = []
    for number, spec in enumerate(specs):
        where = f"key scorers[{number}]"
        if spec.name not in available_scorers():
            known = ", ".join(sorted(available_scorers()))
            problems.append(
                InputError(file, where, "name", f"a scorer from `punc ls scorers` ({known})", spec.name)
            )
            continue
        accepted = scorer_params(spec.name)
        unknown = sorted(set(spec.params) - set(accepted))
        if unknown:
            problems.append(
                InputError(
                    file, where, "params", f"parameters {spec.name} accepts ({', '.join(accepted)})", unknown
                )
            )
            continue
        params = dict(spec.params)
        if device and "device" not in params:
            params["device"] = device
        try:
            build_scorer(spec.name, **params)
        except PuncError as exc:
            reason = str(exc).removeprefix(f"scorer '{spec.name}': ")
            problems.append(InputError(file, where, "params", f"valid {spec.name} parameters ({reason})"))
    if problems:
        raise InputErrors(problems)


def _probe_server(judge: JudgeConfig) -> None:
    """An OpenAI-compatible judge server must answer at all (any HTTP status counts as reachable)."""
    import httpx

    url = (judge.base_url or "").rstrip("/") + "/models"
    try:
        httpx.get(url, timeout=min(JUDGE_PROBE_TIMEOUT_S, judge.timeout_s))
    except (httpx.HTTPError, OSError) as exc:
        raise PuncError(
            f"judge '{judge.name}': the server at {judge.base_url} cannot be reached "
            f"({type(exc).__name__}: {exc}); start it (e.g. `punc serve-judge world --port 8000`) "
            "or fix base_url"
        ) from None


def _check_api_key(judge: JudgeConfig) -> None:
    """The API key is set and sendable, before anything is sent (a bad key is never quoted back)."""
    if not judge.api_key_env:
        return
    import os

    from harness.redact import SecretRefused, check_key, register

    key = os.environ.get(judge.api_key_env) or None
    if key is None:
        raise PuncError(
            f"judge '{judge.name}': the environment variable {judge.api_key_env} (the API key "
            f"for {judge.base_url}) is not set or empty"
        )
    register(key)  # scrubbed from every message from now on
    try:
        check_key(key, f"judge '{judge.name}': environment variable {judge.api_key_env}")
    except SecretRefused as exc:
        raise PuncError(str(exc)) from None


def check_judge(judge: JudgeConfig) -> None:
    """The backend's package is importable and the model is local, cached, on the hub, or served."""
    package = JUDGES.get(judge.backend).requires
    if package is not None and importlib.util.find_spec(package) is None:
        extra = " (pip install 'punc-harness[vllm]')" if judge.backend == "vllm" else ""
        raise PuncError(
            f"judge '{judge.name}' ({judge.source or 'judge YAML'}): backend {judge.backend} needs the "
            f"package '{package}', which is not installed{extra}"
        )
    if judge.backend == "openai":
        _check_api_key(judge)
        _probe_server(judge)
        return
    if not judge.weights_needed:  # a plug-in backend whose model runs elsewhere
        return
    from harness.hub import resolve_model_source

    resolve_model_source(judge.model, judge.revision, what=f"judge '{judge.name}' model")


def check_generator_spec(spec: str) -> None:
    """The generator kind is registered and what it points at exists (or is a reachable hub id)."""
    from harness.generators import split_spec

    kind, argument = split_spec(spec)
    if kind == "diffusers":
        from harness.hub import resolve_model_source

        resolve_model_source(argument, None, what="diffusers pipeline")
    elif kind == "premade":
        from pathlib import Path

        if not Path(argument).exists():
            expected = "a JSONL manifest" if argument.endswith(".jsonl") else "a folder of PROMPT_ID/K.png"
            raise PuncError(f"--generator {argument}: no such file or folder (expected {expected})")


def run_preflight(
    judge: JudgeConfig, task: TaskConfig, generator: str, device: str | None = None, source: str | None = None
) -> None:
    """Everything `punc eval` can check before loading a model: generator, scorers, judge."""
    check_generator_spec(generator)
    check_scorers(task.scorers, device, file=source)
    check_judge(judge)
