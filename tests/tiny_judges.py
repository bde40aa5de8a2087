"""Tiny judges built offline from configs with random weights (no download), for tests and benchmarks.

Weights are drawn wide (not the usual 0.02 init) so that different images give different captions.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from tiny_tokenizers import word_tokenizer

from harness.config.judge import JudgeConfig

CHAT_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}USER: "
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image> "
    "{% elif c['type'] == 'text' %}{{ c['text'] }} {% endif %}{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


def _widen(model: torch.nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            std = 0.5 if parameter.dim() > 1 else 0.3
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)


def build_tiny_captioner(folder: str | Path, seed: int = 0, only_eos: bool = False) -> Path:
    """A VisionEncoderDecoder (tiny ViT + tiny GPT-2) with a word-level tokenizer and image processor.

    only_eos: every token but EOS is suppressed, so the model always answers an empty caption.
    """
    from transformers import (
        GPT2Config,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    folder = Path(folder)
    tokenizer, vocab_size = word_tokenizer(
        ["[PAD]", "[BOS]", "[EOS]", "[UNK]"],
        pad_token="[PAD]",
        bos_token="[BOS]",
        eos_token="[EOS]",
        unk_token="[UNK]",
    )
    encoder = ViTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        image_size=32,
        patch_size=8,
    )
    decoder = GPT2Config(
        vocab_size=vocab_size,
        n_positions=160,
        n_embd=32,
        n_layer=1,
        n_head=2,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        add_cross_attention=True,
        is_decoder=True,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = 1
    config.pad_token_id = 0
    config.eos_token_id = 2
    model = VisionEncoderDecoderModel(config=config)
    _widen(model, seed)
    generation = model.generation_config
    generation.decoder_start_token_id = 1
    generation.bos_token_id = 1
    generation.pad_token_id = 0
    generation.eos_token_id = 2
    generation.suppress_tokens = [i for i in range(vocab_size) if i != 2] if only_eos else [0, 1, 3]
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def build_tiny_chat_vlm(folder: str | Path, seed: int = 0) -> Path:
    """A Llava (tiny CLIP vision tower + tiny Llama) with processor, tokenizer and chat template."""
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    folder = Path(folder)
    specials = ["<pad>", "<s>", "</s>", "<unk>", "<image>", "USER:", "ASSISTANT:"]
    tokenizer, vocab_size = word_tokenizer(
        specials,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
    )
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=4,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    model = LlavaForConditionalGeneration(config)
    _widen(model, seed)
    generation = model.generation_config
    generation.pad_token_id = 0
    generation.bos_token_id = 1
    generation.eos_token_id = 2
    generation.suppress_tokens = [0, 1, 3, 4, 5, 6]
    model.save_pretrained(folder)
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    processor.save_pretrained(folder)
    return folder


def make_images(count: int, size: int = 40) -> list[Image.Image]:
    """Distinct, deterministic images: colour fields with a moving square (different captions)."""
    images = []
    for index in range(count):
        hue = (index * 47) % 256
        image = Image.new("RGB", (size, size), (hue, (index * 91) % 256, 255 - hue))
        square = Image.new("RGB", (size // 2, size // 2), ((index * 13) % 256, 255 - (index * 29) % 256, 40))
        offset = (index * 7) % (size // 2)
        image.paste(square, (offset, (size // 2 - offset) % (size // 2)))
        images.append(image)
    return images


def judge_config(model: Path | str, **overrides: object) -> JudgeConfig:
    fields: dict[str, object] = {
        "name": "tiny",
        "backend": "transformers",
        "model": str(model),
        "max_new_tokens": 12,
        "batch_size": 4,
        "device": "cpu",
    }
    fields.update(overrides)
    return JudgeConfig.model_validate(fields)
