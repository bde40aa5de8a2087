"""Diffusion classifier (Li et al. 2023, "Your Diffusion Model is Secretly a Zero-Shot Classifier").

The denoising error of a text-conditioned diffusion model approximates −log p(x | c) up to a constant
(the ELBO with uniform weights over timesteps), so log p(c | x) ∝ −E_{t,ε}‖ε − ε_θ(x_t, t, c)‖².

For each image x of a prompt (its latent z0 through `pipe.vae`): a FIXED set of (timestep, noise)
pairs, the same for every prompt and image (Li et al.'s variance reduction: errors of different
conditionings are compared on identical noisy inputs), gives the mean squared ε-error e(c) for the
prompt, e(∅) for the empty prompt and e(a) for each alternative text. With the classifier's
posterior p(·| x) = softmax(−e) over {c, ∅, a_1..a_n}, the prompt's log-odds is
log p(c|x) − log(1 − p(c|x)); with only ∅ it is exactly e(∅) − e(c). u = −(log-odds), averaged
over the first `images` images: high when the prompt does not explain its own image.

Timesteps are stratified over the schedule, t_i = ⌊(i + ½)·T/n⌋; noises are drawn once from `seed`.
Model outputs become ε-predictions by the scheduler's `prediction_type` (epsilon; v: ε = √ᾱ v + √(1−ᾱ) x_t;
sample: ε = (x_t − √ᾱ x̂0)/√(1−ᾱ)); ‖·‖² is summed over latent elements (the paper's norm).
Cost: per image n_pairs × (2 + alternatives) denoiser evaluations and one VAE encode.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources, check_params
from harness.devices import versions
from harness.errors import PuncError

PREDICTIONS = ("epsilon", "v_prediction", "sample")


def stratified_timesteps(n: int, train_steps: int) -> list[int]:
    """n timesteps spread evenly over [0, train_steps): ⌊(i + ½)·T/n⌋."""
    if n < 1:
        raise PuncError("baseline diffusion_classifier: pairs must be ≥ 1")
    return [min(train_steps - 1, int((i + 0.5) * train_steps / n)) for i in range(n)]


def epsilon_from_output(output: Any, x_t: Any, alpha_bar: Any, prediction_type: str) -> Any:
    """The denoiser's output as a noise prediction ε̂ (alpha_bar broadcastable to x_t)."""
    a, s = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    if prediction_type == "epsilon":
        return output
    if prediction_type == "v_prediction":
        return a * output + s * x_t
    if prediction_type == "sample":
        return (x_t - a * output) / s
    raise PuncError(f"diffusion_classifier: prediction type {prediction_type!r} not in {PREDICTIONS}")


def denoising_errors(
    predict: Callable[[Any, Any, int], Any],
    z0: Any,
    timesteps: Sequence[int],
    noises: Any,
    alphas_cumprod: Any,
    prediction_type: str,
    n_conditions: int,
) -> Any:
    """(n_conditions,) mean over the (t, ε) pairs of ‖ε − ε̂(x_t, t, condition)‖² (summed over elements).

    `predict(x_t, t, j)` returns the raw denoiser output for condition j on the batch of pairs."""
    import torch

    t = torch.as_tensor(list(timesteps), dtype=torch.long)
    abar = alphas_cumprod.to(noises.dtype)[t].view(-1, *([1] * (noises.dim() - 1)))
    x_t = abar.sqrt() * z0 + (1 - abar).sqrt() * noises
    errors = []
    for j in range(n_conditions):
        eps_hat = epsilon_from_output(predict(x_t, t, j).float(), x_t, abar, prediction_type)
        errors.append(((eps_hat - noises) ** 2).flatten(1).sum(1).mean())
    return torch.stack(errors)


def prompt_log_odds(errors: Sequence[float]) -> float:
    """errors[0] is the prompt's; p = softmax(−errors); log p_0 − log(1 − p_0), computed stably."""
    e = np.asarray(errors, dtype=np.float64)
    if e.size < 2:
        raise ValueError("need the prompt and at least one other condition")
    others = -e[1:]
    top = others.max()
    log_rest = top + math.log(float(np.exp(others - top).sum()))
    return float(-e[0] - log_rest)


class DiffusionClassifier(Baseline):
    """Li et al.: negative log-odds of the prompt against the empty prompt, from the denoising error."""

    kind: ClassVar[str] = "diffusion_classifier"
    needs_pipeline: ClassVar[bool] = True

    def __init__(
        self,
        resources: Resources | None = None,
        pairs: int = 16,
        images: int = 1,
        seed: int = 0,
        alternatives: Sequence[str] = (),
    ) -> None:
        super().__init__(resources)
        self.pairs, self.images, self.seed = int(pairs), int(images), int(seed)
        if self.pairs < 1 or self.images < 1:
            raise PuncError("baseline diffusion_classifier: pairs and images must be ≥ 1")
        if isinstance(alternatives, str) or not all(isinstance(a, str) for a in alternatives):
            raise PuncError("baseline diffusion_classifier: alternatives must be a list of prompt texts")
        self.alternatives = tuple(alternatives)
        self._noises: dict[tuple[int, ...], Any] = {}

    @classmethod
    def from_params(cls, resources: Resources, params: dict[str, Any]) -> DiffusionClassifier:
        check_params(cls.kind, params, {"pairs", "images", "seed", "alternatives"})
        return cls(resources, **params)

    def signature(self) -> str:
        from harness.generators.identity import generator_identity

        gen = generator_identity(self.resources.generator_spec) if self.resources.generator_spec else "none"
        alts = f":alternatives={len(self.alternatives)}" if self.alternatives else ""
        return (
            f"diffusion_classifier:pairs={self.pairs}:t=stratified:seed={self.seed}:images={self.images}"
            f"{alts}:err=eps-sum:generator={gen}:{versions('diffusers', 'torch')}"
        )

    def _fixed_noises(self, shape: tuple[int, ...], device: str, dtype: Any) -> Any:
        import torch

        if shape not in self._noises:
            gen = torch.Generator("cpu").manual_seed(self.seed)
            self._noises[shape] = torch.randn((self.pairs, *shape), generator=gen)
        return self._noises[shape].to(device, dtype)

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        adapter = self.resources.adapter()
        scheduler = adapter.pipe.scheduler
        abar = getattr(scheduler, "alphas_cumprod", None)
        if abar is None:
            raise PuncError(
                f"baseline diffusion_classifier: {type(scheduler).__name__} has no alphas_cumprod "
                "(flow-matching schedulers are not supported)"
            )
        prediction = str(scheduler.config.get("prediction_type", "epsilon"))
        train_steps = int(scheduler.config.get("num_train_timesteps", len(abar)))
        timesteps = stratified_timesteps(self.pairs, train_steps)
        texts = [prompt_text, "", *self.alternatives]
        conds = [adapter.conditioning(text, 1.0)[0] for text in texts]
        passes_before = adapter.passes
        odds = []
        for image in images[: self.images]:
            z0 = adapter.encode(adapter.images_to_tensor([image]))
            noises = self._fixed_noises(tuple(z0.shape[1:]), adapter.device, z0.dtype)

            def predict(x_t: Any, t: Any, j: int) -> Any:
                return adapter._predict(x_t, t.to(adapter.device), conds[j], None, 1.0)

            errors = denoising_errors(
                predict, z0, timesteps, noises, abar.to(adapter.device), prediction, len(texts)
            )
            odds.append(prompt_log_odds(errors.cpu().tolist()))
        vae_passes = adapter.passes - passes_before - len(odds) * len(texts)
        evaluations = len(odds) * self.pairs * len(texts) + vae_passes
        return Outcome(-float(np.mean(odds)), passes=evaluations)
