#!/usr/bin/env python
"""Screenshot a leaderboard page with headless Chromium (for docs).

    python scripts/screenshot_board.py BOARD OUT.png [--boards-dir leaderboards] [--model LABEL]
        [--filter TEXT] [--section CSS_SELECTOR] [--max-height PX]

BOARD is a board folder (holding board.json) or a board name under --boards-dir. The page is (re)built,
opened from file:// and captured full-page. Chromium comes from PUNC_CHROMIUM or /usr/bin/chromium
(`apt-get install -y chromium`); Playwright's own browser download is not needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("board", help="board folder or board name")
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--boards-dir", type=Path, default=Path("leaderboards"))
    parser.add_argument("--model", help="model label to show in the per-prompt view")
    parser.add_argument("--filter", help="text typed into the per-prompt filter")
    parser.add_argument("--section", help="capture only this element (CSS selector), e.g. '#per-prompt'")
    parser.add_argument("--max-height", type=int, help="capture at most this many pixels from the top")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--no-build", action="store_true", help="use the existing index.html as is")
    args = parser.parse_args(argv)

    from harness.errors import PuncError
    from harness.leaderboard.build import build_board

    board_dir = Path(args.board)
    if not (board_dir / "board.json").is_file():
        board_dir = args.boards_dir / args.board
    if not (board_dir / "board.json").is_file():
        print(f"error: {args.board}: not a board folder, and no board of that name in {args.boards_dir}")
        return 2
    try:
        if not args.no_build:
            build_board(board_dir.name, board_dir.parent)
    except PuncError as exc:
        print(f"error: {exc}")
        return 2
    chromium = os.environ.get("PUNC_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        print(f"error: Chromium not found at {chromium}; install it with `apt-get install -y chromium`")
        return 2

    from playwright.sync_api import sync_playwright

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="punc-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": args.width, "height": 900},
        )
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((board_dir / "index.html").resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=15_000)
            if args.model:
                page.select_option("#prompt-model", label=args.model)
            if args.filter:
                page.fill("#prompt-filter", args.filter)
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('#prompt-list img')).every(i => i.complete)",
                timeout=15_000,
            )
            if args.section:
                page.locator(args.section).screenshot(path=str(args.out))
            elif args.max_height:
                height = min(args.max_height, page.evaluate("() => document.documentElement.scrollHeight"))
                page.screenshot(
                    path=str(args.out),
                    full_page=True,
                    clip={"x": 0, "y": 0, "width": args.width, "height": height},
                )
            else:
                page.screenshot(path=str(args.out), full_page=True)
        finally:
            context.close()
    if errors:
        print("warning: page errors: " + "; ".join(errors), file=sys.stderr)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
