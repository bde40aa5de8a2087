"""Safe YAML loading whose errors point at file, line and key path; no tag can construct code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import InputError, InputErrors

ModelT = TypeVar("ModelT", bound=BaseModel)


def key_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as `scorers[1].params.layer`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Follow a key path through the composed YAML tree to the line that holds it (1-based)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                return line
            key_node = next(k for k, v in node.value if v is match)
            node, line = match, key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse with SafeLoader only: python/object tags and other language-specific tags are refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, None, None, "an existing YAML file") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise InputError(path, None, None, "a UTF-8 YAML file", type(exc).__name__) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise InputError(
            path, f"line {line}", None, "plain YAML without language-specific tags", exc.problem
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputError(path, where, None, "valid YAML", getattr(exc, "problem", str(exc))) from None
    return data, node


def validate_model(model: type[ModelT], data: Any, path: Path, node: yaml.Node | None = None) -> ModelT:
    """Validate and convert every pydantic error into one InputError with file, line and key path."""
    if not isinstance(data, dict):
        raise InputError(path, "line 1", None, f"a mapping of {model.__name__} fields", type(data).__name__)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            where = f"line {line}, key {key_path(loc)}" if line else f"key {key_path(loc)}"
            field = str(loc[-1]) if loc else None
            got = err.get("input") if err["type"] not in ("missing",) else None
            expected = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                expected = "this required field"
            elif err["type"] == "extra_forbidden":
                expected = f"no unknown field (allowed: {', '.join(sorted(model.model_fields))})"
                got = None
            errors.append(InputError(path, where, field, expected, got))
        raise (errors[0] if len(errors) == 1 else InputErrors(errors)) from None


def load_yaml_model(model: type[ModelT], path: str | Path) -> ModelT:
    path = Path(path)
    data, node = read_yaml(path)
    return validate_model(model, data, path, node)
