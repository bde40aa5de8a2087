"""Session fixtures for the baseline tests (builders and images live in baseline_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from baseline_helpers import build_tiny_captioner, build_tiny_pixel_pipeline, build_tiny_sd_pipeline


@pytest.fixture(scope="session")
def tiny_pipe_dir(tmp_path_factory) -> Path:
    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("pipe") / "sd")


@pytest.fixture(scope="session")
def encoder_dir(tmp_path_factory) -> Path:
    return build_tiny_captioner(tmp_path_factory.mktemp("enc") / "judge")


@pytest.fixture(scope="session")
def adapter(tiny_pipe_dir):
    from harness.baselines.pipeline import PipelineAdapter
    from harness.generators.diffusers_pipeline import load_pipeline

    pipe, device, _ = load_pipeline(str(tiny_pipe_dir), "cpu")
    return PipelineAdapter(pipe, device)


@pytest.fixture(scope="session")
def pixel_adapter(tmp_path_factory):
    from harness.baselines.pipeline import PipelineAdapter
    from harness.generators.diffusers_pipeline import load_pipeline

    path = build_tiny_pixel_pipeline(tmp_path_factory.mktemp("pixel") / "ddpm")
    pipe, device, _ = load_pipeline(str(path), "cpu")
    return PipelineAdapter(pipe, device)
