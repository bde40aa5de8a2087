"""Generators: diffusers pipelines, pre-made images, and plug-ins from the `punc.generators` entry points."""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from harness.errors import PuncError
from harness.generators.base import GeneratedImage, Generator, ImageRequest

ENTRY_POINT_GROUP = "punc.generators"
#: images other tools already made, read in their own layouts (pre-made generators)
IMPORTERS = {
    "geneval": "harness.generators.geneval_folder:GenEvalFolderGenerator",
    "t2i_compbench": "harness.generators.t2i_compbench_folder:T2ICompBenchFolderGenerator",
}

__all__ = ["GeneratedImage", "Generator", "ImageRequest", "available_generators", "resolve_generator"]


def available_generators() -> dict[str, str]:
    """Registered generator kinds (name -> object path), built-ins first."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found.setdefault("diffusers", "harness.generators.diffusers_pipeline:DiffusersGenerator")
    found.setdefault("premade", "harness.generators.premade:PremadeGenerator")
    found.setdefault("openai-images", "harness.generators.api_images:OpenAIImagesGenerator")
    for kind, target in IMPORTERS.items():
        found.setdefault(kind, target)
    return found


def _load_kind(kind: str) -> type[Generator]:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == kind:
            cls = ep.load()
            break
    else:
        if kind == "diffusers":
            from harness.generators.diffusers_pipeline import DiffusersGenerator as cls
        elif kind == "premade":
            from harness.generators.premade import PremadeGenerator as cls
        elif kind == "openai-images":
            from harness.generators.api_images import OpenAIImagesGenerator as cls
        elif kind in IMPORTERS:
            module, _, name = IMPORTERS[kind].partition(":")
            cls = getattr(importlib.import_module(module), name)
        else:
            known = ", ".join(sorted(available_generators()))
            raise PuncError(f"generator kind '{kind}' is not registered (known: {known})")
    if not (isinstance(cls, type) and issubclass(cls, Generator)):
        raise PuncError(f"generator plug-in '{kind}' does not subclass harness.generators.Generator")
    return cls


def split_spec(spec: str) -> tuple[str, str]:
    """`KIND:ARGUMENT`, or a bare path/hub id whose kind is guessed from what it is."""
    kind, sep, rest = spec.partition(":")
    path = Path(spec)
    if sep and not path.exists():
        if kind in available_generators():
            return kind, rest
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", kind):  # hub ids and paths have no KIND: prefix
            known = ", ".join(sorted(available_generators()))
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
    cls = _load_kind(kind)
    if kind == "premade" or kind in IMPORTERS:
        options = {}
    return cls(argument, **{k: v for k, v in options.items() if v is not None})
