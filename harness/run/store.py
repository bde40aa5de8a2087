"""A run directory: content-addressed images with recipe sidecars, and append-only stage logs.

Every stage appends one JSON line per finished item (flushed and fsynced), so a killed run resumes
by redoing only the items that have no line yet.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import PuncError
from harness.run.jsonl import JsonlAppender, atomic_write_bytes, atomic_write_json, read_jsonl
from harness.run.sharding import shard_path

if TYPE_CHECKING:
    from PIL import Image

ImageKey = tuple[str, int]  # (prompt_id, image index)
CaptionKey = tuple[str, int, str, int]  # (prompt_id, index, image_hash, sample_index)


class RunStore:
    def __init__(self, root: str | Path, shard: str | None = None) -> None:
        """`shard` names this process when several share the run: its appends go to its own shard logs."""
        self.root = Path(root)
        self.shard = shard
        self.images_dir = self.root / "images"
        self.run_file = self.root / "run.json"
        self.images_log = self.root / "images.jsonl"
        self.captions_log = self.root / "captions.jsonl"
        self.scores_log = self.root / "scores.jsonl"
        self.failures_log = self.root / "failures.jsonl"
        self.results_file = self.root / "results.json"
        self.events_log = self.root / "events.jsonl"

    # -- identity ---------------------------------------------------------------------------
    def open(self, identity: dict[str, Any], meta: dict[str, Any]) -> None:
        """Create the run, or check that an existing one measures the same task with the same generator."""
        if self.root.exists() and not self.root.is_dir():
            raise PuncError(f"{self.root}: expected a run directory, found a file")
        if self.run_file.exists():
            existing = json.loads(self.run_file.read_text(encoding="utf-8")).get("identity", {})
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
    def image_path(self, image_hash: str) -> Path:
        if len(image_hash) != 64 or any(c not in "0123456789abcdef" for c in image_hash):
            raise PuncError(f"{self.images_log}: expected a sha256 image hash, got {image_hash!r}")
        return self.images_dir / image_hash[:2] / f"{image_hash}.png"

    def load_images(self) -> dict[ImageKey, dict[str, Any]]:
        done: dict[ImageKey, dict[str, Any]] = {}
        for record in read_jsonl(self.images_log):
            if self.image_path(record["image_hash"]).exists():
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
        from PIL import Image

        with Image.open(self.image_path(image_hash)) as img:
            return img.convert("RGB")

    # -- captions and scores ----------------------------------------------------------------
    def load_captions(self, judge_fingerprint: str) -> dict[CaptionKey, dict[str, Any]]:
        return {
            (r["prompt_id"], int(r["index"]), r["image_hash"], int(r["sample_index"])): r
            for r in read_jsonl(self.captions_log)
            if r.get("judge") == judge_fingerprint
        }

    def append_captions(self, records: list[dict[str, Any]]) -> None:
        self._append(self.captions_log, records)

    def load_scores(self, judge_fingerprint: str) -> dict[tuple[CaptionKey, str], dict[str, Any]]:
        return {
            ((r["prompt_id"], int(r["index"]), r["image_hash"], int(r["sample_index"])), r["signature"]): r
            for r in read_jsonl(self.scores_log)
            if r.get("judge") == judge_fingerprint
        }

    def append_scores(self, records: list[dict[str, Any]]) -> None:
        self._append(self.scores_log, records)

    def set_aside_scores(self) -> Path | None:
        """For --rescore: keep the old scores file under a new name instead of deleting computed work."""
        if not self.scores_log.exists():
            return None
        kept = self.root / f"scores.{time.strftime('%Y%m%d-%H%M%S')}.jsonl.bak"
        self.scores_log.rename(kept)
        return kept

    # -- failures ---------------------------------------------------------------------------
    def record_failure(self, stage: str, error: str, **where: Any) -> dict[str, Any]:
        record = {"stage": stage, "error": error, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **where}
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
        with JsonlAppender(path) as log:
            log.extend(records)
