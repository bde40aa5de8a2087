"""Rank intervals: how far a model's rank moves when the prompts are resampled, and which neighbours tie.

Every bootstrap resample draws prompts with replacement once and applies the same draw to every model
(the models are paired by prompt), re-ranks the models by their mean, and the 95% interval of each
model's rank over the resamples is reported. Neighbours in the ranking are "tied" when the paired
permutation test between them is not significant after Holm's correction over all neighbour pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from harness.comparison.paired import holm, paired_test

ALPHA = 0.05


@dataclass
class RankInterval:
    model: str
    rank: int  # 1 = lowest mean (least uncertain); equal means share a rank (1, 1, 3)
    low: int
    high: int
    mean: float
    tied_with_next: bool | None  # None for the last model
    p_next: float | None  # Holm-adjusted p-value of the paired test with the next model


def rank_intervals(
    values: Mapping[str, Mapping[str, float]],
    resamples: int = 2000,
    seed: int = 0,
    alpha: float = ALPHA,
) -> tuple[list[RankInterval], int]:
    """`values[model][prompt]`; only prompts every model scored are used. Returns rows and that count."""
    from scipy.stats import rankdata

    models = list(values)
    if not models:
        return [], 0
    shared = [p for p in values[models[0]] if all(p in values[m] for m in models)]
    n = len(shared)
    if n == 0:
        return [], 0
    matrix = np.array([[values[m][p] for p in shared] for m in models], dtype=float)
    means = matrix.mean(axis=1)
    order = sorted(range(len(models)), key=lambda i: (means[i], models[i]))
    observed = dict(enumerate(rankdata(means, method="min").astype(int)))  # equal means: equal ranks
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)  # resamples x n
    boot = matrix @ counts.T / n  # models x resamples
    ranks = rankdata(boot, method="min", axis=0)  # 1-based; equal means share the better rank
    low = np.floor(np.quantile(ranks, 0.025, axis=1)).astype(int)
    high = np.ceil(np.quantile(ranks, 0.975, axis=1)).astype(int)
    raw = [
        paired_test(matrix[i], matrix[j], resamples=max(resamples, 999), seed=seed).p_value
        for i, j in zip(order, order[1:], strict=False)
    ]
    adjusted = holm(raw)
    rows = []
    for r, i in enumerate(order):
        has_next = r < len(order) - 1
        rows.append(
            RankInterval(
                model=models[i],
                rank=int(observed[i]),
                low=int(min(low[i], observed[i])),
                high=int(max(high[i], observed[i])),
                mean=float(means[i]),
                tied_with_next=bool(adjusted[r] >= alpha) if has_next else None,
                p_next=float(adjusted[r]) if has_next else None,
            )
        )
    return rows, n
