"""Offline vLLM judges: `vllm.LLM(...).chat(conversations, sampling_params)` on batches of images.

vLLM is an optional extra (`pip install 'punc-harness[vllm]'`); importing this module never imports
it. Conversations use the OpenAI multimodal content format (`image_url` with a base64 data URL), and
each request gets its own SamplingParams with a per-sample seed, so sample i of an image is the same
on every run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from harness.config.judge import JudgeConfig, VLLMJudgeConfig
from harness.errors import PuncError
from harness.judges._images import image_to_data_url, sample_seed
from harness.judges.base import CaptionRequest, CaptionResult, Judge, empty_caption_error
from harness.judges.openai_backend import build_messages

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'punc-harness[vllm]'"


def build_conversation(config: JudgeConfig, request: CaptionRequest) -> list[dict[str, Any]]:
    """One conversation for LLM.chat: a user turn with the image (data URL) and the instruction."""
    return build_messages(config.render_instruction(request.prompt_text), image_to_data_url(request.image))


def sampling_kwargs(config: JudgeConfig, request: CaptionRequest) -> dict[str, Any]:
    """Keyword arguments of vllm.SamplingParams for one request (temperature 0 is greedy in vLLM)."""
    decoding = config.decoding
    kwargs: dict[str, Any] = {
        "n": 1,
        "temperature": decoding.temperature,
        "top_p": decoding.top_p,
        "max_tokens": config.max_new_tokens,
        "seed": sample_seed(decoding.seed, request.key, request.sample_index),
    }
    if decoding.top_k is not None:
        kwargs["top_k"] = decoding.top_k
    if decoding.repetition_penalty is not None:
        kwargs["repetition_penalty"] = decoding.repetition_penalty
    return kwargs


def engine_kwargs(config: VLLMJudgeConfig) -> dict[str, Any]:
    """Arguments of vllm.LLM: model, revision, dtype and seed, then the YAML's engine_kwargs (which win)."""
    kwargs: dict[str, Any] = {
        "model": config.model,
        "revision": config.revision,
        "dtype": config.dtype,
        "seed": config.decoding.seed,
    }
    kwargs.update(config.engine_kwargs)
    return kwargs


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise PuncError(
            f"the vllm judge backend needs vLLM, which is not installed ({exc}): {INSTALL_HINT} "
            "(Linux with a CUDA GPU), or use backend: transformers"
        ) from None
    return vllm


class VLLMJudge(Judge):
    """A chat VLM run by an in-process vLLM engine (GPU; pip install 'punc-harness[vllm]').

    One LLM.chat call per batch of `batch_size`.
    """

    config_class = VLLMJudgeConfig
    requires = "vllm"
    config: VLLMJudgeConfig

    def __init__(self, config: VLLMJudgeConfig) -> None:
        super().__init__(config)
        if config.decoding.num_beams > 1:
            raise PuncError(
                f"judge '{config.name}': decoding.num_beams > 1 is not supported by the vllm backend "
                "(use backend: transformers for beam search)"
            )
        if config.mode == "captioner":
            raise PuncError(
                f"judge '{config.name}': the vllm backend runs chat models; use backend: transformers "
                "for image-to-text captioners"
            )
        self._vllm = import_vllm()
        try:
            self.llm = self._vllm.LLM(**engine_kwargs(config))
        except Exception as exc:
            raise PuncError(
                f"judge '{config.name}': vLLM cannot load '{config.model}' ({type(exc).__name__}: {exc})"
            ) from None

    def caption(self, requests: Sequence[CaptionRequest]) -> list[CaptionResult]:
        results: list[CaptionResult] = []
        size = self.config.batch_size
        for start in range(0, len(requests), size):
            results.extend(self._caption_batch(requests[start : start + size]))
        return results

    def _caption_batch(self, requests: Sequence[CaptionRequest]) -> list[CaptionResult]:
        failed: dict[int, CaptionResult] = {}
        conversations, params, sent = [], [], []
        for position, request in enumerate(requests):
            try:  # an image that cannot be encoded fails alone; the rest of the batch is sent
                conversation = build_conversation(self.config, request)
                sampling = self._vllm.SamplingParams(**sampling_kwargs(self.config, request))
            except Exception as exc:
                error = f"the judge failed on this item: {type(exc).__name__}: {str(exc)[:300]}"
                failed[position] = CaptionResult(key=request.key, error=error)
                continue
            conversations.append(conversation)
            params.append(sampling)
            sent.append(position)
        answers: dict[int, CaptionResult] = {}
        if sent:
            try:
                outputs = self.llm.chat(conversations, sampling_params=params, use_tqdm=False)
            except Exception as exc:
                error = f"the judge failed on this batch: {type(exc).__name__}: {str(exc)[:300]}"
                log.warning("vLLM batch of %d failed: %s", len(sent), error)
                answers = {p: CaptionResult(key=requests[p].key, error=error) for p in sent}
            else:
                for position, output in zip(sent, outputs, strict=True):
                    text = output.outputs[0].text.strip() if output.outputs else ""
                    error = empty_caption_error(text)
                    answers[position] = CaptionResult(
                        key=requests[position].key, text=None if error else text, error=error
                    )
        return [failed.get(p) or answers[p] for p in range(len(requests))]

    def close(self) -> None:
        self.llm = None
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # pragma: no cover - best effort
            pass
