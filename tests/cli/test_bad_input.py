"""Malformed prompt sets, tasks and judges: always a located `punc` error with exit 2, never a traceback."""

import json
import re

import yaml
from cli_runner import run_punc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VALID_TASK = {
    "name": "demo",
    "prompts": "p.jsonl",
    "images_per_prompt": 2,
    "seed": 0,
    "steps": 4,
    "guidance": 3.0,
    "scorers": ["rouge1"],
}
VALID_JUDGE = {"name": "j", "backend": "transformers", "model": "m", "decoding": {"temperature": 0.0}}
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_scalars = (
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
counter = iter(range(10**9))


def assert_clean_outcome(code, out, err, path):
    assert "Traceback" not in out + err
    if code == 0:
        assert out.startswith(f"ok {path}")
        return
    assert code == 2, (code, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "an error must say something"
    for line in lines:
        assert line.startswith(f"error: {path}"), line
        assert "expected" in line, line


def fresh(tmp_path, name):
    folder = tmp_path / f"case{next(counter)}"
    folder.mkdir()
    return folder / name


@SETTINGS
@given(rows=st.lists(json_values, min_size=0, max_size=4))
def test_random_prompt_lines(tmp_path, rows):
    path = fresh(tmp_path, "p.jsonl")
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert_clean_outcome(*run_punc("validate", str(path)), path)


@SETTINGS
@given(row=st.fixed_dictionaries({"id": json_values, "text": json_values}, optional={"labels": json_values}))
def test_prompt_records_with_random_field_values(tmp_path, row):
    path = fresh(tmp_path, "p.jsonl")
    path.write_text(json.dumps(row) + "\n")
    code, out, err = run_punc("validate", str(path))
    assert_clean_outcome(code, out, err, path)
    if code == 2:
        assert re.search(r"p\.jsonl:1: ", err)


@SETTINGS
@given(data=st.binary(max_size=64))
def test_arbitrary_bytes(tmp_path, data):
    for name in ("p.jsonl", "t.yaml"):
        path = fresh(tmp_path, name)
        path.write_bytes(data)
        assert_clean_outcome(*run_punc("validate", str(path)), path)


@SETTINGS
@given(
    key=st.sampled_from(sorted(VALID_TASK) + ["seeds", "width", "bootstrap_samples", "extra"]),
    value=json_values,
)
def test_task_with_one_field_replaced(tmp_path, key, value):
    path = fresh(tmp_path, "t.yaml")
    (path.parent / "p.jsonl").write_text(json.dumps({"id": "a", "text": "a red circle"}) + "\n")
    path.write_text(yaml.safe_dump({**VALID_TASK, key: value}))
    code, out, err = run_punc("validate", str(path))
    assert_clean_outcome(code, out, err, path)
    if code == 2 and key != "prompts":
        assert f"key {key}" in err or "line 1" in err


@SETTINGS
@given(
    key=st.sampled_from(sorted(VALID_JUDGE) + ["samples_per_image", "max_new_tokens", "base_url"]),
    value=json_values,
)
def test_judge_with_one_field_replaced(tmp_path, key, value):
    path = fresh(tmp_path, "j.yaml")
    path.write_text(yaml.safe_dump({**VALID_JUDGE, key: value}))
    assert_clean_outcome(*run_punc("validate", str(path)), path)


def test_language_specific_tags_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    cases = [
        f"name: !!python/object/apply:os.system ['touch {marker}']\nprompts: p.jsonl\n",
        "name: !!python/name:os.system\nbackend: transformers\nmodel: m\n",
        "name: !ruby/object:Gem::Installer\nprompts: p.jsonl\n",
        "!!python/object/new:type\nargs: [x, [], {}]\n",
    ]
    for number, text in enumerate(cases):
        path = tmp_path / f"t{number}.yaml"
        path.write_text(text)
        code, out, err = run_punc("validate", str(path))
        assert code == 2 and "Traceback" not in err
        assert "expected plain YAML without language-specific tags" in err
    assert not marker.exists()


def test_eval_with_bad_task_writes_nothing(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"id": "../../escape", "text": "x"}\n')
    (tmp_path / "t.yaml").write_text("name: demo\nprompts: p.jsonl\n")
    out_dir = tmp_path / "run"
    code, out, err = run_punc(
        "eval", str(tmp_path / "t.yaml"), "--generator", str(tmp_path), "--out", str(out_dir)
    )
    assert code == 2 and "Traceback" not in err
    assert "p.jsonl:1: field 'id': expected an id" in err
    assert not out_dir.exists()
