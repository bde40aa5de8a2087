"""The board's views in headless Chromium: ranks, compare, compact AUROC, charts, side by side, cost.

Like test_leaderboard_browser.py these fail (not skip) without Chromium; PUNC_SKIP_BROWSER=1 skips them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from board_views_fixture import LONG_LABEL, publish_crowd
from lb_fixtures import publish_three
from test_leaderboard_browser import _open

OVERLAP_JS = """sel => {
  const boxes = Array.from(document.querySelectorAll(sel)).map(e => e.getBoundingClientRect());
  const hits = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) hits.push([i, j]);
  }
  return {n: boxes.length, hits: hits};
}"""
OVERFLOW_JS = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth) out.push("page " + document.documentElement.scrollWidth);
  document.querySelectorAll(".scroll, section, article").forEach(e => {
    if (e.scrollWidth > e.clientWidth + 1) out.push((e.id || e.className) + " " + e.scrollWidth + ">" + e.clientWidth);
  });
  return out;
}"""


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crowd")
    (root / "runs").mkdir()
    return publish_crowd(root / "runs", root / "leaderboards")


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("toy3")
    (root / "runs").mkdir()
    return publish_three(root / "runs", root / "leaderboards")


def test_crowded_board_fits_1280_and_labels_never_collide(browser, crowd: Path) -> None:
    page, problems = _open(browser, (crowd / "index.html").resolve().as_uri())
    try:
        assert page.evaluate("() => window.innerWidth") == 1280
        assert page.evaluate(OVERFLOW_JS) == []
        # nine AUROC scores in three per-shift columns, not nine table columns
        headers = page.eval_on_selector_all("#auroc-table thead th", "els => els.map(e => e.textContent)")
        assert headers == [
            "Model",
            "corrupted vs in-distribution",
            "ood vs in-distribution",
            "vague vs in-distribution",
        ]
        assert page.locator("#auroc-table tbody tr").count() == 6
        assert page.locator("#auroc-table tbody tr").first.locator(".pill").count() == 9
        assert page.locator("#board-table thead th").count() == 9  # rank .. U_tot, cost, date
        scatter = page.evaluate(OVERLAP_JS, "#scatter text.plabel")
        assert scatter == {"n": 6, "hits": []}
        for group in ("by_category", "by_shift"):
            page.select_option("#bar-group", group)
            bars = page.evaluate(OVERLAP_JS, "#bars text.glabel")
            assert bars["n"] == 2 and bars["hits"] == []
        # the long label is shortened in the chart, kept whole in its tooltip
        long_text = page.eval_on_selector_all(
            "#scatter text.plabel",
            "els => els.map(e => [e.firstChild.nodeValue, e.querySelector('title').textContent])",
        )
        shortened = [t for t in long_text if t[1] == LONG_LABEL][0]
        assert shortened[0].endswith("…") and len(shortened[0]) < len(LONG_LABEL)
        assert problems == []
    finally:
        page.close()


def test_cost_column_only_when_a_run_has_cost(browser, crowd: Path, toy: Path) -> None:
    page, problems = _open(browser, (crowd / "index.html").resolve().as_uri())
    try:
        cells = page.eval_on_selector_all(
            "#board-table tbody tr",
            "rows => rows.map(r => [r.querySelector('td.model .label').textContent, r.querySelector('td.cost, td:nth-child(8)').textContent])",
        )
        by_model = dict(cells)
        assert by_model["crowd-0"] == "3600.0 dev-s · $1.25"
        assert by_model["crowd-1"] == "–"
        assert problems == []
    finally:
        page.close()
    page, problems = _open(browser, (toy / "index.html").resolve().as_uri())
    try:
        titles = page.eval_on_selector_all("#board-table thead th", "els => els.map(e => e.textContent)")
        assert "Cost" not in titles and titles[0] == "Rank"
        assert problems == []
    finally:
        page.close()


def test_ranks_and_compare_view_show_intervals(browser, toy: Path) -> None:
    index = json.loads((toy / "index.json").read_text())
    ids = {m["label"]: m["id"] for m in index["models"]}
    page, problems = _open(browser, (toy / "index.html").resolve().as_uri())
    try:
        ranks = page.eval_on_selector_all(
            "#board-table tbody tr", "rows => rows.map(r => r.querySelector('td.rank').textContent)"
        )
        # b < a < c on both prompts: point rank intervals; two prompts cannot separate them: tied
        assert ranks == ["1 [1]≈ next", "2 [2]≈ next", "3 [3]"]
        # default pair: the two best ranked, A = model-b, B = model-a
        assert page.input_value("#cmp-a") == ids["model-b"] and page.input_value("#cmp-b") == ids["model-a"]
        rows = page.locator("#compare-table tbody tr")
        assert rows.count() == 3  # overall x 3 metrics (each shift has one prompt: too few to test)
        entry = [
            p for p in index["comparisons"]["pairs"] if {p["a"], p["b"]} == {ids["model-a"], ids["model-b"]}
        ][0]
        expected = {r["metric"]: r for r in entry["rows"]}
        sign = 1 if entry["a"] == ids["model-b"] else -1
        tot = page.locator("#compare-table tr[data-metric='u_tot'] td.diff").text_content()
        r = expected["u_tot"]
        want_low, want_high = sorted((sign * r["low"], sign * r["high"]))
        assert tot == f"{sign * r['diff']:+.4f} [{want_low:.4f}, {want_high:.4f}]"
        assert tot.startswith("-0.0300")  # b - a on u_tot: (0.15 - 0.19 + 0.29 - 0.31) / 2
        assert page.locator("#compare-table svg.forest line.ci").count() == 3
        assert "Holm-adjusted over the 3 rows" in page.text_content("#compare-body")
        # swapping the pair flips the sign of every difference and interval
        page.select_option("#cmp-a", ids["model-a"])
        page.select_option("#cmp-b", ids["model-b"])
        assert (
            page.locator("#compare-table tr[data-metric='u_tot'] td.diff")
            .text_content()
            .startswith("+0.0300")
        )
        page.select_option("#cmp-b", ids["model-a"])
        assert "Pick two different models" in page.text_content("#compare-body")
        assert problems == []
    finally:
        page.close()


def test_side_by_side_prompt_view(browser, toy: Path) -> None:
    page, problems = _open(browser, (toy / "index.html").resolve().as_uri())
    try:
        page.select_option("#prompt-model", label="All models, side by side")
        cards = page.locator("#prompt-list article.prompt")
        assert cards.count() == 2
        first = cards.first
        assert first.get_attribute("data-prompt-id") == "p1"
        cols = first.locator(".side .col")
        assert cols.count() == 3
        assert sorted(cols.locator("h4").all_text_contents()) == ["model-a", "model-b", "model-c"]
        assert first.locator("img").count() == 6  # two images per model
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('#prompt-list img')).every(i => i.complete && i.naturalWidth > 0)"
        )
        caption = first.locator(".col[data-model] .caption").first.text_content()
        assert caption.startswith("caption of p1 image 0 by model-")
        assert page.evaluate(OVERFLOW_JS) == []
        assert page.evaluate("() => window.__pwned") is None
        assert problems == []
    finally:
        page.close()
