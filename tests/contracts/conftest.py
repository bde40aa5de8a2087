"""Tiny offline models shared by the contract tests, built once per session (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from intra-op threads on a shared CPU; restored after each module."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def captioner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_judges import build_tiny_captioner

    return build_tiny_captioner(tmp_path_factory.mktemp("contract-captioner") / "cap")


@pytest.fixture(scope="session")
def sd_pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_pipelines import build_tiny_sd_pipeline

    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("contract-sd") / "sd", sample_size=8)
