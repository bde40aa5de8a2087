"""The board page in a real browser (Chromium through Playwright), opened from file:// and over HTTP.

These tests fail (they do not skip) when Chromium is missing; set PUNC_SKIP_BROWSER=1 to skip them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lb_fixtures import XSS_PROMPT, publish_three

ORDER_BY_U_TOT = ["model-b", "model-a", "model-c"]  # 0.22, 0.25, 0.31 (default sort)
ORDER_BY_U_EPI_ASC = ["model-c", "model-a", "model-b"]  # 0.01, 0.05, 0.12
ORDER_BY_U_EPI_DESC = ["model-b", "model-a", "model-c"]
ORDER_BY_MODEL_DESC = ["model-c", "model-b", "model-a"]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    (root / "runs").mkdir()
    return publish_three(root / "runs", root / "leaderboards")


def _open(browser, url: str):
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    return page, problems


def _models(page) -> list[str]:
    return page.eval_on_selector_all(
        "#board-table tbody tr td.model .label", "els => els.map(e => e.textContent)"
    )


def test_page_from_file(browser, board: Path, tmp_path: Path) -> None:
    page, problems = _open(browser, (board / "index.html").resolve().as_uri())
    try:
        # sortable table
        assert _models(page) == ORDER_BY_U_TOT
        page.click("th[data-key='u_epi'] button")
        assert _models(page) == ORDER_BY_U_EPI_ASC
        page.click("th[data-key='u_epi'] button")
        assert _models(page) == ORDER_BY_U_EPI_DESC
        page.click("th[data-key='label'] button")
        page.click("th[data-key='label'] button")
        assert _models(page) == ORDER_BY_MODEL_DESC
        # charts: one scatter point per model, bars per category
        assert page.locator("#scatter svg g.point").count() == 3
        assert page.locator("#bars svg rect.bar").count() == 6
        page.select_option("#bar-group", "by_shift")
        assert page.locator("#bars svg rect.bar").count() == 6
        # per-prompt view: pick a model, its images load
        page.select_option("#prompt-model", label="model-c")
        assert page.locator("#prompt-list article.prompt").count() == 2
        first = page.locator("#prompt-list article.prompt img").first
        first.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('#prompt-list img')).every(i => i.complete)"
        )
        widths = page.eval_on_selector_all("#prompt-list img", "els => els.map(e => e.naturalWidth)")
        assert len(widths) == 4 and all(w > 0 for w in widths)
        assert "model-c" in page.get_attribute("#prompt-list img", "src")
        # the hostile prompt is text, not markup
        assert page.evaluate("() => window.__pwned") is None
        xss = page.locator("article[data-prompt-id='p2'] p.text")
        assert xss.text_content() == XSS_PROMPT
        assert xss.locator("script, img").count() == 0
        assert page.locator("text=</script><b>bold</b> caption 0").count() == 1
        shot = tmp_path / "board.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert problems == []
    finally:
        page.close()


def test_page_served_by_cli(browser, board: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "leaderboard",
            "serve",
            board.name,
            "--boards-dir",
            str(board.parent),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert "Serving board 'toy'" in line, line
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/index.html")
        page, problems = _open(browser, url)
        try:
            assert _models(page) == ORDER_BY_U_TOT
            page.click("th[data-key='u_epi'] button")
            assert _models(page) == ORDER_BY_U_EPI_ASC
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('#prompt-list img')).every(i => i.complete)"
            )
            assert page.evaluate("() => document.querySelector('#prompt-list img').naturalWidth") > 0
            assert page.evaluate("() => window.__pwned") is None
            assert problems == []
        finally:
            page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
