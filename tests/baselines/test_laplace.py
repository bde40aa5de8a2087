"""Last-layer Laplace against Bayesian linear regression: conv_out's output is linear in its weights,
so the Gauss-Newton diagonal must equal the squared Jacobian summed over outputs (autograd, independent
of the unfold used by the code), and the tuned prior precision must be a stationary point of the evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from harness.baselines.laplace import (
    GGNAccumulator,
    LaplaceFit,
    PerSampleConv,
    log_marginal_likelihood,
    sample_weights,
    tune_prior_precision,
)


def _layer(seed: int = 0) -> torch.nn.Conv2d:
    torch.manual_seed(seed)
    return torch.nn.Conv2d(3, 2, kernel_size=3, padding=1).double()


def test_ggn_diagonal_equals_squared_jacobian_and_blr_posterior():
    layer = _layer()
    g = torch.Generator().manual_seed(1)
    x = torch.randn((2, 3, 4, 4), generator=g, dtype=torch.float64)
    target = torch.randn((2, 2, 4, 4), generator=g, dtype=torch.float64)
    out = layer(x)
    acc = GGNAccumulator(layer)
    acc.add(x, out.detach(), target)
    # brute force: d output_i / d weight for every output element, by autograd
    jac_sq_w = torch.zeros_like(layer.weight)
    jac_sq_b = torch.zeros_like(layer.bias)
    flat = out.reshape(-1)
    for i in range(flat.numel()):
        gw, gb = torch.autograd.grad(flat[i], (layer.weight, layer.bias), retain_graph=True)
        jac_sq_w += gw**2
        jac_sq_b += gb**2
    sigma2 = float(((out.detach() - target) ** 2).mean())
    w = layer.weight.detach().numpy()
    b = layer.bias.detach().numpy()
    fit = acc.fit(w, b)
    assert fit.sigma2 == pytest.approx(sigma2, rel=1e-12)
    # Bayesian linear regression with Gaussian noise sigma2 and prior precision delta: the posterior
    # precision's diagonal is diag(J^T J) / sigma2 + delta
    expected_w = 1.0 / (jac_sq_w.numpy() / sigma2 + fit.prior_precision)
    expected_b = 1.0 / (jac_sq_b.numpy() / sigma2 + fit.prior_precision)
    assert fit.weight_var == pytest.approx(expected_w, rel=1e-10)
    assert fit.bias_var == pytest.approx(expected_b, rel=1e-10)
    assert fit.n_fit == 2


def test_prior_precision_is_a_stationary_point_of_the_evidence():
    rng = np.random.default_rng(0)
    ggn = rng.uniform(0.1, 50.0, 40)
    theta = rng.normal(0, 0.3, 40)
    delta, log_z = tune_prior_precision(ggn, theta, log_lik=-12.0)
    # d/d delta of log Z: P / (2 delta) - |theta|^2 / 2 - sum 1 / (2 (g + delta)) = 0
    grad = 0.5 * theta.size / delta - 0.5 * theta @ theta - 0.5 * np.sum(1.0 / (ggn + delta))
    assert abs(grad) * delta < 1e-4
    assert log_z == pytest.approx(log_marginal_likelihood(delta, ggn, theta, -12.0))
    for other in (delta * 0.5, delta * 2.0):
        assert log_marginal_likelihood(other, ggn, theta, -12.0) < log_z
    # hand value of the evidence at delta = 1: -12 + 0 - |theta|^2/2 - sum log(g + 1)/2
    by_hand = -12.0 - 0.5 * float(theta @ theta) - 0.5 * float(np.sum(np.log(ggn + 1.0)))
    assert log_marginal_likelihood(1.0, ggn, theta, -12.0) == pytest.approx(by_hand)
    assert math.isfinite(log_z)


def test_per_sample_conv_uses_sample_i_mod_m():
    layer = _layer(2)
    g = torch.Generator().manual_seed(3)
    weights = torch.randn((3, *layer.weight.shape), generator=g, dtype=torch.float64)
    biases = torch.randn((3, 2), generator=g, dtype=torch.float64)
    x = torch.randn((6, 3, 4, 4), generator=g, dtype=torch.float64)  # [uncond x3, cond x3] as under CFG
    hook = PerSampleConv(layer, weights, biases)
    try:
        out = layer(x)
    finally:
        hook.remove()
    for i in range(6):
        ref = torch.nn.functional.conv2d(x[i : i + 1], weights[i % 3], biases[i % 3], padding=1)
        assert torch.allclose(out[i : i + 1], ref)
    assert torch.allclose(layer(x), torch.nn.functional.conv2d(x, layer.weight, layer.bias, padding=1))


def test_posterior_samples_start_with_the_map_and_follow_the_variances():
    layer = _layer(4)
    var_w = np.full(layer.weight.shape, 0.04)
    fit = LaplaceFit(var_w, np.full(2, 0.01), 1.0, 1.0, 10, 0.0, 0.0)
    weights, biases = sample_weights(layer, fit, samples=4001, seed=0)
    assert torch.equal(weights[0], layer.weight.detach().float())
    deviations = (weights[1:] - layer.weight.detach().float()).numpy()
    assert deviations.std() == pytest.approx(0.2, rel=0.02)
    assert (biases[1:] - layer.bias.detach().float()).numpy().std() == pytest.approx(0.1, rel=0.05)
