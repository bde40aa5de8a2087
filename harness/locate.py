"""Where shipped tasks, judges and models live: the working directory first, then the source checkout."""

from __future__ import annotations

from pathlib import Path

from harness.errors import PuncError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TASK = "tasks/world_default.yaml"


def search_roots() -> list[Path]:
    roots = [Path.cwd()]
    if PROJECT_ROOT not in roots:
        roots.append(PROJECT_ROOT)
    return roots


def find_shipped(relative: str) -> Path | None:
    for root in search_roots():
        candidate = root / relative
        if candidate.exists():
            return candidate
    return None


def resolve_task_path(value: str | None) -> Path:
    """A path, or the name of a task in `tasks/` (`world_default` finds `tasks/world_default.yaml`)."""
    if value is None:
        found = find_shipped(DEFAULT_TASK)
        if found is None:
            raise PuncError(
                f"no TASK given and the default {DEFAULT_TASK} was not found in {Path.cwd()} "
                "or the punc-harness checkout; pass a task YAML path"
            )
        return found
    path = Path(value)
    if path.exists():
        return path
    found = find_shipped(f"tasks/{value}.yaml") if "/" not in value else None
    if found is None:
        raise PuncError(
            f"task '{value}': no such file, and no tasks/{value}.yaml either (see `punc ls tasks`)"
        )
    return found


def resolve_judge_path(value: str) -> Path:
    path = Path(value)
    if path.exists():
        return path
    found = find_shipped(f"judges/{value}.yaml") if "/" not in value else None
    if found is None:
        raise PuncError(
            f"judge '{value}': no such file, and no judges/{value}.yaml either (see `punc ls judges`)"
        )
    return found


def list_shipped(folder: str, suffix: str) -> list[Path]:
    seen: dict[str, Path] = {}
    for root in search_roots():
        for path in sorted((root / folder).rglob(f"*{suffix}")):
            seen.setdefault(str(path.relative_to(root / folder)), path)
    return list(seen.values())
