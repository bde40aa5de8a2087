"""Diffusion classifier against closed forms: a point-mass denoiser's errors are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from baseline_helpers import structured_image

from harness.baselines import build_baseline
from harness.baselines.base import Resources
from harness.baselines.diffusion_classifier import (
    denoising_errors,
    prompt_log_odds,
    stratified_timesteps,
)


def test_stratified_timesteps_by_hand():
    assert stratified_timesteps(4, 1000) == [125, 375, 625, 875]
    assert stratified_timesteps(1, 10) == [5]


def _point_mass_predictor(centres, abar_all, prediction):
    """The exact denoiser of data concentrated at centre_j under condition j, in each parameterisation."""

    def predict(x_t, t, j):
        abar = abar_all[t].view(-1, 1, 1, 1)
        a, s = abar.sqrt(), (1 - abar).sqrt()
        x0 = centres[j].expand_as(x_t)
        eps = (x_t - a * x0) / s
        return {"epsilon": eps, "v_prediction": a * eps - s * x0, "sample": x0}[prediction]

    return predict


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction", "sample"])
def test_point_mass_denoiser_errors_match_closed_form(prediction):
    # data given condition j is the point z = mu_j, so eps_hat - eps = sqrt(abar / (1 - abar)) (z0 - mu_j)
    # and the error of every (t, eps) pair is abar_t / (1 - abar_t) * ||z0 - mu_j||^2, whatever the noise
    g = torch.Generator().manual_seed(0)
    shape = (4, 2, 2)
    z0 = torch.randn((1, *shape), generator=g, dtype=torch.float64)
    centres = [z0 + 0.1, torch.zeros((1, *shape), dtype=torch.float64), z0 - 0.5]
    abar_all = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
    timesteps = stratified_timesteps(8, 1000)
    noises = torch.randn((8, *shape), generator=g, dtype=torch.float64)
    errors = denoising_errors(
        _point_mass_predictor(centres, abar_all, prediction), z0, timesteps, noises, abar_all, prediction, 3
    )
    ratio = np.mean([float(abar_all[t] / (1 - abar_all[t])) for t in timesteps])
    expected = [ratio * float(((z0 - c) ** 2).sum()) for c in centres]
    assert errors.tolist() == pytest.approx(expected, rel=1e-6)  # float32 outputs
    # prompt (0) against the unconditional (1) only: log-odds = e(null) - e(prompt)
    assert prompt_log_odds(errors[:2].tolist()) == pytest.approx(expected[1] - expected[0], rel=1e-6)


def test_log_odds_with_alternatives_by_hand():
    e = [1.0, 2.0, 3.0]
    p0 = math.exp(-1) / (math.exp(-1) + math.exp(-2) + math.exp(-3))
    assert prompt_log_odds(e) == pytest.approx(math.log(p0) - math.log(1 - p0))
    assert prompt_log_odds([1000.0, 1001.0]) == pytest.approx(1.0)  # stable far from zero


def test_baseline_shares_timesteps_and_noises_across_conditions(tiny_pipe_dir):
    """With the prompt itself as an 'alternative', its errors equal the prompt's only if every condition
    sees the same (t, noise) pairs: then log-odds = −softplus(−L0), L0 the log-odds against ∅ alone."""
    image = structured_image(3, 32)
    resources = Resources(str(tiny_pipe_dir), "cpu")
    plain = build_baseline("diffusion_classifier", {"pairs": 6}, resources)
    out = plain.evaluate("a red circle", [image])
    again = plain.evaluate("a red circle", [image])
    assert out.u == again.u  # fixed pairs: deterministic
    assert out.passes == 6 * 2 + 1  # denoiser evaluations (prompt, null) and one VAE encode
    with_self = build_baseline(
        "diffusion_classifier", {"pairs": 6, "alternatives": ["a red circle"]}, resources
    )
    dup = with_self.evaluate("a red circle", [image])
    l0 = -out.u
    assert -dup.u == pytest.approx(-math.log1p(math.exp(-l0)), rel=1e-5, abs=1e-6)
    assert dup.passes == 6 * 3 + 1
    assert "pairs=6" in plain.signature() and "alternatives=1" in with_self.signature()
