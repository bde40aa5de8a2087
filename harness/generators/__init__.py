"""Generators by kind (`harness.registry.GENERATORS`): `--generator KIND:SPEC`, or a path or hub id."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.errors import PuncError
from harness.generators.base import GeneratedImage, Generator, ImageRequest
from harness.registry import GENERATORS

__all__ = [
    "GeneratedImage",
    "Generator",
    "ImageRequest",
    "available_generators",
    "generator_class",
    "resolve_generator",
    "split_spec",
]


def available_generators() -> dict[str, str]:
    """Generator kind -> one-line description, built-ins first (``harness.registry.GENERATORS``)."""
    return GENERATORS.describe()


def generator_class(kind: str) -> type[Generator]:
    return GENERATORS.get(kind)


def split_spec(spec: str) -> tuple[str, str]:
    """`KIND:ARGUMENT`, or a bare path/hub id whose kind is guessed from what it is."""
    kind, sep, rest = spec.partition(":")
    path = Path(spec)
    if sep and not path.exists():
        if kind in GENERATORS:
            return kind, rest
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", kind):  # hub ids and paths have no KIND: prefix
            known = ", ".join(GENERATORS.names())
            raise PuncError(
                f"generator '{spec}': '{kind}' is not a registered generator kind (known: {known}; "
                "see `punc ls generators`)"
            )
    if path.is_dir() and not (path / "model_index.json").exists():
        return "premade", spec
    if path.suffix == ".jsonl":  # a manifest, even a missing one: never a hub id
        return "premade", spec
    return "diffusers", spec


def resolve_generator(spec: str, **options: Any) -> Generator:
    kind, argument = split_spec(spec)
    cls = generator_class(kind)
    if cls.reads_existing_images:
        options = {}
    return cls(argument, **{k: v for k, v in options.items() if v is not None})
