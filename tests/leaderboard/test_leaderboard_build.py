"""`punc leaderboard build` and `serve`: the Markdown table, index.json, the inert HTML, the local server."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lb_fixtures import XSS_PROMPT, publish_three

from harness.errors import PuncError
from harness.leaderboard.build import build_board, md_escape, script_json


def _rows(readme: str) -> list[list[str]]:
    lines = [line for line in readme.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in lines[1:]]


def test_markdown_table_matches_fixture_values(runs_root: Path, boards_dir: Path) -> None:
    board = publish_three(runs_root, boards_dir)
    readme = (board / "README.md").read_text()
    header = [line for line in readme.splitlines() if line.startswith("| ")][0]
    assert header == (
        "| # | Rank (95%) | Tied with next | Model | Prompts | Images | U_ale (95% CI) | U_epi (95% CI) "
        "| U_tot (95% CI) | AUROC ood/u\\_epi | Judge | Date | Harness | Partial |"
    )
    # Per-prompt values (p1, p2) of the fixture; the mean is their average, the CI is mean ± 0.02.
    # model-a: u_ale (0.15, 0.25) -> 0.200, u_epi (0.04, 0.06) -> 0.050, u_tot (0.19, 0.31) -> 0.250
    # model-b: u_ale (0.05, 0.15) -> 0.100, u_epi (0.10, 0.14) -> 0.120, u_tot (0.15, 0.29) -> 0.220
    # model-c: u_ale (0.30, 0.30) -> 0.300, u_epi (0.00, 0.02) -> 0.010, u_tot (0.30, 0.32) -> 0.310
    # Rows sorted by U_tot ascending: b (0.22), a (0.25), c (0.31). Only model-a has detection (AUROC 0.81).
    # Ranks: b < a < c on each of the two prompts, so every bootstrap resample keeps that order (point
    # intervals); yet two prompts cannot make a paired test significant (exact p = 2/4 = 0.5): all tied.
    assert _rows(readme) == [
        [
            "1",
            "1 [1, 1]",
            "yes",
            "model-b",
            "2",
            "4",
            "0.100 [0.080, 0.120]",
            "0.120 [0.100, 0.140]",
            "0.220 [0.200, 0.240]",
            "–",
            "toy-judge",
            "2025-03-02",
            "0.1.0",
            "",
        ],
        [
            "2",
            "2 [2, 2]",
            "yes",
            "model-a",
            "2",
            "4",
            "0.200 [0.180, 0.220]",
            "0.050 [0.030, 0.070]",
            "0.250 [0.230, 0.270]",
            "0.810",
            "toy-judge",
            "2025-03-01",
            "0.1.0",
            "",
        ],
        [
            "3",
            "3 [3, 3]",
            "",
            "model-c",
            "2",
            "4",
            "0.300 [0.280, 0.320]",
            "0.010 [-0.010, 0.030]",
            "0.310 [0.290, 0.330]",
            "–",
            "toy-judge",
            "2025-03-03",
            "0.1.0",
            "",
        ],
    ]


def test_index_json(runs_root: Path, boards_dir: Path) -> None:
    board = publish_three(runs_root, boards_dir)
    index = json.loads((board / "index.json").read_text())
    assert index["board"]["task_hash"] == "task-0123abcd"
    assert index["auroc_columns"] == ["ood/u_epi"]
    by_label = {m["label"]: m for m in index["models"]}
    assert set(by_label) == {"model-a", "model-b", "model-c"}
    a = by_label["model-a"]
    assert a["precision"]["mean"] == pytest.approx(0.8) and a["recall"]["mean"] == pytest.approx(0.7)
    assert a["auroc"] == {"ood/u_epi": 0.81} and by_label["model-b"]["auroc"] == {}
    assert set(a["by_category"]) == {"color", "count"} and set(a["by_shift"]) == {"id", "ood"}
    assert a["by_shift"]["ood"]["metrics"]["u_epi"]["mean"] == pytest.approx(0.06)


def test_markdown_escapes_labels() -> None:
    assert md_escape("a|b <img src=x> *x* [l](u)\nnext") == "a\\|b \\<img src=x\\> \\*x\\* \\[l\\](u) next"


def test_html_embeds_data_inertly(runs_root: Path, boards_dir: Path) -> None:
    board = publish_three(runs_root, boards_dir)
    html = (board / "index.html").read_text()
    assert XSS_PROMPT not in html and "window.__pwned" in html  # present, but only in escaped form
    block = re.search(r'<script type="application/json" id="board-data">(.*?)</script>', html, re.S)
    assert block is not None
    assert "<" not in block.group(1) and ">" not in block.group(1)
    data = json.loads(block.group(1))
    texts = {p["text"] for p in data["prompts"][data["index"]["models"][0]["id"]]}
    assert XSS_PROMPT in texts
    # no network: nothing loads from elsewhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "Content-Security-Policy" in html
    assert script_json({"t": "</script><!--"}) == '{"t":"\\u003c/script\\u003e\\u003c!--"}'


def test_build_unknown_board(boards_dir: Path) -> None:
    with pytest.raises(PuncError, match="does not exist"):
        build_board("nope", boards_dir)
    with pytest.raises(PuncError, match="not allowed"):
        build_board("../etc", boards_dir)


def test_serve_board(runs_root: Path, boards_dir: Path) -> None:
    from harness.leaderboard.serve import make_server, server_url

    board = publish_three(runs_root, boards_dir)
    server = make_server(board, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = server_url(server)
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "index.html", timeout=5) as resp:
            assert resp.status == 200 and b"board-data" in resp.read()
        for hidden in (".lock", "runs/", "board.json/../.lock"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(url + hidden, timeout=5)
            assert err.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
