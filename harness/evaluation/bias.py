"""Bias report: what the generator fills in when the prompt leaves an attribute open.

For the prompts whose labels carry `attributes` with the chosen attribute set to null (open), every
caption of their images is parsed for that attribute (`harness.world.captions.parse_caption` when
it exists, else the first vocabulary word found in the caption). Counts are grouped by another
attribute of the prompt (default: shape; prompts that leave that open too form the group "(open)")
and compared with a uniform expectation over the attribute's vocabulary by a chi-square
goodness-of-fit test (`scipy.stats.chisquare`). A group is BIASED when its p-value, multiplied by
the number of groups tested (Bonferroni), is below alpha (0.01). Captions naming no vocabulary
value are counted as "other" and left out of the test. Groups whose uniform expectation is below 5
captions per value are reported but not tested. Captions of one image are not independent
samples (several captions per image, K images per prompt), so p-values are optimistic.

Shared seeds: when every prompt uses the same seeds 0..K-1 and the seed largely decides an open
attribute, images of different prompts with the same seed agree, and a test against uniform flags an
unbiased generator (the issue-10 review found 10-80 % of simulated runs flagged). The verdict
therefore comes from a direct comparison of each group against the other groups, a permutation test
stratified by seed: the units are images, and group labels are permuted only among images made with
the same seed index, so whatever a seed does to every prompt it does to every permutation (the seed is
a blocking factor). Statistic: the largest excess share of one value in the group over the other groups'
pooled share of it (one-sided: a group that merely lacks the value another group favours is not flagged); p-value (1 + #{T* >= T}) / (1 + permutations); Bonferroni over groups. It
assumes images of different prompts with the same seed are exchangeable when the group has no effect
(prompts of one group must not differ systematically in another attribute that moves the value).
`simulate_false_positives` checks by simulation that an unbiased generator whose seed fixes the value is flagged at most alpha of the time.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import PuncError

OPEN_GROUP = "(open)"
MIN_EXPECTED = 5.0


def world_parser(attribute: str, values: Sequence[str]) -> Callable[[str], dict[str, Any]] | None:
    """The embedded world's caption parser, when it exists and knows this attribute and all its values."""
    try:
        from harness.world import vocabulary
        from harness.world.captions import parse_caption
    except ImportError:
        return None
    known = {
        "shape": vocabulary.SHAPES,
        "colour": tuple(vocabulary.COLOURS),
        "size": vocabulary.SIZES,
        "position": vocabulary.POSITIONS,
        "background": vocabulary.BACKGROUNDS,
    }.get(attribute)
    if known is None or not set(values) <= set(known):
        return None
    return parse_caption


def vocabulary_parser(attribute: str, values: Sequence[str]) -> Callable[[str], dict[str, Any]]:
    """The first vocabulary value (whole words, longest first on ties of position) in the text."""
    patterns = [(v, re.compile(rf"\b{re.escape(v.lower())}\b")) for v in values]

    def parse(text: str) -> dict[str, Any]:
        lowered = text.lower()
        hits = [(m.start(), -len(v), v) for v, pat in patterns for m in [pat.search(lowered)] if m]
        return {attribute: min(hits)[2] if hits else None}

    return parse


def bias_table(
    items: Sequence[tuple[str, str]],
    attribute: str,
    values: Sequence[str],
    parse: Callable[[str], dict[str, Any]],
    alpha: float = 0.01,
) -> dict[str, Any]:
    """items: (group, caption). Returns the per-group counts, chi-square test and verdict."""
    from scipy.stats import chisquare

    values = list(values)
    if len(values) < 2:
        raise PuncError(f"bias report: the {attribute} vocabulary needs at least 2 values, got {values}")
    counts: dict[str, Counter] = defaultdict(Counter)
    for group, caption in items:
        found = parse(caption).get(attribute)
        counts[group][found if found in values else "other"] += 1
    groups = []
    for group in sorted(counts):
        observed = [counts[group][v] for v in values]
        n = sum(observed)
        expected = n / len(values)
        row: dict[str, Any] = {
            "group": group,
            "n_captions": n + counts[group]["other"],
            "n_tested": n,
            "other": counts[group]["other"],
            "counts": dict(zip(values, observed, strict=True)),
            "shares": {v: (o / n if n else 0.0) for v, o in zip(values, observed, strict=True)},
            "expected_per_value": expected,
            "tested": expected >= MIN_EXPECTED,
        }
        if row["tested"]:
            stat, p = chisquare(observed, [expected] * len(values))
            row.update(chi2=float(stat), p=float(p), dof=len(values) - 1)
            top = max(values, key=lambda v: row["shares"][v])
            row["most_common"] = {"value": top, "share": row["shares"][top]}
        groups.append(row)
    tested = [g for g in groups if g["tested"]]
    for g in groups:
        if g["tested"]:
            g["p_bonferroni"] = min(1.0, g["p"] * len(tested))
            g["biased"] = g["p_bonferroni"] < alpha
            g["verdict"] = (
                f"BIASED: {g['most_common']['value']} in {g['most_common']['share']:.0%} (uniform {1 / len(values):.0%})"
                if g["biased"]
                else "no evidence of bias"
            )
        else:
            g["p_bonferroni"] = None
            g["biased"] = None
            g["verdict"] = f"too few captions to test (need {MIN_EXPECTED:g} expected per value)"
    return {
        "attribute": attribute,
        "values": values,
        "alpha": alpha,
        "correction": f"Bonferroni over {len(tested)} tested groups",
        "test": "chi-square goodness of fit against uniform over the values (scipy.stats.chisquare)",
        "groups": groups,
        "biased_groups": [g["group"] for g in groups if g["biased"]],
    }


def _shares(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts, dtype=float), where=totals > 0)


def group_contrast(
    units: Sequence[tuple[str, Any, Sequence[int]]],
    values: Sequence[str],
    n_perm: int = 2000,
    seed: int = 0,
    alpha: float = 0.01,
) -> dict[str, Any]:
    """Each group against all other groups. units: (group, stratum, counts per value) of one image
    (stratum = its seed index). Group labels are permuted among the images of the same stratum only,
    so a seed that fixes the value for every prompt moves all groups alike. Groups with no image
    outside them are not tested."""
    groups = sorted({g for g, _, _ in units})
    counts = np.array([list(c) for _, _, c in units], dtype=float).reshape(len(units), len(values))
    member = np.array([[g == name for name in groups] for g, _, _ in units], dtype=float)
    strata = np.unique([str(st) for _, st, _ in units], return_inverse=True)[1]
    base = np.argsort(strata, kind="stable")

    def excess(assign: np.ndarray) -> np.ndarray:  # assign: (..., n_units, n_groups) -> (..., n_groups)
        inside = np.einsum("...ug,uv->...gv", assign, counts)
        outside = counts.sum(axis=0) - inside
        return (_shares(inside) - _shares(outside)).max(axis=-1)

    observed = excess(member)
    rng = np.random.default_rng(seed)
    exceed = np.zeros(len(groups))
    for start in range(0, n_perm, 250):
        block = min(250, n_perm - start)
        shuffled = np.empty((block, *member.shape))
        for b in range(block):
            shuffled[b][base] = member[np.lexsort((rng.random(len(units)), strata))]
        exceed += (excess(shuffled) >= observed - 1e-12).sum(axis=0)
    p = (1.0 + exceed) / (1.0 + n_perm)
    testable = [member[:, i].sum() > 0 and member[:, i].sum() < len(units) for i in range(len(groups))]
    n_tested = int(sum(testable))
    rows = []
    for i, name in enumerate(groups):
        inside = counts[member[:, i] > 0].sum(axis=0)
        outside = counts[member[:, i] == 0].sum(axis=0)
        share_in, share_out = _shares(inside), _shares(outside)
        top = int(np.argmax(share_in - share_out))
        row: dict[str, Any] = {
            "group": name,
            "n_images": int(member[:, i].sum()),
            "excess": float(observed[i]),
            "value": values[top],
            "shares": dict(zip(values, share_in.tolist(), strict=True)),
            "shares_others": dict(zip(values, share_out.tolist(), strict=True)),
            "tested": bool(testable[i]),
        }
        if testable[i]:
            row["p"] = float(p[i])
            row["p_bonferroni"] = min(1.0, float(p[i]) * n_tested)
            row["biased"] = row["p_bonferroni"] < alpha
            row["verdict"] = (
                f"BIASED vs others: {values[top]} {share_in[top]:.0%} here, {share_out[top]:.0%} in the other groups"
                if row["biased"]
                else "no evidence of a difference from the other groups"
            )
        else:
            row.update(p=None, p_bonferroni=None, biased=None, verdict="no other group to compare with")
        rows.append(row)
    return {
        "test": "group vs other groups: permutation test stratified by seed; statistic: the largest excess "
        "share of one value in the group over the other groups",
        "permutations": n_perm,
        "seed": seed,
        "alpha": alpha,
        "correction": f"Bonferroni over {n_tested} tested groups",
        "groups": rows,
        "biased_groups": [r["group"] for r in rows if r["biased"]],
    }


def simulate_false_positives(
    n_sims: int = 200,
    seed_fixes: float = 0.4,
    n_groups: int = 5,
    prompts_per_group: int = 10,
    k: int = 8,
    n_values: int = 5,
    alpha: float = 0.01,
    n_perm: int = 500,
    seed: int = 0,
) -> dict[str, float]:
    """An unbiased generator with shared seeds 0..k-1: with probability `seed_fixes` an image's value
    is the value its seed fixes (the same for every prompt), else uniform. Returns the share of
    simulated runs in which any group is flagged (family-wise false-positive rate), for the
    group-vs-others permutation test and for the chi-square test against uniform."""
    from scipy.stats import chisquare

    rng = np.random.default_rng(seed)
    flagged_contrast = flagged_uniform = 0
    values = [f"v{i}" for i in range(n_values)]
    for sim in range(n_sims):
        fixed = rng.integers(0, n_values, k)  # the value each seed fixes, shared by all prompts
        units = []
        for g in range(n_groups):
            for _ in range(prompts_per_group):
                drawn = np.where(rng.random(k) < seed_fixes, fixed, rng.integers(0, n_values, k))
                units += [(f"g{g}", j, np.eye(n_values, dtype=int)[v]) for j, v in enumerate(drawn)]
        contrast = group_contrast(units, values, n_perm=n_perm, seed=sim, alpha=alpha)
        flagged_contrast += bool(contrast["biased_groups"])
        pooled = {}
        for g, _, c in units:
            pooled[g] = pooled.get(g, 0) + c
        p_uniform = [chisquare(c).pvalue * n_groups for c in pooled.values()]
        flagged_uniform += min(p_uniform) < alpha
    return {
        "group_vs_others": flagged_contrast / n_sims,
        "chi_square_vs_uniform": float(flagged_uniform) / n_sims,
        "n_sims": n_sims,
        "seed_fixes": seed_fixes,
        "alpha": alpha,
    }


def _attributes(labels: dict[str, Any]) -> dict[str, Any] | None:
    attrs = labels.get("attributes")
    return attrs if isinstance(attrs, dict) else None


def run_bias(
    run_dir: str | Path,
    attribute: str = "colour",
    values: Sequence[str] | None = None,
    by: str | None = "shape",
    alpha: float = 0.01,
    permutations: int = 2000,
) -> dict[str, Any]:
    """Bias report for a run directory (results.json for prompts and labels, captions.jsonl)."""
    from harness.run.reader import RunReader

    run_dir = Path(run_dir)
    run = RunReader(run_dir)
    results = run.results
    fingerprint = results.judge.fingerprint
    prompts = {p.prompt_id: p for p in results.per_prompt}
    labelled = {pid: _attributes(p.labels) for pid, p in prompts.items()}
    open_prompts = {
        pid: a for pid, a in labelled.items() if a is not None and attribute in a and a[attribute] is None
    }
    if not open_prompts:
        raise PuncError(
            f"{run_dir}: no prompt leaves '{attribute}' open (needs labels.attributes.{attribute} = null)"
        )
    values_source = "--values" if values is not None else "in-distribution prompt labels"
    if values is None:
        seen = {
            str(a[attribute])
            for pid, a in labelled.items()
            if a and a.get(attribute) is not None and str(prompts[pid].labels.get("shift", "none")) == "none"
        }
        values = sorted(seen)
        if len(values) < 2:
            raise PuncError(
                f"{run_dir}: cannot infer the {attribute} vocabulary from in-distribution prompts; pass --values"
            )
    world = world_parser(attribute, values)
    parse = world or vocabulary_parser(attribute, values)
    items = []
    per_image: dict[tuple[str, int], Counter] = defaultdict(Counter)
    group_of: dict[str, str] = {}
    for record in run.captions(checked=False):
        pid = record.get("prompt_id")
        if pid not in open_prompts or (fingerprint and record.get("judge") != fingerprint):
            continue
        group_value = open_prompts[pid].get(by) if by else None
        group = f"{by}={group_value}" if by and group_value is not None else (OPEN_GROUP if by else "all")
        caption = str(record.get("caption", ""))
        items.append((group, caption))
        group_of[pid] = group
        per_image[(pid, int(record.get("index", 0)))][parse(caption).get(attribute)] += 1
    if not items:
        raise PuncError(
            f"{run_dir}: no captions for the {len(open_prompts)} prompts that leave {attribute} open"
        )
    table = bias_table(items, attribute, values, parse, alpha)
    units = [(group_of[pid], k, [per_image[(pid, k)][v] for v in values]) for pid, k in sorted(per_image)]
    contrast = group_contrast(units, values, n_perm=permutations, alpha=alpha)
    seeds = results.generation_recipe.get("seeds") or []
    shared = bool(seeds) and not results.generation_recipe.get("seed_per_prompt")
    table.update(
        uniform_test_biased_groups=table["biased_groups"],
        contrast=contrast,
        biased_groups=contrast["biased_groups"],
        seeds=seeds,
        shared_seeds=shared,
    )
    table.update(
        run=str(run_dir),
        model=results.model_name,
        grouped_by=by,
        n_prompts=len(open_prompts),
        parser="harness.world.captions.parse_caption" if world else "vocabulary match",
        values_source=values_source,
    )
    return table


def bias_markdown(table: dict[str, Any]) -> str:
    values = table["values"]
    lines = [
        f"# Bias report: {table['attribute']} when the prompt leaves it open ({table.get('model', '')})",
        "",
    ]
    contrast = table.get("contrast")
    if contrast:
        lines += [
            f"## Verdict: each group against the other groups ({contrast['test']}; {contrast['permutations']} "
            f"permutations; alpha {contrast['alpha']} with {contrast['correction']})",
            "",
            "| group | images | "
            + " | ".join(values)
            + " | others: "
            + " | ".join(values)
            + " | excess | p (Bonferroni) | verdict |",
            "|---|---|" + "---|" * (2 * len(values)) + "---|---|---|",
        ]
        for g in contrast["groups"]:
            here = " | ".join(f"{g['shares'][v]:.0%}" for v in values)
            others = " | ".join(f"{g['shares_others'][v]:.0%}" for v in values)
            p = f"{g['p_bonferroni']:.2g}" if g.get("p_bonferroni") is not None else "–"
            lines.append(
                f"| {g['group']} | {g['n_images']} | {here} | {others} | {g['excess']:+.2f} {g['value']} | {p} | {g['verdict']} |"
            )
        seeds = table.get("seeds") or []
        lines += [
            "",
            f"Seeds {seeds} are shared by every prompt: the test against uniform below is descriptive only "
            "(a seed that fixes the value makes an unbiased generator look biased); the verdict above keeps "
            "the seed blocks intact."
            if table.get("shared_seeds")
            else "Seeds differ between prompts.",
            "",
            "## Against uniform",
            "",
        ]
    lines += [
        f"{table['test']}; alpha {table['alpha']} with {table['correction']}. "
        f"{table.get('n_prompts', '?')} prompts, parser: {table.get('parser', '?')}.",
        "",
        "| group | n | " + " | ".join(values) + " | other | chi² | p (Bonferroni) | verdict |",
        "|---|---|" + "---|" * len(values) + "---|---|---|---|",
    ]
    for g in table["groups"]:
        shares = " | ".join(f"{g['shares'][v]:.0%}" for v in values)
        chi2 = f"{g['chi2']:.1f}" if g.get("chi2") is not None else "–"
        p = f"{g['p_bonferroni']:.2g}" if g.get("p_bonferroni") is not None else "–"
        lines.append(
            f"| {g['group']} | {g['n_tested']} | {shares} | {g['other']} | {chi2} | {p} | {g['verdict']} |"
        )
    return "\n".join(lines) + "\n"
