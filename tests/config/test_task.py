import json
import textwrap

import pytest

from harness.config.task import load_task
from harness.errors import InputError, InputErrors


@pytest.fixture
def prompt_file(tmp_path):
    path = tmp_path / "prompts" / "p.jsonl"
    path.parent.mkdir()
    rows = [{"id": f"n{i}", "text": f"a red circle {i}", "labels": {"shift": "none"}} for i in range(3)] + [
        {"id": f"v{i}", "text": "a shape", "labels": {"shift": "vague"}} for i in range(3)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def write_task(tmp_path, body):
    path = tmp_path / "tasks" / "t.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return path


def test_task_resolves_prompts_relative_to_its_file(tmp_path, prompt_file):
    path = write_task(
        tmp_path,
        """
        name: demo
        prompts: ../prompts/p.jsonl
        images_per_prompt: 2
        seed: 10
        scorers: [rouge1, {name: bertscore, params: {layer: 4}}]
        """,
    )
    task = load_task(path)
    assert len(task.prompts) == 6
    assert [task.config.seed_for(k) for k in range(2)] == [10, 11]
    assert task.config.scorers[1].params == {"layer": 4}
    assert task.config.resolved_primary_scorer(["bertscore", "rouge1"]) == "rouge1"
    limited = task.limited(1)
    assert [p.id for p in limited.prompts] == ["n0", "v0"]


def test_task_hash_tracks_settings_and_prompt_content(tmp_path, prompt_file):
    base = "name: demo\nprompts: ../prompts/p.jsonl\n"
    first = load_task(write_task(tmp_path, base)).task_hash
    assert load_task(write_task(tmp_path, base + "description: other words\n")).task_hash == first
    assert load_task(write_task(tmp_path, base + "images_per_prompt: 3\n")).task_hash != first
    prompt_file.write_text(prompt_file.read_text().replace("circle 0", "square 0"))
    assert load_task(write_task(tmp_path, base)).task_hash != first


def test_errors_name_line_and_key_path(tmp_path, prompt_file):
    path = write_task(
        tmp_path,
        """\
        name: demo
        prompts: ../prompts/p.jsonl
        scorers:
          - name: rouge1
          - name: bertscore
            params: 3
        """,
    )
    with pytest.raises(InputError) as info:
        load_task(path)
    assert "line 6, key scorers[1].params" in str(info.value)
    assert "valid dictionary" in str(info.value)


def test_unknown_and_invalid_fields(tmp_path, prompt_file):
    path = write_task(tmp_path, "name: demo\nprompts: ../prompts/p.jsonl\nimages_per_prompt: 0\nstepz: 3\n")
    with pytest.raises(InputErrors) as info:
        load_task(path)
    text = str(info.value)
    assert "line 3, key images_per_prompt" in text and "greater than or equal to 1" in text
    assert "line 4, key stepz" in text and "no unknown field" in text


def test_seed_list_must_cover_k(tmp_path, prompt_file):
    path = write_task(
        tmp_path, "name: demo\nprompts: ../prompts/p.jsonl\nimages_per_prompt: 3\nseeds: [1, 2]\n"
    )
    with pytest.raises(InputError, match="at least images_per_prompt=3 seeds"):
        load_task(path)


def test_python_tags_are_refused_not_executed(tmp_path, prompt_file):
    marker = tmp_path / "pwned"
    path = write_task(
        tmp_path,
        f"name: !!python/object/apply:os.system ['touch {marker}']\nprompts: ../prompts/p.jsonl\n",
    )
    with pytest.raises(InputError, match="plain YAML without language-specific tags"):
        load_task(path)
    assert not marker.exists()


def test_missing_prompt_file_is_named(tmp_path):
    path = write_task(tmp_path, "name: demo\nprompts: nope.jsonl\n")
    with pytest.raises(InputError, match="field 'prompts': expected a path to an existing JSONL file"):
        load_task(path)


def test_prompts_from_a_local_datasets_folder(tmp_path):
    import datasets

    table = datasets.Dataset.from_dict(
        {"pid": ["x1", "x2"], "caption": ["a red circle", "a blue square"], "shift": ["none", "ood"]}
    )
    table.save_to_disk(str(tmp_path / "ds"))
    path = write_task(
        tmp_path,
        """
        name: demo
        prompts: {dataset: ../ds, split: train, id_column: pid, text_column: caption, label_columns: [shift]}
        """,
    )
    task = load_task(path)
    assert [(p.id, p.text, p.shift) for p in task.prompts] == [
        ("x1", "a red circle", "none"),
        ("x2", "a blue square", "ood"),
    ]
    bad = write_task(tmp_path, "name: demo\nprompts: {dataset: ../ds, text_column: nope}\n")
    with pytest.raises(InputError, match="columns present in"):
        load_task(bad)
