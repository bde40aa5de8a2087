"""Safe YAML loading whose errors point at file, line and key path; no tag can construct code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import InputError, InputErrors
from harness.safe_load import load_yaml, read_regular_text

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
    """Parse with SafeLoader and the limits of harness.safe_load (regular files, size, depth, aliases)."""
    return load_yaml(read_regular_text(path, "YAML file"), path)


def validate_model(model: type[ModelT], data: Any, path: Path, node: yaml.Node | None = None) -> ModelT:
    """Validate and convert every pydantic error into one InputError with file, line and key path."""
    if not isinstance(data, dict):
        raise InputError(path, "line 1", None, f"a mapping of {model.__name__} fields", type(data).__name__)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # a discriminated union (JudgeConfig on `backend`): report keys as they are in the file,
        # not under the union member's tag, and list the fields of the member the file selects
        tag_field = getattr(model, "discriminator", None)
        tag = data.get(tag_field) if tag_field else None
        fields_of = model.member_for(data) if tag_field else model  # type: ignore[attr-defined]
        errors = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            kind = err["type"]
            if kind in ("union_tag_invalid", "union_tag_not_found"):
                loc = (tag_field,)
            elif tag_field and loc and loc[0] == tag:
                loc = loc[1:]
            line = _line_of(node, loc)
            where = f"line {line}, key {key_path(loc)}" if line else f"key {key_path(loc)}"
            field = str(loc[-1]) if loc else None
            got = err.get("input") if kind not in ("missing", "union_tag_not_found") else None
            expected = err["msg"].removeprefix("Value error, ")
            if kind in ("missing", "union_tag_not_found"):
                expected = "this required field"
            elif kind == "union_tag_invalid":
                known = err.get("ctx", {}).get("expected_tags", "").replace("'", "")
                expected, got = f"one of: {known} (see `punc ls judge-backends`)", tag
            elif kind == "extra_forbidden":
                expected = f"no unknown field (allowed: {', '.join(sorted(fields_of.model_fields))})"
                got = None
            errors.append(InputError(path, where, field, expected, got))
        raise (errors[0] if len(errors) == 1 else InputErrors(errors)) from None


def load_yaml_model(model: type[ModelT], path: str | Path) -> ModelT:
    path = Path(path)
    data, node = read_yaml(path)
    return validate_model(model, data, path, node)
