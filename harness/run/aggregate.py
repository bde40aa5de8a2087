"""From per-caption scores to per-prompt statistics and per-group means with bootstrap intervals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from harness.config.prompts import PromptRecord
from harness.run.schema import PRF_KEYS, GroupSummary, Interval, PromptResult, Stat

CONFIDENCE = 0.95


def image_stat(values_per_image: Sequence[float]) -> Stat:
    """Mean and sample standard deviation (ddof=1; 0 for a single image) over the images of a prompt."""
    array = np.asarray(values_per_image, dtype=float)
    std = float(array.std(ddof=1)) if array.size > 1 else 0.0
    return Stat(mean=float(array.mean()), std=std, n=int(array.size))


def uncertainty_of(
    precision: Sequence[float], recall: Sequence[float], f1: Sequence[float]
) -> dict[str, Stat]:
    """U_ale = 1 - P, U_epi = 1 - R, U_tot = 1 - F1, per image, then mean and spread over images."""
    return {
        "u_ale": image_stat([1.0 - p for p in precision]),
        "u_epi": image_stat([1.0 - r for r in recall]),
        "u_tot": image_stat([1.0 - f for f in f1]),
    }


def prompt_results(
    prompts: Sequence[PromptRecord],
    scores: Iterable[Mapping[str, Any]],
    prf_scorers: set[str],
    image_counts: Mapping[str, int],
    failed_counts: Mapping[str, int],
) -> list[PromptResult]:
    """Average the caption samples of each image first, then take mean and std over the K images."""
    by_prompt: dict[str, dict[str, dict[tuple[int, str], list[float]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    captions_seen: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for record in scores:
        pid, scorer = record["prompt_id"], record["scorer"]
        captions_seen[pid].add((int(record["index"]), int(record["sample_index"])))
        for output, value in record["values"].items():
            by_prompt[pid][scorer].setdefault((int(record["index"]), output), []).append(float(value))
    results = []
    for prompt in prompts:
        metrics: dict[str, dict[str, Stat]] = {}
        uncertainty: dict[str, dict[str, Stat]] = {}
        for scorer, cells in sorted(by_prompt.get(prompt.id, {}).items()):
            per_output: dict[str, list[float]] = defaultdict(list)
            for (_, output), samples in sorted(cells.items()):
                per_output[output].append(float(np.mean(samples)))
            metrics[scorer] = {output: image_stat(values) for output, values in per_output.items()}
            if scorer in prf_scorers and all(k in per_output for k in PRF_KEYS):
                uncertainty[scorer] = uncertainty_of(
                    per_output["precision"], per_output["recall"], per_output["f1"]
                )
        results.append(
            PromptResult(
                prompt_id=prompt.id,
                text=prompt.text,
                labels=prompt.labels.model_dump(mode="json"),
                n_images=image_counts.get(prompt.id, 0),
                n_captions=len(captions_seen.get(prompt.id, ())),
                metrics=metrics,
                uncertainty=uncertainty,
                failed_items=failed_counts.get(prompt.id, 0),
            )
        )
    return results


def bootstrap_interval(values: Sequence[float], samples: int, seed: int) -> Interval:
    """Percentile bootstrap over prompts (resampled with replacement), seeded so reruns agree."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if array.size < 2 or samples == 0:
        return Interval(mean=mean, low=mean, high=mean, n=int(array.size))
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, array.size, size=(samples, array.size))].mean(axis=1)
    alpha = (1.0 - CONFIDENCE) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(mean=mean, low=float(low), high=float(high), n=int(array.size))


def summarize(results: Sequence[PromptResult], samples: int, seed: int) -> GroupSummary:
    """Means over prompts of every per-prompt mean (metrics and uncertainties), with intervals."""
    columns: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        for scorer, outputs in result.metrics.items():
            for output, stat in outputs.items():
                columns[scorer][output].append(stat.mean)
        for scorer, outputs in result.uncertainty.items():
            for output, stat in outputs.items():
                columns[scorer][output].append(stat.mean)
    metrics = {
        scorer: {
            output: bootstrap_interval(values, samples, seed) for output, values in sorted(outputs.items())
        }
        for scorer, outputs in sorted(columns.items())
    }
    return GroupSummary(n_prompts=len(results), metrics=metrics)


def grouped(results: Sequence[PromptResult], label: str, samples: int, seed: int) -> dict[str, GroupSummary]:
    groups: dict[str, list[PromptResult]] = defaultdict(list)
    for result in results:
        value = result.labels.get(label)
        if value is not None:
            groups[str(value)].append(result)
    return {name: summarize(members, samples, seed) for name, members in sorted(groups.items())}
