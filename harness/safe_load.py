"""The one way this harness reads YAML and JSON from users, runs, bundles and requests.

Hostile files must end in a located InputError, never a hang, a traceback or a huge allocation:
only regular files are opened (a FIFO would block forever), sizes are capped, nesting depth is
capped (deep nesting overflows Python's recursion), YAML alias expansion is capped ("billion
laughs"), duplicate keys are refused (the last one would silently win), and integers longer than
Python's digit limit are reported instead of raising ValueError deep in a parser.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError

MAX_FILE_BYTES = 256 << 20  # a run log of millions of captions still fits
MAX_DEPTH = 64  # no file of this harness nests deeper than about 6
MAX_YAML_NODES = 200_000  # after alias expansion; a 679-byte billion-laughs file expands to 10^9


class LimitError(ValueError):
    """A parse limit was exceeded; the message says which and what is allowed."""


class JsonSyntaxError(ValueError):
    """Not JSON; `msg`, `lineno`, `colno` as json.JSONDecodeError has them."""

    def __init__(self, msg: str, lineno: int, colno: int) -> None:
        super().__init__(f"valid JSON ({msg} at line {lineno}, column {colno})")
        self.msg, self.lineno, self.colno = msg, lineno, colno


def read_regular_bytes(path: str | Path, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path` if it is a regular file under `max_bytes`; InputError otherwise.

    Opened non-blocking and checked with fstat on the open descriptor, so a FIFO, a device or a
    socket is refused at once instead of blocking, and nothing can swap the file after the check.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(path, None, None, f"an existing {what}") from None
    except IsADirectoryError:
        raise InputError(path, None, None, f"a {what}, found a directory") from None
    except OSError as exc:
        raise InputError(path, None, None, f"a readable {what} ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO, device or socket"
            raise InputError(path, None, None, f"a regular {what}, found {kind}")
        if info.st_size > max_bytes:
            raise InputError(path, None, None, f"a {what} of at most {max_bytes} bytes", info.st_size)
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise InputError(path, None, None, f"a readable {what} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(path, None, None, f"a {what} of at most {max_bytes} bytes", "a file that grew")
    return data


def read_regular_text(path: str | Path, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> str:
    data = read_regular_bytes(path, what, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, None, None, f"a UTF-8 {what}", f"invalid byte at offset {exc.start}") from None


# ---------------------------------------------------------------------------------------------- JSON


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise LimitError(f"each key once (key {key!r} is repeated)")
        out[key] = value
    return out


def _json_depth_ok(text: str | bytes, max_depth: int) -> bool:
    """Bracket depth outside strings, without recursion (the C parser recurses per level)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") <= max_depth:
        return True
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_json(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads with depth, duplicate-key and integer-size limits; LimitError/ValueError say why."""
    if not _json_depth_ok(text, max_depth):
        raise LimitError(f"JSON nested at most {max_depth} levels deep")
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except RecursionError:
        raise LimitError(f"JSON nested at most {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(exc.msg, exc.lineno, exc.colno) from None
    except LimitError:
        raise
    except ValueError as exc:  # e.g. integers over sys.get_int_max_str_digits()
        raise LimitError(f"JSON numbers of at most 4300 digits ({exc})") from None


def load_json(text: str | bytes, file: str | Path | None, where: int | str | None = None) -> Any:
    """parse_json whose errors are InputErrors naming the file and line (a JSONL line when `where`)."""
    try:
        return parse_json(text)
    except JsonSyntaxError as exc:
        if where is None:
            where_in_file = f"line {exc.lineno}, column {exc.colno}"
            raise InputError(file, where_in_file, None, f"valid JSON ({exc.msg})") from None
        raise InputError(file, where, None, f"one JSON object per line ({exc.msg})", text) from None
    except ValueError as exc:
        raise InputError(file, where, None, str(exc)) from None


def read_json_file(path: str | Path, what: str = "JSON file", max_bytes: int = MAX_FILE_BYTES) -> Any:
    return load_json(read_regular_bytes(path, what, max_bytes), path)


def json_lines(path: str | Path, what: str = "JSONL file") -> list[tuple[int, str]]:
    """Non-blank (line number, text) pairs of a regular UTF-8 file."""
    text = read_regular_text(path, what)
    return [(number, raw) for number, raw in enumerate(text.splitlines(), start=1) if raw.strip()]


# ---------------------------------------------------------------------------------------------- YAML


def _check_yaml_events(text: str, max_depth: int, max_nodes: int) -> None:
    """Walk parser events (no recursion) counting depth and the node count after alias expansion."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, size]
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) > max_depth:
                mark = event.start_mark
                raise yaml.YAMLError(
                    f"LIMIT line {mark.line + 1}: YAML nested at most {max_depth} levels deep"
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
            if stack:
                stack[-1][1] += size
            else:
                total += size
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            size = sizes.get(event.anchor, 1) if isinstance(event, yaml.AliasEvent) else 1
            if isinstance(event, yaml.ScalarEvent) and event.anchor:
                sizes[event.anchor] = 1
            if stack:
                stack[-1][1] += size
                size = stack[-1][1]
            else:
                total += size
            if size > max_nodes or total > max_nodes:
                mark = event.start_mark
                raise yaml.YAMLError(
                    f"LIMIT line {mark.line + 1}: YAML of at most {max_nodes} values after expanding "
                    "aliases (is this a 'billion laughs' file?)"
                )


def _duplicate_key(node: yaml.Node) -> tuple[yaml.Node, str] | None:
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name in seen and key.tag != "tag:yaml.org,2002:merge":
                    return key, name
                if name is not None:
                    seen.add(name)
                pending.append(value)
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
    return None


def load_yaml(text: str, file: str | Path | None) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document with SafeLoader and the limits above; InputError names file and line."""
    try:
        _check_yaml_events(text, MAX_DEPTH, MAX_YAML_NODES)
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                duplicate = _duplicate_key(node)
                if duplicate is not None:
                    key, name = duplicate
                    raise InputError(
                        file, f"line {key.start_mark.line + 1}", name, "each key once in a mapping", name
                    )
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise InputError(
            file, f"line {line}", None, "plain YAML without language-specific tags", exc.problem
        ) from None
    except yaml.YAMLError as exc:
        text_of = str(exc)
        if text_of.startswith("LIMIT "):
            where, _, expected = text_of[6:].partition(": ")
            raise InputError(file, where, None, expected) from None
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputError(file, where, None, "valid YAML", getattr(exc, "problem", None) or text_of) from None
    except RecursionError:
        raise InputError(file, None, None, f"YAML nested at most {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # int('9' * 5000) and similar
        raise InputError(file, None, None, "numbers of at most 4300 digits", str(exc)[:60]) from None
    return data, node
