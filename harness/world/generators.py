"""Control generators for the embedded world (entry points `world-renderer` and `world-random`).

- `world-renderer:`: a perfect generator. It parses the prompt (`parse_caption`, typos matched
  fuzzily) and draws exactly that scene with the renderer; it knows every concept of the world,
  including those the trained generator never saw. Attributes the prompt leaves open are drawn
  uniformly from the whole vocabulary. On its runs PUNC's U_epi should NOT detect the OOD prompts:
  if it did, the detection would come from the wording, not from the generator's ignorance.
- `world-random:`: ignores the prompt and draws a random scene the trained generator knows (one
  object, plain background). Whatever PUNC detects on its runs comes from the prompts alone.

Randomness comes from (seed, prompt id), so each image is reproducible alone and prompts sharing a
seed do not share their open attributes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

from harness.errors import PuncError
from harness.generators.base import GeneratedImage, Generator, ImageRequest

from .captions import parse_caption
from .render import IMAGE_SIZE, random_scene, render
from .vocabulary import (
    BACKGROUNDS,
    COLOURS,
    CORNERS,
    GEN_BACKGROUNDS,
    GEN_COLOURS,
    GEN_POSITIONS,
    GEN_SHAPES,
    GEN_SIZES,
    POSITIONS,
    SHAPES,
    SIZES,
)

VOCABULARY = {"shape": SHAPES, "colour": tuple(COLOURS), "size": SIZES, "position": POSITIONS}


def image_rng(request: ImageRequest, salt: str) -> random.Random:
    digest = hashlib.sha256(f"{salt}\0{request.prompt_id}\0{request.seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def scene_for_prompt(text: str, rng: random.Random) -> dict[str, Any]:
    """The scene a perfect generator draws for `text`: named attributes kept, open ones drawn."""
    parsed = parse_caption(text)
    objects = parsed["objects"] or [{"shape": None, "colour": None, "size": None, "position": None}]
    objects = objects[:2]
    free = [
        p for p in (CORNERS if len(objects) > 1 else POSITIONS) if p not in {o["position"] for o in objects}
    ]
    scene_objects = []
    for obj in objects:
        filled = {k: obj.get(k) or rng.choice(VOCABULARY[k]) for k in ("shape", "colour", "size")}
        position = obj.get("position")
        if position is None or (len(objects) > 1 and position not in CORNERS):
            position = free.pop(rng.randrange(len(free)))
        filled["position"] = position
        scene_objects.append(filled)
    if len(scene_objects) == 2 and scene_objects[0]["position"] == scene_objects[1]["position"]:
        scene_objects = scene_objects[:1]
    background = parsed["background"] if parsed["background"] in BACKGROUNDS else "plain"
    return {"objects": scene_objects, "background": background}


class _WorldGenerator(Generator):
    batch_size = 256
    batch_invariant = True
    kind = ""

    def __init__(self, spec: str = "", **options: Any) -> None:
        if spec not in ("", "default"):
            raise PuncError(f"{self.kind}: takes no argument (use '{self.kind}:'), got {spec!r}")
        for name, value in options.items():
            if name not in ("device", "batch_size", "dtype") and value is not None:
                raise PuncError(f"{self.kind}: unknown option {name!r}")

    def describe(self) -> dict[str, Any]:
        from harness import __version__

        return {"kind": self.kind, "model": self.kind, "revision": f"punc-harness {__version__}"}

    def scene(self, request: ImageRequest, rng: random.Random) -> dict[str, Any]:
        raise NotImplementedError

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        out = []
        for r in requests:
            rng = image_rng(r, self.kind)
            scene = self.scene(r, rng)
            image, truth = render(scene, rng)
            size = (r.width or IMAGE_SIZE, r.height or IMAGE_SIZE)
            if min(size) < 1:  # one impossible request fails alone; the rest of the batch is drawn
                out.append(GeneratedImage(r, error=f"{self.kind}: cannot draw a {size[0]}x{size[1]} image"))
                continue
            if size != (IMAGE_SIZE, IMAGE_SIZE):
                image = image.resize(size)
            recipe = {
                **self.describe(),
                "prompt": r.prompt_text,
                "seed": r.seed,
                "scene": scene,
                "truth": truth,
            }
            out.append(GeneratedImage(r, image, recipe))
        return out


class WorldRenderer(_WorldGenerator):
    """Perfect control: draws what the prompt says."""

    kind = "world-renderer"

    def scene(self, request: ImageRequest, rng: random.Random) -> dict[str, Any]:
        return scene_for_prompt(request.prompt_text, rng)


class RandomScene(_WorldGenerator):
    """Prompt-blind control: a random scene of the trained generator's vocabulary."""

    kind = "world-random"

    def scene(self, request: ImageRequest, rng: random.Random) -> dict[str, Any]:
        return random_scene(
            rng,
            shapes=GEN_SHAPES,
            colours=GEN_COLOURS,
            sizes=GEN_SIZES,
            positions=GEN_POSITIONS,
            backgrounds=GEN_BACKGROUNDS,
            max_objects=1,
        )
