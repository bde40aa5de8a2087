"""What the board computes at build time: paired comparisons, rank intervals, cost, the parquet dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from board_views_fixture import publish_crowd
from lb_fixtures import MODEL_A, MODEL_B, make_run, publish_three

from harness.leaderboard.publish import publish_run


def _index(board: Path) -> dict:
    return json.loads((board / "index.json").read_text())


def test_comparisons_and_ranks_by_hand(runs_root: Path, boards_dir: Path) -> None:
    index = _index(publish_three(runs_root, boards_dir))
    ids = {m["label"]: m["id"] for m in index["models"]}
    assert index["comparisons"]["correction"] == "holm" and index["comparisons"]["groups"] == [
        "overall",
        "shift",
    ]
    pair = [p for p in index["comparisons"]["pairs"] if {p["a"], p["b"]} == {ids["model-a"], ids["model-b"]}][
        0
    ]
    sign = 1 if pair["a"] == ids["model-b"] else -1
    rows = {r["metric"]: r for r in pair["rows"]}
    assert set(rows) == {"u_ale", "u_epi", "u_tot"}  # each shift has one prompt: too few for a test
    # model-b minus model-a per prompt (fixture values): u_ale (-0.10, -0.10), u_epi (+0.06, +0.08),
    # u_tot (-0.04, -0.02). With two pairs the four sign flips give p = 2/4 for each; Holm x 3 caps at 1.
    assert sign * rows["u_ale"]["diff"] == pytest.approx(-0.10)
    assert sign * rows["u_epi"]["diff"] == pytest.approx(0.07)
    assert sign * rows["u_tot"]["diff"] == pytest.approx(-0.03)
    assert all(r["p_value"] == pytest.approx(0.5) and r["p_adjusted"] == 1.0 for r in rows.values())
    assert all(r["verdict"] == "tied" and r["n"] == 2 for r in rows.values())
    assert (rows["u_ale"]["low"], rows["u_ale"]["high"]) == pytest.approx((sign * -0.10, sign * -0.10))
    ranks = {m["label"]: m["rank"] for m in index["models"]}
    assert [
        (ranks[k]["rank"], ranks[k]["low"], ranks[k]["high"]) for k in ("model-b", "model-a", "model-c")
    ] == [
        (1, 1, 1),
        (2, 2, 2),
        (3, 3, 3),
    ]
    assert ranks["model-b"]["tied_with_next"] is True and ranks["model-c"]["tied_with_next"] is None
    assert index["ranking"]["n_prompts"] == 2 and index["ranking"]["metric"] == "u_tot"
    assert index["has_cost"] is False and all(m["cost"] is None for m in index["models"])


def test_pair_with_other_seeds_is_not_compared(runs_root: Path, boards_dir: Path) -> None:
    publish_run(make_run(runs_root, MODEL_A), "seeds", boards_dir, new_board=True)
    run = make_run(runs_root, MODEL_B)
    lines = [json.loads(line) for line in (run / "images.jsonl").read_text().splitlines()]
    for rec in lines:
        rec["seed"] += 7
    (run / "images.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    publish_run(run, "seeds", boards_dir)
    pairs = _index(boards_dir / "seeds")["comparisons"]["pairs"]
    assert len(pairs) == 1 and "rows" not in pairs[0]
    assert "was drawn with seed 1000" in pairs[0]["error"] and "1007" in pairs[0]["error"]


def test_cost_in_index_and_readme(runs_root: Path, boards_dir: Path) -> None:
    board = publish_crowd(runs_root, boards_dir)
    index = _index(board)
    assert index["has_cost"] is True
    costs = {m["label"]: m["cost"] for m in index["models"]}
    assert costs["crowd-0"] == {"device_seconds": 3600.0, "total_usd": 1.25}
    assert costs["crowd-1"] is None
    readme = (board / "README.md").read_text()
    header = [line for line in readme.splitlines() if line.startswith("| #")][0]
    assert "| Device-seconds | USD |" in header
    row = [line for line in readme.splitlines() if "| crowd-0 |" in line][0]
    assert "| 3600.0 | 1.2500 |" in row
    assert "| – | – |" in [line for line in readme.splitlines() if "| crowd-1 |" in line][0]
    assert index["auroc_shifts"] == ["corrupted", "ood", "vague"] and len(index["auroc_columns"]) == 9


def test_per_prompt_dataset_loads_with_datasets(runs_root: Path, boards_dir: Path, tmp_path: Path) -> None:
    import datasets

    board = publish_three(runs_root, boards_dir)
    readme = (board / "README.md").read_text()
    assert readme.startswith(
        "---\nconfigs:\n- config_name: default\n  data_files: data/per_prompt.parquet\n---\n"
    )
    ds = datasets.load_dataset(
        "parquet",
        data_files=str(board / "data" / "per_prompt.parquet"),
        split="train",
        cache_dir=str(tmp_path / "hf-cache"),
    )
    assert len(ds) == 6  # three models x two prompts
    rows = {(r["model"], r["prompt_id"]): r for r in ds}
    a1 = rows[("model-a", "p1")]
    assert a1["u_tot"] == pytest.approx(0.19) and a1["u_ale"] == pytest.approx(0.15)
    assert a1["u_epi"] == pytest.approx(0.04) and a1["precision"] == pytest.approx(0.8)
    assert a1["shift"] == "id" and a1["category"] == "color" and a1["scorer"] == "rougeL"
    assert a1["seeds"] == [1000, 1001] and a1["n_images"] == 2
    assert a1["captions"] == ["caption of p1 image 0 by model-a", "caption of p1 image 1 by model-a"]
    assert json.loads(a1["labels_json"]) == {"category": "color", "shift": "id"}
    assert rows[("model-c", "p2")]["u_tot"] == pytest.approx(0.32)


def test_push_uploads_the_dataset_and_its_card_names_it(runs_root: Path, boards_dir: Path) -> None:
    """What `punc leaderboard push` hands to upload_folder, filtered by huggingface_hub's own code."""
    from huggingface_hub import DatasetCard
    from huggingface_hub.utils import filter_repo_objects
    from huggingface_hub.utils._paths import DEFAULT_IGNORE_PATTERNS

    from harness.leaderboard.hub import IGNORE_PATTERNS

    board = publish_three(runs_root, boards_dir)
    files = sorted(p.relative_to(board).as_posix() for p in board.glob("**/*") if p.is_file())
    uploaded = set(filter_repo_objects(files, ignore_patterns=IGNORE_PATTERNS + DEFAULT_IGNORE_PATTERNS))
    assert {"data/per_prompt.parquet", "README.md", "index.html", "index.json"} <= uploaded
    assert ".lock" in files and ".lock" not in uploaded
    card = DatasetCard((board / "README.md").read_text())
    assert card.data.to_dict()["configs"] == [
        {"config_name": "default", "data_files": "data/per_prompt.parquet"}
    ]


def test_partial_run_is_shown_but_not_ranked(runs_root: Path, boards_dir: Path) -> None:
    publish_run(make_run(runs_root, MODEL_A), "part", boards_dir, new_board=True)
    failures = [{"stage": "caption", "prompt_id": "p2", "index": 1, "error": "judge timeout"}]
    partial = make_run(runs_root, MODEL_B, complete=False, failures=failures)
    publish_run(partial, "part", boards_dir, allow_partial=True)
    index = _index(boards_dir / "part")
    ranks = {m["label"]: m["rank"] for m in index["models"]}
    # its missing prompts would shrink everyone's sample: model-b (partial) is left out of the ranking
    assert (
        ranks["model-b"] is None
        and ranks["model-a"]["rank"] == 1
        and ranks["model-a"]["tied_with_next"] is None
    )
    assert index["ranking"]["unranked"] == [m["id"] for m in index["models"] if m["label"] == "model-b"]
    assert len(index["comparisons"]["pairs"]) == 1  # the compare view still pairs it, on the prompts it has
