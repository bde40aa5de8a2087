"""Compare two run directories of the same task: everything except what legitimately differs per run.

Used by tests/run/test_golden_default.py and, for the full default task, from the command line:
    .venv/bin/python tests/golden_runs.py RUN_A RUN_B
Captions, image hashes and every string must match exactly. Floats match exactly by default (two runs
on one machine); the committed golden is compared within FLOAT32_NOISE, because float32 kernels round
differently on different CPUs (BERTScore moved by up to 2.4e-7 between two x86 machines, same torch).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

# Run-specific: when and where it ran, how long it took, which checkout and library build ran it.
RUN_SPECIFIC = {
    ("created",),
    ("timings",),
    ("cost",),
    ("git_commit",),
    ("versions",),
    ("harness_version",),
    ("task", "source"),
    ("prompts", "files"),
    ("generator", "spec"),
    ("generation_recipe", "versions"),
}


#: A few float32 ulps: the largest cross-machine difference seen was 2.4e-7 (BERTScore near 0.9).
FLOAT32_NOISE = 1e-6

#: Fields a version-1 results.json (the golden's schema) cannot have; compared only between newer files.
NEW_SINCE_VERSION_1 = {("scorer_specs",)}


def comparable_results(raw: dict[str, Any], drop: set[tuple[str, ...]] = frozenset()) -> dict[str, Any]:
    """results.json in the current schema's shape (older versions upgraded by the reader's schema),
    without its run-specific fields."""
    from harness.run.schema import Results

    kept = Results.model_validate(raw).model_dump(mode="json")
    for path in RUN_SPECIFIC | drop:
        node = kept
        for key in path[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return kept


def _records(path: Path, key_fields: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    keyed = {tuple(row[k] for k in key_fields): row for row in rows}
    assert len(keyed) == len(rows), f"{path}: duplicate records"
    return keyed


def captions(run: Path) -> dict[tuple, dict[str, Any]]:
    return _records(run / "captions.jsonl", ("prompt_id", "index", "image_hash", "sample_index", "judge"))


def scores(run: Path) -> dict[tuple, dict[str, Any]]:
    return _records(
        run / "scores.jsonl", ("prompt_id", "index", "image_hash", "sample_index", "judge", "signature")
    )


def differences(got: Any, expected: Any, where: str = "", tolerance: float = 0.0) -> list[str]:
    """Every place two JSON trees differ; floats within `tolerance` (absolute and relative) count as equal."""
    if isinstance(expected, dict) and isinstance(got, dict):
        found = [f"{where}/{k}: missing" for k in expected.keys() - got.keys()]
        found += [f"{where}/{k}: unexpected" for k in got.keys() - expected.keys()]
        for key in expected.keys() & got.keys():
            found += differences(got[key], expected[key], f"{where}/{key}", tolerance)
        return found
    if isinstance(expected, list) and isinstance(got, list):
        if len(got) != len(expected):
            return [f"{where}: {len(got)} items, expected {len(expected)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(got, expected, strict=True))
            for d in differences(a, b, f"{where}[{i}]", tolerance)
        ]
    if type(got) is float and type(expected) is float and tolerance:
        if math.isclose(got, expected, rel_tol=tolerance, abs_tol=tolerance):
            return []
    if got != expected or type(got) is not type(expected):
        return [f"{where}: {got!r} != {expected!r}"]
    return []


def compare_runs(got: Path, expected: Path, tolerance: float = 0.0) -> list[str]:
    """All differences between two run directories' results, captions and scores."""
    mine = json.loads((got / "results.json").read_text(encoding="utf-8"))
    reference = json.loads((expected / "results.json").read_text(encoding="utf-8"))
    old = min(mine.get("schema_version", 1), reference.get("schema_version", 1)) == 1
    drop = NEW_SINCE_VERSION_1 if old else set()
    found = differences(
        comparable_results(mine, drop), comparable_results(reference, drop), "results.json", tolerance
    )
    found += differences(
        _stringify(captions(got)), _stringify(captions(expected)), "captions.jsonl", tolerance
    )
    found += differences(_stringify(scores(got)), _stringify(scores(expected)), "scores.jsonl", tolerance)
    return found


def _stringify(records: dict[tuple, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {json.dumps(key): value for key, value in records.items()}


if __name__ == "__main__":
    problems = compare_runs(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(problems[:50]) if problems else "identical (run-specific fields excluded)")
    print(f"{len(problems)} differences")
    sys.exit(1 if problems else 0)
