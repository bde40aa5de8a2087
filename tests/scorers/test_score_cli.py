"""`punc score`: output rows, signatures on stderr, clean errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from harness.cli.app import main
from harness.scorers import build_scorer


def run(argv, capsys) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_scores_every_line(tmp_path, capsys):
    rows = [
        {"id": "p1", "prompt": "a red circle", "caption": "a small red circle on the left", "k": 0},
        {"id": "p2", "prompt": "a blue square", "caption": ""},
    ]
    src = write(tmp_path / "pairs.jsonl", [json.dumps(rows[0]), "", json.dumps(rows[1])])
    out = tmp_path / "sub" / "scored.jsonl"
    argv = ["score", str(src), "--scorer", "rouge1", "--scorer", "bertscore", "-s", "cosine"]
    argv += ["--out", str(out), "--param", "bertscore.layer=5", "--param", "bertscore.device=cpu"]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == 2
    for row, original in zip(got, rows, strict=True):
        assert {k: row[k] for k in original} == original
        assert set(row) - set(original) == {
            *(f"{n}_{o}" for n in ("rouge1", "bertscore") for o in ("precision", "recall", "f1")),
            "cosine",
        }
    assert got[0]["rouge1_precision"] == pytest.approx(3 / 7)
    assert got[0]["rouge1_recall"] == 1.0
    bert = build_scorer("bertscore", layer=5, device="cpu").score([rows[0]["prompt"]], [rows[0]["caption"]])[
        0
    ]
    assert got[0]["bertscore_f1"] == pytest.approx(bert["f1"], abs=1e-6)
    assert got[1]["bertscore_f1"] == 0.0 and got[1]["cosine"] == 0.0
    assert "signature: rouge1:stemmer=porter" in err
    assert "signature: bertscore:model=all-MiniLM-L6-v2@" in err and ":layer=5:" in err
    assert "signature: cosine:model=all-MiniLM-L6-v2@" in err
    assert not list(out.parent.glob(".*tmp"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"prompt": "a"}'], "pairs.jsonl:1: field 'caption': expected a string"),
        (['{"prompt": "a", "caption": "b"}', "{bad json"], "pairs.jsonl:2: expected one JSON object"),
        (["[1, 2]"], "pairs.jsonl:1: expected a JSON object, got 'list'"),
        (['{"prompt": 3, "caption": "b"}'], "pairs.jsonl:1: field 'prompt': expected a string, got 3"),
        (["", "  "], "expected at least one"),
    ],
)
def test_input_errors(tmp_path, capsys, lines, expected):
    src = write(tmp_path / "pairs.jsonl", lines)
    out = tmp_path / "out.jsonl"
    code, _, err = run(["score", str(src), "-s", "rouge1", "--out", str(out)], capsys)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert not out.exists()


def test_several_errors_one_per_line(tmp_path, capsys):
    src = write(tmp_path / "pairs.jsonl", ['{"prompt": "a"}', "nope", '{"caption": "b"}'])
    code, _, err = run(["score", str(src), "-s", "rouge1", "--out", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 3
    for number, line in enumerate(lines, start=1):
        assert line.startswith("error: ") and f"pairs.jsonl:{number}: " in line


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["-s", "bleu"], "unknown scorer 'bleu'"),
        (["-s", "rouge1", "-s", "rouge1"], "more than once"),
        (["-s", "rouge1", "-p", "rouge1.layer=3"], "unknown parameter"),
        (["-s", "rouge1", "-p", "bertscore.layer=3"], "not selected"),
        (["-s", "bertscore", "-p", "layer=3"], "NAME.KEY=VALUE"),
        (["-s", "bertscore", "-p", "bertscore.layer=x"], "expects an integer"),
        ([], "at least one --scorer"),
    ],
)
def test_usage_errors(tmp_path, capsys, extra, expected):
    src = write(tmp_path / "pairs.jsonl", ['{"prompt": "a", "caption": "b"}'])
    code, _, err = run(["score", str(src), "--out", str(tmp_path / "o.jsonl"), *extra], capsys)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err


def test_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.jsonl"
    code, _, err = run(["score", str(missing), "-s", "rouge1", "--out", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2
    assert f"{missing}: expected an existing JSONL file" in err
