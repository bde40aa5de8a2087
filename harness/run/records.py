"""Typed lines of a run's own logs, so a hand-edited or corrupted log is a located error, not a KeyError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import InputError
from harness.run.jsonl import read_jsonl_numbered

_HASH = r"^[0-9a-f]{64}$"  # Rust regex: $ is the true end (no trailing newline)


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class ImageLine(_Record):
    prompt_id: str
    index: int = Field(ge=0)
    image_hash: str = Field(pattern=_HASH)


class CaptionLine(_Record):
    prompt_id: str
    index: int = Field(ge=0)
    image_hash: str = Field(pattern=_HASH)
    sample_index: int = Field(ge=0)
    judge: str
    caption: str


class ScoreLine(_Record):
    prompt_id: str
    index: int = Field(ge=0)
    image_hash: str = Field(pattern=_HASH)
    sample_index: int = Field(ge=0)
    judge: str
    scorer: str
    signature: str
    values: dict[str, float | None]


class FailureLine(_Record):
    stage: str
    error: str
    prompt_id: str | None = None
    index: int | None = None
    sample_index: int | None = None
    image_hash: str | None = None


def read_records(path: Path, model: type[_Record], keep: Any = None) -> list[dict[str, Any]]:
    """The log's records, each checked against `model`; `keep(record)` filters before checking."""
    out = []
    for number, record in read_jsonl_numbered(path):
        if keep is not None and not keep(record):
            continue
        try:
            model.model_validate(record)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            expected = "this field" if err["type"] == "missing" else err["msg"]
            got = None if err["type"] == "missing" else err.get("input")
            raise InputError(path, number, field, f"{expected} (hand-edited log?)", got) from None
        out.append(record)
    return out
