import json

import numpy as np
import pytest
from eval_helpers import run_punc, synthetic_shift_run

from harness.evaluation.detection import bootstrap_ci, detection_metrics, fast_metrics


def test_hand_computed_example():
    # pos [0.9, 0.8, 0.4], neg [0.1, 0.5, 0.3]
    # AUROC: of the 9 (pos, neg) pairs only (0.4, 0.5) is mis-ordered -> 8/9.
    # AUPR: ranking 0.9 P, 0.8 P, 0.5 N, 0.4 P, 0.3 N, 0.1 N; precision at each positive's recall
    #   step: 1/1, 2/2, 3/4 -> AP = (1 + 1 + 0.75) / 3 = 0.91666...
    # FPR95: TPR >= 0.95 needs all three positives, i.e. threshold 0.4, which also admits the
    #   negative 0.5 -> FPR = 1/3.
    m = detection_metrics([0.9, 0.8, 0.4], [0.1, 0.5, 0.3])
    assert m["auroc"] == pytest.approx(8 / 9)
    assert m["aupr"] == pytest.approx(2.75 / 3)
    assert m["fpr95"] == pytest.approx(1 / 3)


def test_ties():
    # pos [0.5, 0.5], neg [0.5, 0.2]: pairs (0.5,0.5) x2 count 1/2 each, (0.5,0.2) x2 count 1 -> 3/4.
    # AUPR: threshold 0.5 admits 2 P + 1 N at once: precision 2/3 at recall 1 -> AP = 2/3.
    # FPR95: the first operating point with TPR 1 is threshold 0.5 -> FPR 1/2.
    m = detection_metrics([0.5, 0.5], [0.5, 0.2])
    assert m == pytest.approx({"auroc": 0.75, "aupr": 2 / 3, "fpr95": 0.5})
    all_tied = detection_metrics([1.0, 1.0], [1.0, 1.0, 1.0])
    assert all_tied["auroc"] == 0.5 and all_tied["aupr"] == pytest.approx(0.4) and all_tied["fpr95"] == 1.0


def test_perfect_and_inverted_separation():
    assert detection_metrics([3, 4, 5], [0, 1, 2]) == {"auroc": 1.0, "aupr": 1.0, "fpr95": 0.0}
    inv = detection_metrics([0, 1], [2, 3])
    assert inv["auroc"] == 0.0 and inv["fpr95"] == 1.0 and inv["aupr"] == pytest.approx(0.5 * (1 / 3 + 2 / 4))


def test_fast_metrics_equal_sklearn_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(200):
        pos = rng.integers(0, 4, rng.integers(1, 10)).astype(float)
        neg = rng.integers(0, 4, rng.integers(1, 10)).astype(float)
        assert fast_metrics(pos, neg) == pytest.approx(detection_metrics(pos, neg), abs=1e-12)


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 40), rng.normal(0, 1, 50)
    a, b = bootstrap_ci(pos, neg, 300, seed=3), bootstrap_ci(pos, neg, 300, seed=3)
    assert a == b
    point = detection_metrics(pos, neg)
    for metric in ("auroc", "aupr", "fpr95"):
        assert a[metric][0] <= point[metric] <= a[metric][1]


def test_cli_detect_on_synthetic_run(tmp_path):
    run = synthetic_shift_run(tmp_path / "run")
    code, out, err = run_punc("detect", str(run), "--bootstrap", "200")
    assert code == 0, err
    data = json.loads((run / "detection.json").read_text())
    assert data["run"] == str(run) and data["scorer"] == "bertscore"
    by = {(c["shift"], c["score"]): c for c in data["comparisons"]}
    assert {s for s, _ in by} == {"vague", "ood"}
    epi, ale = by[("ood", "U_epi (bertscore)")], by[("vague", "U_ale (bertscore)")]
    assert epi["auroc"] > 0.95 and ale["auroc"] > 0.95
    assert by[("ood", "U_ale (bertscore)")]["auroc"] < 0.8
    assert set(epi["ci"]) == {"auroc", "aupr", "fpr95"} and epi["n_pos"] == 20 and epi["n_neg"] == 20
    assert epi["cost"]["network_passes_per_prompt"] == 8
    rec = by[("ood", "reconstruction")]
    assert rec["cost"] == {"network_passes_per_prompt": 20.0, "seconds_per_prompt": 1.5}
    assert 0.2 < rec["auroc"] < 0.8  # pure noise
    md = (run / "detection.md").read_text()
    # three PUNC rows in the main table, one in the margin table, one disentanglement row (vague | ood)
    assert md.count("| ood | U_") == 5 and md.count("| ood | reconstruction |") == 1
    # prompt-only rows (no tokenizer and no captions in this synthetic run: words and characters)
    assert md.count("| ood | prompt-only: ") == 2
    assert (run / "roc_ood.png").exists() and (run / "roc_vague.png").exists()


def test_cli_detect_several_runs_go_under_out_model(tmp_path):
    a = synthetic_shift_run(tmp_path / "a", model="model-a")
    b = synthetic_shift_run(tmp_path / "b", model="model b/2", seed=1)
    code, _, err = run_punc("detect", str(a), str(b), "--out", str(tmp_path / "out"), "--bootstrap", "50")
    assert code == 0, err
    assert (tmp_path / "out" / "model-a" / "detection.json").exists()
    assert (tmp_path / "out" / "model_b_2" / "detection.json").exists()


def test_cli_detect_user_errors(tmp_path):
    code, _, err = run_punc("detect", str(tmp_path))
    assert code == 2 and "no results.json" in err
    run = synthetic_shift_run(tmp_path / "run")
    code, _, err = run_punc("detect", str(run), "--scorer", "rougeL")
    assert code == 2 and "bertscore" in err


def test_cli_detect_marks_comparisons_with_too_few_prompts(tmp_path):
    small = synthetic_shift_run(tmp_path / "small", n=9)  # 9 positives and 9 negatives per shift
    code, out, err = run_punc("detect", str(small), "--bootstrap", "20")
    assert code == 0, err
    comparisons = json.loads((small / "detection.json").read_text())["comparisons"]
    assert comparisons and all(c["too_small"] for c in comparisons)
    assert out.count("too small to trust: 9 shifted / 9 in-distribution prompts, fewer than 10") == 2
    markdown = (small / "detection.md").read_text()
    assert "| 9/9* |" in markdown and "fewer than 10 positives or negatives: too small to trust" in markdown

    enough = synthetic_shift_run(tmp_path / "enough", n=10)
    code, out, err = run_punc("detect", str(enough), "--bootstrap", "20")
    assert code == 0, err
    comparisons = json.loads((enough / "detection.json").read_text())["comparisons"]
    assert not any(c["too_small"] for c in comparisons)
    assert "too small" not in out and "too small" not in (enough / "detection.md").read_text()
