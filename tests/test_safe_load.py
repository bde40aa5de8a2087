"""harness.safe_load: hostile YAML and JSON end in a located InputError, quickly, through every reader."""

from __future__ import annotations

import json
import os
import time

import pytest
from hostile import assert_user_error, punc

from harness.errors import InputError
from harness.safe_load import load_json, load_yaml, parse_json, read_regular_bytes

BILLION_LAUGHS = (
    "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    )
    + "\n"
)


def test_billion_laughs_is_refused_quickly():
    assert len(BILLION_LAUGHS) < 700  # the reviewer's file was 679 bytes; it expands to 9**9 strings
    started = time.monotonic()
    with pytest.raises(InputError, match="values after expanding aliases"):
        load_yaml(BILLION_LAUGHS, "t.yaml")
    assert time.monotonic() - started < 5


def test_small_anchors_still_work():
    data, _ = load_yaml("base: &b {x: 1}\nother: *b\nlist: [*b, *b]\n", "t.yaml")
    assert data == {"base": {"x": 1}, "other": {"x": 1}, "list": [{"x": 1}, {"x": 1}]}


@pytest.mark.parametrize("depth", [65, 5000, 200_000])
def test_deep_yaml_and_json_are_refused(depth):
    with pytest.raises(InputError, match="nested at most 64 levels"):
        load_yaml("[" * depth + "]" * depth, "t.yaml")
    with pytest.raises(InputError, match="nested at most 64 levels"):
        load_json("[" * depth + "]" * depth, "f.json")
    assert parse_json("[" * 64 + "]" * 64) is not None  # the limit itself is allowed


def test_brackets_inside_strings_do_not_count():
    assert parse_json(json.dumps({"text": "[" * 500})) == {"text": "[" * 500}


def test_huge_integers_are_refused():
    with pytest.raises(InputError, match="4300 digits"):
        load_json("1" * 5000, "f.json")
    with pytest.raises(InputError, match="4300 digits"):
        load_yaml("seed: " + "1" * 5000 + "\n", "t.yaml")


def test_duplicate_keys_are_refused():
    with pytest.raises(InputError, match=r"t.yaml at line 3: field 'name': expected each key once"):
        load_yaml("name: a\nprompts: p.jsonl\nname: b\n", "t.yaml")
    with pytest.raises(InputError, match="key 'id' is repeated"):
        load_json('{"id": "a", "text": "x", "id": "b"}', "p.jsonl", 1)


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "task.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InputError, match="found a FIFO"):
        read_regular_bytes(fifo)
    assert time.monotonic() - started < 2
    with pytest.raises(InputError, match="found a directory"):
        read_regular_bytes(tmp_path)


def test_size_cap(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2000)
    with pytest.raises(InputError, match="at most 1000 bytes"):
        read_regular_bytes(path, max_bytes=1000)


# ---- the CLI, as the reviewer ran it (each of these hung or printed a traceback before)


def test_cli_validate_refuses_hostile_files_without_hanging(tmp_path):
    cases = {
        "laughs.yaml": BILLION_LAUGHS,
        # the reviewer's hang: a field of the wrong type whose error message repr()s the expansion
        "laughs-task.yaml": "lol:\n"
        + "".join(f"  {line}\n" for line in BILLION_LAUGHS.splitlines())
        + "name: *i\nprompts: p.jsonl",
        "deep.yaml": "a: " + "[" * 3000 + "]" * 3000 + "\n",
        "digits.yaml": "name: t\nprompts: p.jsonl\nseed: " + "9" * 5000 + "\n",
        "dup.yaml": "name: t\nprompts: p.jsonl\nname: u\n",
        "deep.jsonl": '{"id": "a", "text": ' + "[" * 3000 + "]" * 3000 + "}\n",
        "digits.jsonl": '{"id": "a", "text": "x", "labels": {"n": ' + "7" * 5000 + "}}\n",
        "dup.jsonl": '{"id": "a", "text": "x", "text": "y"}\n',
        "newline-id.jsonl": json.dumps({"id": "a\n", "text": "x"}) + "\n",
    }
    paths = []
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path in [*paths, str(fifo)]:
        done = punc("validate", path, timeout=60)
        assert_user_error(done, f"error: {path}")


def test_cli_eval_refuses_a_fifo_task_and_out_of_range_seed(tmp_path):
    fifo = tmp_path / "t.yaml"
    os.mkfifo(fifo)
    assert_user_error(punc("eval", str(fifo), "-o", str(tmp_path / "run"), timeout=60), "found a FIFO")
    (tmp_path / "p.jsonl").write_text('{"id": "a", "text": "x"}\n')
    for seed in ("1.0e+26", "1" * 30):
        (tmp_path / "s.yaml").write_text(f"name: s\nprompts: p.jsonl\nseed: {seed}\n")
        assert_user_error(punc("validate", str(tmp_path / "s.yaml"), timeout=60), "key seed")
    assert not (tmp_path / "run").exists()
