"""`punc publish`: validate a finished run and add it to a board as an inert bundle.

Nothing from the run directory is executed or copied verbatim except PNG images that PIL has verified:
every JSON file is parsed and written again from the parsed data, and only known files are read
(through harness.run.reader). A board holds runs that are comparable: same task hash, judge
fingerprint and scorer signatures.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness._version import __version__
from harness.errors import PuncError, storage_errors
from harness.images import check_pixels, open_image
from harness.leaderboard import BOARD_FORMAT, BUNDLE_FORMAT
from harness.leaderboard.board_files import (
    board_lock,
    board_path,
    identity_differences,
    identity_of,
    json_safe,
    list_bundles,
    now_iso,
    read_board_json,
    share_files,
)
from harness.leaderboard.digests import bundle_digests
from harness.run.jsonl import atomic_write_bytes, atomic_write_json, atomic_write_text
from harness.run.reader import RunReader
from harness.run.schema import Results
from harness.run.store import RunLayout
from harness.safe_ids import SAFE_ID_EXPECTED, is_safe_id

#: All images are copied when together they are smaller than this; otherwise the first one of each prompt.
IMAGE_BUDGET_BYTES = 5 * 1024 * 1024
#: A single file larger than this is not an image we publish.
MAX_IMAGE_BYTES = 64 * 1024 * 1024
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


def _dump_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(
        json.dumps(json_safe(r), ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n" for r in records
    )


def run_digest(results: Results) -> str:
    data = json.dumps(json_safe(results.model_dump(mode="json")), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


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


def _completeness_problems(run_dir: Path, results: Results, allow_partial: bool) -> list[str]:
    """Why the run is partial (empty when complete); refused unless --allow-partial."""
    problems = []
    if not results.complete:
        problems.append(f"results.json says status={results.status} (complete=false)")
    if results.failures:
        problems.append(f"{len(results.failures)} failure(s) recorded")
    if problems and not allow_partial:
        raise PuncError(
            f"{run_dir}: the run is not complete ({'; '.join(problems)}). Finish it with `punc eval` "
            "(it resumes), or publish it as partial with --allow-partial (the board marks it)."
        )
    return problems


def _check_identity_fields(run_dir: Path, results: Results) -> None:
    """A board compares runs by these; a run without them cannot join one."""
    if not results.task.hash:
        raise PuncError(f"{run_dir / 'results.json'}: field 'task.hash': expected the task hash")
    if not results.judge.fingerprint:
        raise PuncError(
            f"{run_dir / 'results.json'}: field 'judge.fingerprint': expected the judge fingerprint"
        )
    if not results.scorers:
        raise PuncError(f"{run_dir / 'results.json'}: field 'scorers': expected at least one scorer")


def _manifest(run: RunReader) -> list[dict[str, Any]]:
    manifest = []
    for number, rec in enumerate(run.images(), start=1):
        image_hash = rec.get("image_hash")
        if not isinstance(image_hash, str) or not _HASH.fullmatch(image_hash):
            raise PuncError(f"{run.image_log()}:{number}: field 'image_hash': expected 64 hex digits")
        manifest.append(_pick(rec, MANIFEST_KEYS))
    return manifest


def _judged_records(run: RunReader, results: Results) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Captions and scores of the judge and scorers this run's results describe."""
    judge_ids = {results.judge.fingerprint, results.judge.name}
    captions = [_pick(r, CAPTION_KEYS) for r in run.captions()]
    if any(r.get("judge") in judge_ids for r in captions):
        captions = [r for r in captions if r.get("judge") in judge_ids]
    scores = []
    for rec in run.scores():
        name, sig = rec.get("scorer"), rec.get("signature")
        if name not in results.scorers or (sig is not None and sig != results.scorers[name]):
            continue  # a scorer this run's results do not use
        scores.append(_pick(rec, SCORE_KEYS))
    if scores and any(r.get("judge") in judge_ids for r in scores):
        scores = [r for r in scores if r.get("judge") in judge_ids]
    return captions, scores


def _detection(run: RunReader, warnings: list[str]) -> dict[str, Any] | None:
    raw = run.detection()
    if raw is None:
        return None
    comps = raw.get("comparisons") if isinstance(raw, dict) else None
    if not isinstance(comps, list):
        warnings.append(f"{run.layout.detection_file}: no 'comparisons' list, detection AUROC not shown")
        return None
    return {
        "comparisons": [
            json_safe(_pick(c, DETECTION_KEYS))
            for c in comps
            if isinstance(c, dict) and isinstance(c.get("shift"), str) and isinstance(c.get("score"), str)
        ]
    }


def _first_image_per_prompt(manifest: list[dict[str, Any]], available: dict[str, Path]) -> dict[str, Path]:
    firsts: dict[str, tuple[int, str]] = {}
    for rec in manifest:
        image_hash, index = rec["image_hash"], rec.get("index")
        index = index if isinstance(index, int) else 1 << 30
        pid = str(rec.get("prompt_id"))
        if image_hash in available and (pid not in firsts or index < firsts[pid][0]):
            firsts[pid] = (index, image_hash)
    return {h: available[h] for _, h in firsts.values()}


def _choose_images(
    run: RunReader, manifest: list[dict[str, Any]], warnings: list[str]
) -> tuple[dict[str, Path], dict[str, Any]]:
    """Which images to copy: all when small, else the first one (lowest index) of each prompt."""
    available: dict[str, Path] = {}
    missing = 0
    total_bytes = 0
    for rec in manifest:
        image_hash = rec["image_hash"]
        if image_hash in available:
            continue
        path = run.image_path(image_hash)
        if path is None:
            missing += 1
            continue
        available[image_hash] = path
        total_bytes += path.lstat().st_size
    if not available:
        policy, chosen = "none", {}
    elif total_bytes <= IMAGE_BUDGET_BYTES:
        policy, chosen = "all", dict(available)
    else:
        policy, chosen = "first_per_prompt", _first_image_per_prompt(manifest, available)
    if missing:
        warnings.append(f"{missing} image(s) listed in images.jsonl are not in {run.layout.images_dir}")
    info = {
        "policy": policy,
        "budget_bytes": IMAGE_BUDGET_BYTES,
        "in_run": len(available) + missing,
        "copied": len(chosen),
        "missing": missing,
        "hashes": sorted(chosen),
    }
    return chosen, info


def prepare_run(run_dir: Path, allow_partial: bool, label: str | None) -> PreparedRun:
    """Everything a bundle will hold, read and checked before anything is written."""
    run_dir = Path(run_dir)
    run = RunReader(run_dir)
    results = run.results
    problems = _completeness_problems(run_dir, results, allow_partial)
    _check_identity_fields(run_dir, results)
    shown = clean_label(label if label is not None else results.model_name)
    digest = run_digest(results)
    warnings: list[str] = []
    manifest = _manifest(run)
    captions, scores = _judged_records(run, results)
    detection = _detection(run, warnings)
    meta = run.run_meta()
    chosen, images = _choose_images(run, manifest, warnings)
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
        run_meta=json_safe(meta) if isinstance(meta, dict) else None,
        image_paths=chosen,
        images=images,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------
# writing a bundle


def _write_bundle(prepared: PreparedRun, staging: Path, source_name: str) -> None:
    results_data = json_safe(prepared.results.model_dump(mode="json"))
    bundle = RunLayout(staging)
    atomic_write_json(bundle.results_file, results_data)
    atomic_write_text(bundle.manifest_log, _dump_jsonl(prepared.manifest))
    atomic_write_text(bundle.captions_log, _dump_jsonl(prepared.captions))
    atomic_write_text(bundle.scores_log, _dump_jsonl(prepared.scores))
    if prepared.detection is not None:
        atomic_write_json(bundle.detection_file, prepared.detection)
    copied_bytes = 0
    for image_hash, path in sorted(prepared.image_paths.items()):
        data = verified_png(path)  # the bytes we write are the bytes PIL verified
        atomic_write_bytes(bundle.bundle_image_path(image_hash), data)
        copied_bytes += len(data)
    images = dict(prepared.images, bytes=copied_bytes)
    atomic_write_json(
        bundle.bundle_file,
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


def _create_board(board: str, board_dir: Path, boards_dir: Path) -> None:
    """A new, empty board folder; never one that exists."""
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


def _present(part: BaseModel, keys: tuple[str, ...]) -> dict[str, Any]:
    """The `keys` that the run's results.json holds (not the schema's defaults)."""
    data = part.model_dump(mode="json", exclude_unset=True)
    return {k: data[k] for k in keys if k in data}


def _write_board_description(board: str, board_dir: Path, results: Results, identity: dict[str, Any]) -> None:
    atomic_write_json(
        board_dir / "board.json",
        {
            "board_format": BOARD_FORMAT,
            "name": board,
            "created": now_iso(),
            "task": _present(results.task, ("name", "version", "hash")),
            **identity,
            "judge": _present(results.judge, ("name", "fingerprint", "backend", "model")),
        },
    )
    share_files(board_dir / "board.json")


def _check_joinable(
    run_dir: Path, board: str, board_dir: Path, prepared: PreparedRun, identity: dict
) -> None:
    """The run measures what the board's runs measure, and is not on it already."""
    meta = read_board_json(board_dir / "board.json", "board description")
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


def _place_bundle(run_dir: Path, board_dir: Path, prepared: PreparedRun) -> None:
    """Write the bundle in a staging folder and rename it into runs/ (all or nothing)."""
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
    finally:
        if staging.exists():
            shutil.rmtree(staging)


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
        _create_board(board, board_dir, boards_dir)
        created = True
    elif board_dir.is_symlink() or not (board_dir / "board.json").is_file():
        raise PuncError(
            f"board {board!r} does not exist in {boards_dir} (no {board_dir / 'board.json'}). "
            "Create it with --new-board."
        )
    try:
        with board_lock(board_dir):
            if created:
                _write_board_description(board, board_dir, prepared.results, identity)
            _check_joinable(Path(run_dir), board, board_dir, prepared, identity)
            _place_bundle(Path(run_dir), board_dir, prepared)
            placed = True
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
