import json

import pytest
from eval_helpers import run_punc, write_results
from scipy.stats import chisquare

from harness.evaluation.bias import bias_table, vocabulary_parser

COLOURS = ["red", "green", "blue", "yellow", "white"]


def _captions(shape, counts):
    return [
        (f"shape={shape}", f"a small {c} {shape} at the center") for c, n in counts.items() for _ in range(n)
    ]


def test_skew_detected_uniform_not():
    skew = {"red": 40, "green": 3, "blue": 2, "yellow": 3, "white": 2}
    uniform = dict.fromkeys(COLOURS, 10)
    items = _captions("circle", skew) + _captions("square", uniform)
    table = bias_table(items, "colour", COLOURS, vocabulary_parser("colour", COLOURS))
    rows = {g["group"]: g for g in table["groups"]}
    circle, square = rows["shape=circle"], rows["shape=square"]
    # independent expectation: scipy on the raw counts, uniform over 5 colours, Bonferroni over 2 groups
    expected = chisquare([40, 3, 2, 3, 2])
    assert circle["chi2"] == pytest.approx(expected.statistic)
    assert circle["p_bonferroni"] == pytest.approx(min(1.0, 2 * expected.pvalue))
    assert circle["biased"] and circle["most_common"] == {"value": "red", "share": 0.8}
    assert square["chi2"] == pytest.approx(0.0) and square["p"] == pytest.approx(1.0) and not square["biased"]
    assert table["biased_groups"] == ["shape=circle"]


def test_mild_skew_survives_only_without_correction():
    # chisquare([16, 8, 8, 8, 10]) ≈ 4.8, p ≈ 0.31: not significant
    items = _captions("star", {"red": 16, "green": 8, "blue": 8, "yellow": 8, "white": 10})
    table = bias_table(items, "colour", COLOURS, vocabulary_parser("colour", COLOURS))
    assert not table["groups"][0]["biased"]


def test_other_and_too_few():
    items = [("g", "a purple circle"), ("g", "a red circle"), ("g", "nothing here")]
    table = bias_table(items, "colour", COLOURS, vocabulary_parser("colour", COLOURS))
    row = table["groups"][0]
    assert row["other"] == 2 and row["n_tested"] == 1 and not row["tested"] and row["biased"] is None


def test_vocabulary_parser_whole_words_first_match():
    parse = vocabulary_parser("colour", ["red", "green"])
    assert parse("a green star and a red circle")["colour"] == "green"
    assert parse("a reddish blob")["colour"] is None


def test_cli_report_bias(tmp_path):
    run = tmp_path / "run"
    prompts = [
        {
            "id": f"id.{i}",
            "text": f"a {c} circle",
            "labels": {"shift": "none", "attributes": {"shape": "circle", "colour": c}},
        }
        for i, c in enumerate(COLOURS)
    ]
    prompts += [
        {
            "id": "v.circle",
            "text": "a circle",
            "labels": {"shift": "vague", "attributes": {"shape": "circle", "colour": None}},
        },
        {
            "id": "v.square",
            "text": "a square",
            "labels": {"shift": "vague", "attributes": {"shape": "square", "colour": None}},
        },
    ]
    write_results(run, prompts)
    lines = []
    plan = {
        "v.circle": ["red"] * 40 + ["green", "blue", "yellow", "white"] * 2 + ["blue", "white"],
        "v.square": COLOURS * 10,
    }
    for pid, colours in plan.items():
        shape = pid.split(".")[1]
        for i, c in enumerate(colours):
            lines.append(
                {
                    "prompt_id": pid,
                    "index": i // 2,
                    "image_hash": "0" * 64,
                    "sample_index": i % 2,
                    "judge": "fp",
                    "caption": f"a large {c} {shape} at the top left",
                }
            )
    lines.append(
        {
            "prompt_id": "v.square",
            "index": 0,
            "image_hash": "0" * 64,
            "sample_index": 9,
            "judge": "other-judge",
            "caption": "a red square",
        }
    )
    (run / "captions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, out, err = run_punc("report", "bias", str(run))
    assert code == 0, err
    assert "BIASED in shape=circle" in out
    data = json.loads((run / "bias_colour.json").read_text())
    rows = {g["group"]: g for g in data["groups"]}
    assert data["values"] == sorted(COLOURS) and rows["shape=square"]["n_tested"] == 50
    assert rows["shape=circle"]["biased"] and not rows["shape=square"]["biased"]
    code, _, err = run_punc("report", "bias", str(run), "--attribute", "size")
    assert code == 2 and "leaves 'size' open" in err


def test_group_contrast_hand_computed():
    from harness.evaluation.bias import group_contrast

    # two seed strata; in each, one image of group A (red) and one of group B (green).
    # A's shares (1, 0) against B's (0, 1): largest excess share 1 (red). Permuting labels within each
    # stratum gives 4 equally likely assignments; 2 of them (A keeps both reds, or takes both greens:
    # excess 1 in green) reach 1, so the exact p-value is 1/2; the Monte Carlo (1 + hits) / (1 + n) is close.
    units = [("A", 0, [1, 0]), ("B", 0, [0, 1]), ("A", 1, [1, 0]), ("B", 1, [0, 1])]
    table = group_contrast(units, ["red", "green"], n_perm=4000, seed=1, alpha=0.05)
    rows = {r["group"]: r for r in table["groups"]}
    assert (
        rows["A"]["excess"] == 1.0
        and rows["A"]["value"] == "red"
        and rows["A"]["shares"] == {"red": 1.0, "green": 0.0}
    )
    assert rows["A"]["shares_others"] == {"red": 0.0, "green": 1.0}
    assert rows["A"]["p"] == pytest.approx(1 / 2, abs=0.03)
    assert rows["A"]["p_bonferroni"] == pytest.approx(min(1.0, 2 * rows["A"]["p"]))
    assert table["biased_groups"] == []
    # when the seed decides the colour (both stratum-0 images red, both stratum-1 images green), the
    # groups do not differ at all: excess 0, p = 1
    skew = [("A", 0, [1, 0]), ("B", 0, [1, 0]), ("A", 1, [0, 1]), ("B", 1, [0, 1])]
    rows = {r["group"]: r for r in group_contrast(skew, ["red", "green"], n_perm=500)["groups"]}
    assert rows["A"]["excess"] == 0.0 and rows["A"]["p"] == 1.0  # the seed explains everything


def test_group_contrast_finds_a_real_bias():
    import numpy as np

    from harness.evaluation.bias import group_contrast

    rng = np.random.default_rng(0)
    units = []
    for shape in ("circle", "square", "star", "cross", "triangle"):
        for _ in range(10):
            p = [0.8, 0.05, 0.05, 0.05, 0.05] if shape == "circle" else [0.2] * 5
            for k in range(8):
                units.append((f"shape={shape}", k, np.eye(5, dtype=int)[rng.choice(5, p=p)]))
    table = group_contrast(units, COLOURS, n_perm=2000, alpha=0.01)
    assert table["biased_groups"] == ["shape=circle"]


@pytest.mark.parametrize("seed_fixes", [0.2, 0.6])
def test_shared_seed_false_positive_rate_stays_below_alpha(seed_fixes):
    """An unbiased generator whose shared seed fixes the colour with probability 0.2 or 0.6: the
    group-vs-others test flags at most alpha of the simulated runs; the test against uniform, which
    ignores the seeds, flags far more (the flaw the issue describes)."""
    from harness.evaluation.bias import simulate_false_positives

    alpha = 0.05
    sim = simulate_false_positives(n_sims=200, seed_fixes=seed_fixes, alpha=alpha, n_perm=200, seed=3)
    assert sim["group_vs_others"] <= alpha
    assert sim["chi_square_vs_uniform"] > 2 * alpha
