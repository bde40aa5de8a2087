"""Reading a finished (or partial) run: the only way other packages read a run directory or a bundle
published on a board. Files are refused when they are links; results.json is checked against the
schema once, here, and older schema versions are read through their upgrade."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.errors import PuncError
from harness.paths import inside
from harness.run.jsonl import read_jsonl
from harness.run.records import CaptionLine, FailureLine, ImageLine, ScoreLine, read_records
from harness.run.schema import SUPPORTED_SCHEMA_VERSIONS, Results, upgrade_results
from harness.run.store import RunLayout
from harness.safe_load import read_json_file

#: results.json files of long runs with many prompts are large; a board holds them too.
MAX_JSON_BYTES = 512 * 1024 * 1024


def read_regular_json(path: Path, what: str) -> Any:
    """A JSON file that must be a regular file (never a link): run and board files are untrusted."""
    if path.is_symlink() or not path.is_file():
        raise PuncError(f"{path}: expected the {what} as a regular file (missing, or a link)")
    return read_json_file(path, what, MAX_JSON_BYTES)


def parse_results(raw: Any, path: Path) -> Results:
    """A results.json's data as Results; a version this harness cannot read or a schema mismatch is a
    user error naming the field."""
    if isinstance(raw, dict):
        version = raw.get("schema_version", 1)
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
            raise PuncError(
                f"{path}: field 'schema_version': this harness reads versions {supported}, got {version!r}"
            )
        raw = upgrade_results(raw)
    try:
        return Results.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: does not match the results schema:"]
        for err in exc.errors()[:10]:
            loc = ".".join(str(p) for p in err["loc"]) or "<root>"
            lines.append(f"  field '{loc}': {err['msg']}")
        raise PuncError("\n".join(lines)) from None


class RunReader:
    """A run directory made by `punc eval`, or a bundle on a board (manifest.jsonl, flat images/)."""

    def __init__(self, root: str | Path) -> None:
        self.layout = RunLayout(root)
        self.root = self.layout.root

    @property
    def is_bundle(self) -> bool:
        return self.layout.bundle_file.is_file() and not self.layout.bundle_file.is_symlink()

    # -- results ------------------------------------------------------------------------------
    @cached_property
    def results(self) -> Results:
        """results.json, parsed with the schema (read once per reader)."""
        if not self.root.is_dir():
            raise PuncError(f"{self.root}: expected a run directory made by `punc eval`")
        path = self.layout.results_file
        if not path.exists() and not path.is_symlink():
            raise PuncError(f"{self.root}: no results.json (run `punc eval` first, or pass a run directory)")
        return parse_results(read_regular_json(path, "results file"), path)

    # -- logs -----------------------------------------------------------------------------------
    def _records(self, path: Path, model: Any, checked: bool) -> list[dict[str, Any]]:
        """Every line checked against `model` (a located error when one does not fit), or, for readers
        that skip what they cannot use (`checked=False`), the lines as parsed."""
        if path.is_symlink():
            raise PuncError(f"{path}: expected a regular file, found a link")
        return read_records(path, model) if checked else list(read_jsonl(path))

    def image_log(self) -> Path:
        """images.jsonl of a run, manifest.jsonl of a bundle."""
        return self.layout.images_log if self.layout.images_log.exists() else self.layout.manifest_log

    def images(self, checked: bool = True) -> list[dict[str, Any]]:
        """One record per stored image: prompt_id, index, seed, image_hash, recipe."""
        return self._records(self.image_log(), ImageLine, checked)

    def captions(self, checked: bool = True) -> list[dict[str, Any]]:
        return self._records(self.layout.captions_log, CaptionLine, checked)

    def scores(self, checked: bool = True) -> list[dict[str, Any]]:
        return self._records(self.layout.scores_log, ScoreLine, checked)

    def failures(self, checked: bool = True) -> list[dict[str, Any]]:
        return self._records(self.layout.failures_log, FailureLine, checked)

    def baselines(self) -> list[dict[str, Any]]:
        """baselines.jsonl: one line per (prompt, baseline signature)."""
        if self.layout.baselines_log.is_symlink():
            raise PuncError(f"{self.layout.baselines_log}: expected a regular file, found a link")
        return list(read_jsonl(self.layout.baselines_log))

    # -- side files -----------------------------------------------------------------------------
    def _optional_json(self, path: Path, what: str) -> Any:
        return read_regular_json(path, what) if path.exists() or path.is_symlink() else None

    def run_meta(self) -> Any:
        """run.json (identity and how the run was started), or None."""
        return self._optional_json(self.layout.run_file, "run description")

    def bundle_meta(self) -> Any:
        """bundle.json of a published bundle, or None for a run directory."""
        return self._optional_json(self.layout.bundle_file, "bundle description")

    def detection(self) -> Any:
        """detection.json written by `punc detect` into the run, or None."""
        return self._optional_json(self.layout.detection_file, "detection results")

    # -- images ---------------------------------------------------------------------------------
    def image_path(self, image_hash: str) -> Path | None:
        """The image's file (run or bundle layout), or None; a link anywhere under the run is refused."""
        for path in (self.layout.image_path(image_hash), self.layout.bundle_image_path(image_hash)):
            candidate = inside(self.root, path.relative_to(self.root))
            if candidate.exists():
                return candidate
        return None


def load_run(path: str | Path) -> RunReader:
    """Open a run directory (or a published bundle) for reading; its results are checked on first use."""
    reader = RunReader(path)
    _ = reader.results
    return reader


def load_results(run_dir: str | Path) -> Results:
    """RUN_DIR/results.json through the schema; any problem is a user error naming the field."""
    return RunReader(run_dir).results
