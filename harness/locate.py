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


def shipped_names(folder: str, suffix: str = ".yaml") -> dict[str, Path]:
    """Name -> file, as `punc ls` prints them: the file's stem (`qwen2-vl-vllm` for
    judges/examples/qwen2-vl-vllm.yaml), or its folder for FOLDER/task.yaml; the relative path without
    suffix when a stem is not unique."""
    files = list_shipped(folder, suffix)

    def short(path: Path) -> str:
        return path.parent.name if path.stem == "task" and path.parent.name != folder else path.stem

    counts: dict[str, int] = {}
    for path in files:
        counts[short(path)] = counts.get(short(path), 0) + 1
    names: dict[str, Path] = {}
    for path in files:
        name = short(path)
        if counts[name] > 1:
            root = next(r / folder for r in search_roots() if path.is_relative_to(r / folder))
            name = path.relative_to(root).with_suffix("").as_posix()
        names.setdefault(name, path)
    return names


def _resolve_named(value: str, folder: str, what: str) -> Path:
    """A path that exists, or a name `punc ls FOLDER` prints (with or without .yaml)."""
    path = Path(value)
    if path.exists():
        return path
    name = value[: -len(path.suffix)] if path.suffix in (".yaml", ".yml") else value
    found = shipped_names(folder).get(name)
    if found is None:
        raise PuncError(
            f"{what} '{value}': no such file, and no {what} named '{name}' in {folder}/ "
            f"(see `punc ls {folder}`)"
        )
    return found


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
    return _resolve_named(value, "tasks", "task")


def resolve_judge_path(value: str) -> Path:
    """A path, or the name of a judge in `judges/` as `punc ls judges` prints it."""
    return _resolve_named(value, "judges", "judge")


def list_shipped(folder: str, suffix: str) -> list[Path]:
    seen: dict[str, Path] = {}
    for root in search_roots():
        for path in sorted((root / folder).rglob(f"*{suffix}")):
            seen.setdefault(str(path.relative_to(root / folder)), path)
    return list(seen.values())
