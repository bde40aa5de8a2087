"""Property tests over the run store's own files and published bundles: whatever a file holds, reading it
ends in a result or a PuncError naming the file, within a time limit, never another exception."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import PuncError
from harness.run.records import FailureLine, read_records
from harness.run.store import RunStore

PROPERTY = settings(
    max_examples=60,
    deadline=timedelta(seconds=5),  # each example; a hang or a blow-up fails here
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HASH = "ab" * 32
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=10,
)
GOOD = {
    "images.jsonl": {"prompt_id": "p0", "index": 0, "seed": 0, "image_hash": HASH, "recipe": {}},
    "captions.jsonl": {"prompt_id": "p0", "index": 0, "image_hash": HASH, "sample_index": 0, "judge": "j", "caption": "a cat"},
    "scores.jsonl": {"prompt_id": "p0", "index": 0, "image_hash": HASH, "sample_index": 0, "judge": "j",
                     "scorer": "rouge1", "signature": "s", "values": {"f1": 0.5}},
    "failures.jsonl": {"stage": "caption", "error": "x", "prompt_id": "p0", "index": 0},
}  # fmt: skip
counter = iter(range(10**9))


def fresh_store(tmp_path: Path) -> RunStore:
    root = tmp_path / f"run{next(counter)}"
    (root / "images" / HASH[:2]).mkdir(parents=True)
    (root / "images" / HASH[:2] / f"{HASH}.png").write_bytes(b"png")
    for name, record in GOOD.items():
        (root / name).write_text(json.dumps(record) + "\n")
    return RunStore(root)


def read_everything(store: RunStore) -> None:
    store.load_images()
    store.load_captions("j")
    store.load_scores("j")
    read_records(store.failures_log, FailureLine)


lines = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda record, key, value: json.dumps({**record, key: value}).encode(),
              st.sampled_from(list(GOOD.values())), st.sampled_from(sorted({k for r in GOOD.values() for k in r})), json_values),
    st.binary(max_size=40),
    st.sampled_from([b"[" * 10000, b"9" * 5000, b'{"a": 1, "a": 2}', b"\xff\xfe", b"NaN", b'{"index": 1e400}']),
)  # fmt: skip


@PROPERTY
@given(name=st.sampled_from(sorted(GOOD)), position=st.integers(0, 2), line=lines)
def test_any_line_in_a_run_log(tmp_path, name, position, line):
    store = fresh_store(tmp_path)
    path = store.root / name
    rows = path.read_bytes().splitlines()
    rows.insert(min(position, len(rows)), line)
    path.write_bytes(b"\n".join(rows) + b"\n")
    try:
        read_everything(store)
    except PuncError as exc:
        assert name in str(exc)


@PROPERTY
@given(content=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=60)))
def test_any_run_json(tmp_path, content):
    store = fresh_store(tmp_path)
    store.run_file.write_bytes(content)
    try:
        store.open({"task_hash": "t", "generator": "g"}, {})
    except PuncError as exc:
        assert "run.json" in str(exc) or str(store.root) in str(exc)


# ---- bundles


@pytest.fixture(scope="module")
def board_template(tmp_path_factory):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
    from lb_fixtures import MODEL_A, make_run

    from harness.leaderboard.publish import publish_run

    root = tmp_path_factory.mktemp("bundle-template")
    publish_run(make_run(root / "runs", MODEL_A), "toy", root / "boards", new_board=True, rebuild=False)
    return root / "boards"


BUNDLE_FILES = [
    "results.json",
    "manifest.jsonl",
    "captions.jsonl",
    "scores.jsonl",
    "detection.json",
    "bundle.json",
]


@PROPERTY
@given(
    name=st.sampled_from(BUNDLE_FILES),
    content=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=60), lines),
    resign=st.booleans(),
)
def test_any_bundle_file(board_template, tmp_path, name, content, resign):
    """`leaderboard build` over a bundle with one file replaced; with `resign` the digests are updated
    too (as a malicious publisher would), so the parsers behind the digest check are reached."""
    from harness.leaderboard.build import build_board
    from harness.leaderboard.digests import bundle_digests

    boards = tmp_path / f"boards{next(counter)}"
    shutil.copytree(board_template, boards)
    bundle = next((boards / "toy" / "runs").iterdir())
    (bundle / name).write_bytes(content)
    if resign and name != "bundle.json":
        meta = json.loads((bundle / "bundle.json").read_text())
        meta["files"] = bundle_digests(bundle)
        (bundle / "bundle.json").write_text(json.dumps(meta))
    try:
        build_board("toy", boards)
    except PuncError:
        pass
