"""Deterministic builder of the embedded world's prompt sets (id, vague, corrupted, ood, bias probes).

Every prompt: {"id", "text", "labels": {"shift", "category", "attributes": {...}, ...}}.
"attributes" holds the object's shape/colour/size/position (None where the prompt leaves it open)
and background (always "plain"). Every set uses the judge's one-object template, so that no set can
be told from another by its form: id prompts name everything; vague prompts leave one or two of
size, colour and shape open; OOD prompts substitute an unseen shape and/or colour (labels "unseen");
corrupted prompts carry typos. The colour-open bias probes are a set of their own ("bias_probe").
A quarter of every detection set is paraphrased away from the template (labels "phrasing"), with
length-preserving rewrites from words the generator's tokenizer knows, so that prompt and caption need
not share one template and no set differs from another in how often it does.
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


# Rewrites of the template that keep the words' count and the characters' count, built only from words
# the generator's tokenizer knows (no punctuation: "left," would split into two tokens). Rewrites that
# the generator cannot read were measured and left out: position first ("at the top left a small green
# star") drops its shape fidelity on id prompts from 0.97 to 0.60 (docs/world.md).
PHRASINGS = ("adjectives_after", "position_swapped", "on_the")
PARAPHRASE_SHARE = 0.25


def phrase(obj: dict[str, Any], phrasing: str = "template", shape_word: bool = False) -> str:
    """One object in the judge's template ('a small red circle at the top left') or a rewrite of it:
    adjectives_after 'a circle small red at the top left', position_swapped '... at the left top',
    on_the '... on the top left' (corners only). An open shape is the word 'shape'; shape_word adds 'shape' after a
    named one ('a small circle shape'). Open attributes (None) are left out."""
    noun = obj.get("shape") or "shape"
    if shape_word and obj.get("shape"):
        noun += " shape"
    adjectives = [a for a in (obj.get("size"), obj.get("colour")) if a]
    head = " ".join(["a", noun, *adjectives] if phrasing == "adjectives_after" else ["a", *adjectives, noun])
    pos = obj.get("position")
    if not pos:
        return head
    if phrasing == "position_swapped" and pos != "center":
        pos = " ".join(reversed(pos.split()))
    return f"{head} {'on' if phrasing == 'on_the' else 'at'} the {pos}"


def applicable(phrasing: str, obj: dict[str, Any]) -> bool:
    if phrasing in ("position_swapped", "on_the"):  # "at the center" has no other word order or preposition
        return obj.get("position") not in (None, "center")
    if phrasing == "adjectives_after":
        return bool(obj.get("size") or obj.get("colour"))
    return True


def paraphrase_plan(n: int, rng: random.Random) -> dict[int, str]:
    """Which of n prompts are paraphrased (PARAPHRASE_SHARE of them, drawn by rng), each with the
    phrasing it is given first (the rewrites take turns; `pick_phrasing` falls back when one does not
    apply)."""
    chosen = sorted(rng.sample(range(n), round(PARAPHRASE_SHARE * n)))
    return {i: PHRASINGS[j % len(PHRASINGS)] for j, i in enumerate(chosen)}


def pick_phrasing(first: str, obj: dict[str, Any]) -> str:
    order = PHRASINGS[PHRASINGS.index(first) :] + PHRASINGS[: PHRASINGS.index(first)]
    return next(p for p in order if applicable(p, obj))


def phrased(
    obj: dict[str, Any], plan: dict[int, str], i: int, shape_word: bool = False
) -> tuple[str, dict[str, Any]]:
    """(text, labels) of prompt i: the template, or its rewrite when the plan picks i. Rewritten
    prompts keep the template in labels["template_text"] (the exclusion list of generator training
    holds both)."""
    template = phrase(obj, shape_word=shape_word)
    if i not in plan:
        return template, {"phrasing": "template"}
    how = pick_phrasing(plan[i], obj)
    return phrase(obj, how, shape_word), {"phrasing": how, "template_text": template}


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
    combos = heldout_full_combos(seed)
    plan = paraphrase_plan(len(combos), random.Random(seed + 11))
    out = []
    for i, o in enumerate(combos):
        text, extra = phrased(o, plan, i)
        out.append(
            {
                "id": f"world_id.full.{i:03d}",
                "text": text,
                "labels": {"shift": "none", "category": "full", "attributes": _attrs(o), **extra},
            }
        )
    return out


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
# is written "shape", a word the generator knows; a colour-open prompt may say "a small star shape",
# which keeps the id prompts' eight words). The mix gives the vague set the id set's lengths: each
# vague prompt is the candidate of its kind whose length in characters is closest to a randomly drawn
# id prompt with as many words, so that neither words, characters nor tokens tell the sets apart
# (docs/world.md and docs/results.md give the prompt-only AUROCs). (open, shape word, where, n):
VAGUE_MIX = (
    (("colour",), True, "corner", 34),  # a small star shape at the top left (8 words)
    (("shape",), False, "corner", 30),  # a small green shape at the top left (8)
    (("size",), False, "corner", 14),  # a green star at the top left (7)
    (("colour",), False, "corner", 10),  # a small star at the top left (7)
    (("colour", "shape"), False, "corner", 5),  # a small shape at the top left (7)
    (("size", "shape"), False, "corner", 5),  # a green shape at the top left (7)
    (("colour",), True, "center", 6),  # a small star shape at the center (7)
    (("shape",), False, "center", 6),  # a small green shape at the center (7)
)
VAGUE_CANDIDATES = 30
CORNERS = tuple(p for p in GEN_POSITIONS if p != "center")


def build_vague(seed: int = SEED) -> list[dict[str, Any]]:
    """Under-specified prompts of id length: the position is named, one or two attributes are open."""
    keys = ("shape", "colour", "size", "position")
    rng = random.Random(seed + 2)
    id_lengths: dict[int, list[int]] = {}
    for p in build_id(seed):
        id_lengths.setdefault(len(p["text"].split()), []).append(len(p["text"]))
    picked, seen = [], set()
    for open_, shape_word, where, n in VAGUE_MIX:
        made = 0
        while made < n:
            candidates = []
            for _ in range(VAGUE_CANDIDATES):
                o = _obj(
                    rng.choice(GEN_SHAPES),
                    rng.choice(GEN_COLOURS),
                    rng.choice(GEN_SIZES),
                    rng.choice(CORNERS) if where == "corner" else "center",
                )
                v = {k: (None if k in open_ else o[k]) for k in keys}
                text = phrase(v, shape_word=shape_word)
                if text not in seen:
                    candidates.append((text, v))
            if not candidates:
                raise RuntimeError(f"no unused vague prompt left for open {open_}")
            target = rng.choice(id_lengths[len(candidates[0][0].split())])
            _, _, text, v = min((abs(len(t) - target), rng.random(), t, v) for t, v in candidates)
            seen.add(text)
            made += 1
            picked.append((open_, shape_word, v))
    plan = paraphrase_plan(len(picked), random.Random(seed + 12))
    out = []
    for i, (open_, shape_word, v) in enumerate(picked):
        text, extra = phrased(v, plan, i, shape_word)
        labels = {"shift": "vague", "category": "open_" + "_".join(open_), "attributes": _attrs(v)}
        labels["open"] = list(open_)
        if shape_word:
            labels["shape_word"] = True
        out.append({"id": f"world_vague.{i:03d}", "text": text, "labels": {**labels, **extra}})
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
    plan = paraphrase_plan(N_CORRUPTED, random.Random(seed + 13))
    out = []
    for i, o in enumerate(combos[:N_CORRUPTED]):
        clean, extra = phrased(o, plan, i)
        words = clean.split()
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
                    "clean_text": clean,
                    **extra,
                },
            }
        )
    return out


OOD_PLAN = (("unseen_shape", 45), ("unseen_colour", 45), ("unseen_shape_colour", 25))


def build_ood(seed: int = SEED) -> list[dict[str, Any]]:
    """OOD by substitution: an id-template description in which the shape, the colour or both are
    concepts the generator never saw (diamond, heart, ring; purple, orange, black). Same template,
    rewrites and length as the id prompts; the generator's tokenizer knows every such word as one
    token."""
    rng = random.Random(seed + 4)
    plan = [cat for cat, n in OOD_PLAN for _ in range(n)]
    rewrites = paraphrase_plan(len(plan), random.Random(seed + 14))
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
        template = object_phrase(o)
        if template in seen:
            continue
        seen.add(template)
        text, extra = phrased(o, rewrites, len(out))
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
                    **extra,
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
    """All prompt texts of the four detection sets, and the template text of each rewritten id, vague
    and OOD prompt (so that generator training excludes the same 100 id descriptions whether or not they
    are rewritten). A corrupted prompt's clean description is not added: the typos are its shift, and
    the clean descriptions were never held out of training."""
    texts = set()
    for name, prompts in build_all(seed).items():
        for p in prompts:
            texts.add(p["text"])
            if name != "corrupted" and "template_text" in p["labels"]:
                texts.add(p["labels"]["template_text"])
    return texts
