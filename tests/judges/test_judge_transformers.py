"""The transformers backend against direct model.generate calls on tiny offline models."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from tiny_judges import judge_config, make_images

from harness.devices import pick_device, pick_dtype
from harness.errors import PuncError
from harness.judges import build_judge
from harness.judges.base import CaptionRequest
from harness.judges.transformers_backend import TransformersJudge

REPO = Path(__file__).resolve().parents[2]
SHIPPED_JUDGE = REPO / "models" / "embedded" / "judge"


def requests_for(images, prompts=None, sample_index=0, prefix="img"):
    prompts = prompts or ["a prompt"] * len(images)
    return [
        CaptionRequest(key=f"{prefix}{i}", image=image, prompt_text=prompts[i], sample_index=sample_index)
        for i, image in enumerate(images)
    ]


def outcomes(results):
    """Texts, or the error where a sample is legitimately empty (sampling may draw EOS first)."""
    return [r.text if r.ok else r.error for r in results]


def texts(results):
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return [r.text for r in results]


def test_captioner_greedy_equals_direct_generate(captioner_dir, captioner_judge, images):
    from transformers import AutoTokenizer, VisionEncoderDecoderModel, ViTImageProcessor

    assert captioner_judge.mode == "captioner"
    model = VisionEncoderDecoderModel.from_pretrained(captioner_dir).eval()
    processor = ViTImageProcessor.from_pretrained(captioner_dir)
    tokenizer = AutoTokenizer.from_pretrained(captioner_dir)
    expected = []
    for image in images:
        pixel_values = processor(images=[image], return_tensors="pt").pixel_values
        with torch.no_grad():
            out = model.generate(pixel_values=pixel_values, max_new_tokens=12, do_sample=False, num_beams=1)
        expected.append(tokenizer.decode(out[0], skip_special_tokens=True).strip())
    got = texts(captioner_judge.caption(requests_for(images)))
    assert got == expected
    assert len(set(got)) >= 3, "the tiny captioner should tell images apart"


def test_chat_greedy_equals_direct_generate(chat_dir, chat_judge, images):
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    assert chat_judge.mode == "chat"
    model = LlavaForConditionalGeneration.from_pretrained(chat_dir).eval()
    processor = AutoProcessor.from_pretrained(chat_dir)
    expected = []
    for image in images:
        messages = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what is in it ?"}]}
        ]
        prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        assert "what is in it ?" in prompt
        inputs = processor(images=[image], text=[prompt], return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=12, do_sample=False, num_beams=1)
        new = out[0, inputs["input_ids"].shape[1] :]
        expected.append(processor.tokenizer.decode(new, skip_special_tokens=True).strip())
    got = texts(chat_judge.caption(requests_for(images)))
    assert got == expected
    assert len(set(got)) >= 2


@pytest.mark.parametrize("which", ["captioner", "chat"])
def test_batched_equals_one_by_one(which, captioner_dir, chat_dir, images):
    model = captioner_dir if which == "captioner" else chat_dir
    # show_prompt makes chat instructions of different lengths, so batches need left padding
    extra = {"show_prompt": True, "prompt_template": "{instruction} {prompt}"}
    prompts = [
        "cat",
        "a big red dog on the road",
        "sky",
        "two boats on a river at night",
        "tree",
        "a",
        "b c",
        "d",
    ]
    batched = TransformersJudge(judge_config(model, batch_size=5, **extra)).caption(
        requests_for(images, prompts)
    )
    single = TransformersJudge(judge_config(model, batch_size=1, **extra)).caption(
        requests_for(images, prompts)
    )
    assert texts(batched) == texts(single)


@pytest.mark.parametrize("which", ["captioner", "chat"])
def test_sampling_is_reproducible_and_batch_independent(which, captioner_dir, chat_dir, images):
    model = captioner_dir if which == "captioner" else chat_dir
    sampling = {"decoding": {"temperature": 1.0, "seed": 7}, "samples_per_image": 6}
    reqs = [
        CaptionRequest(key=f"img{i}", image=images[i], prompt_text="p", sample_index=s)
        for i in range(2)
        for s in range(6)
    ]
    first = outcomes(TransformersJudge(judge_config(model, batch_size=5, **sampling)).caption(reqs))
    again = outcomes(TransformersJudge(judge_config(model, batch_size=5, **sampling)).caption(reqs))
    assert first == again
    # a different batch size and order: each sample keeps its own seed
    judge = TransformersJudge(judge_config(model, batch_size=3, **sampling))
    reordered = outcomes(judge.caption(reqs[::-1]))[::-1]
    assert reordered == first
    alone = [outcomes(judge.caption([r]))[0] for r in reqs[:3]]
    assert alone == first[:3]
    # different sample indices give different samples; a different seed gives other samples
    assert len(set(first[:6])) >= 3 and len(set(first[6:])) >= 3
    other = {"decoding": {"temperature": 1.0, "seed": 8}, "samples_per_image": 6}
    assert outcomes(TransformersJudge(judge_config(model, batch_size=5, **other)).caption(reqs)) != first


@pytest.mark.parametrize("decoding", [{"temperature": 1.3, "top_k": 1}, {"temperature": 0.9, "top_p": 1e-6}])
def test_sampling_restricted_to_top_token_equals_greedy(decoding, captioner_dir, captioner_judge, images):
    sampled = TransformersJudge(judge_config(captioner_dir, decoding=decoding)).caption(requests_for(images))
    assert texts(sampled) == texts(captioner_judge.caption(requests_for(images)))


def test_beam_search_runs_and_beam_sampling_is_refused(captioner_dir, images):
    judge = TransformersJudge(judge_config(captioner_dir, decoding={"num_beams": 3}))
    assert all(r.ok for r in judge.caption(requests_for(images[:3])))
    with pytest.raises(PuncError, match="num_beams"):
        TransformersJudge(judge_config(captioner_dir, decoding={"num_beams": 3, "temperature": 1.0}))


def test_empty_caption_is_an_error(eos_captioner_dir, images):
    results = TransformersJudge(judge_config(eos_captioner_dir)).caption(requests_for(images[:3]))
    assert [r.text for r in results] == [None, None, None]
    assert all(r.error == "the judge returned an empty caption" and not r.ok for r in results)


class _PoisonedProcessor:
    """Fails on 13x13 images only, like a corrupt input would."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, images, **kwargs):
        if any(image.size == (13, 13) for image in images):
            raise ValueError("cannot process this image")
        return self.inner(images=images, **kwargs)


def test_a_failing_item_is_an_error_and_the_others_complete(captioner_dir, images):
    judge = TransformersJudge(judge_config(captioner_dir, batch_size=4))
    reference = texts(judge.caption(requests_for(images)))
    judge.image_processor = _PoisonedProcessor(judge.image_processor)
    mixed = list(images)
    mixed[2] = images[2].resize((13, 13))
    results = judge.caption(requests_for(mixed))
    assert [r.key for r in results] == [f"img{i}" for i in range(8)]
    assert not results[2].ok and "ValueError" in results[2].error and results[2].text is None
    assert [r.text for i, r in enumerate(results) if i != 2] == [t for i, t in enumerate(reference) if i != 2]


def test_a_failing_model_gives_errors_not_a_crash(captioner_dir, images, monkeypatch):
    judge = TransformersJudge(judge_config(captioner_dir, batch_size=3))

    def broken(*args, **kwargs):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(judge.model, "generate", broken)
    results = judge.caption(requests_for(images[:5]))
    assert len(results) == 5
    assert all(not r.ok and "out of memory" in r.error for r in results)


def test_mode_auto_and_forced(captioner_dir, chat_dir):
    assert TransformersJudge(judge_config(captioner_dir)).mode == "captioner"
    assert TransformersJudge(judge_config(chat_dir)).mode == "chat"
    with pytest.raises(PuncError, match="chat"):
        TransformersJudge(judge_config(captioner_dir, mode="chat"))


def test_build_judge_and_describe(captioner_dir):
    judge = build_judge(judge_config(captioner_dir))
    assert isinstance(judge, TransformersJudge)
    info = judge.describe()
    assert info["backend"] == "transformers" and info["mode"] == "captioner" and info["device"] == "cpu"
    assert judge.fingerprint == judge_config(captioner_dir).fingerprint
    judge.close()


def test_missing_local_folder_is_a_clear_error(tmp_path):
    with pytest.raises(PuncError, match="no such local folder"):
        TransformersJudge(judge_config(str(tmp_path / "nowhere" / "model")))


def test_hub_id_offline_fails_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(PuncError) as info:
        TransformersJudge(judge_config("punc-test-org/no-such-judge-model"))
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "hf download punc-test-org/no-such-judge-model" in message
    assert "local folder" in message and "HF_HUB_OFFLINE" in message


def test_hub_id_unreachable_fails_fast(monkeypatch):
    import socket

    from huggingface_hub import constants

    with socket.socket() as sock:  # a port nothing listens on: connection refused at once
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{dead_port}")
    start = time.monotonic()
    with pytest.raises(PuncError, match="cannot be reached") as info:
        TransformersJudge(judge_config("punc-test-org/no-such-judge-model"))
    assert time.monotonic() - start < 10
    assert "hf download" in str(info.value)


def test_device_and_dtype_choice(monkeypatch):
    assert pick_device("cpu") == "cpu"
    assert pick_device("cuda:1") == "cuda:1"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device(None) == "cpu"
    assert pick_dtype("cpu", "auto") == torch.float32
    assert pick_dtype("cpu", "float16") == torch.float16
    assert (
        pick_dtype("mps", "auto") == torch.float32
        and pick_dtype("mps", None, half_on_mps=True) == torch.float16
    )
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert pick_dtype("cuda", "auto") == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert pick_dtype("cuda:0", "auto") == torch.float16


def test_shipped_judge_loads_and_captions():
    """The embedded judge (a VisionEncoderDecoder captioner) when it is in the checkout."""
    if not (SHIPPED_JUDGE / "config.json").exists():
        pytest.skip("models/embedded/judge/ is not in this checkout yet")
    judge = TransformersJudge(judge_config(SHIPPED_JUDGE, max_new_tokens=24))
    assert judge.mode == "captioner"
    results = judge.caption(requests_for(make_images(3, size=64)))
    assert all(r.ok for r in results), [r.error for r in results]


def test_max_new_tokens_beyond_the_decoders_positions_is_refused_before_loading(captioner_dir: Path):
    # the tiny captioner's GPT-2 decoder has 160 positions (n_positions): generating token 161
    # would index past them, so a judge YAML asking for more is a configuration error
    with pytest.raises(PuncError, match="max_new_tokens is 161.*160 decoder positions"):
        TransformersJudge(judge_config(captioner_dir, max_new_tokens=161))
    assert TransformersJudge(judge_config(captioner_dir, max_new_tokens=160)).max_new_tokens_limit == 160
