"""Prompt sets: JSONL files `{"id", "text", "labels": {"shift", "category", ...}}` or `datasets` datasets."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.config._yaml import key_path
from harness.errors import InputError, InputErrors
from harness.safe_ids import check_safe_id
from harness.safe_load import json_lines, load_json

Shift = Literal["none", "vague", "corrupted", "ood"]
SHIFTS: tuple[str, ...] = ("none", "vague", "corrupted", "ood")


class PromptLabels(BaseModel):
    """Known labels are typed; any other key is kept as given (e.g. attributes for bias reports)."""

    model_config = ConfigDict(extra="allow")
    shift: Shift = "none"
    category: str | None = None


class PromptRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    text: str = Field(min_length=1)
    labels: PromptLabels = Field(default_factory=PromptLabels)

    @field_validator("id")
    @classmethod
    def _id_is_safe(cls, value: str) -> str:
        return check_safe_id(value)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a non-blank prompt text")
        return value

    @property
    def shift(self) -> str:
        return self.labels.shift

    @property
    def category(self) -> str | None:
        return self.labels.category


def _record_errors(exc: ValidationError, path: Path | str, line: int) -> list[InputError]:
    errors = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        expected = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            expected = "this required field"
        elif err["type"] == "extra_forbidden":
            expected = "only the fields id, text, labels"
        got = None if err["type"] in ("missing",) else err.get("input")
        errors.append(InputError(path, line, key_path(loc) or None, expected, got))
    return errors


def validate_records(rows: Iterable[tuple[int, Any]], source: Path | str) -> list[PromptRecord]:
    """Validate (line, object) pairs; collect every problem, refuse duplicate ids."""
    records: list[PromptRecord] = []
    errors: list[InputError] = []
    seen: dict[str, int] = {}
    for line, obj in rows:
        if not isinstance(obj, dict):
            errors.append(InputError(source, line, None, "a JSON object with id, text, labels", obj))
            continue
        try:
            record = PromptRecord.model_validate(obj)
        except ValidationError as exc:
            errors.extend(_record_errors(exc, source, line))
            continue
        if record.id in seen:
            errors.append(
                InputError(source, line, "id", f"an id not already used on line {seen[record.id]}", record.id)
            )
            continue
        seen[record.id] = line
        records.append(record)
    if not records and not errors:
        errors.append(InputError(source, None, None, "at least one prompt"))
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors[:50])
    return records


def _jsonl_rows(path: Path) -> Iterable[tuple[int, Any]]:
    rows = []
    for number, raw in json_lines(path, "prompt file (.jsonl)"):
        rows.append((number, load_json(raw, path, number)))
    return rows


def load_prompt_file(path: str | Path) -> list[PromptRecord]:
    path = Path(path)
    return validate_records(_jsonl_rows(path), path)


def load_prompt_dataset(
    dataset: str, split: str, columns: dict[str, str], label_columns: list[str], revision: str | None = None
) -> list[PromptRecord]:
    """Load prompts from a `datasets` dataset (hub id, local script-free folder, or `save_to_disk` folder)."""
    import datasets

    local = Path(dataset)
    try:
        if (local / "dataset_info.json").exists() or (local / "state.json").exists():
            loaded = datasets.load_from_disk(str(local))
            table = loaded[split] if isinstance(loaded, datasets.DatasetDict) else loaded
        else:
            table = datasets.load_dataset(dataset, split=split, revision=revision)
    except KeyError:
        raise InputError(dataset, None, "split", "a split present in the dataset", split) from None
    except Exception as exc:  # datasets raises many types for missing/unreachable data
        raise InputError(
            dataset,
            None,
            "dataset",
            "a local dataset folder, or a hub id reachable now (set HF_HUB_OFFLINE=1 and prefetch when offline)",
            f"{type(exc).__name__}: {exc}",
        ) from None
    missing = [
        c
        for c in [columns.get("id"), columns.get("text"), *label_columns]
        if c and c not in table.column_names
    ]
    if missing:
        raise InputError(dataset, None, "columns", f"columns present in {table.column_names}", missing)

    def rows() -> Iterable[tuple[int, Any]]:
        for index, row in enumerate(table, start=1):
            labels = {name: row[name] for name in label_columns}
            if columns.get("labels") and isinstance(row.get(columns["labels"]), dict):
                labels = {**row[columns["labels"]], **labels}
            pid = row[columns["id"]] if columns.get("id") else f"p{index:05d}"
            yield index, {"id": str(pid), "text": row[columns["text"]], "labels": labels}

    return validate_records(rows(), f"{dataset}[{split}]")


def load_prompts(paths: list[Path]) -> list[PromptRecord]:
    """Several files form one prompt set; ids must stay unique across them."""
    records: list[PromptRecord] = []
    owners: dict[str, Path] = {}
    for path in paths:
        for record in load_prompt_file(path):
            if record.id in owners:
                raise InputError(
                    path, None, "id", f"an id not already used in {owners[record.id]}", record.id
                )
            owners[record.id] = path
            records.append(record)
    return records
