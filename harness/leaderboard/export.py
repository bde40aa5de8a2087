"""Per-prompt results of every run on a board as a Hugging Face dataset (one parquet file).

One row per (model, prompt): the prompt, its labels, the primary scorer's uncertainties and metrics
(mean and spread over the prompt's images), and the judge's captions. The board's README.md names the
file in its dataset-card header, so `datasets.load_dataset(REPO)` and the Hub viewer find it, and
locally `datasets.load_dataset("parquet", data_files=...)` reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.run.jsonl import atomic_write_bytes

DATA_FILE = "data/per_prompt.parquet"
CARD_HEADER = f"---\nconfigs:\n- config_name: default\n  data_files: {DATA_FILE}\n---\n\n"
STATS = ("u_ale", "u_epi", "u_tot")
METRICS = ("precision", "recall", "f1")


def _value(stats: dict[str, Any], key: str, part: str) -> float | None:
    entry = stats.get(key) or {}
    value = entry.get(part)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def per_prompt_rows(index: dict[str, Any], prompts: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for model in index["models"]:
        for p in prompts.get(model["id"], []):
            labels = p.get("labels") or {}
            row: dict[str, Any] = {
                "model_id": model["id"],
                "model": model["label"],
                "prompt_id": str(p["id"]),
                "prompt": str(p["text"]),
                "shift": None if labels.get("shift") is None else str(labels.get("shift")),
                "category": None if labels.get("category") is None else str(labels.get("category")),
                "labels_json": json.dumps(labels, sort_keys=True, ensure_ascii=False),
                "scorer": model.get("primary_scorer"),
            }
            for key in STATS:
                row[key] = _value(p.get("u") or {}, key, "mean")
                row[f"{key}_std"] = _value(p.get("u") or {}, key, "std")
            for key in METRICS:
                row[key] = _value(p.get("m") or {}, key, "mean")
            row["n_images"] = int(p.get("n_images") or 0)
            row["n_captions"] = int(p.get("n_captions") or 0)
            row["failed_items"] = int(p.get("failed_items") or 0)
            row["seeds"] = [img["seed"] for img in p.get("images", []) if isinstance(img.get("seed"), int)]
            row["captions"] = [
                str(c["text"])
                for img in p.get("images", [])
                for c in img.get("captions", [])
                if c.get("text")
            ]
            rows.append(row)
    return rows


def write_parquet(board_dir: Path, index: dict[str, Any], prompts: dict[str, list[dict[str, Any]]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("model_id", pa.string()),
            ("model", pa.string()),
            ("prompt_id", pa.string()),
            ("prompt", pa.string()),
            ("shift", pa.string()),
            ("category", pa.string()),
            ("labels_json", pa.string()),
            ("scorer", pa.string()),
            *[(name, pa.float64()) for key in STATS for name in (key, f"{key}_std")],
            *[(key, pa.float64()) for key in METRICS],
            ("n_images", pa.int64()),
            ("n_captions", pa.int64()),
            ("failed_items", pa.int64()),
            ("seeds", pa.list_(pa.int64())),
            ("captions", pa.list_(pa.string())),
        ]
    )
    table = pa.Table.from_pylist(per_prompt_rows(index, prompts), schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    path = Path(board_dir) / DATA_FILE
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path
