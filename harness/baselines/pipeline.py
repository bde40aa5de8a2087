"""Partial noising and denoising with the generator's own pipeline, for reconstruction and inpainting.

Works on diffusers pipelines whose denoiser is a `unet` (UNet2DConditionModel, UNet2DModel) or a
`transformer` that takes unpacked latents (SD3, PixArt-style); latent space through `pipe.vae`
when present, pixel space otherwise. Noise is added with the pipeline's scheduler (`add_noise`, or
`scale_noise` for flow-matching schedulers), the schedule comes from `set_timesteps`, and each
denoising step is `scheduler.step`. Text conditioning comes from `pipe.encode_prompt` when the
pipeline has one (unconditional otherwise). Every denoiser call is counted in `passes`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from harness.errors import PuncError


class PipelineAdapter:
    def __init__(self, pipe: Any, device: str | None = None) -> None:
        import torch

        self.pipe = pipe
        self.denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        if self.denoiser is None:
            raise PuncError(f"{type(pipe).__name__}: no unet or transformer to denoise with")
        if getattr(pipe, "scheduler", None) is None:
            raise PuncError(f"{type(pipe).__name__}: no scheduler")
        self.vae = getattr(pipe, "vae", None)
        self.device = device or str(self.denoiser.device)
        self.dtype = self.denoiser.dtype
        self.passes = 0
        self._forward_params = set(inspect.signature(self.denoiser.forward).parameters)
        self._cond_cache: dict[tuple[str, bool], tuple[dict, dict | None]] = {}
        self.torch = torch
        if any(name in type(pipe).__name__ for name in ("Flux", "QwenImage")):
            raise PuncError(
                f"{type(pipe).__name__}: denoisers on packed latents (Flux, Qwen-Image) are not supported "
                "by the reconstruction and inpainting baselines"
            )

    # -- images <-> latents -------------------------------------------------------------------
    @property
    def vae_scale_factor(self) -> int:
        if self.vae is None:
            return 1
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    def images_to_tensor(self, images: Sequence[Image.Image]) -> Any:
        """(B, 3, H, W) in [0, 1], float32 on the CPU."""
        arrays = [np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0 for im in images]
        return self.torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()

    @staticmethod
    def tensor_to_images(x: Any) -> list[Image.Image]:
        arr = (x.clamp(0, 1).permute(0, 2, 3, 1).cpu().float().numpy() * 255.0).round().astype(np.uint8)
        return [Image.fromarray(a) for a in arr]

    def encode(self, pixels01: Any) -> Any:
        x = (pixels01 * 2.0 - 1.0).to(self.device, self.dtype)
        if self.vae is None:
            return x
        with self.torch.inference_mode():
            out = self.vae.encode(x)
        dist = getattr(out, "latent_dist", None)
        z = dist.mean if dist is not None else out.latents
        self.passes += 1
        shift = getattr(self.vae.config, "shift_factor", None) or 0.0
        return (z - shift) * self.vae.config.scaling_factor

    def decode(self, z: Any) -> Any:
        """Latents -> (B, 3, H, W) in [0, 1], float32 on the CPU."""
        if self.vae is None:
            x = z
        else:
            shift = getattr(self.vae.config, "shift_factor", None) or 0.0
            with self.torch.inference_mode():
                x = self.vae.decode(z / self.vae.config.scaling_factor + shift).sample
            self.passes += 1
        return ((x.float().cpu() + 1.0) / 2.0).clamp(0, 1)

    # -- conditioning -------------------------------------------------------------------------
    def conditioning(self, text: str, guidance: float) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Denoiser keyword arguments for the prompt, and for the empty prompt when guidance > 1."""
        cfg = guidance > 1.0
        key = (text, cfg)
        if key in self._cond_cache:
            return self._cond_cache[key]
        encode = getattr(self.pipe, "encode_prompt", None)
        if encode is None:
            result: tuple[dict, dict | None] = ({}, {} if cfg else None)
            self._cond_cache[key] = result
            return result
        params = inspect.signature(encode).parameters
        kwargs: dict[str, Any] = {}
        for name, value in (
            ("device", self.device),
            ("num_images_per_prompt", 1),
            ("do_classifier_free_guidance", cfg),
            ("negative_prompt", "" if cfg else None),
        ):
            if name in params:
                kwargs[name] = value
        for extra in ("prompt_2", "prompt_3"):
            if extra in params:
                kwargs[extra] = None
        with self.torch.inference_mode():
            out = encode(prompt=text, **kwargs)
        out = tuple(out) if isinstance(out, list | tuple) else (out,)
        if "prompt_3" in params and len(out) == 4:  # SD3: embeds, negative, pooled, negative pooled
            cond = {"encoder_hidden_states": out[0], "pooled_projections": out[2]}
            uncond = {"encoder_hidden_states": out[1], "pooled_projections": out[3]}
        elif len(out) == 4:  # PixArt: embeds, mask, negative, negative mask
            cond = {"encoder_hidden_states": out[0], "encoder_attention_mask": out[1]}
            uncond = {"encoder_hidden_states": out[2], "encoder_attention_mask": out[3]}
        else:  # Stable Diffusion: embeds, negative
            cond = {"encoder_hidden_states": out[0]}
            uncond = {"encoder_hidden_states": out[1] if len(out) > 1 else None}
        result = (self._accepted(cond), self._accepted(uncond) if cfg else None)
        self._cond_cache[key] = result
        return result

    def _accepted(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in kwargs.items() if v is not None and k in self._forward_params}
        if "added_cond_kwargs" in self._forward_params and "encoder_attention_mask" in kwargs:
            kept["added_cond_kwargs"] = {"resolution": None, "aspect_ratio": None}
        return kept

    # -- denoising ----------------------------------------------------------------------------
    def _predict(self, latents: Any, t: Any, cond: dict, uncond: dict | None, guidance: float) -> Any:
        torch = self.torch
        batch = latents.shape[0]

        def call(x: Any, kw: dict) -> Any:
            kw = {k: _batched(v, x.shape[0]) for k, v in kw.items()}
            timestep = t.reshape(1).expand(x.shape[0]) if t.numel() == 1 else t
            if "hidden_states" in self._forward_params and "sample" not in self._forward_params:
                out = self.denoiser(hidden_states=x, timestep=timestep, return_dict=False, **kw)[0]
            else:
                out = self.denoiser(x, timestep, return_dict=False, **kw)[0]
            self.passes += 1
            if out.shape[1] == 2 * x.shape[1]:  # learned variance: keep the noise prediction
                out = out.chunk(2, dim=1)[0]
            return out

        with torch.inference_mode():
            if uncond is None:
                return call(latents, cond)
            both = call(torch.cat([latents, latents]), _cat_kwargs(uncond, cond, batch))
            eps_u, eps_c = both.chunk(2)
            return eps_u + guidance * (eps_c - eps_u)

    def _scheduler(self) -> Any:
        current = self.pipe.scheduler
        return type(current).from_config(current.config)

    @staticmethod
    def _noise(scheduler: Any, z0: Any, noise: Any, t: Any) -> Any:
        if hasattr(scheduler, "add_noise"):
            return scheduler.add_noise(z0, noise, t.reshape(1))
        if hasattr(scheduler, "scale_noise"):
            return scheduler.scale_noise(z0, t.reshape(1), noise)
        raise PuncError(f"{type(scheduler).__name__}: neither add_noise nor scale_noise")

    def denoise_from(
        self,
        z0: Any,
        text: str,
        strength: float,
        steps: int,
        seed: int = 0,
        guidance: float = 1.0,
        known_mask: Any = None,
    ) -> Any:
        """Noise z0 to the level `strength` (fraction of the schedule, img2img style), then denoise in
        `steps` steps conditioned on `text`. With `known_mask` (1 = known, latent resolution), every
        step replaces the known region by z0 noised to the next level (RePaint-style blending)."""
        torch = self.torch
        if not 0.0 < strength <= 1.0:
            raise PuncError(f"noise level {strength}: expected a fraction in (0, 1]")
        scheduler = self._scheduler()
        train_steps = int(scheduler.config.get("num_train_timesteps", 1000))
        total = min(train_steps, max(steps, int(round(steps / strength))))
        kwargs = (
            {"device": self.device}
            if "device" in inspect.signature(scheduler.set_timesteps).parameters
            else {}
        )
        scheduler.set_timesteps(total, **kwargs)
        order = getattr(scheduler, "order", 1)
        init = min(int(round(total * strength)), total)
        start = max(total - init, 0) * order
        timesteps = scheduler.timesteps[start:]
        if hasattr(scheduler, "set_begin_index"):
            scheduler.set_begin_index(start)
        gen = torch.Generator("cpu").manual_seed(seed)

        def randn() -> Any:
            return torch.randn(z0.shape, generator=gen, dtype=torch.float32).to(self.device, z0.dtype)

        cond, uncond = self.conditioning(text, guidance)
        latents = self._noise(scheduler, z0, randn(), timesteps[0])
        mask = None if known_mask is None else known_mask.to(self.device, z0.dtype)
        step_kwargs = (
            {"generator": gen} if "generator" in inspect.signature(scheduler.step).parameters else {}
        )
        for i, t in enumerate(timesteps):
            model_in = (
                scheduler.scale_model_input(latents, t)
                if hasattr(scheduler, "scale_model_input")
                else latents
            )
            pred = self._predict(model_in, t, cond, uncond, guidance)
            latents = scheduler.step(pred, t, latents, **step_kwargs, return_dict=False)[0]
            if mask is not None:
                if i + 1 < len(timesteps):
                    known = self._noise(scheduler, z0, randn(), timesteps[i + 1])
                else:
                    known = z0
                latents = mask * known + (1.0 - mask) * latents
        return latents


def _batched(value: Any, batch: int) -> Any:
    if hasattr(value, "shape") and value.shape and value.shape[0] == 1 and batch > 1:
        return value.expand(batch, *value.shape[1:])
    return value


def _cat_kwargs(uncond: dict, cond: dict, batch: int) -> dict:
    import torch

    out = {}
    for key, value in cond.items():
        other = uncond.get(key)
        if hasattr(value, "shape") and other is not None:
            out[key] = torch.cat([_batched(other, batch), _batched(value, batch)])
        else:
            out[key] = value
    return out
