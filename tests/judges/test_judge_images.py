"""Shared helpers: data URLs round-trip losslessly, bad ones are refused, secrets are redacted."""

from __future__ import annotations

import pytest
from PIL import Image
from tiny_judges import make_images

from harness.judges._images import data_url_payload, data_url_to_image, image_to_data_url, redact, to_rgb


def test_data_url_round_trip_and_rgb():
    image = make_images(1)[0]
    url = image_to_data_url(image)
    assert url.startswith("data:image/png;base64,")
    assert data_url_to_image(url).tobytes() == image.tobytes()
    rgba = Image.new("RGBA", (4, 4), (10, 20, 30, 128))
    assert data_url_to_image(image_to_data_url(rgba)).mode == "RGB"
    assert to_rgb(Image.new("L", (2, 2))).mode == "RGB"


@pytest.mark.parametrize(
    "url",
    [
        "http://x/y.png",
        "data:image/png,rawbytes",
        "data:image/png;base64,!!!",
        "data:image/png;base64,AAAA",
        42,
    ],
)
def test_bad_data_urls_are_value_errors(url):
    with pytest.raises(ValueError):
        data_url_to_image(url)


def test_payload_and_redact():
    assert data_url_payload("data:image/png;base64,QUJD") == "QUJD"
    assert redact("key sk-1 and sk-1 again", ["sk-1", None, ""]) == "key *** and *** again"
