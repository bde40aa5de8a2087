"""Tiny judges built once per session from configs with random weights (offline, a few seconds)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_judges import build_tiny_captioner, build_tiny_chat_vlm, judge_config, make_images  # noqa: E402


@pytest.fixture(scope="session")
def captioner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_captioner(tmp_path_factory.mktemp("captioner"))


@pytest.fixture(scope="session")
def eos_captioner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_captioner(tmp_path_factory.mktemp("eos_captioner"), only_eos=True)


@pytest.fixture(scope="session")
def chat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_chat_vlm(tmp_path_factory.mktemp("chat"))


@pytest.fixture(scope="session")
def captioner_judge(captioner_dir: Path):
    from harness.judges.transformers_backend import TransformersJudge

    return TransformersJudge(judge_config(captioner_dir))


@pytest.fixture(scope="session")
def chat_judge(chat_dir: Path):
    from harness.judges.transformers_backend import TransformersJudge

    return TransformersJudge(judge_config(chat_dir, instruction="what is in it ?"))


@pytest.fixture(scope="session")
def images():
    return make_images(8)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and spinning OpenMP threads make them ~20x
    slower when the machine's cores are busy with other work; restored after each module."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
