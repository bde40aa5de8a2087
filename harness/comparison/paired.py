"""Paired statistics on per-prompt differences: bootstrap interval, permutation p-value, Holm correction.

scipy does the resampling: `scipy.stats.bootstrap` (percentile interval of the mean difference, the
same kind of interval the results use) and `scipy.stats.permutation_test` with
``permutation_type="samples"``, which swaps the two values of a pair, i.e. flips the sign of a
difference. When 2**n does not exceed the resample count scipy enumerates every flip (an exact test);
otherwise it draws random flips and the p-value counts the observed one, so it is never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 9999


@dataclass(frozen=True)
class PairedTest:
    """Mean of a - b over n pairs, its bootstrap interval and a two-sided permutation p-value."""

    n: int
    mean_a: float
    mean_b: float
    diff: float
    low: float | None
    high: float | None
    p_value: float
    exact: bool


def _mean_diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def paired_test(
    a: Sequence[float], b: Sequence[float], resamples: int = RESAMPLES, seed: int = 0
) -> PairedTest:
    """Compare paired values a[i], b[i] (the same prompt in two runs)."""
    from scipy import stats

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired values need equal 1-d shapes, got {x.shape} and {y.shape}")
    n = int(x.size)
    if n == 0:
        raise ValueError("no pairs to compare")
    diff = float(np.mean(x - y))
    low = high = None
    p_value, exact = 1.0, True
    d = x - y
    if n >= 2 and np.ptp(d) > 0:
        boot = stats.bootstrap(
            (d,),
            np.mean,
            n_resamples=resamples,
            confidence_level=CONFIDENCE,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(seed),
        )
        low, high = float(boot.confidence_interval.low), float(boot.confidence_interval.high)
    elif n >= 2:  # every pair differs by the same amount: every resample has that mean
        low = high = diff
    if n >= 2 and np.any(d != 0):  # one pair: both of its two flips reach |d|, p = 1
        perm = stats.permutation_test(
            (x, y),
            _mean_diff,
            permutation_type="samples",
            vectorized=True,
            n_resamples=resamples,
            alternative="two-sided",
            rng=np.random.default_rng(seed + 1),
        )
        p_value = float(perm.pvalue)
        exact = 2**n <= resamples
    return PairedTest(
        n=n,
        mean_a=float(x.mean()),
        mean_b=float(y.mean()),
        diff=diff,
        low=low,
        high=high,
        p_value=p_value,
        exact=exact,
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (controls the family-wise error rate), in the input order.

    Sorted ascending, p_(i) becomes max over j <= i of min(1, (m - j + 1) * p_(j)).
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def bonferroni(p_values: Sequence[float]) -> list[float]:
    m = len(p_values)
    return [min(1.0, m * p) for p in p_values]


CORRECTIONS = {"holm": holm, "bonferroni": bonferroni, "none": lambda ps: list(ps)}
