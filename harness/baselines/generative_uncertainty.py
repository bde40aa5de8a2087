"""Generative uncertainty (Jazbec et al. 2025, "Generative Uncertainty in Diffusion Models").

A last-layer Laplace posterior over the denoiser's output convolution (harness/baselines/laplace.py:
exact diagonal GGN, σ² by maximum likelihood, prior precision by marginal likelihood) is fitted once per
generator on a stated fit set and cached (PUNC_CACHE_DIR, default ~/.cache/punc, keyed by the generator's
content identity and the fit parameters). Per prompt and initial noise z: M generations from the SAME z,
one per conv_out parameter sample (the MAP first, then M − 1 posterior draws; Jazbec et al.'s code uses
M = 5 + 1), are encoded by the image encoder, and u(z) = the entropy of their semantic likelihood, a
diagonal Gaussian with the features' per-dimension variance plus σ² = 1e-3 (their `gaussian_entropy`,
the same formula as `feature_entropy`, which keeps the seed ensemble as its cheap stand-in). u = mean
over `noises` initial noises.

Fit set (`fit_data`): `world` renders the embedded world generator's training distribution (complete
one-object descriptions over the vocabulary it was trained on, evaluation prompt texts excluded, as in
its training); a folder gives the user's own images, with an optional metadata.jsonl of
{"file_name", "text"} lines for their prompts (unconditional otherwise). One (t, ε) draw per image.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources, check_params
from harness.baselines.feature_entropy import SIGMA2, feature_entropy
from harness.baselines.features import encoder_identity, resolve_encoder_spec
from harness.baselines.laplace import (
    GGNAccumulator,
    LaplaceFit,
    PerSampleConv,
    batches,
    output_conv,
    sample_weights,
)
from harness.devices import versions
from harness.errors import InputError, PuncError

CACHE_ENV = "PUNC_CACHE_DIR"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "punc")


def world_fit_examples(n: int, seed: int) -> list[tuple[Image.Image, str]]:
    """n renders of the embedded generator's training scenes with their complete descriptions."""
    from harness.world.captions import object_phrase
    from harness.world.prompts import eval_texts
    from harness.world.render import render
    from harness.world.vocabulary import GEN_COLOURS, GEN_POSITIONS, GEN_SHAPES, GEN_SIZES

    banned = eval_texts()
    rng = random.Random(seed)
    out: list[tuple[Image.Image, str]] = []
    while len(out) < n:
        obj = {
            "shape": rng.choice(GEN_SHAPES),
            "colour": rng.choice(GEN_COLOURS),
            "size": rng.choice(GEN_SIZES),
            "position": rng.choice(GEN_POSITIONS),
        }
        text = object_phrase(obj)
        if text in banned:
            continue
        out.append((render({"objects": [obj], "background": "plain"}, rng)[0], text))
    return out


def folder_fit_examples(folder: Path, n: int) -> list[tuple[Image.Image, str]]:
    """Up to n images of `folder` (sorted by name) with their metadata.jsonl prompt, "" without one."""
    from harness.paths import inside

    if not folder.is_dir():
        raise InputError(
            folder,
            None,
            "fit_data",
            "an existing folder of images (optionally with metadata.jsonl), or 'world'",
        )
    texts: dict[str, str] = {}
    meta = folder / "metadata.jsonl"
    if meta.exists():
        for line_no, line in enumerate(meta.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                name, text = record["file_name"], record.get("text", "")
                if not isinstance(name, str) or not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError, AttributeError):
                raise InputError(
                    meta,
                    line_no,
                    "file_name",
                    'a JSON object {"file_name": "<image in this folder>", "text": "<prompt>"}',
                    line[:200],
                ) from None
            texts[inside(folder, name).name] = text
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:n]
    if not files:
        raise InputError(folder, None, "fit_data", f"at least one image ({', '.join(IMAGE_SUFFIXES)})")
    out = []
    for path in files:
        try:
            with Image.open(path) as im:
                out.append((im.convert("RGB"), texts.get(path.name, "")))
        except OSError as exc:
            raise InputError(path, None, None, "a readable image", str(exc)) from None
    return out


def stack_conditions(conds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Concatenate per-text denoiser kwargs along the batch dimension."""
    import torch

    out = {}
    for key, value in conds[0].items():
        out[key] = torch.cat([c[key] for c in conds]) if hasattr(value, "shape") else value
    return out


def fit_last_layer(
    adapter: Any, examples: Sequence[tuple[Image.Image, str]], seed: int, batch: int = 64
) -> LaplaceFit:
    """Diagonal last-layer Laplace of the adapter's denoiser on (image, prompt) examples."""
    import torch

    started = time.perf_counter()
    layer = output_conv(adapter.denoiser)
    scheduler = adapter.pipe.scheduler
    abar_all = getattr(scheduler, "alphas_cumprod", None)
    if abar_all is None:
        raise PuncError(f"generative_uncertainty: {type(scheduler).__name__} has no alphas_cumprod")
    prediction = str(scheduler.config.get("prediction_type", "epsilon"))
    train_steps = int(scheduler.config.get("num_train_timesteps", len(abar_all)))
    acc = GGNAccumulator(layer)
    captured: dict[str, Any] = {}
    handle = layer.register_forward_hook(lambda module, args, output: captured.update(x=args[0]))
    gen = torch.Generator("cpu").manual_seed(seed)
    try:
        for chunk in batches(list(examples), batch):
            z0 = adapter.encode(adapter.images_to_tensor([im for im, _ in chunk])).float()
            t = torch.randint(0, train_steps, (len(chunk),), generator=gen)
            eps = torch.randn(z0.shape, generator=gen).to(z0.device)
            abar = abar_all.to(z0.device, z0.dtype)[t.to(z0.device)].view(-1, 1, 1, 1)
            x_t = abar.sqrt() * z0 + (1 - abar).sqrt() * eps
            if prediction == "epsilon":
                target = eps
            elif prediction == "v_prediction":
                target = abar.sqrt() * eps - (1 - abar).sqrt() * z0
            elif prediction == "sample":
                target = z0
            else:
                raise PuncError(f"generative_uncertainty: prediction type {prediction!r} not supported")
            cond = stack_conditions([adapter.conditioning(text, 1.0)[0] for _, text in chunk])
            out = adapter._predict(x_t.to(adapter.dtype), t.to(adapter.device), cond, None, 1.0)
            acc.add(captured["x"], out, target)
    finally:
        handle.remove()
    w = layer.weight.detach().double().cpu().numpy()
    b = None if layer.bias is None else layer.bias.detach().double().cpu().numpy()
    return acc.fit(w, b, seconds=time.perf_counter() - started)


class GenerativeUncertainty(Baseline):
    """Jazbec et al.: entropy of the features of images from last-layer Laplace posterior samples of the denoiser."""

    kind: ClassVar[str] = "generative_uncertainty"
    needs_pipeline: ClassVar[bool] = True

    def __init__(
        self,
        resources: Resources | None = None,
        samples: int = 6,
        noises: int = 2,
        steps: int = 15,
        guidance: float = 1.0,
        seed: int = 0,
        fit_data: str = "world",
        fit_images: int = 512,
        encoder: str | None = None,
        sigma2: float = SIGMA2,
    ) -> None:
        super().__init__(resources)
        self.samples, self.noises, self.steps = int(samples), int(noises), int(steps)
        if self.samples < 2 or self.noises < 1 or self.steps < 1:
            raise PuncError("baseline generative_uncertainty: samples ≥ 2, noises ≥ 1 and steps ≥ 1")
        self.guidance, self.seed, self.sigma2 = float(guidance), int(seed), float(sigma2)
        self.fit_data, self.fit_images = str(fit_data), int(fit_images)
        self._encoder_path = resolve_encoder_spec(encoder)
        self.fit: LaplaceFit | None = None
        self.fit_from_cache = False

    @classmethod
    def from_params(cls, resources: Resources, params: dict[str, Any]) -> GenerativeUncertainty:
        check_params(
            cls.kind,
            params,
            {"samples", "noises", "steps", "guidance", "seed", "fit_data", "fit_images", "encoder", "sigma2"},
        )
        return cls(resources, **params)

    def _fit_identity(self) -> str:
        from harness.fingerprint import local_model_identity

        if self.fit_data == "world":
            return "world"
        folder = Path(self.fit_data).resolve()
        return f"folder:{folder}@{local_model_identity(str(folder)) if folder.exists() else 'missing'}"

    def signature(self) -> str:
        from harness.generators.identity import generator_identity

        gen = generator_identity(self.resources.generator_spec) if self.resources.generator_spec else "none"
        return (
            f"generative_uncertainty:laplace=last-layer-diag-ggn:layer=conv_out:prior=marglik:M={self.samples}"
            f"(map+{self.samples - 1}):noises={self.noises}:steps={self.steps}:guidance={self.guidance:g}"
            f":seed={self.seed}:fit={self._fit_identity()}x{self.fit_images}:sigma2={self.sigma2:g}"
            f":encoder={encoder_identity(self._encoder_path)}:generator={gen}"
            f":{versions('diffusers', 'transformers', 'torch')}"
        )

    def _cache_path(self) -> Path:
        from harness.generators.identity import generator_identity

        key = json.dumps(
            [
                generator_identity(self.resources.generator_spec or ""),
                self._fit_identity(),
                self.fit_images,
                self.seed,
                "diag-ggn-v1",
            ]
        )
        return cache_root() / "laplace" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"

    def prepare(self) -> None:
        super().prepare()
        self.laplace()

    def laplace(self) -> LaplaceFit:
        """The fitted posterior: from the cache, else fitted now (and cached)."""
        if self.fit is not None:
            return self.fit
        path = self._cache_path()
        if path.exists():
            with np.load(path, allow_pickle=False) as arrays:
                self.fit = LaplaceFit.from_arrays(dict(arrays))
            self.fit_from_cache = True
            return self.fit
        if self.fit_data == "world":
            examples = world_fit_examples(self.fit_images, self.seed)
        else:
            examples = folder_fit_examples(Path(self.fit_data), self.fit_images)
        self.fit = fit_last_layer(self.resources.adapter(), examples, self.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **self.fit.to_arrays())
        tmp.replace(path)
        return self.fit

    def generate(self, prompt_text: str, size: tuple[int, int], noise_index: int) -> list[Image.Image]:
        """M images from one initial noise, one per conv_out posterior sample."""
        import inspect

        import torch

        adapter = self.resources.adapter()
        pipe = adapter.pipe
        layer = output_conv(adapter.denoiser)
        weights, biases = sample_weights(layer, self.laplace(), self.samples, self.seed + 1000 * noise_index)
        width, height = size
        factor = adapter.vae_scale_factor
        channels = int(adapter.denoiser.config.in_channels)
        gen = torch.Generator("cpu").manual_seed(self.seed + noise_index)
        z = torch.randn((1, channels, height // factor, width // factor), generator=gen)
        latents = z.repeat(self.samples, 1, 1, 1).to(adapter.device, adapter.dtype)
        kwargs: dict[str, Any] = dict(
            prompt=[prompt_text] * self.samples,
            latents=latents,
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            height=height,
            width=width,
            output_type="pil",
        )
        accepted = set(inspect.signature(pipe.__call__).parameters)
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        hook = PerSampleConv(layer, weights, biases)
        try:
            with torch.inference_mode():
                out = pipe(**{k: v for k, v in kwargs.items() if k in accepted})
        finally:
            hook.remove()
        return list(out.images)

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        encoder = self.resources.encoder(self._encoder_path)
        fit = self.laplace()
        size = images[0].size if images else (32, 32)
        values = []
        for j in range(self.noises):
            generated = self.generate(prompt_text, size, j)
            values.append(feature_entropy(encoder.encode(generated), self.sigma2))
        cfg = 2 if self.guidance > 1.0 else 1
        per_noise = self.samples * self.steps * cfg + self.samples + self.samples  # denoiser, VAE, encoder
        return Outcome(
            float(np.mean(values)),
            passes=self.noises * per_noise,
            info={
                "laplace_fit_seconds": round(fit.seconds, 3),
                "laplace_fit_images": fit.n_fit,
                "laplace_prior_precision": fit.prior_precision,
                "laplace_sigma2": fit.sigma2,
                "laplace_from_cache": self.fit_from_cache,
            },
        )
