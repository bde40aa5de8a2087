"""The table printed at the end of `punc eval`: uncertainty per shift, with confidence intervals."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.run.progress import console
from harness.run.schema import GroupSummary, Results


def _cell(group: GroupSummary, scorer: str, key: str) -> str:
    interval = group.metrics.get(scorer, {}).get(key)
    if interval is None:
        return "-"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def print_summary(results: Results, out_dir: Path) -> None:
    scorer = results.primary_scorer
    table = Table(
        title=f"{results.model_name} on {results.task['name']} (judge {results.judge['name']}, {scorer})"
    )
    table.add_column("shift")
    table.add_column("prompts", justify="right")
    for key in ("precision", "recall", "u_ale", "u_epi", "u_tot"):
        table.add_column(key, justify="right")
    rows = [*results.by_shift.items(), ("all", results.overall)]
    for name, group in rows:
        table.add_row(
            name,
            str(group.n_prompts),
            *(
                _cell(group, scorer, k) if scorer else "-"
                for k in ("precision", "recall", "u_ale", "u_epi", "u_tot")
            ),
        )
    (console if console.is_terminal else Console(stderr=True, width=140)).print(table)
    counts = results.counts
    console.print(
        f"images {counts['images']}/{counts['expected_images']}, captions {counts['captions']}/"
        f"{counts['expected_captions']}, failed items {counts['failed_images'] + counts['failed_captions']}; "
        f"{results.timings.get('total_s', 0):.1f} s"
    )
    for failure in results.failures[:10]:
        console.print(
            f"[red]failed[/red] {failure.stage} {failure.prompt_id}#{failure.index}: {failure.error}"
        )
    if len(results.failures) > 10:
        console.print(f"... and {len(results.failures) - 10} more failures (see failures.jsonl)")
    console.print(f"results: {out_dir / 'results.json'}")
