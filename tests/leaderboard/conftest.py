"""Fixtures of the leaderboard tests; the run-directory builder lives in lb_fixtures.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so the tests can import lb_fixtures in any import mode


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    root.mkdir()
    return root


@pytest.fixture
def boards_dir(tmp_path: Path) -> Path:
    return tmp_path / "leaderboards"


# ---------------------------------------------------------------------------------------------
# browser

CHROMIUM = os.environ.get("PUNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if os.environ.get("PUNC_SKIP_BROWSER") == "1":
        pytest.skip("browser tests skipped: PUNC_SKIP_BROWSER=1 is set")
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(or point PUNC_CHROMIUM at a binary; set PUNC_SKIP_BROWSER=1 to skip browser tests explicitly)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
