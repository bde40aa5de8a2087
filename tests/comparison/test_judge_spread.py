"""`punc judge-spread`: per-prompt spread of the uncertainties across judges, against hand-computed values
and against the harness's own aggregation (harness.run.aggregate) of the same scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_builder import JUDGE_FP, SCORERS, punc, write_run

from harness.comparison.judges import judge_spread

PIDS = ["p1", "p2", "p3"]
LABELS = {"p1": {"shift": "none"}, "p2": {"shift": "ood"}, "p3": {"shift": "ood"}}
OTHER_FP = "judge-fp-other"
# (judge, prompt) -> per image index -> list of (P, R, F) samples
SCORES = {
    (JUDGE_FP, "p1"): {0: [(0.5, 0.6, 0.5)], 1: [(0.7, 0.8, 0.7)]},  # U: ale 0.4, epi 0.3, tot 0.4
    (OTHER_FP, "p1"): {0: [(0.5, 0.5, 0.5)], 1: [(0.5, 0.5, 0.5)]},  # U: 0.5, 0.5, 0.5
    (JUDGE_FP, "p2"): {0: [(0.9, 0.9, 0.9)], 1: [(0.9, 0.9, 0.9)]},  # U: 0.1 each
    (OTHER_FP, "p2"): {0: [(0.2, 0.2, 0.2), (0.4, 0.4, 0.4)], 1: [(0.3, 0.3, 0.3)]},  # U: 0.7 each
    (JUDGE_FP, "p3"): {0: [(0.8, 0.8, 0.8)], 1: [(0.8, 0.8, 0.8)]},  # U: 0.2, both judges
    (OTHER_FP, "p3"): {0: [(0.8, 0.8, 0.8)], 1: [(0.8, 0.8, 0.8)]},
}


def score_records(judges: tuple[str, ...] = (JUDGE_FP, OTHER_FP)) -> list[dict]:
    out = []
    for (judge, pid), images in SCORES.items():
        if judge not in judges:
            continue
        for index, samples in images.items():
            for s, (p, r, f) in enumerate(samples):
                out.append(
                    {
                        "prompt_id": pid,
                        "index": index,
                        "image_hash": f"{pid}-{index}",
                        "sample_index": s,
                        "judge": judge,
                        "scorer": "rougeL",
                        "signature": SCORERS["rougeL"],
                        "values": {"precision": p, "recall": r, "f1": f},
                    }
                )
    return out


@pytest.fixture
def run(tmp_path: Path) -> Path:
    run = write_run(tmp_path, "two-judges", {pid: (0.5, 0.5, 0.5) for pid in PIDS}, LABELS)
    (run / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in score_records()))
    return run


def test_spread_by_hand(run: Path) -> None:
    report = judge_spread([run], top=2)
    names = [j["name"] for j in report["judges"]]
    assert names == [
        "judge",
        OTHER_FP[:12],
    ]  # the run's results.json names its judge; the other by fingerprint
    rows = {p["prompt_id"]: p for p in report["prompts"]}
    assert rows["p1"]["per_judge"]["judge"] == pytest.approx({"u_ale": 0.4, "u_epi": 0.3, "u_tot": 0.4})
    assert rows["p1"]["spread"] == pytest.approx({"u_ale": 0.1, "u_epi": 0.2, "u_tot": 0.1})
    assert rows["p2"]["per_judge"][OTHER_FP[:12]]["u_tot"] == pytest.approx(0.7)  # samples averaged per image
    assert rows["p2"]["spread"]["u_tot"] == pytest.approx(0.6)
    assert rows["p3"]["spread"] == pytest.approx({"u_ale": 0.0, "u_epi": 0.0, "u_tot": 0.0})
    assert report["flagged"] == ["p2", "p1"]
    assert report["mean_spread"]["u_tot"] == pytest.approx(0.7 / 3)
    assert report["mean_spread_u_tot_by_shift"] == pytest.approx({"none": 0.1, "ood": 0.3})
    assert report["mean_u"]["judge"]["u_tot"] == pytest.approx(0.7 / 3)
    # U_tot per prompt: judge (0.4, 0.1, 0.2), other (0.5, 0.7, 0.2): ranks (3, 1, 2) and (2, 3, 1),
    # sum of squared rank differences 6, rho = 1 - 6 * 6 / (3 * 8) = -0.5
    assert report["agreement"][0]["spearman_u_tot"] == pytest.approx(-0.5)


def test_matches_the_harness_aggregation(run: Path) -> None:
    from harness.config.prompts import PromptRecord
    from harness.run.aggregate import prompt_results

    report = judge_spread([run])
    prompts = [PromptRecord(id=pid, text=f"prompt {pid}") for pid in PIDS]
    for fp, name in ((JUDGE_FP, "judge"), (OTHER_FP, OTHER_FP[:12])):
        expected = prompt_results(prompts, score_records((fp,)), {"rougeL"}, {}, {})
        for result in expected:
            got = next(p for p in report["prompts"] if p["prompt_id"] == result.prompt_id)["per_judge"][name]
            assert got == pytest.approx(
                {k: s.mean for k, s in result.uncertainty["rougeL"].items()}, abs=1e-6
            )


def test_cli_prints_and_writes_the_report(run: Path, tmp_path: Path) -> None:
    out, md = tmp_path / "spread.json", tmp_path / "spread.md"
    done = punc("judge-spread", str(run), "--top", "1", "--json", str(out), "--markdown", str(md))
    assert done.returncode == 0, done.stderr
    assert "Prompts where the judges disagree most (1 flagged" in done.stdout
    assert "| p2 | prompt p2 | 0.1000 | 0.7000 | 0.6000 | 0.6000 | 0.6000 |" in done.stdout
    assert json.loads(out.read_text())["flagged"] == ["p2"] and md.read_text() in done.stdout


def test_two_runs_with_the_same_images(tmp_path: Path) -> None:
    first = write_run(tmp_path, "a", {pid: (0.5, 0.5, 0.5) for pid in PIDS}, LABELS)
    (first / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in score_records((JUDGE_FP,))))
    second = write_run(tmp_path, "b", {pid: (0.5, 0.5, 0.5) for pid in PIDS}, LABELS, judge_fp=OTHER_FP)
    (second / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in score_records((OTHER_FP,))))
    report = judge_spread([first, second], top=1)
    # both results.json call their judge "judge": the fingerprints tell them apart
    assert [j["name"] for j in report["judges"]] == ["judge (judge-fp-c)", "judge (judge-fp-o)"]
    assert report["flagged"] == ["p2"]
    # other images for a prompt: the spread would mix generator and judge, so it is refused
    third = write_run(tmp_path, "c", {pid: (0.5, 0.5, 0.5) for pid in PIDS}, LABELS, judge_fp=OTHER_FP)
    lines = (third / "images.jsonl").read_text().replace('"p1-1"', '"other-image"')
    (third / "images.jsonl").write_text(lines)
    (third / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in score_records((OTHER_FP,))))
    done = punc("judge-spread", str(first), str(third))
    assert done.returncode == 2 and "prompt 'p1' image 1 is not the image of" in done.stderr


def test_one_judge_is_a_clear_error(tmp_path: Path) -> None:
    run = write_run(tmp_path, "single", {pid: (0.5, 0.5, 0.5) for pid in PIDS}, LABELS)
    (run / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in score_records((JUDGE_FP,))))
    done = punc("judge-spread", str(run))
    assert done.returncode == 2
    assert "captioned by 1 judge(s)" in done.stderr and "--judge OTHER.yaml --out RUN_DIR" in done.stderr
    assert "Traceback" not in done.stderr
