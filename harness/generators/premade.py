"""Images made elsewhere: a folder `PROMPT_ID/K.png` or a JSONL of `{"prompt_id", "image_path"[, "index"]}`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InputError, PuncError
from harness.fingerprint import sha256_file
from harness.generators.base import GeneratedImage, Generator, ImageRequest
from harness.images import check_pixels, open_image
from harness.paths import PathEscape, inside
from harness.safe_ids import SAFE_ID_EXPECTED, is_safe_id
from harness.safe_load import json_lines, load_json

if TYPE_CHECKING:
    from harness.config.task import TaskConfig

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def truncation_error(path: Path, image_format: str | None) -> str | None:
    """PIL decodes some files cut short (e.g. a PNG without its end chunk); check the end markers too."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 16))
        tail = handle.read()
        handle.seek(0)
        head = handle.read(12)
    if image_format == "PNG" and not tail.endswith(b"IEND\xaeB`\x82"):
        return "the PNG file is cut short (no IEND end chunk)"
    if image_format == "JPEG" and b"\xff\xd9" not in tail:
        return "the JPEG file is cut short (no end-of-image marker)"
    if image_format == "WEBP" and int.from_bytes(head[4:8], "little") + 8 > size:
        return "the WebP file is shorter than its header says"
    return None


class PremadeGenerator(Generator):
    """Images made elsewhere: a folder of PROMPT_ID/K.png or a JSONL manifest of image paths."""

    batch_size = 32
    batch_invariant = True  # files are read, nothing is computed
    reads_existing_images = True

    def __init__(self, spec: str, **_: Any) -> None:
        self.source = Path(spec)
        if not self.source.exists():
            expected = "a JSONL manifest" if self.source.suffix == ".jsonl" else "a folder of PROMPT_ID/K.png"
            raise PuncError(f"{spec}: no such file or folder (expected {expected} of pre-made images)")
        self.index = self._index_jsonl(self.source) if self.source.is_file() else None

    @staticmethod
    def _index_jsonl(path: Path) -> dict[tuple[str, int], Path]:
        """Map (prompt_id, index) to an image file; `index` counts up per prompt when omitted."""
        entries: dict[tuple[str, int], Path] = {}
        counts: dict[str, int] = {}
        for number, raw in json_lines(path, "image manifest (.jsonl)"):
            row = load_json(raw, path, number)
            if not isinstance(row, dict):
                raise InputError(path, number, None, "a JSON object with prompt_id and image_path", row)
            pid, image_path = row.get("prompt_id"), row.get("image_path")
            if not is_safe_id(pid):
                raise InputError(path, number, "prompt_id", SAFE_ID_EXPECTED, pid)
            if not isinstance(image_path, str) or not image_path or "\x00" in image_path:
                raise InputError(path, number, "image_path", "a path to an image file", image_path)
            index = row.get("index", counts.get(pid, 0))
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise InputError(path, number, "index", "a non-negative integer", index)
            if (pid, index) in entries:
                raise InputError(path, number, "index", "a (prompt_id, index) pair not already listed", index)
            counts[pid] = index + 1
            resolved = Path(image_path) if Path(image_path).is_absolute() else path.parent / image_path
            entries[(pid, index)] = resolved
        return entries

    def _find(self, request: ImageRequest) -> Path | None:
        if self.index is not None:
            return self.index.get((request.prompt_id, request.index))
        if not is_safe_id(request.prompt_id):  # never build a path from an unchecked id
            return None
        folder = self.source / request.prompt_id
        return next(
            (
                folder / f"{request.index}{s}"
                for s in IMAGE_SUFFIXES
                if (folder / f"{request.index}{s}").is_file()
            ),
            None,
        )

    def _numbers(self) -> dict[str, set[int]]:
        """Image numbers found per prompt id, from the manifest or the folder's file names."""
        found: dict[str, set[int]] = {}
        if self.index is not None:
            for pid, index in self.index:
                found.setdefault(pid, set()).add(index)
            return found
        for folder in self.source.iterdir():
            if not folder.is_dir():
                continue
            for file in folder.iterdir():
                if file.suffix.lower() in IMAGE_SUFFIXES and file.stem.isdigit():
                    found.setdefault(folder.name, set()).add(int(file.stem))
        return found

    def preflight(self, task: TaskConfig) -> None:
        """Images numbered other than 0..K-1 (e.g. from 1) would all be missing: report it up front."""
        expected = set(range(task.images_per_prompt))
        wrong = {
            pid: numbers
            for pid, numbers in sorted(self._numbers().items())
            if numbers - expected and not expected <= numbers
        }
        found = self._numbers()
        if not wrong and found and all(0 not in numbers for numbers in found.values()):
            wrong = found  # nothing numbered 0 anywhere: numbered from 1
        if not wrong:
            return
        pid, numbers = next(iter(wrong.items()))
        shown = ", ".join(str(n) for n in sorted(numbers)[:6]) + (", ..." if len(numbers) > 6 else "")
        raise InputError(
            self.source,
            f"prompt '{pid}'" + (f" and {len(wrong) - 1} more" if len(wrong) > 1 else ""),
            "image numbers",
            f"0-based numbers 0..{task.images_per_prompt - 1} for the task's images_per_prompt "
            f"K={task.images_per_prompt} (rename 1..K to 0..K-1, or set images_per_prompt)",
            f"images {shown}",
        )

    def describe(self) -> dict[str, Any]:
        return {"kind": "premade", "model": self.source.name, "source": str(self.source)}

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        from PIL import Image

        results = []
        for request in requests:
            path = self._find(request)
            if path is None or not path.is_file():
                where = path or self.source / request.prompt_id / f"{request.index}.png"
                results.append(
                    GeneratedImage(
                        request,
                        error=f"no image for prompt '{request.prompt_id}' index {request.index} (looked for {where})",
                    )
                )
                continue
            try:
                if self.index is None:  # a folder: the image must be a regular file inside it
                    inside(self.source, path.relative_to(self.source))
                elif path.is_symlink():
                    raise ValueError("is a symbolic link; list the image's real path in the manifest")
                with Image.open(path) as img:
                    check_pixels(img)
                    img.verify()  # chunk structure and checksums
                    cut = truncation_error(path, img.format)
                if cut:
                    raise ValueError(cut)
                image = open_image(path)
            except PathEscape as exc:
                results.append(GeneratedImage(request, error=str(exc)))
                continue
            except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... for broken files
                error = f"{path}: not a readable image ({type(exc).__name__}: {exc})"
                results.append(GeneratedImage(request, error=error))
                continue
            recipe = {**self.describe(), "file": str(path), "file_sha256": sha256_file(path), "seed": None}
            results.append(GeneratedImage(request, image=image, recipe=recipe))
        return results
