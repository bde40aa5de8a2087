"""Local judges through Hugging Face transformers: image captioners and chat vision-language models.

Two modes, picked from the model's config when `mode: auto`:

* captioner: image-to-text models (VisionEncoderDecoder, BLIP, BLIP-2, GIT) called as
  `generate(pixel_values=...)`; the instruction is ignored (they take none). Prefix captioners
  (PaliGemma) get the instruction as their text prefix (e.g. `caption en`) through their processor.
* chat: chat VLMs (`AutoModelForImageTextToText` + `AutoProcessor` with a chat template); the
  instruction is sent as the user turn after the image, and only the new tokens are decoded.

Sampling is reproducible per item: every row of a batch draws from its own torch.Generator seeded by
`sample_seed(decoding.seed, key, sample_index)`, so a sample does not depend on the batch it is in.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness.config.judge import DecodingConfig, TransformersJudgeConfig
from harness.devices import pick_device, pick_dtype
from harness.errors import PuncError
from harness.hub import resolve_model_source
from harness.judges._images import sample_seed, to_rgb
from harness.judges.base import CaptionRequest, CaptionResult, Judge, empty_caption_error

log = logging.getLogger(__name__)

# model_type values of image-to-text captioners that take no text instruction
CAPTIONER_MODEL_TYPES = frozenset({"vision-encoder-decoder", "blip", "blip-2", "git", "paligemma"})
# captioners that need a text prefix with the image (PaliGemma: a task prefix such as "caption en");
# they get the judge's instruction as that prefix, through their processor, with no chat template
PREFIX_CAPTIONER_MODEL_TYPES = frozenset({"paligemma"})
# processors that expect one list of images per text (nested) rather than a flat list
_NESTED_IMAGE_PROCESSORS = frozenset(
    {
        "Idefics2Processor",
        "Idefics3Processor",
        "SmolVLMProcessor",
        "MllamaProcessor",
        "IdeficsProcessor",
        "Gemma3Processor",
    }
)


@dataclass(frozen=True)
class GenerationItem:
    """One row to generate: the server builds these directly (its own instruction and seed)."""

    image: Any
    instruction: str
    seed: int


@dataclass(frozen=True)
class GenerationOutput:
    """A decoded answer (possibly empty) or the error that stopped its batch."""

    text: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


# --------------------------------------------------------------------------------------------------
# where the weights come from


# --------------------------------------------------------------------------------------------------
# sampling that does not depend on the batch


class SeededSampler:
    """A logits processor that samples each row with its own generator and forces that token.

    Generation runs with do_sample=False, so generate() takes the forced token (argmax); temperature,
    top-k and top-p are applied here, after the model's own processors (repetition penalty etc.).
    Draws happen on the CPU so a seed gives the same samples on every device.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float, top_k: int | None) -> None:
        self.generators = [torch.Generator(device="cpu").manual_seed(int(seed)) for seed in seeds]
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        logits = scores.detach().float().cpu() / self.temperature
        if self.top_k is not None and self.top_k < logits.shape[-1]:
            kth = torch.topk(logits, self.top_k, dim=-1).values[..., -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
            cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
            drop_sorted = cumulative - sorted_logits.softmax(dim=-1) >= self.top_p  # keeps the first token
            drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
            logits = logits.masked_fill(drop, float("-inf"))
        probs = logits.softmax(dim=-1)
        chosen = torch.empty(len(self.generators), dtype=torch.long)
        for row, generator in enumerate(self.generators):
            row_probs = probs[row]
            if not torch.isfinite(row_probs).all() or row_probs.sum() <= 0:
                chosen[row] = int(torch.argmax(scores[row]))
            else:
                chosen[row] = int(torch.multinomial(row_probs, 1, generator=generator))
        forced = torch.full_like(scores, float("-inf"))
        forced[torch.arange(len(chosen)), chosen.to(scores.device)] = 0.0
        return forced


# --------------------------------------------------------------------------------------------------
# the judge


class TransformersJudge(Judge):
    """A VLM or captioner run in this process with transformers (CPU or GPU), captioner or chat mode."""

    config_class = TransformersJudgeConfig
    requires = "transformers"
    config: TransformersJudgeConfig

    @classmethod
    def from_config(cls, config: TransformersJudgeConfig, device: str | None = None) -> TransformersJudge:  # type: ignore[override]
        return cls(config, device=device)

    def __init__(self, config: TransformersJudgeConfig, device: str | None = None) -> None:
        super().__init__(config)
        if config.backend != "transformers":
            raise PuncError(f"judge '{config.name}': backend is '{config.backend}', not 'transformers'")
        if config.decoding.sampling and config.decoding.num_beams > 1:
            raise PuncError(
                f"judge '{config.name}': decoding.num_beams > 1 with temperature > 0 (beam sampling) is not "
                "supported; use num_beams: 1 to sample, or temperature: 0 for beam search"
            )
        self.device = pick_device(device or config.device)
        self.dtype = pick_dtype(self.device, config.dtype)
        source = resolve_model_source(config.model, config.revision, what="judge model")
        revision = None if Path(source).exists() else config.revision
        try:
            from transformers import AutoConfig

            model_config = AutoConfig.from_pretrained(source, revision=revision)
        except Exception as exc:
            raise PuncError(
                f"judge model '{config.model}': cannot read its config.json ({type(exc).__name__}: {exc})"
            ) from None
        self.model_type = getattr(model_config, "model_type", "")
        if config.mode == "auto":
            self.mode = "captioner" if self.model_type in CAPTIONER_MODEL_TYPES else "chat"
        else:
            self.mode = config.mode
        self.prefix_captioner = self.model_type in PREFIX_CAPTIONER_MODEL_TYPES
        self.max_new_tokens_limit = generation_limit(model_config)
        if self.max_new_tokens_limit is not None and config.max_new_tokens > self.max_new_tokens_limit:
            raise PuncError(
                f"judge '{config.name}': max_new_tokens is {config.max_new_tokens}, but the model "
                f"'{config.model}' has {self.max_new_tokens_limit} decoder positions; use at most "
                f"{self.max_new_tokens_limit}"
            )
        self._load(source, revision)

    # ---- loading

    def _load(self, source: str, revision: str | None) -> None:
        from transformers import AutoModelForImageTextToText

        what = f"judge model '{self.config.model}'"
        try:
            if self.mode == "captioner" and self.prefix_captioner:
                from transformers import AutoProcessor

                self.processor = AutoProcessor.from_pretrained(source, revision=revision)
                self.tokenizer = self.processor.tokenizer
                self.image_processor = self.processor.image_processor
            elif self.mode == "captioner":
                from transformers import AutoImageProcessor, AutoTokenizer

                self.image_processor = AutoImageProcessor.from_pretrained(source, revision=revision)
                self.tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
                self.processor = None
            else:
                from transformers import AutoProcessor

                self.processor = AutoProcessor.from_pretrained(source, revision=revision)
                self.tokenizer = getattr(self.processor, "tokenizer", None)
                self.image_processor = getattr(self.processor, "image_processor", None)
                if self.tokenizer is None or self.image_processor is None:
                    raise PuncError(
                        f"{what}: mode chat needs a processor with an image processor and a tokenizer; "
                        "for an image-to-text captioner use mode: captioner"
                    )
                template = getattr(self.processor, "chat_template", None) or getattr(
                    self.tokenizer, "chat_template", None
                )
                if not template:
                    raise PuncError(
                        f"{what}: mode chat needs a chat template (none in the processor or tokenizer); "
                        "for an image-to-text captioner use mode: captioner"
                    )
                self.tokenizer.padding_side = "left"
                if self.tokenizer.pad_token is None and self.tokenizer.eos_token is not None:
                    self.tokenizer.pad_token = self.tokenizer.eos_token
            model = AutoModelForImageTextToText.from_pretrained(source, revision=revision, dtype=self.dtype)
        except PuncError:
            raise
        except Exception as exc:
            text = str(exc)
            missing = [name for name in ("torchvision", "num2words") if name in text.lower()]
            if missing:
                raise PuncError(
                    f"{what}: its processor needs {' and '.join(missing)}, which is not installed; "
                    "install the VLM extra: pip install 'punc-harness[vlm]'"
                ) from None
            raise PuncError(
                f"{what}: cannot load it with transformers ({type(exc).__name__}: {text})"
            ) from None
        self.model = model.to(self.device).eval()
        self._is_encoder_decoder = bool(getattr(self.model.config, "is_encoder_decoder", False))

    # ---- public API

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "mode": self.mode, "device": self.device, "dtype": str(self.dtype)}

    def caption(self, requests: Sequence[CaptionRequest]) -> list[CaptionResult]:
        items = [
            GenerationItem(
                image=request.image,
                instruction=self.config.render_instruction(request.prompt_text),
                seed=sample_seed(self.config.decoding.seed, request.key, request.sample_index),
            )
            for request in requests
        ]
        outputs = self.generate(items)
        results = []
        for request, output in zip(requests, outputs, strict=True):
            if output.error is not None:
                results.append(CaptionResult(key=request.key, error=output.error))
                continue
            error = empty_caption_error(output.text)
            results.append(CaptionResult(key=request.key, text=None if error else output.text, error=error))
        return results

    def generate(
        self,
        items: Sequence[GenerationItem],
        decoding: DecodingConfig | None = None,
        max_new_tokens: int | None = None,
    ) -> list[GenerationOutput]:
        """Generate in chunks of batch_size; a failing chunk is retried item by item, then reported."""
        decoding = decoding or self.config.decoding
        max_new_tokens = max_new_tokens or self.config.max_new_tokens
        outputs: list[GenerationOutput] = []
        size = self.config.batch_size
        for start in range(0, len(items), size):
            chunk = list(items[start : start + size])
            try:
                outputs.extend(self._run_batch(chunk, decoding, max_new_tokens))
            except Exception as exc:
                if len(chunk) == 1:
                    outputs.append(GenerationOutput(error=_describe_failure(exc)))
                    continue
                log.warning("a batch of %d failed (%s); retrying one by one", len(chunk), exc)
                for item in chunk:
                    try:
                        outputs.extend(self._run_batch([item], decoding, max_new_tokens))
                    except Exception as single:
                        outputs.append(GenerationOutput(error=_describe_failure(single)))
        return outputs

    def close(self) -> None:
        for name in ("model", "processor", "tokenizer", "image_processor"):
            if hasattr(self, name):
                setattr(self, name, None)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # ---- one batch

    def _generation_kwargs(
        self, items: Sequence[GenerationItem], decoding: DecodingConfig, max_new_tokens: int
    ) -> dict[str, Any]:
        generation_config = copy.deepcopy(self.model.generation_config)
        generation_config.do_sample = False
        generation_config.max_new_tokens = max_new_tokens
        generation_config.max_length = None
        generation_config.num_return_sequences = 1
        for name in ("temperature", "top_p", "top_k", "min_p", "typical_p"):
            if hasattr(generation_config, name):
                setattr(generation_config, name, None)
        generation_config.num_beams = 1 if decoding.sampling else decoding.num_beams
        if decoding.repetition_penalty is not None:
            generation_config.repetition_penalty = decoding.repetition_penalty
        if generation_config.pad_token_id is None and self.tokenizer is not None:
            pad = self.tokenizer.pad_token_id
            generation_config.pad_token_id = pad if pad is not None else self.tokenizer.eos_token_id
        kwargs: dict[str, Any] = {"generation_config": generation_config}
        if decoding.sampling:
            from transformers import LogitsProcessorList

            sampler = SeededSampler(
                [item.seed for item in items], decoding.temperature, decoding.top_p, decoding.top_k
            )
            kwargs["logits_processor"] = LogitsProcessorList([sampler])
        return kwargs

    @torch.inference_mode()
    def _run_batch(
        self, items: Sequence[GenerationItem], decoding: DecodingConfig, max_new_tokens: int
    ) -> list[GenerationOutput]:
        images = [to_rgb(item.image) for item in items]
        kwargs = self._generation_kwargs(items, decoding, max_new_tokens)
        if self.mode == "captioner" and self.prefix_captioner:
            inputs = self._tensors(
                self.processor(
                    images=list(images),
                    text=[item.instruction for item in items],
                    padding=True,
                    return_tensors="pt",
                )
            )
            sequences = self.model.generate(**inputs, **kwargs)
            prompt_length = int(inputs["input_ids"].shape[1])
            new_tokens = sequences[:, prompt_length:]
        elif self.mode == "captioner":
            pixel_values = self.image_processor(images=images, return_tensors="pt")["pixel_values"]
            pixel_values = pixel_values.to(self.device, dtype=self.dtype)
            sequences = self.model.generate(pixel_values=pixel_values, **kwargs)
            prompt_length = 0
            new_tokens = sequences
        else:
            inputs = self.chat_inputs(images, [item.instruction for item in items])
            sequences = self.model.generate(**inputs, **kwargs)
            prompt_length = int(inputs["input_ids"].shape[1])
            new_tokens = sequences if self._is_encoder_decoder else sequences[:, prompt_length:]
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        special = set(self.tokenizer.all_special_ids)
        outputs = []
        for row, text in zip(new_tokens.tolist(), texts, strict=True):
            completion = sum(1 for token in row if token not in special)
            outputs.append(
                GenerationOutput(text=text.strip(), prompt_tokens=prompt_length, completion_tokens=completion)
            )
        return outputs

    def chat_inputs(self, images: Sequence[Any], instructions: Sequence[str]) -> dict[str, Any]:
        """The processor's tensors for one user turn per image: the image, then the instruction."""
        texts = [
            self.processor.apply_chat_template(
                [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": instruction}]}],
                add_generation_prompt=True,
                tokenize=False,
            )
            for instruction in instructions
        ]
        nested = type(self.processor).__name__ in _NESTED_IMAGE_PROCESSORS
        batch = self.processor(
            images=[[image] for image in images] if nested else list(images),
            text=texts,
            padding=True,
            return_tensors="pt",
        )
        return self._tensors(batch)

    def _tensors(self, batch: Any) -> dict[str, Any]:
        """Processor outputs on the judge's device; floating tensors in its dtype."""
        inputs: dict[str, Any] = {}
        for name, value in batch.items():
            if isinstance(value, torch.Tensor):
                value = value.to(self.device)
                if value.is_floating_point():
                    value = value.to(self.dtype)
            inputs[name] = value
        return inputs


def generation_limit(model_config: Any) -> int | None:
    """The most tokens the model can generate: its text decoder's position table (learned positions
    index out of range beyond it). An upper bound for chat models, whose prompt takes positions too;
    None when the config names no fixed table."""
    for part in (
        getattr(model_config, "decoder", None),
        getattr(model_config, "text_config", None),
        model_config,
    ):
        for name in ("n_positions", "max_position_embeddings"):
            value = getattr(part, name, None) if part is not None else None
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def _describe_failure(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:300]
    return f"the judge failed on this item: {type(exc).__name__}" + (f": {text}" if text else "")
