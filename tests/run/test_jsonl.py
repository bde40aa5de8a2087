import json

import pytest

from harness.errors import InputError
from harness.run.jsonl import JsonlAppender, atomic_write_json, read_jsonl, repair_torn_tail


def test_torn_last_line_is_ignored_then_cut_before_appending(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3, "b": "to')  # killed mid-write
    assert [r["a"] for r in read_jsonl(path)] == [1, 2]
    with JsonlAppender(path) as log:
        log.append({"a": 3})
    assert path.read_text().splitlines() == ['{"a": 1}', '{"a": 2}', '{"a": 3}']


def test_torn_line_that_ends_in_newline_but_is_not_json(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\n{"a": \n')
    assert repair_torn_tail(path) == len('{"a": \n')
    assert path.read_text() == '{"a": 1}\n'


def test_corruption_in_the_middle_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\ngarbage\n{"a": 3}\n')
    with pytest.raises(InputError, match=r"log.jsonl:2: expected one JSON object per line"):
        list(read_jsonl(path))


def test_atomic_write_replaces_whole_file_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "results.json"
    atomic_write_json(path, {"x": 1})
    atomic_write_json(path, {"x": 2})
    assert json.loads(path.read_text()) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
