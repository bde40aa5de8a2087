"""Renderer: scene dict -> (PIL RGB image, exact description)."""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import Image, ImageDraw

from .captions import caption
from .vocabulary import BACKGROUNDS, COLOURS, CORNERS, POSITIONS, SHAPES, SIZES

IMAGE_SIZE = 32
SS = 4  # supersampling factor
BG_BASE = (128, 128, 128)
BG_ALT = (92, 92, 92)
CENTRES = {
    "top left": (8.5, 8.5),
    "top right": (23.5, 8.5),
    "bottom left": (8.5, 23.5),
    "bottom right": (23.5, 23.5),
    "center": (16.0, 16.0),
}
RADII = {"small": 4.6, "large": 7.4}


def _background(draw: ImageDraw.ImageDraw, bg: str, n: int) -> None:
    draw.rectangle([0, 0, n, n], fill=BG_BASE)
    s = SS
    if bg == "striped":
        for y in range(0, IMAGE_SIZE, 4):
            draw.rectangle([0, y * s, n, (y + 2) * s - 1], fill=BG_ALT)
    elif bg == "dotted":
        for y in range(2, IMAGE_SIZE, 5):
            for x in range(2, IMAGE_SIZE, 5):
                draw.ellipse([x * s - 3, y * s - 3, x * s + 4, y * s + 4], fill=BG_ALT)
    elif bg == "checkered":
        for y in range(0, IMAGE_SIZE, 4):
            for x in range(0, IMAGE_SIZE, 4):
                if (x // 4 + y // 4) % 2:
                    draw.rectangle([x * s, y * s, (x + 4) * s - 1, (y + 4) * s - 1], fill=BG_ALT)
    elif bg != "plain":
        raise ValueError(f"unknown background {bg!r}")


def _poly(cx: float, cy: float, r: float, k: int, rot: float, inner: float | None = None):
    pts = []
    n = k * 2 if inner else k
    for i in range(n):
        a = rot + 2 * math.pi * i / n
        rr = r if (not inner or i % 2 == 0) else r * inner
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill) -> None:
    cx, cy, r = cx * SS, cy * SS, r * SS
    up = -math.pi / 2
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        h = r * 0.85
        draw.rectangle([cx - h, cy - h, cx + h, cy + h], fill=fill)
    elif shape == "triangle":
        draw.polygon(_poly(cx, cy + r * 0.15, r * 1.1, 3, up), fill=fill)
    elif shape == "star":
        draw.polygon(_poly(cx, cy + r * 0.1, r * 1.1, 5, up, inner=0.42), fill=fill)
    elif shape == "cross":
        w = r * 0.36
        draw.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fill)
        draw.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fill)
    elif shape == "diamond":
        draw.polygon(
            [(cx, cy - r * 1.1), (cx + r * 0.75, cy), (cx, cy + r * 1.1), (cx - r * 0.75, cy)], fill=fill
        )
    elif shape == "heart":
        q = r * 0.5
        draw.ellipse([cx - 2 * q, cy - 1.5 * q, cx, cy + 0.5 * q], fill=fill)
        draw.ellipse([cx, cy - 1.5 * q, cx + 2 * q, cy + 0.5 * q], fill=fill)
        draw.polygon(
            [(cx - 1.95 * q, cy - 0.2 * q), (cx + 1.95 * q, cy - 0.2 * q), (cx, cy + 2.0 * q)], fill=fill
        )
    elif shape == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        ri = r * 0.5
        draw.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=None, outline=None)
        return _hole(draw, cx, cy, ri)
    else:
        raise ValueError(f"unknown shape {shape!r}")


_HOLE: list = []


def _hole(draw, cx, cy, ri):
    _HOLE.append((cx, cy, ri))


def render(scene: dict[str, Any], rng: random.Random | None = None) -> tuple[Image.Image, str]:
    """Draw a scene. scene = {"objects": [{"shape","colour","size","position"}, ...],
    "background": "plain"|...}. rng (optional) adds sub-pixel jitter of position (+-1 px)
    and size (+-8 %). Returns (32x32 RGB PIL image, exact canonical description)."""
    n = IMAGE_SIZE * SS
    bg = scene.get("background", "plain")
    bg_img = Image.new("RGB", (n, n))
    _background(ImageDraw.Draw(bg_img), bg, n)
    img = bg_img.copy()
    draw = ImageDraw.Draw(img)
    for obj in scene["objects"]:
        cx, cy = CENTRES[obj["position"]]
        r = RADII[obj["size"]]
        if rng is not None:
            cx += rng.uniform(-1.0, 1.0)
            cy += rng.uniform(-1.0, 1.0)
            r *= rng.uniform(0.92, 1.08)
        _HOLE.clear()
        _shape(draw, obj["shape"], cx, cy, r, COLOURS[obj["colour"]])
        for hx, hy, hr in _HOLE:  # ring: paste background back into the hole
            mask = Image.new("L", (n, n), 0)
            ImageDraw.Draw(mask).ellipse([hx - hr, hy - hr, hx + hr, hy + hr], fill=255)
            img.paste(bg_img, (0, 0), mask)
        _HOLE.clear()
    img = img.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return img, caption(scene)


def random_scene(
    rng: random.Random,
    shapes=SHAPES,
    colours=tuple(COLOURS),
    sizes=SIZES,
    positions=POSITIONS,
    backgrounds=BACKGROUNDS,
    max_objects: int = 2,
    p_two: float = 0.5,
) -> dict[str, Any]:
    """Uniform random scene; two-object scenes use two distinct corners."""
    k = 2 if (max_objects >= 2 and rng.random() < p_two) else 1
    if k == 1:
        pos = [rng.choice(positions)]
    else:
        pos = rng.sample([p for p in CORNERS if p in positions], 2)
    objs = [
        {"shape": rng.choice(shapes), "colour": rng.choice(colours), "size": rng.choice(sizes), "position": p}
        for p in pos
    ]
    return {"objects": objs, "background": rng.choice(backgrounds)}
