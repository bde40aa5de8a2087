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
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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


def _attributes(labels: dict[str, Any]) -> dict[str, Any] | None:
    attrs = labels.get("attributes")
    return attrs if isinstance(attrs, dict) else None


def run_bias(
    run_dir: str | Path,
    attribute: str = "colour",
    values: Sequence[str] | None = None,
    by: str | None = "shape",
    alpha: float = 0.01,
) -> dict[str, Any]:
    """Bias report for a run directory (results.json for prompts and labels, captions.jsonl)."""
    from harness.evaluation.detection import load_results
    from harness.run.jsonl import read_jsonl

    run_dir = Path(run_dir)
    results = load_results(run_dir)
    fingerprint = results.judge.get("fingerprint")
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
    for record in read_jsonl(run_dir / "captions.jsonl"):
        pid = record.get("prompt_id")
        if pid not in open_prompts or (fingerprint and record.get("judge") != fingerprint):
            continue
        group_value = open_prompts[pid].get(by) if by else None
        group = f"{by}={group_value}" if by and group_value is not None else (OPEN_GROUP if by else "all")
        items.append((group, str(record.get("caption", ""))))
    if not items:
        raise PuncError(
            f"{run_dir}: no captions for the {len(open_prompts)} prompts that leave {attribute} open"
        )
    table = bias_table(items, attribute, values, parse, alpha)
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
