"""`punc publish`: validate a finished run and add it to a board as an inert bundle.

Nothing from the run directory is executed or copied verbatim except PNG images that PIL has verified:
every JSON file is parsed and written again from the parsed data, and only known files are read.
A board holds runs that are comparable: same task hash, judge fingerprint and scorer signatures.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness._version import __version__
from harness.errors import PuncError, storage_errors
from harness.images import check_pixels, open_image
from harness.leaderboard import BOARD_FORMAT, BUNDLE_FORMAT
from harness.leaderboard.digests import bundle_digests
from harness.paths import inside
from harness.run.jsonl import atomic_write_bytes, atomic_write_json, atomic_write_text
from harness.run.records import CaptionLine, ImageLine, ScoreLine, read_records
from harness.run.schema import SCHEMA_VERSION, Results
from harness.safe_ids import SAFE_ID_EXPECTED, is_safe_id
from harness.safe_load import read_json_file

SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION})
#: All images are copied when together they are smaller than this; otherwise the first one of each prompt.
IMAGE_BUDGET_BYTES = 5 * 1024 * 1024
#: A single file larger than this is not an image we publish.
MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_JSON_BYTES = 512 * 1024 * 1024
_HASH = re.compile(r"\A[0-9a-f]{64}\Z")

CAPTION_KEYS = ("prompt_id", "index", "image_hash", "judge", "sample_index", "caption")
SCORE_KEYS = ("prompt_id", "index", "image_hash", "judge", "sample_index", "scorer", "signature", "values")
MANIFEST_KEYS = ("prompt_id", "index", "seed", "image_hash", "recipe")
DETECTION_KEYS = ("shift", "score", "auroc", "aupr", "fpr95", "n", "n_in", "n_out", "ci")


@dataclass
class PublishResult:
    board_dir: Path
    bundle_id: str
    bundle_dir: Path
    created_board: bool
    partial: bool
    images: dict[str, Any]
    pushed: str | None = None
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# small helpers


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def check_board_name(name: str) -> str:
    if not is_safe_id(name):
        raise PuncError(f"board name {name!r} is not allowed: expected {SAFE_ID_EXPECTED}")
    return name


def board_path(name: str, boards_dir: Path) -> Path:
    return Path(boards_dir) / check_board_name(name)


def json_safe(value: Any) -> Any:
    """Plain JSON data only (dict/list/str/int/float/bool/None); NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def share_files(root: Path) -> None:
    """Atomic writes create 0600 files; board files are meant to be served and pushed, so make them 0644."""
    paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    for path in paths:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o644)


def _read_json(path: Path, what: str) -> Any:
    if path.is_symlink() or not path.is_file():
        raise PuncError(f"{path}: expected the {what} as a regular file (missing, or a link)")
    return read_json_file(path, what, MAX_JSON_BYTES)


def _read_records(path: Path, model: Any) -> list[dict[str, Any]]:
    if path.is_symlink():
        raise PuncError(f"{path}: expected a regular file, found a link")
    return read_records(path, model)


def _dump_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(
        json.dumps(json_safe(r), ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n" for r in records
    )


def load_results(run_dir: Path) -> Results:
    """Parse RUN_DIR/results.json with the schema; any problem is a user error naming the field."""
    path = Path(run_dir) / "results.json"
    if not Path(run_dir).is_dir():
        raise PuncError(f"{run_dir}: expected a run directory made by `punc eval`")
    raw = _read_json(path, "results file")
    if isinstance(raw, dict):
        version = raw.get("schema_version", SCHEMA_VERSION)
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
            raise PuncError(
                f"{path}: field 'schema_version': this harness reads versions {supported}, got {version!r}"
            )
    try:
        return Results.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: does not match the results schema:"]
        for err in exc.errors()[:10]:
            loc = ".".join(str(p) for p in err["loc"]) or "<root>"
            lines.append(f"  field '{loc}': {err['msg']}")
        raise PuncError("\n".join(lines)) from None


def run_digest(results: Results) -> str:
    data = json.dumps(json_safe(results.model_dump(mode="json")), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def identity_of(results: Results) -> dict[str, Any]:
    """The fields that make two runs comparable; a board stores them in board.json."""
    return {
        "task_hash": results.task.get("hash"),
        "judge_fingerprint": results.judge.get("fingerprint"),
        "scorers": dict(sorted(results.scorers.items())),
        "primary_scorer": results.primary_scorer,
    }


def identity_differences(board: dict[str, Any], run: dict[str, Any]) -> list[str]:
    """One line per differing field, naming both values."""
    out: list[str] = []
    if board.get("task_hash") != run["task_hash"]:
        out.append(f"task hash differs: board has {board.get('task_hash')!r}, run has {run['task_hash']!r}")
    if board.get("judge_fingerprint") != run["judge_fingerprint"]:
        out.append(
            f"judge fingerprint differs: board has {board.get('judge_fingerprint')!r}, "
            f"run has {run['judge_fingerprint']!r}"
        )
    board_scorers = board.get("scorers") or {}
    for name in sorted(set(board_scorers) | set(run["scorers"])):
        have, got = board_scorers.get(name), run["scorers"].get(name)
        if have != got:
            out.append(
                f"scorer signatures differ for scorer {name!r}: board has "
                f"{have if have is not None else '<absent>'!r}, run has {got if got is not None else '<absent>'!r}"
            )
    if board.get("primary_scorer") != run["primary_scorer"]:
        out.append(
            f"primary scorer differs: board has {board.get('primary_scorer')!r}, "
            f"run has {run['primary_scorer']!r}"
        )
    return out


def bundle_id_for(label: str, digest: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)
    slug = re.sub(r"\.{2,}", ".", slug).strip("-._")[:80].strip("-._") or "run"
    bundle_id = f"{slug}-{digest[:12]}"
    if not is_safe_id(bundle_id):  # cannot happen with the slug above; kept as the last guard
        raise PuncError(f"bundle id {bundle_id!r} is not allowed: expected {SAFE_ID_EXPECTED}")
    return bundle_id


def clean_label(label: str) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in label).split())
    if not text:
        raise PuncError("--name: expected a non-empty model label")
    return text[:200]


def verified_png(path: Path) -> bytes:
    """The bytes of `path` if it is a regular file holding a PNG that PIL can verify; else a PuncError."""
    from PIL import Image

    if path.is_symlink() or not path.is_file():
        raise PuncError(f"{path}: expected a regular PNG file (missing, or a link)")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise PuncError(f"{path}: image larger than {MAX_IMAGE_BYTES} bytes, not published")
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise PuncError(f"{path}: expected a PNG image (bad signature)")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "PNG":
                raise PuncError(f"{path}: expected a PNG image, PIL reads {img.format}")
            check_pixels(img)
            img.verify()
        open_image(data)  # verify() does not decode pixels; this does, under the pixel cap
    except PuncError:
        raise
    except Exception as exc:  # PIL raises many kinds for broken files, bombs included
        raise PuncError(f"{path}: expected a valid PNG image ({type(exc).__name__}: {exc})") from None
    return data


def find_image(run_dir: Path, image_hash: str) -> Path | None:
    """The image's file in the run; a link anywhere under the run (file or `images/XX/` folder) is refused."""
    for relative in (f"images/{image_hash[:2]}/{image_hash}.png", f"images/{image_hash}.png"):
        candidate = inside(run_dir, relative)
        if candidate.exists():
            return candidate
    return None


@contextlib.contextmanager
def board_lock(board_dir: Path) -> Iterator[None]:
    """One publisher at a time per board (an advisory lock on board_dir/.lock)."""
    with open(board_dir / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def list_bundles(board_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Published bundles (folders under runs/ with a bundle.json), oldest first; staging folders skipped."""
    runs = board_dir / "runs"
    out = []
    if not runs.is_dir():
        return out
    for path in sorted(runs.iterdir()):
        if path.name.startswith(".") or not is_safe_id(path.name) or path.is_symlink() or not path.is_dir():
            continue
        meta_path = path / "bundle.json"
        if not meta_path.is_file():
            continue
        meta = _read_json(meta_path, "bundle description")
        if isinstance(meta, dict):
            out.append((path, meta))
    out.sort(key=lambda item: (str(item[1].get("published", "")), item[0].name))
    return out


# ---------------------------------------------------------------------------------------------
# reading a run


@dataclass
class PreparedRun:
    results: Results
    digest: str
    label: str
    bundle_id: str
    partial: bool
    partial_reason: str | None
    manifest: list[dict[str, Any]]
    captions: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    detection: dict[str, Any] | None
    run_meta: dict[str, Any] | None
    image_paths: dict[str, Path]  # hash -> file to copy
    images: dict[str, Any]
    warnings: list[str]


def _pick(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: record[k] for k in keys if k in record}


def prepare_run(run_dir: Path, allow_partial: bool, label: str | None) -> PreparedRun:
    run_dir = Path(run_dir)
    results = load_results(run_dir)
    warnings: list[str] = []
    problems = []
    if not results.complete:
        problems.append("results.json says complete=false")
    if results.failures:
        problems.append(f"{len(results.failures)} failure(s) recorded")
    if problems and not allow_partial:
        raise PuncError(
            f"{run_dir}: the run is not complete ({'; '.join(problems)}). Finish it with `punc eval` "
            "(it resumes), or publish it as partial with --allow-partial (the board marks it)."
        )
    if not results.task.get("hash"):
        raise PuncError(f"{run_dir / 'results.json'}: field 'task.hash': expected the task hash")
    if not results.judge.get("fingerprint"):
        raise PuncError(
            f"{run_dir / 'results.json'}: field 'judge.fingerprint': expected the judge fingerprint"
        )
    if not results.scorers:
        raise PuncError(f"{run_dir / 'results.json'}: field 'scorers': expected at least one scorer")

    shown = clean_label(label if label is not None else results.model_name)
    digest = run_digest(results)

    manifest = []
    for number, rec in enumerate(_read_records(run_dir / "images.jsonl", ImageLine), start=1):
        image_hash = rec.get("image_hash")
        if not isinstance(image_hash, str) or not _HASH.fullmatch(image_hash):
            raise PuncError(
                f"{run_dir / 'images.jsonl'}:{number}: field 'image_hash': expected 64 hex digits"
            )
        manifest.append(_pick(rec, MANIFEST_KEYS))

    judge_ids = {results.judge.get("fingerprint"), results.judge.get("name")}
    captions = [_pick(r, CAPTION_KEYS) for r in _read_records(run_dir / "captions.jsonl", CaptionLine)]
    if any(r.get("judge") in judge_ids for r in captions):
        captions = [r for r in captions if r.get("judge") in judge_ids]
    scores = []
    for rec in _read_records(run_dir / "scores.jsonl", ScoreLine):
        name, sig = rec.get("scorer"), rec.get("signature")
        if name not in results.scorers or (sig is not None and sig != results.scorers[name]):
            continue  # a scorer this run's results do not use
        scores.append(_pick(rec, SCORE_KEYS))
    if scores and any(r.get("judge") in judge_ids for r in scores):
        scores = [r for r in scores if r.get("judge") in judge_ids]

    detection = None
    det_path = run_dir / "detection.json"
    if det_path.exists():
        raw = _read_json(det_path, "detection results")
        comps = raw.get("comparisons") if isinstance(raw, dict) else None
        if isinstance(comps, list):
            detection = {
                "comparisons": [
                    json_safe(_pick(c, DETECTION_KEYS))
                    for c in comps
                    if isinstance(c, dict)
                    and isinstance(c.get("shift"), str)
                    and isinstance(c.get("score"), str)
                ]
            }
        else:
            warnings.append(f"{det_path}: no 'comparisons' list, detection AUROC not shown")

    run_meta = None
    meta_path = run_dir / "run.json"
    if meta_path.exists():
        raw = _read_json(meta_path, "run description")
        run_meta = json_safe(raw) if isinstance(raw, dict) else None

    # which images: all when small, else the first one (lowest index) of each prompt
    by_hash: dict[str, Path] = {}
    missing = 0
    total_bytes = 0
    for rec in manifest:
        h = rec["image_hash"]
        if h in by_hash:
            continue
        path = find_image(run_dir, h)
        if path is None:
            missing += 1
            continue
        by_hash[h] = path
        total_bytes += path.lstat().st_size
    if not by_hash:
        policy, chosen = "none", {}
    elif total_bytes <= IMAGE_BUDGET_BYTES:
        policy, chosen = "all", dict(by_hash)
    else:
        policy, chosen = "first_per_prompt", {}
        firsts: dict[str, tuple[int, str]] = {}
        for rec in manifest:
            h, idx = rec["image_hash"], rec.get("index")
            idx = idx if isinstance(idx, int) else 1 << 30
            pid = str(rec.get("prompt_id"))
            if h in by_hash and (pid not in firsts or idx < firsts[pid][0]):
                firsts[pid] = (idx, h)
        chosen = {h: by_hash[h] for _, h in firsts.values()}
    if missing:
        warnings.append(f"{missing} image(s) listed in images.jsonl are not in {run_dir / 'images'}")

    partial = bool(problems)
    return PreparedRun(
        results=results,
        digest=digest,
        label=shown,
        bundle_id=bundle_id_for(shown, digest),
        partial=partial,
        partial_reason="; ".join(problems) if partial else None,
        manifest=manifest,
        captions=captions,
        scores=scores,
        detection=detection,
        run_meta=run_meta,
        image_paths=chosen,
        images={
            "policy": policy,
            "budget_bytes": IMAGE_BUDGET_BYTES,
            "in_run": len(by_hash) + missing,
            "copied": len(chosen),
            "missing": missing,
            "hashes": sorted(chosen),
        },
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------
# writing a bundle


def _write_bundle(prepared: PreparedRun, staging: Path, source_name: str) -> None:
    results_data = json_safe(prepared.results.model_dump(mode="json"))
    atomic_write_json(staging / "results.json", results_data)
    atomic_write_text(staging / "manifest.jsonl", _dump_jsonl(prepared.manifest))
    atomic_write_text(staging / "captions.jsonl", _dump_jsonl(prepared.captions))
    atomic_write_text(staging / "scores.jsonl", _dump_jsonl(prepared.scores))
    if prepared.detection is not None:
        atomic_write_json(staging / "detection.json", prepared.detection)
    copied_bytes = 0
    for image_hash, path in sorted(prepared.image_paths.items()):
        data = verified_png(path)  # the bytes we write are the bytes PIL verified
        atomic_write_bytes(staging / "images" / f"{image_hash}.png", data)
        copied_bytes += len(data)
    images = dict(prepared.images, bytes=copied_bytes)
    atomic_write_json(
        staging / "bundle.json",
        {
            "files": bundle_digests(staging),
            "bundle_format": BUNDLE_FORMAT,
            "bundle_id": prepared.bundle_id,
            "label": prepared.label,
            "model_name": prepared.results.model_name,
            "run_digest": prepared.digest,
            "source_run": source_name,
            "published": now_iso(),
            "published_with": __version__,
            "partial": prepared.partial,
            "partial_reason": prepared.partial_reason,
            "images": images,
            "has_detection": prepared.detection is not None,
            "run_meta": prepared.run_meta,
        },
    )


@storage_errors
def publish_run(
    run_dir: Path,
    board: str,
    boards_dir: Path = Path("leaderboards"),
    *,
    new_board: bool = False,
    allow_partial: bool = False,
    label: str | None = None,
    push_to_hub: str | None = None,
    rebuild: bool = True,
) -> PublishResult:
    """Validate `run_dir`, add it to board `board` as a bundle, rebuild the board, optionally push it.

    Publishing a run that the board already holds (same results digest) is refused.
    """
    board_dir = board_path(board, boards_dir)
    prepared = prepare_run(Path(run_dir), allow_partial, label)
    identity = identity_of(prepared.results)
    if push_to_hub:
        from harness.leaderboard.hub import check_hub_reachable_config

        check_hub_reachable_config(push_to_hub)

    created = placed = False
    if new_board:
        if board_dir.exists() or board_dir.is_symlink():
            raise PuncError(
                f"board {board!r} already exists at {board_dir}; --new-board never overwrites a board. "
                "Choose another name with --board, or drop --new-board to add to it."
            )
        Path(boards_dir).mkdir(parents=True, exist_ok=True)
        try:
            board_dir.mkdir()
        except FileExistsError:
            raise PuncError(f"board {board!r} was just created by someone else at {board_dir}") from None
        created = True
    elif board_dir.is_symlink() or not (board_dir / "board.json").is_file():
        raise PuncError(
            f"board {board!r} does not exist in {boards_dir} (no {board_dir / 'board.json'}). "
            "Create it with --new-board."
        )

    try:
        with board_lock(board_dir):
            if created:
                atomic_write_json(
                    board_dir / "board.json",
                    {
                        "board_format": BOARD_FORMAT,
                        "name": board,
                        "created": now_iso(),
                        "task": {
                            k: prepared.results.task.get(k)
                            for k in ("name", "version", "hash")
                            if k in prepared.results.task
                        },
                        **identity,
                        "judge": {
                            k: prepared.results.judge.get(k)
                            for k in ("name", "fingerprint", "backend", "model")
                            if k in prepared.results.judge
                        },
                    },
                )
                share_files(board_dir / "board.json")
            meta = _read_json(board_dir / "board.json", "board description")
            diffs = identity_differences(meta, identity)
            if diffs:
                raise PuncError(
                    f"run {run_dir} cannot join board {board!r}: its runs would not be comparable.\n"
                    + "\n".join(f"  {d}" for d in diffs)
                    + f"\nPublish it to a new board instead: --board NEW_NAME --new-board "
                    f"(board {board!r} keeps its runs)."
                )
            for path, existing in list_bundles(board_dir):
                if existing.get("run_digest") == prepared.digest:
                    raise PuncError(
                        f"run {run_dir} is already on board {board!r} as bundle {path.name!r} "
                        "(same results.json); publishing it twice is refused."
                    )
            runs = board_dir / "runs"
            runs.mkdir(exist_ok=True)
            target = runs / prepared.bundle_id
            if target.exists():
                raise PuncError(f"bundle {target} already exists; publishing it twice is refused.")
            staging = runs / f".staging-{prepared.bundle_id}-{uuid.uuid4().hex[:8]}"
            staging.mkdir()
            try:
                _write_bundle(prepared, staging, Path(run_dir).resolve().name)
                share_files(staging)
                os.rename(staging, target)
                placed = True
            finally:
                if staging.exists():
                    shutil.rmtree(staging)
            if rebuild:
                from harness.leaderboard.build import build_board

                build_board(board, boards_dir)
    except BaseException:
        if created and not placed:  # a board this call made, left without any run
            shutil.rmtree(board_dir, ignore_errors=True)
        raise

    result = PublishResult(
        board_dir=board_dir,
        bundle_id=prepared.bundle_id,
        bundle_dir=board_dir / "runs" / prepared.bundle_id,
        created_board=created,
        partial=prepared.partial,
        images=prepared.images,
        warnings=prepared.warnings,
    )
    if push_to_hub:
        from harness.leaderboard.hub import push_board

        result.pushed = push_board(board_dir, push_to_hub)
    return result
