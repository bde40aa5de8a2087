"""Text renderings of a comparison: a Markdown table (for files and notes) and a rich table (terminal)."""

from __future__ import annotations

from harness.comparison.compare import ComparisonRow

SYMBOL = {"a lower": "<", "b lower": ">", "tied": "="}


def fmt_p(p: float) -> str:
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def fmt_ci(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "–"
    return f"[{low:+.4f}, {high:+.4f}]"


def markdown_table(rows: list[ComparisonRow], correction: str, alpha: float) -> str:
    """One table per pair of runs; `diff` is A - B (negative: A is less uncertain)."""
    lines: list[str] = []
    pairs: dict[tuple[str, str], list[ComparisonRow]] = {}
    for row in rows:
        pairs.setdefault((row.a, row.b), []).append(row)
    for (a, b), members in pairs.items():
        lines += [
            f"### A = {a}, B = {b}",
            "",
            "| group | metric | n | A | B | A − B | 95% CI | p | p adj. | |",
            "|---|---|---:|---:|---:|---:|---|---:|---:|---|",
        ]
        for r in members:
            lines.append(
                f"| {r.group} | {r.metric} | {r.n} | {r.mean_a:.4f} | {r.mean_b:.4f} | {r.diff:+.4f} | "
                f"{fmt_ci(r.low, r.high)} | {fmt_p(r.p_value)} | {fmt_p(r.p_adjusted)} | "
                f"A {SYMBOL[r.verdict]} B |"
            )
        lines.append("")
    lines.append(
        f"Paired per-prompt differences (same prompts, same seeds); 95% percentile-bootstrap intervals "
        f"over prompts; two-sided sign-flip permutation p-values, {correction_text(correction)} over "
        f"all {len(rows)} rows shown; A < B means A is significantly less uncertain at alpha {alpha} "
        "after correction, = means no significant difference."
    )
    return "\n".join(lines) + "\n"


def correction_text(correction: str) -> str:
    return {
        "holm": "Holm-adjusted",
        "bonferroni": "Bonferroni-adjusted",
        "none": "not adjusted",
    }[correction]


def rich_tables(rows: list[ComparisonRow]):
    from rich.table import Table

    pairs: dict[tuple[str, str], list[ComparisonRow]] = {}
    for row in rows:
        pairs.setdefault((row.a, row.b), []).append(row)
    for (a, b), members in pairs.items():
        table = Table(title=f"A = {a}   B = {b}   (A − B; negative: A less uncertain)")
        for name, justify in [
            ("group", "left"),
            ("metric", "left"),
            ("n", "right"),
            ("A", "right"),
            ("B", "right"),
            ("A − B", "right"),
            ("95% CI", "left"),
            ("p", "right"),
            ("p adj.", "right"),
            ("", "left"),
        ]:
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for r in members:
            table.add_row(
                r.group,
                r.metric,
                str(r.n),
                f"{r.mean_a:.4f}",
                f"{r.mean_b:.4f}",
                f"{r.diff:+.4f}",
                fmt_ci(r.low, r.high),
                fmt_p(r.p_value),
                fmt_p(r.p_adjusted),
                f"A {SYMBOL[r.verdict]} B",
            )
        yield table
