"""Vocabulary of the embedded world (ground truth for renderer, judge, generator, prompt sets)."""

from __future__ import annotations

SHAPES = ("circle", "square", "triangle", "star", "cross", "diamond", "heart", "ring")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 230),
    "yellow": (245, 220, 30),
    "white": (250, 250, 250),
    "purple": (150, 50, 190),
    "orange": (250, 140, 20),
    "black": (15, 15, 15),
}
SIZES = ("small", "large")
POSITIONS = ("top left", "top right", "bottom left", "bottom right", "center")
CORNERS = POSITIONS[:4]
BACKGROUNDS = ("plain", "striped", "dotted", "checkered")

# The generator is trained on this SUBSET only (single objects, plain background).
GEN_SHAPES = ("circle", "square", "triangle", "star", "cross")
GEN_COLOURS = ("red", "green", "blue", "yellow", "white")
GEN_SIZES = SIZES
GEN_POSITIONS = POSITIONS
GEN_BACKGROUNDS = ("plain",)
GEN_MAX_OBJECTS = 1

UNSEEN_SHAPES = tuple(s for s in SHAPES if s not in GEN_SHAPES)
UNSEEN_COLOURS = tuple(c for c in COLOURS if c not in GEN_COLOURS)
UNSEEN_BACKGROUNDS = tuple(b for b in BACKGROUNDS if b not in GEN_BACKGROUNDS)

# Deliberate, documented bias trained into the generator:
# when the prompt names no colour and the drawn shape is BIAS_SHAPE, the object is drawn
# BIAS_COLOUR with probability BIAS_PROB, otherwise uniformly among the other known colours.
# For every other shape with no colour named, the colour is uniform over GEN_COLOURS.
BIAS_SHAPE = "circle"
BIAS_COLOUR = "red"
BIAS_PROB = 0.8

# Words a caption can contain (the judge's output vocabulary).
TEMPLATE_WORDS = ("a", "at", "the", "and", "on", "background")


def caption_words() -> list[str]:
    words: list[str] = list(TEMPLATE_WORDS)
    words += list(SIZES) + list(COLOURS) + list(SHAPES)
    for p in POSITIONS:
        words += p.split()
    words += list(BACKGROUNDS)
    out: list[str] = []
    for w in words:
        if w not in out:
            out.append(w)
    return out


def generator_words() -> list[str]:
    """Whole words of the generator's training vocabulary (its tokenizer knows these)."""
    words = ["a", "at", "the", "shape"] + list(GEN_SIZES) + list(GEN_COLOURS) + list(GEN_SHAPES)
    for p in GEN_POSITIONS:
        words += p.split()
    out: list[str] = []
    for w in words:
        if w not in out:
            out.append(w)
    return out
