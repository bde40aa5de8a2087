"""Shard logs fold into one run log in grid order, once, whatever the kill point; batches split evenly."""

from __future__ import annotations

import json
from pathlib import Path

from harness.run.cost import Prices, StageTally, run_cost
from harness.run.jsonl import read_jsonl
from harness.run.sharding import Ranks, fold_shards, grid_position, shard_path
from harness.run.store import RunStore

GRID = [(f"p{i}", k) for i in range(3) for k in range(2)]


def image(pid: str, k: int) -> dict:
    return {"prompt_id": pid, "index": k, "image_hash": f"{pid}-{k}"}


def identity(r: dict) -> tuple:
    return (r["prompt_id"], r["index"], r["image_hash"])


def write(path: Path, rows: list[dict], torn: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + torn)


def test_every_nth_batch_goes_to_each_rank_and_all_batches_once():
    batches = list(range(11))
    shares = [Ranks(index=r, count=3).mine(batches) for r in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]
    assert sorted(b for share in shares for b in share) == batches
    assert Ranks().mine(batches) == batches


def test_a_sharded_store_appends_only_to_its_own_shard(tmp_path):
    store = RunStore(tmp_path, shard="rank1")
    store.append_images([image("p0", 0)])
    store.log_event("recompute", stage="generate", finished_items=2)
    assert not store.images_log.exists() and not store.events_log.exists()
    assert list(read_jsonl(shard_path(tmp_path, store.images_log, "rank1"))) == [image("p0", 0)]
    assert next(read_jsonl(shard_path(tmp_path, store.events_log, "rank1")))["event"] == "recompute"


def test_shards_fold_in_grid_order_after_the_records_already_there(tmp_path):
    log = tmp_path / "images.jsonl"
    write(log, [image("p0", 0)])
    # rank 0 took batches 0 and 2, rank 1 batch 1 (batches of 2); rank 1's last line was torn by a kill
    write(shard_path(tmp_path, log, "rank0"), [image("p0", 1), image("p2", 0), image("p2", 1)])
    write(shard_path(tmp_path, log, "rank1"), [image("p1", 0), image("p1", 1)], torn='{"prompt_id": "p')
    position = grid_position(GRID, lambda r: (r["prompt_id"], r["index"]))
    assert fold_shards(tmp_path, log, identity, position) == 5
    assert [(r["prompt_id"], r["index"]) for r in read_jsonl(log)] == GRID
    assert not (tmp_path / "shards").exists()


def test_folding_again_after_a_kill_between_append_and_delete_adds_nothing(tmp_path):
    log = tmp_path / "images.jsonl"
    rows = [image("p1", 0), image("p0", 0)]
    write(log, [image("p0", 0)])
    write(shard_path(tmp_path, log, "rank0"), rows)  # p0/0 already folded once, shard not yet deleted
    assert fold_shards(tmp_path, log, identity) == 1
    assert [r["prompt_id"] for r in read_jsonl(log)] == ["p0", "p1"]
    assert fold_shards(tmp_path, log, identity) == 0  # nothing left to fold


def test_records_of_items_outside_the_grid_keep_their_place_at_the_end(tmp_path):
    log = tmp_path / "captions.jsonl"
    write(shard_path(tmp_path, log, "rank0"), [image("other", 0), image("p1", 1), image("p0", 0)])
    fold_shards(tmp_path, log, identity, grid_position(GRID, lambda r: (r["prompt_id"], r["index"])))
    assert [r["prompt_id"] for r in read_jsonl(log)] == ["p0", "p1", "other"]


def test_stage_tallies_combine_into_wall_time_and_process_seconds():
    combined = StageTally.combine([StageTally(6, 6, 2.0, "cpu"), StageTally(4, 4, 3.0, "cpu")])
    assert combined == {
        "items": 10,
        "calls": 10,
        "seconds": 3.0,
        "device_seconds": 5.0,
        "device": "2 x cpu",
        "processes": 2,
    }


def test_run_cost_sums_invocations_and_prices_them():
    events = [
        {"event": "start"},
        {"event": "stage", "stage": "generate", "items": 10, "calls": 10, "seconds": 4.0,
         "device_seconds": 8.0, "device": "2 x cuda", "processes": 2},
        {"event": "stage", "stage": "caption", "items": 10, "calls": 10, "seconds": 2.0,
         "device_seconds": 2.0, "device": "cuda", "processes": 1},
        # a resumed invocation finished the last 6 images alone
        {"event": "stage", "stage": "generate", "items": 6, "calls": 6, "seconds": 6.0,
         "device_seconds": 6.0, "device": "cuda:0", "processes": 1},
    ]  # fmt: skip
    unpriced = run_cost(events, Prices())
    assert unpriced.total_usd is None and unpriced.device_seconds == 16.0
    assert unpriced.per_stage["generate"].items == 16
    assert unpriced.per_stage["generate"].seconds == 10.0
    assert unpriced.per_stage["generate"].items_per_s == 1.6
    assert unpriced.per_stage["generate"].device == "cuda:0"
    assert unpriced.per_stage["generate"].usd is None
    priced = run_cost(events, Prices(judge_per_call_usd=0.01, device_hour_usd=3.6))
    # generate: 14 process-seconds at $3.6/h = $0.014; caption: 10 calls * $0.01 + 2 s at $3.6/h = $0.102
    assert abs(priced.per_stage["generate"].usd - 0.014) < 1e-9
    assert abs(priced.per_stage["caption"].usd - 0.102) < 1e-9
    assert abs(priced.total_usd - 0.116) < 1e-9
