"""Prompt sets: JSONL files `{"id", "text", "labels": {"shift", "category", ...}}` or `datasets` datasets."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.config._yaml import key_path
from harness.config.data_files import local_data_files
from harness.errors import InputError, InputErrors, PuncError
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


def _quiet_load(*args: Any, **kwargs: Any) -> Any:
    """`datasets.load_dataset` without its progress bars (prompt tables are small; the bars are noise)."""
    import datasets
    from datasets.utils.tqdm import are_progress_bars_disabled

    was_disabled = are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        return datasets.load_dataset(*args, **kwargs)
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def load_prompt_dataset(
    dataset: str,
    split: str | None,
    columns: dict[str, str],
    label_columns: list[str] | dict[str, str],
    revision: str | None = None,
    *,
    name: str | None = None,
    data_files: str | list[str] | None = None,
    id_prefix: str = "",
    labels: dict[str, Any] | None = None,
    collapse_duplicate_ids: bool = False,
) -> list[PromptRecord]:
    """Load prompts from a `datasets` dataset: a hub id, a local folder of data files, a `save_to_disk`
    folder, or a packaged builder (`json`, `csv`, `parquet`) reading `data_files`.

    `id_prefix` and the constant `labels` let several sources form one prompt set;
    `collapse_duplicate_ids` keeps one prompt per id for tables with one row per question (DSG-1k).
    """
    import datasets

    label_names = label_columns if isinstance(label_columns, dict) else {c: c for c in label_columns}
    local = Path(dataset)
    where = (data_files if isinstance(data_files, str) else dataset) + (f"/{name}" if name else "")
    try:
        if (local / "dataset_info.json").exists() or (local / "state.json").exists():
            loaded = datasets.load_from_disk(str(local))
        else:
            files = local_data_files(data_files)
            loaded = _quiet_load(dataset, name, split=split, revision=revision, data_files=files)
        if isinstance(loaded, datasets.DatasetDict):
            if split is None and len(loaded) != 1:
                raise InputError(
                    where, None, "split", f"one of the splits {sorted(loaded)} (there are several)"
                )
            split = split or next(iter(loaded))
            loaded = loaded[split]
        table = loaded
    except PuncError:
        raise
    except (KeyError, ValueError) as exc:  # an unknown split is a KeyError or a ValueError
        if "split" in str(exc).lower() or isinstance(exc, KeyError):
            raise InputError(where, None, "split", "a split present in the dataset", split) from None
        raise InputError(
            where, None, "dataset", "a loadable dataset", f"{type(exc).__name__}: {exc}"
        ) from None
    except Exception as exc:  # datasets raises many types for missing/unreachable data
        raise InputError(
            where,
            None,
            "dataset",
            "a local dataset folder, or a hub id reachable now (run `punc prefetch TASK` where there is "
            "network, then set HF_HUB_OFFLINE=1)",
            f"{type(exc).__name__}: {exc}",
        ) from None
    missing = [
        c for c in [columns.get("id"), columns.get("text"), *label_names] if c and c not in table.column_names
    ]
    if missing:
        raise InputError(where, None, "columns", f"columns present in {table.column_names}", missing)

    def rows() -> Iterable[tuple[int, Any]]:
        texts: dict[str, tuple[int, Any]] = {}
        for index, row in enumerate(table, start=1):
            row_labels = {**(labels or {}), **{label: row[column] for column, label in label_names.items()}}
            if columns.get("labels") and isinstance(row.get(columns["labels"]), dict):
                row_labels = {**row[columns["labels"]], **row_labels}
            raw_id = row[columns["id"]] if columns.get("id") else f"p{index:05d}"
            pid = f"{id_prefix}{raw_id}"
            text = row[columns["text"]]
            if collapse_duplicate_ids and pid in texts:
                first_line, first_text = texts[pid]
                if first_text != text:
                    raise InputError(
                        f"{where}[{split}]",
                        index,
                        "text",
                        f"the text of row {first_line}, which has the same id {pid!r} (rows sharing an id are one prompt)",
                        text,
                    )
                continue
            texts[pid] = (index, text)
            yield index, {"id": pid, "text": text, "labels": row_labels}

    return validate_records(rows(), f"{where}[{split}]")


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
