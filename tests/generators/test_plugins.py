"""Generator plug-ins are found through the real `punc.generators` entry-point group."""

import sys
import textwrap

import pytest

from harness.errors import PuncError
from harness.generators import available_generators, resolve_generator
from harness.generators.base import ImageRequest
from harness.registry import GENERATORS

PLUGIN = textwrap.dedent(
    """
    from PIL import Image
    from harness.generators.base import GeneratedImage, Generator

    class SolidGenerator(Generator):
        def __init__(self, spec, **options):
            self.colour = {"red": (255, 0, 0), "blue": (0, 0, 255)}[spec]
        def describe(self):
            return {"kind": "solid", "model": "solid", "colour": self.colour}
        def generate(self, requests):
            return [GeneratedImage(r, Image.new("RGB", (4, 4), self.colour), {"seed": r.seed}) for r in requests]

    class NotAGenerator:
        def __init__(self, spec, **options):
            pass
    """
)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    (tmp_path / "punc_solid.py").write_text(PLUGIN)
    dist = tmp_path / "punc_solid-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: punc-solid\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[punc.generators]\nsolid = punc_solid:SolidGenerator\nbroken = punc_solid:NotAGenerator\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("punc_solid", None)


def test_plugin_is_listed_and_used(installed_plugin):
    assert GENERATORS.targets()["solid"] == "punc_solid:SolidGenerator"
    assert available_generators()["solid"] == "(no description)"  # the plug-in class has no docstring
    generator = resolve_generator("solid:blue")
    (item,) = generator.generate([ImageRequest("p", "anything", 0, seed=3)])
    assert item.image.getpixel((0, 0)) == (0, 0, 255)
    assert generator.describe()["kind"] == "solid"


def test_plugin_that_is_not_a_generator_is_refused(installed_plugin):
    with pytest.raises(PuncError, match="does not subclass harness.generators.base.Generator"):
        resolve_generator("broken:x")
