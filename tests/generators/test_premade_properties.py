"""Property tests over pre-made image folders and manifests: bad files fail their own item, never the run."""

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from harness.errors import InputError, InputErrors
from harness.generators.base import ImageRequest
from harness.generators.premade import PremadeGenerator

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
counter = iter(range(10**9))


def png_bytes(colour=(10, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), colour).save(buffer, format="PNG")
    return buffer.getvalue()


file_contents = st.one_of(
    st.just(png_bytes()),
    st.binary(max_size=64),
    st.integers(1, len(png_bytes()) - 1).map(lambda n: png_bytes()[:n]),  # truncated PNG
    st.just(b""),
)


@SETTINGS
@given(files=st.lists(file_contents, min_size=1, max_size=4))
def test_folder_items_fail_alone(tmp_path, files):
    root = tmp_path / f"case{next(counter)}"
    (root / "p").mkdir(parents=True)
    for index, data in enumerate(files):
        (root / "p" / f"{index}.png").write_bytes(data)
    results = PremadeGenerator(str(root)).generate(
        [ImageRequest("p", "t", i, seed=i) for i in range(len(files) + 1)]
    )
    for index, (data, item) in enumerate(zip(files, results, strict=False)):
        if data == png_bytes():
            assert item.error is None and item.image.getpixel((0, 0)) == (10, 200, 30)
        else:
            assert (
                item.image is None and f"{index}.png" in item.error and "not a readable image" in item.error
            )
    assert "no image for prompt 'p' index" in results[-1].error


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


@SETTINGS
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {}, optional={"prompt_id": json_values, "image_path": json_values, "index": json_values}
        ),
        max_size=4,
    )
)
def test_manifest_lines_are_valid_or_located_errors(tmp_path, rows):
    manifest = tmp_path / f"case{next(counter)}.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows))
    try:
        generator = PremadeGenerator(str(manifest))
    except (InputError, InputErrors) as exc:
        assert str(exc).startswith(f"{manifest}:")
        assert "expected" in str(exc)
        return
    for (prompt_id, _index), path in (generator.index or {}).items():
        assert "/" not in prompt_id and ".." not in prompt_id and "\x00" not in prompt_id
        assert "\x00" not in str(path)
