"""The generator contract, checked for every generator kind in the registry.

Every generator returns one result per request in request order; one request it cannot serve (a
broken image file, an impossible size, a seed torch refuses) becomes an error on that item while
the others get their images; a batch-invariant generator draws the same image for a request
whatever else is in its batch; two generators built from the same spec describe themselves alike;
close() twice is safe.

diffusers runs a tiny random Stable Diffusion pipeline; openai-images talks to `punc
serve-generator`'s server on loopback serving that pipeline; the pre-made kinds read folders laid out
here, in their own formats, with one truncated PNG among them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from contract_helpers import truncated_png
from PIL import Image

from harness.config.task import TaskConfig
from harness.generators import resolve_generator
from harness.generators.base import Generator, ImageRequest
from harness.registry import GENERATORS

BUILT_IN = [name for name in GENERATORS.names() if GENERATORS.is_builtin(name)]
TEXTS = ["a red circle", "a small blue square at the top left", "two green triangles"]


@dataclass
class Case:
    """How to build one kind, three requests it can serve, one it cannot, and the task's settings."""

    spec: str
    options: dict[str, object]
    good: list[ImageRequest]
    bad: ImageRequest
    settings: dict[str, object] = field(default_factory=dict)

    def task(self) -> TaskConfig:
        """What a run hands to `preflight` before the first image."""
        return TaskConfig.model_validate(
            {"name": "contract", "prompts": "p.jsonl", "images_per_prompt": 1, **self.settings}
        )


def requests(**settings: object) -> list[ImageRequest]:
    return [ImageRequest(f"p{i}", text, 0, seed=11 + i, **settings) for i, text in enumerate(TEXTS)]  # type: ignore[arg-type]


def solid(index: int) -> Image.Image:
    return Image.new("RGB", (16, 16), (40 * index + 20, 200 - 30 * index, 90))


def premade_folder(root: Path) -> Case:
    for i in range(len(TEXTS)):
        (root / f"p{i}").mkdir(parents=True)
        solid(i).save(root / f"p{i}" / "0.png")
    (root / "broken").mkdir()
    (root / "broken" / "0.png").write_bytes(truncated_png())
    return Case(str(root), {}, requests(), ImageRequest("broken", "a broken file", 0, seed=1))


def geneval_folder(root: Path) -> Case:
    """GenEval's layout: NNNNN/metadata.jsonl with the prompt, NNNNN/samples/KKKK.png."""
    for n, text in enumerate([*TEXTS, "a broken file"]):
        folder = root / f"{n:05d}"
        (folder / "samples").mkdir(parents=True)
        (folder / "metadata.jsonl").write_text(json.dumps({"tag": "single_object", "prompt": text}) + "\n")
        if n < len(TEXTS):
            solid(n).save(folder / "samples" / "0000.png")
        else:
            (folder / "samples" / "0000.png").write_bytes(truncated_png())
    return Case(f"geneval:{root}", {}, requests(), ImageRequest("b", "a broken file", 0, seed=1))


def compbench_folder(root: Path) -> Case:
    """T2I-CompBench's naming: {prompt}_{NNNNNN}.png, a counter over the whole folder."""
    root.mkdir(parents=True)
    for n, text in enumerate(TEXTS):
        solid(n).save(root / f"{text}_{n:06d}.png")
    (root / f"a broken file_{len(TEXTS):06d}.png").write_bytes(truncated_png())
    return Case(f"t2i_compbench:{root}", {}, requests(), ImageRequest("b", "a broken file", 0, seed=1))


def world_case(kind: str) -> Callable[[Path], Case]:
    def make(_: Path) -> Case:
        return Case(
            f"{kind}:",
            {},
            requests(),
            ImageRequest("negative", "a red circle", 0, seed=1, width=-8, height=64),
        )

    return make


def diffusers_case(pipeline: Path, base_url: str | None = None) -> Case:
    settings = {"steps": 1, "width": 16, "height": 16, "guidance": 1.0}
    bad = ImageRequest("bigseed", "a red circle", 0, seed=2**64, **settings)  # torch refuses seeds >= 2**64
    if base_url is None:
        return Case(str(pipeline), {"device": "cpu"}, requests(**settings), bad, settings)
    options = {"base_url": base_url, "max_retries": 0}
    return Case("openai-images:tiny", options, requests(**settings), bad, settings)


def test_every_built_in_generator_has_a_contract_case():
    assert sorted(BUILT_IN) == sorted(
        [
            "premade",
            "geneval",
            "t2i_compbench",
            "world-renderer",
            "world-random",
            "diffusers",
            "openai-images",
        ]
    )


@pytest.fixture(scope="module")
def served(sd_pipeline_dir) -> Iterator[str]:
    from harness.generators.diffusers_pipeline import DiffusersGenerator
    from harness.generators.image_server import ImageServer

    local = DiffusersGenerator(str(sd_pipeline_dir), device="cpu")
    with ImageServer(local, model_name="tiny") as server:
        yield server.base_url
    local.close()


@pytest.fixture(scope="module", params=BUILT_IN)
def case(request, tmp_path_factory, sd_pipeline_dir) -> Case:
    kind = request.param
    root = tmp_path_factory.mktemp(f"contract-{kind}") / "images"
    builders: dict[str, Callable[[], Case]] = {
        "premade": lambda: premade_folder(root),
        "geneval": lambda: geneval_folder(root),
        "t2i_compbench": lambda: compbench_folder(root),
        "world-renderer": lambda: world_case("world-renderer")(root),
        "world-random": lambda: world_case("world-random")(root),
        "diffusers": lambda: diffusers_case(sd_pipeline_dir),
        "openai-images": lambda: diffusers_case(sd_pipeline_dir, request.getfixturevalue("served")),
    }
    return builders[kind]()


@pytest.fixture
def make(case) -> Iterator[Callable[[], Generator]]:
    built: list[Generator] = []

    def build() -> Generator:
        generator = resolve_generator(case.spec, **case.options)
        built.append(generator)
        generator.preflight(case.task())
        return generator

    yield build
    for generator in built:
        generator.close()


def pixels(item) -> np.ndarray:
    return np.asarray(item.image.convert("RGB"))


def test_results_keep_request_order(case, make):
    generator = make()
    forward = generator.generate(case.good)
    assert [item.request for item in forward] == case.good
    assert all(item.error is None and item.image is not None for item in forward), [i.error for i in forward]
    backward = generator.generate(case.good[::-1])
    assert [item.request for item in backward] == case.good[::-1]
    if generator.batch_invariant:  # then an image depends on its own request only
        for a, b in zip(forward, backward[::-1], strict=True):
            assert np.array_equal(pixels(a), pixels(b))


def test_one_bad_request_fails_alone(case, make):
    generator = make()
    batch = [case.good[0], case.bad, *case.good[1:]]
    results = generator.generate(batch)
    assert [item.request for item in results] == batch
    assert results[1].error and results[1].image is None
    assert all(item.error is None and item.image is not None for i, item in enumerate(results) if i != 1)


def test_identity_is_stable_across_instances(make):
    first, second = make(), make()
    assert first.describe() == second.describe()
    assert json.dumps(first.describe(), sort_keys=True)  # it goes into results.json as it is


def test_close_twice_is_safe(make):
    generator = make()
    generator.close()
    generator.close()
