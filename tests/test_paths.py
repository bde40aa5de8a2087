"""harness.paths: one containment check for every path that comes from a user, a file or a URL."""

from __future__ import annotations

import pytest

from harness.paths import PathEscape, inside, safe_name


def test_plain_paths_stay(tmp_path):
    assert inside(tmp_path, "a/b.png") == tmp_path / "a" / "b.png"
    assert inside(tmp_path, "./a//b.png") == tmp_path / "a" / "b.png"


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "/etc/passwd", "a\x00b"])
def test_escapes_are_refused(tmp_path, relative):
    with pytest.raises(PathEscape):
        inside(tmp_path, relative)


def test_links_on_the_way_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "dir").symlink_to(outside, target_is_directory=True)
    (root / "file.png").symlink_to(outside / "x.png")
    for relative in ("dir/x.png", "file.png"):
        with pytest.raises(PathEscape, match="symbolic link"):
            inside(root, relative)
    with pytest.raises(PathEscape, match="leads outside"):
        inside(root, "dir/x.png", links=True)


def test_hidden_components(tmp_path):
    with pytest.raises(PathEscape, match="hidden"):
        inside(tmp_path, "runs/.staging/x", hidden=False)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("sd-turbo", "sd-turbo"),
        ("../../../x", "x"),
        ("My Model v2", "My-Model-v2"),
        ("..", "model"),
        ("a\n", "a"),
    ],
)
def test_safe_name(label, expected):
    assert safe_name(label) == expected
