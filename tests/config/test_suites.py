"""The standard suites (tasks/*.yaml that load PartiPrompts, DrawBench, GenEval, T2I-CompBench, TIFA v1.0
and DSG-1k through `datasets`) run on local fixtures of the same columns and file formats, through
the same `datasets.load_dataset` call the hub ids take. The fixture prompts are our own sentences."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from cli_runner import run_punc

from harness.config.task import load_task
from harness.locate import PROJECT_ROOT

TASKS = PROJECT_ROOT / "tasks"


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-datasets-cache"))


def task_on_fixture(tmp_path: Path, shipped: str, fixtures: list[dict[str, object]]) -> Path:
    """The shipped task with each source's `dataset`/`data_files` pointed at a fixture, all else kept."""
    config = yaml.safe_load((TASKS / shipped).read_text())
    sources = config["prompts"] if isinstance(config["prompts"], list) else [config["prompts"]]
    assert len(sources) == len(fixtures)
    for source, fixture in zip(sources, fixtures, strict=True):
        assert set(fixture) <= {"dataset", "data_files"}
        source.update(fixture)
    path = tmp_path / shipped
    path.write_text(yaml.safe_dump(config))
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)


def test_parti_prompts_tsv_folder_maps_prompt_category_and_challenge(tmp_path):
    rows = [
        ["a red kite over a beach", "Outdoor Scenes", "Basic", ""],
        ["a teapot shaped like a snail", "Artifacts", "Imagination", "whimsy"],
        ["three owls on a branch", "Animals", "Quantity", ""],
    ]
    write_csv(
        tmp_path / "parti" / "PartiPrompts.tsv", ["Prompt", "Category", "Challenge", "Note"], rows, "\t"
    )
    task = load_task(task_on_fixture(tmp_path, "parti_prompts.yaml", [{"dataset": str(tmp_path / "parti")}]))
    assert [p.text for p in task.prompts] == [r[0] for r in rows]
    assert [p.id for p in task.prompts] == ["parti.p00001", "parti.p00002", "parti.p00003"]
    assert [p.category for p in task.prompts] == ["Outdoor Scenes", "Artifacts", "Animals"]
    assert task.prompts[1].labels.model_extra["challenge"] == "Imagination"
    assert {p.shift for p in task.prompts} == {"none"}


def test_drawbench_csv_maps_prompts_and_category(tmp_path):
    rows = [["A blue cube on top of a yellow sphere.", "Positional"], ["A sign that says 'punc'.", "Text"]]
    write_csv(tmp_path / "drawbench" / "data.csv", ["Prompts", "Category"], rows)
    task = load_task(task_on_fixture(tmp_path, "drawbench.yaml", [{"dataset": str(tmp_path / "drawbench")}]))
    assert [(p.text, p.category) for p in task.prompts] == [tuple(r) for r in rows]
    assert [p.id for p in task.prompts] == ["drawbench.p00001", "drawbench.p00002"]


def test_geneval_jsonl_keeps_tag_as_category_and_object_specs(tmp_path):
    lines = [
        {"tag": "single_object", "include": [{"class": "lamp", "count": 1}], "prompt": "a photo of a lamp"},
        {
            "tag": "position",
            "include": [
                {"class": "cup", "count": 1},
                {"class": "fork", "count": 1, "position": ["left of", 0]},
            ],
            "prompt": "a photo of a fork left of a cup",
        },
        {
            "tag": "counting",
            "include": [{"class": "kite", "count": 3}],
            "exclude": [{"class": "kite", "count": 4}],
            "prompt": "a photo of three kites",
        },
    ]
    path = tmp_path / "evaluation_metadata.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    task = load_task(task_on_fixture(tmp_path, "geneval.yaml", [{"data_files": str(path)}]))
    assert [p.text for p in task.prompts] == [line["prompt"] for line in lines]
    assert [p.category for p in task.prompts] == ["single_object", "position", "counting"]
    assert task.prompts[1].labels.model_extra["include"][1]["position"] == ["left of", 0]
    assert [p.id for p in task.prompts] == ["geneval.p00001", "geneval.p00002", "geneval.p00003"]


def test_t2i_compbench_reads_one_configuration_per_category(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    shipped = yaml.safe_load((TASKS / "t2i_compbench.yaml").read_text())["prompts"]
    root = tmp_path / "t2i"
    configs, expected = [], []
    # as on the hub: one split per configuration, named `val` except where the upload named it otherwise
    odd_split = {"non_spatial_val": "spatial_val", "3d_spatial_val": "spatial_val"}
    for n, source in enumerate(shipped):
        assert source["split"] is None
        name = source["name"]
        split = odd_split.get(name, "val")
        texts = [f"prompt {k} of {name}" for k in range(n % 3 + 1)]
        (root / name).mkdir(parents=True)
        pq.write_table(pa.table({"text": texts}), root / name / f"{split}-00000-of-00001.parquet")
        configs.append({"config_name": name, "data_files": [{"split": split, "path": f"{name}/{split}-*"}]})
        category = source["labels"]["category"]
        expected += [(f"t2i.{category}.p{k + 1:05d}", text, category) for k, text in enumerate(texts)]
    (root / "README.md").write_text("---\n" + yaml.safe_dump({"configs": configs}) + "---\n")
    path = task_on_fixture(tmp_path, "t2i_compbench.yaml", [{"dataset": str(root)}] * len(shipped))
    task = load_task(path)
    assert [(p.id, p.text, p.category) for p in task.prompts] == expected
    assert len({p.category for p in task.prompts}) == 8


def test_a_dataset_with_several_splits_needs_one_named(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "two"
    root.mkdir()
    for split in ("val", "test"):
        pq.write_table(pa.table({"text": [f"a {split} prompt"]}), root / f"{split}-00000-of-00001.parquet")
    (tmp_path / "t.yaml").write_text(
        yaml.safe_dump({"name": "t", "prompts": {"dataset": str(root), "split": None}})
    )
    code, out, err = run_punc("validate", str(tmp_path / "t.yaml"))
    assert code == 2 and "field 'split': expected one of the splits ['test', 'validation']" in err
    (tmp_path / "t.yaml").write_text(
        yaml.safe_dump({"name": "t", "prompts": {"dataset": str(root), "split": "test"}})
    )
    assert [p.text for p in load_task(tmp_path / "t.yaml").prompts] == ["a test prompt"]


def test_tifa_json_array_keeps_its_ids(tmp_path):
    rows = [
        {"id": "coco_1", "caption": "A dog sleeps on a red sofa.", "coco_val_id": "11"},
        {"id": "drawbench_7", "caption": "A pear made of glass.", "coco_val_id": None},
    ]
    path = tmp_path / "tifa_v1.0_text_inputs.json"
    path.write_text(json.dumps(rows, indent=4))
    task = load_task(task_on_fixture(tmp_path, "tifa_v1.yaml", [{"data_files": str(path)}]))
    assert [(p.id, p.text) for p in task.prompts] == [
        ("tifa.coco_1", rows[0]["caption"]),
        ("tifa.drawbench_7", rows[1]["caption"]),
    ]


def test_dsg_rows_per_question_become_one_prompt_per_item(tmp_path):
    header = ["item_id", "text", "keywords", "proposition_id", "dependency", "category_broad"]
    rows = [
        ["whoops_1", "A snowman on a sunny beach", "snowman", 1, 0, "entity"],
        ["whoops_1", "A snowman on a sunny beach", "beach", 2, 0, "entity"],
        ["whoops_1", "A snowman on a sunny beach", "sunny", 3, 2, "attribute"],
        ["vrd_4", "A man riding a horse", "man", 1, 0, "entity"],
    ]
    write_csv(tmp_path / "dsg-1k-anns.csv", header, rows)
    task = load_task(
        task_on_fixture(tmp_path, "dsg_1k.yaml", [{"data_files": str(tmp_path / "dsg-1k-anns.csv")}])
    )
    assert [(p.id, p.text) for p in task.prompts] == [
        ("dsg.whoops_1", "A snowman on a sunny beach"),
        ("dsg.vrd_4", "A man riding a horse"),
    ]


def test_dsg_rows_sharing_an_id_must_share_the_text(tmp_path):
    header = ["item_id", "text"]
    write_csv(tmp_path / "dsg.csv", header, [["a_1", "one text"], ["a_1", "another text"]])
    path = task_on_fixture(tmp_path, "dsg_1k.yaml", [{"data_files": str(tmp_path / "dsg.csv")}])
    code, out, err = run_punc("validate", str(path))
    assert code == 2
    assert "dsg.csv[train]:2: field 'text'" in err and "row 1" in err and "'dsg.a_1'" in err
    assert "Traceback" not in err


def test_a_column_the_dataset_lacks_is_named_with_the_columns_it_has(tmp_path):
    write_csv(tmp_path / "drawbench" / "data.csv", ["prompt", "Category"], [["a cat", "Colors"]])
    path = task_on_fixture(tmp_path, "drawbench.yaml", [{"dataset": str(tmp_path / "drawbench")}])
    code, out, err = run_punc("validate", str(path))
    assert code == 2
    assert "Prompts" in err and "['prompt', 'Category']" in err and "Traceback" not in err


def test_sources_whose_ids_collide_are_refused(tmp_path):
    write_csv(tmp_path / "a" / "data.csv", ["text"], [["one"], ["two"]])
    task = {
        "name": "two_sources",
        "prompts": [{"dataset": str(tmp_path / "a")}, {"dataset": str(tmp_path / "a")}],
    }
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(task))
    code, out, err = run_punc("validate", str(path))
    assert code == 2 and "id_prefix" in err and "p00001" in err
