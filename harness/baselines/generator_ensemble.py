"""Deep generative ensemble (van Breugel et al. 2023): several generators trained alike with different
seeds; where they disagree on a prompt, the prompt is outside what the training data pinned down.

Per prompt, each member m draws K images from the SAME K initial noises (seed, seed + 1, ...), so
members are compared image by image. Two views of their disagreement:

- image features (the score u): for each noise k, 1 − mean pairwise cosine of the members' image
  features (the seed ensemble's measure, across members instead of across seeds); u = mean over k.
- PUNC's text space (extra scores, needs the run's judge): every member image is captioned; p_m is
  member m's empirical distribution over its (whitespace- and case-normalised) captions, p̄ the
  members' average. The caption entropy splits as
      H[p̄]  =  (1/M) Σ_m H[p_m]  +  JSD(p_1..p_M)
      total    shared by all members   disagreement between members (mutual information between
                                        the caption and the member index, ≥ 0)
  — the BALD/ensemble split of predictive entropy, with captions as the predicted variable. Shared
  entropy is what every member is unsure of (aleatoric, like U_ale); the mutual information is
  what only their disagreement explains (epistemic, like U_epi). Entropies in nats. Not a split of U
  itself: U_ale / U_epi are means of 1 − P / 1 − R over captions, so the members' mean U equals the U
  of their pooled captions and that split is always zero; entropy is concave, so its split is not.
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources, check_params
from harness.baselines.features import cosine_matrix, encoder_identity, resolve_encoder_spec
from harness.devices import versions
from harness.errors import PuncError

#: the embedded generator and the members trained beside it with other seeds (models/embedded/ensemble)
DEFAULT_MEMBERS = ("models/embedded/generator-long", "models/embedded/ensemble")


def entropy(distribution: dict[str, float]) -> float:
    return float(-sum(p * math.log(p) for p in distribution.values() if p > 0))


def normalise_caption(text: str) -> str:
    return " ".join(text.lower().split())


def caption_entropy_split(captions: Sequence[Sequence[str]]) -> dict[str, float]:
    """{"total", "shared", "disagreement"} of the members' caption distributions (see module doc)."""
    members = [[normalise_caption(c) for c in member] for member in captions]
    if len(members) < 2 or any(not m for m in members):
        raise ValueError("the caption split needs at least two members with at least one caption each")
    dists = [{c: n / len(m) for c, n in Counter(m).items()} for m in members]
    pooled: dict[str, float] = {}
    for dist in dists:
        for c, p in dist.items():
            pooled[c] = pooled.get(c, 0.0) + p / len(dists)
    total = entropy(pooled)
    shared = float(np.mean([entropy(d) for d in dists]))
    return {"total": total, "shared": shared, "disagreement": max(0.0, total - shared)}


def member_disagreement(features: np.ndarray) -> float:
    """features (M members, K noises, D): mean over k of 1 − mean pairwise cosine across members."""
    features = np.asarray(features, dtype=np.float64)
    m = features.shape[0]
    if m < 2:
        raise ValueError("an ensemble needs at least two members")
    upper = np.triu_indices(m, 1)
    values = [1.0 - cosine_matrix(features[:, k, :])[upper].mean() for k in range(features.shape[1])]
    return float(max(0.0, np.mean(values)))


def resolve_members(members: Sequence[str] | str | None) -> list[str]:
    """Member pipeline folders or hub ids; a folder holding member-* folders means all of them."""
    from harness.locate import find_shipped

    given = [members] if isinstance(members, str) else list(members or DEFAULT_MEMBERS)
    out: list[str] = []
    for spec in given:
        path = Path(spec) if Path(spec).exists() else find_shipped(spec)
        if path is not None and path.is_dir() and not (path / "model_index.json").exists():
            found = sorted(p for p in path.iterdir() if (p / "model_index.json").exists())
            if not found:
                raise PuncError(f"baseline generator_ensemble: {path} holds no diffusers pipelines")
            out += [str(p.resolve()) for p in found]
        elif path is not None:
            out.append(str(path.resolve()))
        elif members is None:
            raise PuncError(
                f"baseline generator_ensemble: the shipped member {spec} was not found; "
                "pass params.members: [pipeline folder or hub id, ...]"
            )
        else:
            out.append(spec)
    if len(out) < 2:
        raise PuncError(f"baseline generator_ensemble: needs at least two members, got {out}")
    return out


class GeneratorEnsemble(Baseline):
    """Deep generative ensemble: feature disagreement across generators trained with other seeds."""

    kind: ClassVar[str] = "generator_ensemble"

    def __init__(
        self,
        resources: Resources | None = None,
        members: Sequence[str] | str | None = None,
        images: int = 4,
        steps: int = 15,
        guidance: float = 1.0,
        seed: int = 0,
        captions: bool = True,
        encoder: str | None = None,
    ) -> None:
        super().__init__(resources)
        self._member_specs = members
        self._members: list[str] | None = None
        self.images, self.steps, self.seed = int(images), int(steps), int(seed)
        if self.images < 1 or self.steps < 1:
            raise PuncError("baseline generator_ensemble: images and steps must be ≥ 1")
        self.guidance, self.captions = float(guidance), bool(captions)
        self._encoder_path = resolve_encoder_spec(encoder)
        self._pipes: list[Any] = []

    @property
    def members(self) -> list[str]:
        """Resolved when first needed, so a run computes the other baselines before a missing member stops it."""
        if self._members is None:
            self._members = resolve_members(self._member_specs)
        return self._members

    @classmethod
    def from_params(cls, resources: Resources, params: dict[str, Any]) -> GeneratorEnsemble:
        check_params(
            cls.kind, params, {"members", "images", "steps", "guidance", "seed", "captions", "encoder"}
        )
        return cls(resources, **params)

    def signature(self) -> str:
        from harness.generators.identity import generator_identity

        ids = ",".join(generator_identity(m) for m in self.members)
        judge = (
            self.resources.judge_config.fingerprint
            if self.captions and self.resources.judge_config
            else "none"
        )
        return (
            f"generator_ensemble:members=[{ids}]:images={self.images}:steps={self.steps}"
            f":guidance={self.guidance:g}:seed={self.seed}:features=1-cos:encoder={encoder_identity(self._encoder_path)}"
            f":captions=entropy-split:judge={judge}:{versions('diffusers', 'transformers', 'torch')}"
        )

    def prepare(self) -> None:
        super().prepare()
        self.pipelines()
        if self.captions and self.resources.judge_config is not None:
            self.resources.judge()

    def pipelines(self) -> list[Any]:
        if not self._pipes:
            from harness.generators.diffusers_pipeline import load_pipeline

            for spec in self.members:
                pipe, _, _ = load_pipeline(spec, self.resources.device)
                if hasattr(pipe, "set_progress_bar_config"):
                    pipe.set_progress_bar_config(disable=True)
                self._pipes.append(pipe)
        return self._pipes

    def generate(self, pipe: Any, prompt_text: str, size: tuple[int, int]) -> list[Image.Image]:
        """K images from the fixed noises seed, seed + 1, ... (the same for every member)."""
        import torch

        width, height = size
        denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        vae = getattr(pipe, "vae", None)
        factor = 2 ** (len(vae.config.block_out_channels) - 1) if vae is not None else 1
        channels = int(denoiser.config.in_channels)
        noises = [
            torch.randn(
                (1, channels, height // factor, width // factor),
                generator=torch.Generator().manual_seed(self.seed + k),
            )
            for k in range(self.images)
        ]
        kwargs: dict[str, Any] = dict(
            prompt=[prompt_text] * self.images,
            latents=torch.cat(noises).to(denoiser.device, denoiser.dtype),
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            height=height,
            width=width,
            output_type="pil",
        )
        accepted = set(inspect.signature(pipe.__call__).parameters)
        with torch.inference_mode():
            return list(pipe(**{k: v for k, v in kwargs.items() if k in accepted}).images)

    def caption_all(self, prompt_text: str, generated: list[list[Image.Image]]) -> list[list[str]]:
        from harness.judges.base import CaptionRequest

        judge = self.resources.judge()
        samples = int(getattr(self.resources.judge_config, "samples_per_image", 1) or 1)
        requests = [
            CaptionRequest(key=f"{m}:{k}:{s}", image=image, prompt_text=prompt_text, sample_index=s)
            for m, member in enumerate(generated)
            for k, image in enumerate(member)
            for s in range(samples)
        ]
        results = judge.caption(requests)
        by_member: list[list[str]] = [[] for _ in generated]
        for result in results:
            if result.ok:
                by_member[int(result.key.split(":")[0])].append(result.text or "")
        return by_member

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        encoder = self.resources.encoder(self._encoder_path)
        size = images[0].size if images else (32, 32)
        generated = [self.generate(pipe, prompt_text, size) for pipe in self.pipelines()]
        flat = [im for member in generated for im in member]
        features = encoder.encode(flat).reshape(len(generated), self.images, -1)
        u = member_disagreement(features)
        extra: dict[str, float] = {}
        judge_calls = 0
        if self.captions and self.resources.judge_config is not None:
            captions = self.caption_all(prompt_text, generated)
            judge_calls = sum(len(c) for c in captions)
            split = caption_entropy_split(captions)
            extra = {
                "caption entropy total": split["total"],
                "caption entropy shared": split["shared"],
                "caption MI (disagreement)": split["disagreement"],
            }
        cfg = 2 if self.guidance > 1.0 else 1
        passes = len(flat) * (self.steps * cfg + 1 + 1) + judge_calls  # denoiser, VAE, encoder, judge
        return Outcome(u, passes=passes, extra_scores=extra, info={"judge_calls": judge_calls})
