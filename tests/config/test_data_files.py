"""URL data files are cached under one folder per URL, whatever the URL's path says."""

from __future__ import annotations

import pytest

from harness.config.data_files import cache_root, cached_copy, is_url, local_data_files
from harness.errors import PuncError


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize(
    "url",
    ["http://h/..", "http://h/a/../..", "https://h/", "http://h/a%2F..%2F..", "http://h/x/prompts.jsonl"],
)
def test_cached_copies_stay_inside_the_cache(url):
    copy = cached_copy(url)
    assert copy.resolve().parent.parent == cache_root().resolve()
    assert copy.name not in ("", ".", "..")


def test_distinct_urls_get_distinct_copies():
    assert cached_copy("http://h/a/p.jsonl") != cached_copy("http://h/b/p.jsonl")
    assert cached_copy("http://h/a/p.jsonl").name == "p.jsonl"


def test_local_paths_pass_through_and_offline_urls_say_to_prefetch(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert local_data_files(["a.csv", str(tmp_path / "b.csv")]) == ["a.csv", str(tmp_path / "b.csv")]
    assert is_url("https://h/p.jsonl") and not is_url("p.jsonl")
    with pytest.raises(
        PuncError, match=r"not in the local cache and HF_HUB_OFFLINE=1 is set: run `punc prefetch"
    ):
        local_data_files("https://h/p.jsonl")
