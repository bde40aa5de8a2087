"""Canonical caption text for a scene, and a tolerant parser back to attributes."""

from __future__ import annotations

import difflib
import re
from typing import Any

from .vocabulary import BACKGROUNDS, COLOURS, POSITIONS, SHAPES, SIZES

POSITION_ORDER = {p: i for i, p in enumerate(POSITIONS)}


def object_phrase(obj: dict[str, Any]) -> str:
    """'a small red circle at the top left'; attributes set to None are left out."""
    words = ["a"]
    if obj.get("size"):
        words.append(obj["size"])
    if obj.get("colour"):
        words.append(obj["colour"])
    words.append(obj.get("shape") or "shape")
    text = " ".join(words)
    pos = obj.get("position")
    if pos:
        text += " at the center" if pos == "center" else f" at the {pos}"
    return text


def caption(scene: dict[str, Any]) -> str:
    """Canonical caption (the judge's template). Objects sorted by position; plain background
    is not mentioned; other backgrounds add 'on a <bg> background'."""
    objs = sorted(scene["objects"], key=lambda o: POSITION_ORDER[o["position"]])
    text = " and ".join(object_phrase(o) for o in objs)
    bg = scene.get("background", "plain")
    if bg and bg != "plain":
        text += f" on a {bg} background"
    return text


_WORD = re.compile(r"[a-z]+")


def _fuzzy(word: str, choices: tuple[str, ...], cutoff: float = 0.75) -> str | None:
    if word in choices:
        return word
    m = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    return m[0] if m else None


def parse_caption(text: str) -> dict[str, Any]:
    """Tolerant parse of a caption (or prompt) into attributes.

    Returns {"objects": [{"shape", "colour", "size", "position"}...], "background": str|None,
    plus flat keys "shape", "colour", "size", "position" of the first object}. Unknown or
    missing attributes are None. Typos are matched fuzzily (difflib, cutoff 0.75);
    'colour'/'color' spellings and British/US 'centre/center' are accepted."""
    t = text.lower().replace("centre", "center").replace("middle", "center")
    bg = None
    m = re.search(r"on an? ([a-z]+) background", t)
    if m:
        bg = _fuzzy(m.group(1), BACKGROUNDS)
        t = t[: m.start()] + t[m.end() :]
    chunks = re.split(r"\band\b|,|;", t)
    objects = []
    for ch in chunks:
        words = _WORD.findall(ch)
        if not words:
            continue
        obj: dict[str, Any] = {"shape": None, "colour": None, "size": None, "position": None}
        joined = " ".join(words)
        for p in sorted(POSITIONS, key=len, reverse=True):
            if p in joined:
                obj["position"] = p
                joined = joined.replace(p, " ")
                break
        else:
            if "top" in words or "bottom" in words:
                v = "top" if "top" in words else "bottom"
                h = "left" if "left" in words else "right" if "right" in words else None
                if h:
                    obj["position"] = f"{v} {h}"
        for w in joined.split():
            if w in ("a", "an", "the", "at", "in", "on", "of", "is", "there"):
                continue
            if obj["size"] is None and (s := _fuzzy(w, SIZES)):
                obj["size"] = s
            elif obj["colour"] is None and (c := _fuzzy(w, tuple(COLOURS))):
                obj["colour"] = c
            elif obj["shape"] is None and (s := _fuzzy(w, SHAPES)):
                obj["shape"] = s
        if any(v is not None for v in obj.values()):
            objects.append(obj)
    first = objects[0] if objects else {"shape": None, "colour": None, "size": None, "position": None}
    out: dict[str, Any] = dict(first)
    out["objects"] = objects
    out["background"] = bg if bg else ("plain" if objects else None)
    return out
