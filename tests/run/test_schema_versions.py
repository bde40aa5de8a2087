"""results.json versions: files written before `status` (version 1, the golden slice and the shipped
board's bundles) read through the schema with a status derived from their `complete` flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.run.reader import RunReader, load_results
from harness.run.schema import SCHEMA_VERSION, Results
from harness.run.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden_default" / "expected"
BUNDLES = sorted((ROOT / "leaderboards" / "embedded" / "runs").iterdir())


def _v1(tmp_path: Path, **changes) -> Path:
    raw = json.loads((GOLDEN / "results.json").read_text())
    assert raw["schema_version"] == 1 and "status" not in raw
    raw.update(changes)
    (tmp_path / "results.json").write_text(json.dumps(raw))
    return tmp_path


def test_a_complete_version_1_file_reads_as_complete() -> None:
    results = load_results(GOLDEN)
    assert results.schema_version == SCHEMA_VERSION
    assert (results.status, results.complete) == ("complete", True)
    assert results.task.name == "world_default" and results.counts.images == 48
    assert results.judge.samples_per_image == 1 and results.bootstrap.samples == 1000


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"complete": False}, "partial"),
        ({"complete": False, "failures": [{"stage": "generate", "prompt_id": "p", "error": "x"}]}, "failed"),
        ({"complete": False, "stale": "--rescore started"}, "stale"),
    ],
)
def test_an_incomplete_version_1_file_gets_the_status_its_fields_imply(tmp_path, changes, status) -> None:
    assert load_results(_v1(tmp_path, **changes)).status == status


def test_the_current_version_round_trips_with_complete_derived(tmp_path: Path) -> None:
    results = load_results(GOLDEN)
    written = results.model_dump(mode="json")
    assert written["status"] == "complete" and written["complete"] is True
    assert Results.model_validate(written) == results
    partial = Results.model_validate({**written, "status": "partial"})
    assert partial.complete is False and partial.model_dump()["complete"] is False


def test_marking_a_current_file_stale_reads_back_as_stale(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.results_file.write_text(json.dumps(load_results(GOLDEN).model_dump(mode="json")))
    store.mark_results_incomplete("--rescore started")
    results = load_results(tmp_path)
    assert (results.status, results.stale, results.complete) == ("stale", "--rescore started", False)


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_shipped_board_bundles_still_read(bundle: Path) -> None:
    run = RunReader(bundle)
    assert run.is_bundle and run.results.status in ("complete", "partial", "failed")
    hashes = {r["image_hash"] for r in run.images()}
    assert hashes and len(run.captions()) and len(run.scores())
    assert any(run.image_path(h) is not None for h in hashes)
