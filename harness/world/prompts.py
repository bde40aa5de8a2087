"""Deterministic builder of the embedded world's prompt sets (id, vague, corrupted, ood).

Every prompt: {"id", "text", "labels": {"shift", "category", "attributes": {...}, ...}}.
"attributes" holds the first object's shape/colour/size/position (None where the prompt leaves it
open) and background ("plain" when not mentioned in id/corrupted/ood prompts; None in vague
prompts is never used: the generator's default background is plain). Two-object prompts also carry
"objects" (list of attribute dicts). OOD prompts carry "unseen": the concepts outside the
generator's training vocabulary. Bias probes (in the id set) carry "bias_probe".
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
    CORNERS,
    GEN_COLOURS,
    GEN_POSITIONS,
    GEN_SHAPES,
    GEN_SIZES,
    UNSEEN_BACKGROUNDS,
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
    out = []
    for i, o in enumerate(heldout_full_combos(seed)):
        out.append(
            {
                "id": f"world_id.full.{i:03d}",
                "text": object_phrase(o),
                "labels": {"shift": "none", "category": "full", "attributes": _attrs(o)},
            }
        )
    rng = random.Random(seed + 1)
    others = [s for s in GEN_SHAPES if s != BIAS_SHAPE]
    circle = [_obj(BIAS_SHAPE, None, z, p) for z, p in itertools.product(GEN_SIZES, GEN_POSITIONS)]
    other = [_obj(s, None, z, p) for s, z, p in itertools.product(others, GEN_SIZES, GEN_POSITIONS)]
    rng.shuffle(circle)
    rng.shuffle(other)
    p_other = 1.0 / len(GEN_COLOURS)
    for grp, objs, rate in (("biased", circle, BIAS_PROB), ("unbiased", other, p_other)):
        for i, o in enumerate(objs[:N_BIAS_PER_GROUP]):
            out.append(
                {
                    "id": f"world_id.bias_{grp}.{i:03d}",
                    "text": object_phrase(o),
                    "labels": {
                        "shift": "none",
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


def build_vague(seed: int = SEED) -> list[dict[str, Any]]:
    """At most two of shape/colour/size/position named (>= 2 left open)."""
    keys = ("shape", "colour", "size", "position")
    choices = {"shape": GEN_SHAPES, "colour": GEN_COLOURS, "size": GEN_SIZES, "position": GEN_POSITIONS}
    texts = []
    for k in range(0, 3):
        for named in itertools.combinations(keys, k):
            for vals in itertools.product(*(choices[n] for n in named)):
                o = _obj(None, None, None, None)
                o.update(dict(zip(named, vals, strict=False)))
                texts.append((named, o))
    rng = random.Random(seed + 2)
    rng.shuffle(texts)
    out = []
    for i, (named, o) in enumerate(texts[:N_VAGUE]):
        cat = "open_all" if not named else "named_" + "_".join(named)
        out.append(
            {
                "id": f"world_vague.{i:03d}",
                "text": object_phrase(o),
                "labels": {
                    "shift": "vague",
                    "category": cat,
                    "attributes": _attrs(o, None),
                    "open": [k for k in keys if o[k] is None],
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


def build_ood(seed: int = SEED) -> list[dict[str, Any]]:
    """Known object + concepts the generator never saw (a second object of an unseen shape or
    colour, an unseen background texture, or an unseen attribute on the single object)."""
    rng = random.Random(seed + 4)
    plan = (
        ["second_object_unseen"] * 45
        + ["unseen_background"] * 35
        + ["unseen_all"] * 20
        + ["unseen_attribute"] * (N_OOD - 100)
    )
    out, seen = [], set()
    i = 0
    while i < len(plan):
        cat = plan[i]
        p1, p2 = rng.sample(CORNERS, 2)
        o1 = _obj(rng.choice(GEN_SHAPES), rng.choice(GEN_COLOURS), rng.choice(GEN_SIZES), p1)
        objs = [o1]
        unseen: list[str] = []
        bg = "plain"
        if cat in ("second_object_unseen", "unseen_all"):
            if rng.random() < 0.5:
                o2 = _obj(
                    rng.choice(UNSEEN_SHAPES),
                    rng.choice(GEN_COLOURS + UNSEEN_COLOURS),
                    rng.choice(GEN_SIZES),
                    p2,
                )
            else:
                o2 = _obj(
                    rng.choice(GEN_SHAPES + UNSEEN_SHAPES),
                    rng.choice(UNSEEN_COLOURS),
                    rng.choice(GEN_SIZES),
                    p2,
                )
            objs.append(o2)
            unseen += ["second_object"] + [
                v for v in (o2["shape"], o2["colour"]) if v in UNSEEN_SHAPES + UNSEEN_COLOURS
            ]
        if cat in ("unseen_background", "unseen_all", "unseen_attribute"):
            bg = rng.choice(UNSEEN_BACKGROUNDS)
            unseen.append(bg)
        if cat == "unseen_attribute":
            o1["position"] = rng.choice(GEN_POSITIONS)
            if rng.random() < 0.5:
                o1["shape"] = rng.choice(UNSEEN_SHAPES)
                unseen.append(o1["shape"])
            else:
                o1["colour"] = rng.choice(UNSEEN_COLOURS)
                unseen.append(o1["colour"])
        # prompt lists the known object first
        text = " and ".join(object_phrase(o) for o in objs)
        if bg != "plain":
            text += f" on a {bg} background"
        if text in seen:
            continue
        seen.add(text)
        out.append(
            {
                "id": f"world_ood.{i:03d}",
                "text": text,
                "labels": {
                    "shift": "ood",
                    "category": cat,
                    "attributes": _attrs(o1, bg),
                    "objects": objs,
                    "unseen": unseen,
                    "canonical_caption": caption({"objects": objs, "background": bg}),
                },
            }
        )
        i += 1
    return out


def build_all(seed: int = SEED) -> dict[str, list[dict[str, Any]]]:
    return {
        "id": build_id(seed),
        "vague": build_vague(seed),
        "corrupted": build_corrupted(seed),
        "ood": build_ood(seed),
    }


def build_bias_probe(seed: int = SEED) -> list[dict[str, Any]]:
    """Prompts that name a shape but leave its colour open (from the id and vague sets): the bias task."""
    sets = build_all(seed)
    return [
        p
        for p in sets["id"] + sets["vague"]
        if p["labels"]["attributes"].get("shape") and p["labels"]["attributes"].get("colour") is None
    ]


def eval_texts(seed: int = SEED) -> set[str]:
    """All prompt texts of all sets (the generator's training excludes them)."""
    return {p["text"] for ps in build_all(seed).values() for p in ps}
