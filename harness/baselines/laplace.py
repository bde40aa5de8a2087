"""Diagonal last-layer Laplace approximation of a denoiser's output convolution (`conv_out`).

Why not laplace-torch: it is not installed here and its diffusion use (Jazbec et al.'s code) wraps the
denoiser in a custom curvature backend; for one output layer the exact computation is short.

Model: the denoiser's target y (ε, v or x0, by the scheduler's prediction type) given its input is
Gaussian, y ~ N(f(x; θ), σ² I), with θ the weights and bias of `conv_out`. The output is LINEAR in θ
(o[c, l] = Σ_j W[c, j] h[j, l] + b[c], h = the unfolded input patches), so the generalised Gauss-Newton
is the exact Hessian of the negative log-likelihood, and its diagonal is
    GGN[W[c, j]] = Σ_{n,l} h_n[j, l]² / σ²,   GGN[b[c]] = (number of output positions) / σ²,
the same for every output channel c. Prior θ ~ N(0, δ⁻¹ I). σ² is the maximum-likelihood residual
variance on the fit set; δ maximises the Laplace log marginal likelihood
    log Z(δ) = log p(D | θ*) + (P/2) log δ − (δ/2)‖θ*‖² − ½ Σ_i log(GGN_i + δ) + const.
Posterior: θ ~ N(θ*, diag(1 / (GGN + δ))).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import PuncError


@dataclass
class LaplaceFit:
    """Posterior of conv_out: MAP weights and bias, their posterior variances, and how it was fitted."""

    weight_var: np.ndarray  # shape of conv_out.weight
    bias_var: np.ndarray | None
    sigma2: float
    prior_precision: float
    n_fit: int
    log_marginal: float
    seconds: float

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {
            "weight_var": self.weight_var,
            "scalars": np.array(
                [self.sigma2, self.prior_precision, self.n_fit, self.log_marginal, self.seconds],
                dtype=np.float64,
            ),
        }
        if self.bias_var is not None:
            out["bias_var"] = self.bias_var
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LaplaceFit:
        s = arrays["scalars"]
        return cls(
            weight_var=arrays["weight_var"],
            bias_var=arrays.get("bias_var"),
            sigma2=float(s[0]),
            prior_precision=float(s[1]),
            n_fit=int(s[2]),
            log_marginal=float(s[3]),
            seconds=float(s[4]),
        )


def output_conv(denoiser: Any) -> Any:
    """The denoiser's last convolution (diffusers UNets call it `conv_out`)."""
    import torch

    layer = getattr(denoiser, "conv_out", None)
    if not isinstance(layer, torch.nn.Conv2d) or layer.groups != 1:
        raise PuncError(
            f"generative_uncertainty: {type(denoiser).__name__} has no ungrouped Conv2d `conv_out` "
            "(the last-layer Laplace approximation needs one)"
        )
    return layer


def patches(layer: Any, inputs: Any) -> Any:
    """(N, C_in·k·k, L) input patches of a Conv2d: the design matrix its output is linear in."""
    import torch.nn.functional as F

    if layer.padding_mode != "zeros":
        raise PuncError("generative_uncertainty: conv_out with non-zero padding mode is not supported")
    return F.unfold(inputs, layer.kernel_size, layer.dilation, layer.padding, layer.stride)


class GGNAccumulator:
    """Sums of squared patch entries and of squared residuals over a fit set, one batch at a time."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.patch_sq = np.zeros(layer.in_channels * int(np.prod(layer.kernel_size)))
        self.positions = 0  # output positions per channel, summed over examples
        self.residual_sq = 0.0
        self.outputs = 0  # output elements
        self.examples = 0

    def add(self, inputs: Any, output: Any, target: Any) -> None:
        h = patches(self.layer, inputs.double())
        self.patch_sq += (h**2).sum(dim=(0, 2)).cpu().numpy()
        self.positions += h.shape[0] * h.shape[2]
        self.residual_sq += float(((output.double() - target.double()) ** 2).sum())
        self.outputs += output.numel()
        self.examples += output.shape[0]

    def fit(self, map_weight: np.ndarray, map_bias: np.ndarray | None, seconds: float = 0.0) -> LaplaceFit:
        if self.examples == 0:
            raise PuncError("generative_uncertainty: the Laplace fit set is empty")
        sigma2 = max(self.residual_sq / self.outputs, 1e-12)
        out_channels = map_weight.shape[0]
        ggn_w = np.broadcast_to(self.patch_sq / sigma2, (out_channels, self.patch_sq.size)).reshape(-1)
        ggn = ggn_w
        theta = map_weight.reshape(-1)
        if map_bias is not None:
            ggn = np.concatenate([ggn_w, np.full(out_channels, self.positions / sigma2)])
            theta = np.concatenate([theta, map_bias.reshape(-1)])
        log_lik = -0.5 * self.residual_sq / sigma2 - 0.5 * self.outputs * math.log(2 * math.pi * sigma2)
        delta, log_z = tune_prior_precision(ggn, theta, log_lik)
        weight_var = (1.0 / (ggn_w + delta)).reshape(map_weight.shape)
        bias_var = (
            None if map_bias is None else 1.0 / (np.full(out_channels, self.positions / sigma2) + delta)
        )
        return LaplaceFit(weight_var, bias_var, sigma2, delta, self.examples, log_z, seconds)


def log_marginal_likelihood(delta: float, ggn: np.ndarray, theta: np.ndarray, log_lik: float) -> float:
    """Laplace log evidence for prior precision δ (diagonal GGN, MAP θ*)."""
    p = theta.size
    return float(
        log_lik
        + 0.5 * p * math.log(delta)
        - 0.5 * delta * float(theta @ theta)
        - 0.5 * float(np.sum(np.log(ggn + delta)))
    )


def tune_prior_precision(ggn: np.ndarray, theta: np.ndarray, log_lik: float) -> tuple[float, float]:
    """δ maximising the log marginal likelihood (bounded search over log δ in [−10, 20])."""
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda s: -log_marginal_likelihood(math.exp(s), ggn, theta, log_lik),
        bounds=(-10 * math.log(10), 20 * math.log(10)),
        method="bounded",
        options={"xatol": 1e-6},
    )
    delta = math.exp(float(result.x))
    return delta, log_marginal_likelihood(delta, ggn, theta, log_lik)


class PerSampleConv:
    """Forward hook giving each of M batch groups its own conv_out weights (posterior samples).

    The batch is read as R repeats of M samples (classifier-free guidance concatenates [uncond, cond]),
    so example i uses sample i mod M; one grouped convolution does all of them."""

    def __init__(self, layer: Any, weights: Any, biases: Any | None) -> None:
        self.layer, self.weights, self.biases = layer, weights, biases
        self.handle = layer.register_forward_hook(self._hook)

    def _hook(self, module: Any, args: tuple[Any, ...], output: Any) -> Any:
        import torch
        import torch.nn.functional as F

        (x,) = args[:1]
        batch, m = x.shape[0], self.weights.shape[0]
        if batch % m:
            raise PuncError(f"generative_uncertainty: batch {batch} is not a multiple of {m} samples")
        index = torch.arange(batch, device=x.device) % m
        w = self.weights.to(x.dtype)[index].reshape(-1, *self.weights.shape[2:])
        b = None if self.biases is None else self.biases.to(x.dtype)[index].reshape(-1)
        out = F.conv2d(
            x.reshape(1, -1, *x.shape[2:]), w, b, module.stride, module.padding, module.dilation, groups=batch
        )
        return out.reshape(batch, -1, *out.shape[2:])

    def remove(self) -> None:
        self.handle.remove()


def sample_weights(
    layer: Any, fit: LaplaceFit, samples: int, seed: int, include_map: bool = True
) -> tuple[Any, Any]:
    """(M, *W.shape) and (M, C_out) conv_out parameters: the MAP first (if asked), then posterior draws."""
    import torch

    gen = torch.Generator("cpu").manual_seed(seed)
    w_map = layer.weight.detach().float().cpu()
    b_map = None if layer.bias is None else layer.bias.detach().float().cpu()
    w_std = torch.from_numpy(np.sqrt(fit.weight_var)).float()
    draws = samples - 1 if include_map else samples
    ws = [w_map] if include_map else []
    bs = [b_map] if include_map else []
    for _ in range(draws):
        ws.append(w_map + w_std * torch.randn(w_map.shape, generator=gen))
        if b_map is not None and fit.bias_var is not None:
            bs.append(
                b_map
                + torch.from_numpy(np.sqrt(fit.bias_var)).float() * torch.randn(b_map.shape, generator=gen)
            )
        elif b_map is not None:  # no posterior over the bias: every draw keeps the MAP bias
            bs.append(b_map)
    weights = torch.stack(ws).to(layer.weight.device)
    biases = None if b_map is None else torch.stack(bs).to(layer.weight.device)
    return weights, biases


def batches(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
