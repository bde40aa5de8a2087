import json

import pytest

from harness.config.prompts import load_prompt_file
from harness.errors import InputError, InputErrors


def write_lines(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_valid_prompt_set_keeps_extra_labels(tmp_path):
    path = write_lines(
        tmp_path / "p.jsonl",
        [
            {
                "id": "a1",
                "text": "a red circle",
                "labels": {"shift": "none", "category": "shape", "attributes": {"colour": "red"}},
            },
            {"id": "a2", "text": "a circle"},
        ],
    )
    records = load_prompt_file(path)
    assert [r.id for r in records] == ["a1", "a2"]
    assert records[0].labels.model_dump()["attributes"] == {"colour": "red"}
    assert records[1].shift == "none" and records[1].category is None


@pytest.mark.parametrize(
    ("row", "field", "expected"),
    [
        ({"text": "x"}, "id", "this required field"),
        ({"id": "a", "text": ""}, "text", "at least 1 character"),
        (
            {"id": "a", "text": "x", "labels": {"shift": "weird"}},
            "labels.shift",
            "'none', 'vague', 'corrupted' or 'ood'",
        ),
        ({"id": "a", "text": "x", "colour": "red"}, "colour", "only the fields id, text, labels"),
        ({"id": "../etc", "text": "x"}, "id", "[A-Za-z0-9_.-]"),
        ({"id": "/abs", "text": "x"}, "id", "[A-Za-z0-9_.-]"),
        ({"id": "a\u0000b", "text": "x"}, "id", "[A-Za-z0-9_.-]"),
        ({"id": "a/b", "text": "x"}, "id", "[A-Za-z0-9_.-]"),
    ],
)
def test_each_problem_names_file_line_field_and_expectation(tmp_path, row, field, expected):
    path = write_lines(tmp_path / "p.jsonl", [{"id": "ok", "text": "fine"}, row])
    with pytest.raises(InputError) as info:
        load_prompt_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: field '{field}': expected")
    assert expected in message


def test_bad_json_line_and_duplicates_are_located(tmp_path):
    path = write_lines(tmp_path / "p.jsonl", [{"id": "a", "text": "x"}, "{not json"])
    with pytest.raises(InputError, match=r"p.jsonl:2: expected one JSON object per line"):
        load_prompt_file(path)
    path = write_lines(
        tmp_path / "d.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}]
    )
    with pytest.raises(InputError, match=r"d.jsonl:3: field 'id': expected an id not already used on line 1"):
        load_prompt_file(path)


def test_all_problems_reported_together(tmp_path):
    path = write_lines(tmp_path / "p.jsonl", [{"id": "a"}, {"text": "y"}, {"id": "c", "text": "ok"}])
    with pytest.raises(InputErrors) as info:
        load_prompt_file(path)
    assert [e.where for e in info.value.errors] == [1, 2]


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "e.jsonl").write_text("\n\n")
    with pytest.raises(InputError, match="at least one prompt"):
        load_prompt_file(tmp_path / "e.jsonl")
    with pytest.raises(InputError, match="an existing prompt file"):
        load_prompt_file(tmp_path / "nope.jsonl")
