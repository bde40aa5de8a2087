"""A run directory: content-addressed images with recipe sidecars, and append-only stage logs.

Every stage appends one JSON line per finished item (flushed and fsynced), so a killed run resumes
by redoing only the items that have no line yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InputError, PuncError, printable
from harness.redact import scrub
from harness.run.jsonl import JsonlAppender, atomic_write_bytes, atomic_write_json, read_jsonl
from harness.run.records import CaptionLine, ImageLine, ScoreLine, read_records
from harness.run.sharding import shard_path
from harness.safe_load import read_json_file

if TYPE_CHECKING:
    from PIL import Image

ImageKey = tuple[str, int]  # (prompt_id, image index)
CaptionKey = tuple[str, int, str, int]  # (prompt_id, index, image_hash, sample_index)


class RunLayout:
    """Every file of a run directory (and of a published bundle, which keeps the same names except its
    image list, manifest.jsonl, and its flat images/ folder). The one place these names are spelled."""

    RESULTS = "results.json"
    IMAGES = "images.jsonl"
    MANIFEST = "manifest.jsonl"
    CAPTIONS = "captions.jsonl"
    SCORES = "scores.jsonl"
    BASELINES = "baselines.jsonl"
    FAILURES = "failures.jsonl"
    EVENTS = "events.jsonl"
    RUN = "run.json"
    BUNDLE = "bundle.json"
    DETECTION = "detection.json"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.images_dir = self.root / "images"
        self.run_file = self.root / self.RUN
        self.images_log = self.root / self.IMAGES
        self.manifest_log = self.root / self.MANIFEST
        self.captions_log = self.root / self.CAPTIONS
        self.scores_log = self.root / self.SCORES
        self.baselines_log = self.root / self.BASELINES
        self.failures_log = self.root / self.FAILURES
        self.results_file = self.root / self.RESULTS
        self.events_log = self.root / self.EVENTS
        self.bundle_file = self.root / self.BUNDLE
        self.detection_file = self.root / self.DETECTION

    def image_path(self, image_hash: str) -> Path:
        """Where `punc eval` stores an image: images/XX/HASH.png."""
        if len(image_hash) != 64 or any(c not in "0123456789abcdef" for c in image_hash):
            raise PuncError(f"{self.images_log}: expected a sha256 image hash, got {image_hash!r}")
        return self.images_dir / image_hash[:2] / f"{image_hash}.png"

    def bundle_image_path(self, image_hash: str) -> Path:
        """Where a published bundle keeps an image: images/HASH.png."""
        self.image_path(image_hash)  # the same check of the hash
        return self.images_dir / f"{image_hash}.png"


class RunStore(RunLayout):
    """Writes a run directory: the only writer of its files (the reader is harness.run.reader)."""

    def __init__(self, root: str | Path, shard: str | None = None) -> None:
        """`shard` names this process when several share the run: its appends go to its own shard logs."""
        super().__init__(root)
        self.shard = shard
        # the generator's loop and an overlapped caption thread (run/overlap.py) append at once
        self._append_lock = threading.Lock()

    # -- identity ---------------------------------------------------------------------------
    def open(self, identity: dict[str, Any], meta: dict[str, Any]) -> None:
        """Create the run, or check that an existing one measures the same task with the same generator."""
        if self.root.exists() and not self.root.is_dir():
            raise PuncError(f"{self.root}: expected a run directory, found a file")
        if self.run_file.exists():
            raw = read_json_file(self.run_file, "run description (run.json)")
            existing = raw.get("identity") if isinstance(raw, dict) else None
            if not isinstance(existing, dict):
                raise InputError(
                    self.run_file,
                    None,
                    "identity",
                    "a JSON object with an 'identity' object (made by punc eval)",
                )
            changed = [k for k in identity if existing.get(k) != identity[k]]
            if changed:
                details = "; ".join(
                    f"{k}: {existing.get(k)!r} in the run, {identity[k]!r} now" for k in changed
                )
                raise PuncError(
                    f"{self.root} holds a run of a different {', '.join(changed)} ({details}). "
                    "Use another --out directory to keep both."
                )
            return
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.run_file, {"identity": identity, **meta})

    # -- images -----------------------------------------------------------------------------
    def load_images(self) -> dict[ImageKey, dict[str, Any]]:
        done: dict[ImageKey, dict[str, Any]] = {}
        for record in read_records(self.images_log, ImageLine):
            if self.image_path(record["image_hash"]).is_file():
                done[(record["prompt_id"], int(record["index"]))] = record
        return done

    def store_image(
        self, image: Image.Image, prompt_id: str, index: int, seed: int | None, recipe: dict[str, Any]
    ) -> dict[str, Any]:
        """Write PNG bytes under their sha256 with a recipe sidecar; the caller logs the record."""
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        path = self.image_path(digest)
        if not path.exists():
            atomic_write_bytes(path, data)
        sidecar = path.with_suffix(".json")
        if not sidecar.exists():
            atomic_write_json(sidecar, recipe)
        return {"prompt_id": prompt_id, "index": index, "seed": seed, "image_hash": digest, "recipe": recipe}

    def append_images(self, records: list[dict[str, Any]]) -> None:
        """Log images as done; only after their files are on disk."""
        self._append(self.images_log, records)

    def open_image(self, image_hash: str) -> Image.Image:
        """A stored image, decoded under the pixel cap; a link or a bad file is a located error."""
        from harness.images import ImageRefused, open_image
        from harness.paths import check_inside

        path = check_inside(self.root, self.image_path(image_hash))
        try:
            return open_image(path)
        except ImageRefused as exc:
            raise PuncError(f"{path}: {exc}") from None

    # -- captions and scores ----------------------------------------------------------------
    def load_captions(self, judge_fingerprint: str) -> dict[CaptionKey, dict[str, Any]]:
        return {
            (r["prompt_id"], int(r["index"]), r["image_hash"], int(r["sample_index"])): r
            for r in read_records(self.captions_log, CaptionLine)
            if r["judge"] == judge_fingerprint
        }

    def append_captions(self, records: list[dict[str, Any]]) -> None:
        self._append(self.captions_log, records)

    def load_scores(self, judge_fingerprint: str) -> dict[tuple[CaptionKey, str], dict[str, Any]]:
        return {
            ((r["prompt_id"], int(r["index"]), r["image_hash"], int(r["sample_index"])), r["signature"]): r
            for r in read_records(self.scores_log, ScoreLine)
            if r["judge"] == judge_fingerprint
        }

    def append_scores(self, records: list[dict[str, Any]]) -> None:
        self._append(self.scores_log, records)

    # -- baselines --------------------------------------------------------------------------
    def load_baselines(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Baseline lines already computed, by (prompt_id, baseline signature)."""
        return {
            (r["prompt_id"], r["signature"]): r for r in read_jsonl(self.baselines_log) if "signature" in r
        }

    def append_baselines(self, records: list[dict[str, Any]]) -> None:
        """Baselines run on the main process only, after the shards are folded: no shard log."""
        if records:
            with JsonlAppender(self.baselines_log) as log:
                log.extend(records)

    def set_aside_scores(self) -> Path | None:
        """For --rescore: keep the old scores file under a new name instead of deleting computed work.

        The name is claimed with a hard link, which fails instead of replacing an existing file, so two
        backups in the same second both survive. results.json stops claiming complete first, so a crash
        before the new scores are written leaves no finished-looking run behind.
        """
        if not self.scores_log.exists():
            return None
        self.mark_results_incomplete("--rescore started; scores are being recomputed")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for attempt in range(10_000):
            suffix = f"-{attempt}" if attempt else ""
            kept = self.root / f"scores.{stamp}{suffix}.jsonl.bak"
            try:
                os.link(self.scores_log, kept)
            except FileExistsError:
                continue
            self.scores_log.unlink()
            return kept
        raise PuncError(f"{self.root}: could not find a free name for the scores backup")

    def mark_results_incomplete(self, reason: str) -> None:
        """Rewrite results.json as stale (complete=false) before work that changes what it summarizes."""
        if not self.results_file.is_file():
            return
        try:
            raw = read_json_file(self.results_file, "results file")
        except InputError:
            return  # unreadable already; the run's finish rewrites it
        if isinstance(raw, dict) and raw.get("complete") is not False:
            atomic_write_json(
                self.results_file, {**raw, "status": "stale", "complete": False, "stale": reason}
            )

    # -- lock -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run directory for one coordinating process; a second one fails at once.

        An advisory flock on `.lock` (released by the kernel when the process dies, so a killed run
        never leaves a stale lock). Worker processes that the holder spawns write only their own
        shard files and do not take it.
        """
        if self.root.exists() and not self.root.is_dir():
            raise PuncError(f"{self.root}: expected a run directory, found a file")
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / ".lock"
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read(200).strip() or "another process"
                raise PuncError(
                    f"{self.root} is being written by another punc process ({printable(holder)}); "
                    "wait for it to finish, or use another --out directory"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
            yield
        finally:
            handle.close()

    # -- failures ---------------------------------------------------------------------------
    def record_failure(self, stage: str, error: str, **where: Any) -> dict[str, Any]:
        record = {"stage": stage, "error": scrub(error), "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **where}
        self._append(self.failures_log, [record])
        return record

    def log_event(self, event: str, **data: Any) -> None:
        """A structured, append-only account of what each invocation did (starts, resumes, finishes)."""
        self._append(self.events_log, [{"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **data}])

    def _append(self, path: Path, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        if self.shard is not None:
            path = shard_path(self.root, path, self.shard)
        with self._append_lock, JsonlAppender(path) as log:
            log.extend(records)
