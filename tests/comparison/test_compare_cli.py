"""`punc compare` as a user runs it, against p-values and Holm adjustments worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_builder import punc, write_run

PIDS = ["p1", "p2", "p3", "p4", "p5", "p6"]
LABELS = {
    pid: {"shift": "none" if i < 3 else "ood", "category": "x" if i % 2 else "y"}
    for i, pid in enumerate(PIDS)
}
# A - B per prompt, in eighths (exact in binary floating point)
D_TOT = [1, 2, 3, 4, 5, 6]
D_EPI = [1, -1, 2, -2, 3, 0.5]


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    a = write_run(
        tmp_path,
        "model-a",
        {pid: (0.5, 0.5 + e / 8, 0.25 + t / 8) for pid, e, t in zip(PIDS, D_EPI, D_TOT, strict=True)},
        LABELS,
    )
    b = write_run(tmp_path, "model-b", {pid: (0.5, 0.5, 0.25) for pid in PIDS}, LABELS)
    return a, b


def rows_of(path: Path) -> dict[tuple[str, str], dict]:
    data = json.loads(path.read_text())
    return {(r["group"], r["metric"]): r for r in data["rows"]}


def test_compare_matches_hand_computed_tests(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = pair
    out = tmp_path / "cmp.json"
    done = punc("compare", str(a), str(b), "--by", "shift", "--json", str(out))
    assert done.returncode == 0, done.stderr
    rows = rows_of(out)
    assert set(rows) == {
        (g, m) for g in ("overall", "shift=none", "shift=ood") for m in ("u_ale", "u_epi", "u_tot")
    }
    # Exact sign-flip p-values, counted by hand (see tests/comparison/test_paired.py for the counting):
    by_hand = {
        ("overall", "u_ale"): 1.0,  # no difference at all
        ("overall", "u_epi"): 34 / 64,
        ("overall", "u_tot"): 2 / 64,  # every difference positive: only all-plus and all-minus
        ("shift=none", "u_ale"): 1.0,
        ("shift=none", "u_epi"): 6 / 8,
        ("shift=none", "u_tot"): 2 / 8,
        ("shift=ood", "u_ale"): 1.0,
        ("shift=ood", "u_epi"): 6 / 8,
        ("shift=ood", "u_tot"): 2 / 8,
    }
    for key, p in by_hand.items():
        assert rows[key]["p_value"] == pytest.approx(p), key
        assert rows[key]["exact"] is True
    # Holm over the 9 rows: the smallest, 1/32, times 9 = 0.28125; the next, 0.25 x 8, caps at 1.
    assert rows[("overall", "u_tot")]["p_adjusted"] == pytest.approx(9 / 32)
    assert all(r["p_adjusted"] == pytest.approx(1.0) for k, r in rows.items() if k != ("overall", "u_tot"))
    assert all(r["verdict"] == "tied" for r in rows.values())
    tot = rows[("overall", "u_tot")]
    assert tot["n"] == 6 and tot["diff"] == pytest.approx(3.5 / 8)
    assert tot["mean_a"] == pytest.approx(0.25 + 3.5 / 8) and tot["mean_b"] == pytest.approx(0.25)
    assert tot["low"] > 0 and tot["high"] < 0.75
    assert rows[("shift=none", "u_tot")]["diff"] == pytest.approx(0.25)
    assert "Holm-adjusted" in done.stdout and "9 paired tests" in done.stdout
    assert "A = model-a" in done.stdout


def test_correction_changes_the_verdict(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = pair
    out = tmp_path / "cmp.json"
    done = punc("compare", str(a), str(b), "--by", "none", "--correction", "none", "--json", str(out))
    assert done.returncode == 0, done.stderr
    rows = rows_of(out)
    assert set(rows) == {("overall", m) for m in ("u_ale", "u_epi", "u_tot")}
    assert rows[("overall", "u_tot")]["p_adjusted"] == pytest.approx(1 / 32)
    assert rows[("overall", "u_tot")]["verdict"] == "b lower"  # B is less uncertain, uncorrected
    held = tmp_path / "holm.json"
    assert punc("compare", str(a), str(b), "--by", "none", "--json", str(held)).returncode == 0
    assert rows_of(held)[("overall", "u_tot")]["p_adjusted"] == pytest.approx(3 / 32)  # Holm, m = 3


def test_three_runs_form_one_family(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = pair
    c = write_run(tmp_path, "model-c", {pid: (0.5, 0.5, 0.25) for pid in PIDS}, LABELS)
    out = tmp_path / "cmp.json"
    md = tmp_path / "cmp.md"
    done = punc("compare", str(a), str(b), str(c), "--by", "none", "--json", str(out), "--markdown", str(md))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    pairs = {(r["a"], r["b"]) for r in data["rows"]}
    assert pairs == {("model-a", "model-b"), ("model-a", "model-c"), ("model-b", "model-c")}
    tot = [r for r in data["rows"] if r["metric"] == "u_tot" and r["a"] == "model-a"]
    assert all(r["p_adjusted"] == pytest.approx(9 / 32) for r in tot)  # Holm over 9 rows
    text = md.read_text()
    assert "### A = model-a, B = model-b" in text and "Holm-adjusted over all 9 rows" in text


def test_refuses_runs_with_another_judge(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = pair
    other = write_run(
        tmp_path, "other", {pid: (0.5, 0.5, 0.25) for pid in PIDS}, LABELS, judge_fp="judge-fp-2"
    )
    done = punc("compare", str(a), str(other))
    assert done.returncode == 2
    assert "not comparable" in done.stderr and "judge fingerprint differs" in done.stderr
    assert "judge-fp-2" in done.stderr and "Traceback" not in done.stderr


def test_refuses_runs_with_another_task_or_scorer(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = pair
    task = write_run(tmp_path, "t", {pid: (0.5, 0.5, 0.25) for pid in PIDS}, LABELS, task_hash="other-task")
    done = punc("compare", str(a), str(task))
    assert done.returncode == 2 and "task hash differs" in done.stderr
    scorer = write_run(
        tmp_path, "s", {pid: (0.5, 0.5, 0.25) for pid in PIDS}, LABELS, scorers={"rougeL": "rougeL:other"}
    )
    done = punc("compare", str(a), str(scorer))
    assert done.returncode == 2 and "scorer signatures differ for scorer 'rougeL'" in done.stderr


def test_refuses_other_seeds(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = pair
    seeds = {pid: [100, 101] for pid in PIDS} | {"p4": [100, 999]}
    other = write_run(tmp_path, "reseeded", {pid: (0.5, 0.5, 0.25) for pid in PIDS}, LABELS, seeds=seeds)
    done = punc("compare", str(a), str(other))
    assert done.returncode == 2
    assert "prompt 'p4' image 1 was drawn with seed 101" in done.stderr and "999" in done.stderr


def test_bad_input_is_a_clear_error(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = pair
    for args, expected in [
        ((str(a),), "at least two runs"),
        ((str(a), str(tmp_path / "missing")), "expected a run directory"),
        ((str(a), str(b), "--scorer", "bleu"), "no per-prompt uncertainties for scorer 'bleu'"),
        ((str(a), str(b), "--correction", "sidak"), "--correction: expected one of holm, bonferroni, none"),
    ]:
        done = punc("compare", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert expected in done.stderr and "Traceback" not in done.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text("{not json")
    done = punc("compare", str(a), str(broken))
    assert done.returncode == 2 and "results.json at line 1, column 2: expected valid JSON" in done.stderr


def test_warns_when_the_resample_floor_forbids_significance(tmp_path: Path) -> None:
    # 20 prompts: 2**20 flips > 99 resamples, so the test is sampled and p >= 2/100; Holm x 3 >= 0.05
    pids = [f"q{i}" for i in range(20)]
    labels = {pid: {"shift": "none"} for pid in pids}
    a = write_run(tmp_path, "a", {pid: (0.5, 0.5, 0.75) for pid in pids}, labels)
    b = write_run(tmp_path, "b", {pid: (0.5, 0.5, 0.25) for pid in pids}, labels)
    done = punc("compare", str(a), str(b), "--by", "none", "--resamples", "99")
    assert done.returncode == 0, done.stderr
    assert "warning: 3 tests and 99 resamples" in done.stderr and "raise --resamples" in done.stderr
    done = punc("compare", str(a), str(b), "--by", "none", "--resamples", "999")
    assert done.returncode == 0 and "warning" not in done.stderr
