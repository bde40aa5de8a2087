"""Deterministic builder of the embedded world's prompt sets (id, vague, corrupted, ood, bias probes).

Every prompt: {"id", "text", "labels": {"shift", "category", "attributes": {...}, ...}}.
"attributes" holds the object's shape/colour/size/position (None where the prompt leaves it open)
and background (always "plain"). Every set uses the judge's one-object template, so that no set can
be told from another by its form: id prompts name everything; vague prompts leave one or two of
size, colour and shape open; OOD prompts substitute an unseen shape and/or colour (labels "unseen");
corrupted prompts carry typos. The colour-open bias probes are a set of their own ("bias_probe").
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from .captions import caption, object_phrase
from .vocabulary import (
    BIAS_COLOUR,
    BIAS_PROB,
    BIAS_SHAPE,
    GEN_COLOURS,
    GEN_POSITIONS,
    GEN_SHAPES,
    GEN_SIZES,
    UNSEEN_COLOURS,
    UNSEEN_SHAPES,
)

SEED = 20250101
N_ID_FULL = 100
N_BIAS_PER_GROUP = 10
N_VAGUE = 110
N_CORRUPTED = 110
N_OOD = 115


def _obj(shape, colour, size, position):
    return {"shape": shape, "colour": colour, "size": size, "position": position}


def _attrs(obj, background="plain"):
    return {**obj, "background": background}


def full_combos():
    return [
        _obj(s, c, z, p)
        for s, c, z, p in itertools.product(GEN_SHAPES, GEN_COLOURS, GEN_SIZES, GEN_POSITIONS)
    ]


def heldout_full_combos(seed: int = SEED):
    """Full single-object descriptions reserved for evaluation (never used in generator training)."""
    rng = random.Random(seed)
    combos = full_combos()
    rng.shuffle(combos)
    return combos[:N_ID_FULL]


def build_id(seed: int = SEED) -> list[dict[str, Any]]:
    """The 100 complete held-out descriptions (every attribute named, in the judge's template)."""
    return [
        {
            "id": f"world_id.full.{i:03d}",
            "text": object_phrase(o),
            "labels": {"shift": "none", "category": "full", "attributes": _attrs(o)},
        }
        for i, o in enumerate(heldout_full_combos(seed))
    ]


def build_bias_probes(seed: int = SEED) -> list[dict[str, Any]]:
    """Complete descriptions with the colour left open: 10 circles (trained bias) and 10 other shapes.

    They are not in-distribution prompts (the colour is open), so they live in their own set."""
    rng = random.Random(seed + 1)
    others = [s for s in GEN_SHAPES if s != BIAS_SHAPE]
    circle = [_obj(BIAS_SHAPE, None, z, p) for z, p in itertools.product(GEN_SIZES, GEN_POSITIONS)]
    other = [_obj(s, None, z, p) for s, z, p in itertools.product(others, GEN_SIZES, GEN_POSITIONS)]
    rng.shuffle(circle)
    rng.shuffle(other)
    p_other = 1.0 / len(GEN_COLOURS)
    out = []
    for grp, objs, rate in (("biased", circle, BIAS_PROB), ("unbiased", other, p_other)):
        for i, o in enumerate(objs[:N_BIAS_PER_GROUP]):
            out.append(
                {
                    "id": f"world_bias.{grp}.{i:03d}",
                    "text": object_phrase(o),
                    "labels": {
                        "shift": "vague",
                        "category": f"bias_probe_{grp}",
                        "attributes": _attrs(o),
                        "bias_probe": {
                            "attribute": "colour",
                            "shape": o["shape"],
                            "biased": grp == "biased",
                            "expected_value": BIAS_COLOUR,
                            "expected_rate": rate,
                        },
                    },
                }
            )
    return out


# Vague prompts name the position and leave one or two of size, colour and shape open (an open shape
# is written "shape", a word the generator knows). Each vague prompt is the candidate of its kind
# whose length in characters is closest to a randomly drawn id prompt's, so that prompt length says
# little about the shift (docs/world.md and docs/results.md give the prompt-only AUROCs).
VAGUE_MIX = (
    (("shape",), 33),
    (("size",), 27),
    (("colour",), 28),
    (("size", "shape"), 14),
    (("colour", "shape"), 8),
)
VAGUE_CANDIDATES = 30


def build_vague(seed: int = SEED) -> list[dict[str, Any]]:
    """Under-specified prompts of id length: the position is named, one or two attributes are open."""
    keys = ("shape", "colour", "size", "position")
    rng = random.Random(seed + 2)
    id_lengths = [len(p["text"]) for p in build_id(seed)]
    out, seen = [], set()
    for open_, n in VAGUE_MIX:
        made = 0
        while made < n:
            target = rng.choice(id_lengths)
            candidates = []
            for _ in range(VAGUE_CANDIDATES):
                o = _obj(
                    rng.choice(GEN_SHAPES),
                    rng.choice(GEN_COLOURS),
                    rng.choice(GEN_SIZES),
                    rng.choice(GEN_POSITIONS),
                )
                v = {k: (None if k in open_ else o[k]) for k in keys}
                text = object_phrase(v)
                if text not in seen:
                    candidates.append((abs(len(text) - target), rng.random(), text, v))
            if not candidates:
                raise RuntimeError(f"no unused vague prompt left for open {open_}")
            _, _, text, v = min(candidates)
            seen.add(text)
            made += 1
            out.append(
                {
                    "id": f"world_vague.{len(out):03d}",
                    "text": text,
                    "labels": {
                        "shift": "vague",
                        "category": "open_" + "_".join(open_),
                        "attributes": _attrs(v),
                        "open": list(open_),
                    },
                }
            )
    return out


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    kind = rng.choice(["swap", "drop", "double", "sub"])
    i = rng.randrange(1, len(word) - 1)
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    c = rng.choice("abcdefghijklmnopqrstuvwxyz".replace(word[i], ""))
    return word[:i] + c + word[i + 1 :]


def build_corrupted(seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed + 3)
    combos = full_combos()
    rng.shuffle(combos)
    out = []
    for i, o in enumerate(combos[:N_CORRUPTED]):
        words = object_phrase(o).split()
        content = [j for j, w in enumerate(words) if len(w) >= 3 and w not in ("the",)]
        n = 1 + (rng.random() < 0.6)
        hit = rng.sample(content, n)
        for j in hit:
            for _ in range(10):
                t = _typo(words[j], rng)
                if t != words[j]:
                    words[j] = t
                    break
        out.append(
            {
                "id": f"world_corrupted.{i:03d}",
                "text": " ".join(words),
                "labels": {
                    "shift": "corrupted",
                    "category": f"typos_{n}",
                    "attributes": _attrs(o),
                    "clean_text": object_phrase(o),
                },
            }
        )
    return out


OOD_PLAN = (("unseen_shape", 45), ("unseen_colour", 45), ("unseen_shape_colour", 25))


def build_ood(seed: int = SEED) -> list[dict[str, Any]]:
    """OOD by substitution: an id-template description in which the shape, the colour or both are
    concepts the generator never saw (diamond, heart, ring; purple, orange, black). Same template
    and length as the id prompts; the generator's tokenizer knows every such word as one token."""
    rng = random.Random(seed + 4)
    plan = [cat for cat, n in OOD_PLAN for _ in range(n)]
    out, seen = [], set()
    while len(out) < len(plan):
        cat = plan[len(out)]
        o = _obj(
            rng.choice(GEN_SHAPES), rng.choice(GEN_COLOURS), rng.choice(GEN_SIZES), rng.choice(GEN_POSITIONS)
        )
        unseen: list[str] = []
        if "shape" in cat:
            o["shape"] = rng.choice(UNSEEN_SHAPES)
            unseen.append(o["shape"])
        if "colour" in cat:
            o["colour"] = rng.choice(UNSEEN_COLOURS)
            unseen.append(o["colour"])
        text = object_phrase(o)
        if text in seen:
            continue
        seen.add(text)
        out.append(
            {
                "id": f"world_ood.{len(out):03d}",
                "text": text,
                "labels": {
                    "shift": "ood",
                    "category": cat,
                    "attributes": _attrs(o),
                    "unseen": unseen,
                    "canonical_caption": caption({"objects": [o], "background": "plain"}),
                },
            }
        )
    return out


def build_all(seed: int = SEED) -> dict[str, list[dict[str, Any]]]:
    return {
        "id": build_id(seed),
        "vague": build_vague(seed),
        "corrupted": build_corrupted(seed),
        "ood": build_ood(seed),
    }


def build_bias_probe(seed: int = SEED) -> list[dict[str, Any]]:
    """The bias task: the 20 colour-open probes plus the vague prompts that name a shape and leave
    its colour open."""
    vague = [
        p
        for p in build_vague(seed)
        if p["labels"]["attributes"].get("shape") and p["labels"]["attributes"].get("colour") is None
    ]
    return build_bias_probes(seed) + vague


def eval_texts(seed: int = SEED) -> set[str]:
    """All prompt texts of the four detection sets."""
    return {p["text"] for ps in build_all(seed).values() for p in ps}
