"""`punc score`: score any JSONL of {"prompt", "caption"} pairs with one or more text scorers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

from harness.cli.app import app
from harness.errors import InputError, InputErrors, PuncError
from harness.safe_load import JsonSyntaxError, parse_json, read_regular_bytes

_MAX_REPORTED = 20


def read_pairs(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; every problem names file, line and field."""
    if not path.exists():
        raise InputError(file=path, where=None, field=None, expected="an existing JSONL file")
    if not path.is_file():
        raise InputError(file=path, where=None, field=None, expected="a file, not a folder")
    try:
        text = read_regular_bytes(path, "JSONL file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(file=path, where=f"byte {exc.start}", field=None, expected="UTF-8 text") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[InputError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = parse_json(line)
        except JsonSyntaxError as exc:
            errors.append(
                InputError(
                    file=path,
                    where=number,
                    field=None,
                    expected=f"one JSON object ({exc.msg}, column {exc.colno})",
                )
            )
            continue
        except ValueError as exc:  # too deep, repeated keys, huge integers
            errors.append(InputError(file=path, where=number, field=None, expected=str(exc)))
            continue
        if not isinstance(obj, dict):
            errors.append(
                InputError(
                    file=path, where=number, field=None, expected="a JSON object", got=type(obj).__name__
                )
            )
            continue
        bad = False
        for field in ("prompt", "caption"):
            if field not in obj:
                errors.append(
                    InputError(file=path, where=number, field=field, expected="a string (field missing)")
                )
                bad = True
            elif not isinstance(obj[field], str):
                errors.append(
                    InputError(file=path, where=number, field=field, expected="a string", got=obj[field])
                )
                bad = True
        if not bad:
            rows.append((number, obj))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        shown = errors[:_MAX_REPORTED]
        if len(errors) > _MAX_REPORTED:
            shown.append(
                InputError(
                    file=path, where=None, field=None, expected=f"... {len(errors) - _MAX_REPORTED} more"
                )
            )
        raise InputErrors(shown)
    if not rows:
        raise InputError(
            file=path, where=None, field=None, expected='at least one {"prompt", "caption"} line'
        )
    return rows


def parse_params(raw: list[str], scorers: list[str]) -> dict[str, dict[str, Any]]:
    """``NAME.KEY=VALUE`` -> {NAME: {KEY: VALUE}}; VALUE is read as JSON when it parses, else text."""
    params: dict[str, dict[str, Any]] = {name: {} for name in scorers}
    for item in raw:
        left, eq, value = item.partition("=")
        name, dot, key = left.strip().partition(".")
        if not eq or not dot or not name or not key.strip():
            raise PuncError(f"--param {item!r}: expected NAME.KEY=VALUE, e.g. bertscore.layer=4")
        if name not in params:
            raise PuncError(
                f"--param {item!r}: scorer '{name}' is not selected (--scorer {', '.join(scorers)})"
            )
        try:
            parsed: Any = parse_json(value)
        except ValueError:
            parsed = value
        params[name][key.strip()] = parsed
    return params


def write_jsonl_atomic(path: Path, rows: list[dict[str, Any]]) -> None:
    """All rows at once, atomically (temporary file, fsync, rename): readers never see half a file."""
    from harness.run.jsonl import atomic_write_text

    atomic_write_text(
        path, "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in rows)
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@app.command("score")
def score_command(
    pairs: Path = typer.Argument(
        ..., help='JSONL file, one {"prompt": ..., "caption": ...} object per line.'
    ),
    scorer: list[str] = typer.Option(
        None,
        "--scorer",
        "-s",
        help="Scorer name, repeatable: rouge1, rougeL, bertscore, cosine (punc ls scorers).",
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output JSONL: each input line plus the score columns."
    ),
    param: list[str] = typer.Option(
        None, "--param", "-p", help="Scorer parameter NAME.KEY=VALUE, repeatable (e.g. bertscore.layer=4)."
    ),
) -> None:
    """Score prompt/caption pairs: adds NAME_precision, NAME_recall, NAME_f1 (or cosine) to each line.

    Reference = prompt, candidate = caption. Scorer signatures are printed to stderr.
    """
    from harness.scorers import available_scorers, build_scorer

    names = list(scorer or [])
    if not names:
        raise PuncError(f"give at least one --scorer; available: {', '.join(available_scorers())}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PuncError(f"--scorer {', '.join(duplicates)} given more than once")
    if out.exists() and out.is_dir():
        raise PuncError(f"--out {out}: expected a file path, got a folder")
    params = parse_params(list(param or []), names)
    scorers = [build_scorer(name, **params[name]) for name in names]
    rows = read_pairs(pairs)

    prompts = [obj["prompt"] for _, obj in rows]
    captions = [obj["caption"] for _, obj in rows]
    results: list[dict[str, Any]] = [dict(obj) for _, obj in rows]
    for s in scorers:
        scores = s.score(prompts, captions)
        typer.echo(f"signature: {s.signature()}", err=True)
        columns = s.columns()
        for result, values in zip(results, scores, strict=True):
            for output, column in columns.items():
                result[column] = _finite(float(values[output]))
    write_jsonl_atomic(out, results)
    typer.echo(f"scored {len(results)} pairs from {pairs} with {', '.join(names)} -> {out}", err=True)
