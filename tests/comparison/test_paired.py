"""The paired statistics against independent references: exhaustive enumeration and hand-computed values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from harness.comparison.paired import bonferroni, holm, paired_test


def enumerated_sign_flip_p(d: list[float]) -> float:
    """Exact two-sided p-value: the share of all 2**n sign flips whose |mean| reaches the observed one."""
    observed = abs(sum(d))
    hits = sum(
        abs(sum(s * x for s, x in zip(signs, d, strict=True))) >= observed - 1e-12
        for signs in itertools.product((1, -1), repeat=len(d))
    )
    return hits / 2 ** len(d)


def enumerated_bootstrap_interval(d: list[float]) -> tuple[float, float]:
    """The exact percentile-bootstrap interval: every one of the n**n resamples, equally likely."""
    means = np.array([np.mean(sample) for sample in itertools.product(d, repeat=len(d))])
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def test_all_positive_differences_by_hand() -> None:
    # 6 pairs, every difference positive: only "all +" and "all -" reach |mean| 0.4375, p = 2/64.
    a = [0.375, 0.5, 0.625, 0.75, 0.875, 1.0]
    b = [0.25] * 6
    test = paired_test(a, b)
    assert test.exact and test.n == 6
    assert test.diff == pytest.approx(0.4375)
    assert test.mean_a == pytest.approx(0.6875) and test.mean_b == pytest.approx(0.25)
    assert test.p_value == pytest.approx(2 / 64)


@pytest.mark.parametrize(
    ("d", "by_hand"),
    [
        ([1, -1, 2, -2, 3, 0.5], 34 / 64),  # 17 negated subsets sum to <= 3, 17 to >= 6.5 (of 9.5)
        ([1, -1, 2], 6 / 8),
        ([-2, 3, 0.5], 6 / 8),
    ],
)
def test_mixed_differences_by_hand(d: list[float], by_hand: float) -> None:
    diffs = [x / 8 for x in d]
    test = paired_test([0.5 + x for x in diffs], [0.5] * len(diffs))
    assert test.p_value == pytest.approx(by_hand)
    assert test.p_value == pytest.approx(enumerated_sign_flip_p(diffs))


def test_exact_p_matches_enumeration_on_random_pairs() -> None:
    rng = np.random.default_rng(3)
    for n in (3, 5, 8, 11):
        a, b = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
        test = paired_test(a.tolist(), b.tolist())
        assert test.exact
        assert test.p_value == pytest.approx(enumerated_sign_flip_p((a - b).tolist()))


def test_randomized_p_is_close_to_exact_and_never_zero() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0, 1, 16), rng.uniform(0, 1, 16)  # 65536 flips: enumerated here, sampled by scipy
    exact = enumerated_sign_flip_p((a - b).tolist())
    test = paired_test(a.tolist(), b.tolist(), resamples=9999)
    assert not test.exact
    assert abs(test.p_value - exact) < 0.02
    far = paired_test([1.0] * 40, [0.0] * 39 + [0.5], resamples=999)
    assert 0 < far.p_value <= 2 / 1000


def test_bootstrap_interval_matches_exact_bootstrap() -> None:
    d = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75]
    low, high = enumerated_bootstrap_interval(d)
    test = paired_test([0.25 + x for x in d], [0.25] * 6, resamples=40_000)
    assert test.low == pytest.approx(low, abs=0.01) and test.high == pytest.approx(high, abs=0.01)
    assert test.low < test.diff < test.high


def test_degenerate_inputs() -> None:
    same = paired_test([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    assert same.p_value == 1.0 and same.diff == 0.0 and (same.low, same.high) == (0.0, 0.0)
    shifted = paired_test([0.75, 0.5], [0.5, 0.25])  # both pairs differ by 0.25
    assert (shifted.low, shifted.high) == (0.25, 0.25) and shifted.p_value == pytest.approx(0.5)
    single = paired_test([0.75], [0.5])
    assert single.low is None and single.p_value == 1.0  # one pair: both flips reach |0.25|
    with pytest.raises(ValueError):
        paired_test([0.1, 0.2], [0.1])
    with pytest.raises(ValueError):
        paired_test([], [])


def test_holm_by_hand() -> None:
    # m = 4, sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, max(0.04, 0.06), max(0.06, 0.06), max(0.06, 0.5)
    assert holm([0.03, 0.01, 0.5, 0.02]) == pytest.approx([0.06, 0.04, 0.5, 0.06])
    # a later p-value never gets a smaller adjustment than an earlier one; 1 caps it
    assert holm([0.04, 0.3, 0.2]) == pytest.approx([0.12, 0.4, 0.4])
    assert holm([0.9, 0.9]) == pytest.approx([1.0, 1.0])
    assert bonferroni([0.01, 0.4]) == pytest.approx([0.02, 0.8])
    assert holm([]) == []
