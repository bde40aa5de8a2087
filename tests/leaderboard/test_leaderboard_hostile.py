"""Boards against hostile files: serve stays inside the board, publish copies no file through a link,
build refuses edited or malformed bundles with exit 2."""

from __future__ import annotations

import http.client
import json
import shutil
import threading
from pathlib import Path

import pytest
from hostile import assert_user_error, punc
from lb_fixtures import MODEL_A, MODEL_B, make_run, publish_three

from harness.errors import PuncError
from harness.leaderboard.build import build_board
from harness.leaderboard.publish import publish_run

SECRET = "this line lives outside the board\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    (folder / "x.png").write_text(SECRET)
    return folder


def get(server, path: str) -> tuple[int, bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_serve_refuses_links_hidden_files_and_encoded_escapes(runs_root, boards_dir, outside):
    from harness.leaderboard.serve import make_server

    board = publish_three(runs_root, boards_dir)
    bundle = next((board / "runs").iterdir())
    (bundle / "images" / "evil.png").symlink_to(outside / "x.png")  # a symlinked image (served a system file)
    (board / "linked").symlink_to(outside, target_is_directory=True)
    server = make_server(board, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert get(server, "/index.html")[0] == 200
        refused = [
            f"/runs/{bundle.name}/images/evil.png",
            "/linked/secret.txt",
            "/linked%2Fsecret.txt",
            "/.lock",
            "/%2Elock",
            "/runs%2F..%2F.lock",  # %2F bypassed the hidden-file filter
            "/runs/%2e%2e/.lock",
            "/board.json/../.lock",
            "/..%2F..%2Foutside%2Fsecret.txt",
        ]
        for path in refused:
            status, body = get(server, path)
            assert status == 404, (path, status)
            assert SECRET.encode() not in body
    finally:
        server.shutdown()
        server.server_close()


def test_publish_refuses_a_symlinked_image_folder(runs_root, boards_dir, outside):
    run = make_run(runs_root, MODEL_A)
    folder = next(p for p in (run / "images").iterdir() if p.is_dir())
    moved = outside / folder.name
    shutil.move(str(folder), moved)
    folder.symlink_to(moved, target_is_directory=True)  # images/XX/ -> a folder outside the run
    with pytest.raises(PuncError, match="is a symbolic link"):
        publish_run(run, "toy", boards_dir, new_board=True)
    assert not list(boards_dir.rglob("*.png"))


def test_build_refuses_an_edited_bundle(runs_root, boards_dir):
    board = publish_three(runs_root, boards_dir)
    bundle = sorted((board / "runs").iterdir())[0]
    results = json.loads((bundle / "results.json").read_text())
    results["model_name"] = "i-am-the-best"
    (bundle / "results.json").write_text(json.dumps(results))
    done = punc("leaderboard", "build", "toy", "--boards-dir", str(boards_dir), timeout=120)
    assert_user_error(done, "results.json was edited")
    assert b"i-am-the-best" not in (board / "index.json").read_bytes()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("results.json", b"not json"),
        ("results.json", b"[" * 100000),
        ("manifest.jsonl", b'{"prompt_id": ["p1"], "index": {}}\n'),
        ("bundle.json", b'{"files": "nope"}'),
        ("bundle.json", b"\xff\xfe"),
    ],
)
def test_malformed_bundles_are_user_errors(runs_root, boards_dir, name, content):
    publish_run(make_run(runs_root, MODEL_B), "toy", boards_dir, new_board=True, rebuild=False)
    bundle = next((boards_dir / "toy" / "runs").iterdir())
    (bundle / name).write_bytes(content)
    done = punc("leaderboard", "build", "toy", "--boards-dir", str(boards_dir), timeout=120)
    assert_user_error(done)


def test_malformed_run_files_at_publish_are_user_errors(runs_root, boards_dir, tmp_path):
    run = make_run(runs_root, MODEL_A)
    cases = {
        "results.json": b"{" * 5000,
        "images.jsonl": b'{"prompt_id": "p1", "index": 0, "image_hash": "' + b"a" * 64 + b'\\n"}\n{}\n',
        "captions.jsonl": b'{"prompt_id": "p1"}\n{}\n',
        "run.json": b"\xff",
    }
    for name, content in cases.items():
        copy = tmp_path / f"case-{name}"
        shutil.copytree(run, copy)
        (copy / name).write_bytes(content)
        done = punc("publish", str(copy), "--board", "toy", "--boards-dir", str(boards_dir), "--new-board")
        assert_user_error(done, name)
    assert not (boards_dir / "toy").exists()


def test_unwritable_boards_dir(runs_root, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = make_run(runs_root, MODEL_A)
    done = punc("publish", str(run), "--board", "toy", "--boards-dir", str(blocker / "boards"), "--new-board")
    assert_user_error(done)


def test_build_still_works_on_the_shipped_board(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "leaderboards" / "embedded"
    copy = tmp_path / "boards" / "embedded"
    shutil.copytree(shipped, copy)
    build_board("embedded", tmp_path / "boards")  # the shipped bundles carry their digests
