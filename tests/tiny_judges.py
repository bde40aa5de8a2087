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


def _finish(
    model, tokenizer, processor, folder: Path, suppress: list[int], eos: int, pad: int, bos: int | None
):
    """Save a tiny judge whose captions are never empty (special tokens, EOS included, are suppressed)."""
    generation = model.generation_config
    generation.pad_token_id = pad
    generation.eos_token_id = eos
    if bos is not None:
        generation.bos_token_id = bos
    generation.suppress_tokens = suppress
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def _tiny_vision(config_class, **extra):
    return config_class(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        **extra,
    )


def _bert_style_tokenizer():
    return word_tokenizer(
        ["[PAD]", "[CLS]", "[SEP]", "[UNK]"],
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        bos_token="[CLS]",
        eos_token="[SEP]",
        unk_token="[UNK]",
    )


def build_tiny_blip(folder: str | Path, seed: int = 0) -> Path:
    """BlipForConditionalGeneration (ViT + BERT-style decoder) with BlipProcessor."""
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
        BlipTextConfig,
        BlipVisionConfig,
    )

    folder = Path(folder)
    tokenizer, vocab = _bert_style_tokenizer()
    text = BlipTextConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=64,
        encoder_hidden_size=32,
        bos_token_id=1,
        eos_token_id=2,
        sep_token_id=2,
        pad_token_id=0,
    )
    config = BlipConfig(text_config=text.to_dict(), vision_config=_tiny_vision(BlipVisionConfig).to_dict())
    model = BlipForConditionalGeneration(config)
    _widen(model, seed)
    processor = BlipProcessor(BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer)
    return _finish(model, tokenizer, processor, folder, [0, 1, 2, 3], eos=2, pad=0, bos=1)


def build_tiny_git(folder: str | Path, seed: int = 0) -> Path:
    """GitForCausalLM (CLIP-style vision encoder + causal text decoder) with GitProcessor."""
    from transformers import CLIPImageProcessor, GitConfig, GitForCausalLM, GitProcessor

    folder = Path(folder)
    tokenizer, vocab = _bert_style_tokenizer()
    config = GitConfig(
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    model = GitForCausalLM(config)
    _widen(model, seed)
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = GitProcessor(image_processor, tokenizer)
    return _finish(model, tokenizer, processor, folder, [0, 1, 2, 3], eos=2, pad=0, bos=1)


def build_tiny_blip2(folder: str | Path, seed: int = 0) -> Path:
    """Blip2ForConditionalGeneration (ViT + Q-Former + OPT) with Blip2Processor and image tokens."""
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        Blip2QFormerConfig,
        Blip2VisionConfig,
        BlipImageProcessor,
        OPTConfig,
    )

    folder = Path(folder)
    tokenizer, vocab = word_tokenizer(
        ["<pad>", "</s>", "<unk>", "<image>"],
        pad_token="<pad>",
        bos_token="</s>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
    )
    text = OPTConfig(
        vocab_size=vocab,
        hidden_size=32,
        ffn_dim=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        word_embed_proj_dim=32,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    qformer = Blip2QFormerConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        encoder_hidden_size=32,
    )
    config = Blip2Config(
        vision_config=_tiny_vision(Blip2VisionConfig).to_dict(),
        qformer_config=qformer.to_dict(),
        text_config=text.to_dict(),
        num_query_tokens=4,
        image_token_index=3,
    )
    model = Blip2ForConditionalGeneration(config)
    _widen(model, seed)
    processor = Blip2Processor(
        BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer, num_query_tokens=4
    )
    return _finish(model, tokenizer, processor, folder, [0, 1, 2, 3], eos=1, pad=0, bos=1)


def build_tiny_paligemma(folder: str | Path, seed: int = 0) -> Path:
    """PaliGemmaForConditionalGeneration (SigLIP + Gemma): a captioner that needs a text prefix."""
    from transformers import (
        GemmaConfig,
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipImageProcessor,
        SiglipVisionConfig,
    )

    folder = Path(folder)
    tokenizer, vocab = word_tokenizer(
        ["<pad>", "<bos>", "<eos>", "<unk>", "<image>", "caption", "en"],
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
    )
    text = GemmaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    vision = _tiny_vision(SiglipVisionConfig)
    config = PaliGemmaConfig(
        vision_config=vision.to_dict(),
        text_config=text.to_dict(),
        image_token_index=4,
        projection_dim=32,
        hidden_size=32,
        vocab_size=vocab,
    )
    model = PaliGemmaForConditionalGeneration(config)
    _widen(model, seed)
    image_processor = SiglipImageProcessor(size={"height": 32, "width": 32})
    image_processor.image_seq_length = 16
    processor = PaliGemmaProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return _finish(model, tokenizer, processor, folder, [0, 1, 2, 3, 4], eos=2, pad=0, bos=1)


def build_tiny_llava_next(folder: str | Path, seed: int = 0) -> Path:
    """LlavaNextForConditionalGeneration (any-resolution LLaVA) with LlavaNextProcessor and a chat template."""
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextImageProcessor,
        LlavaNextProcessor,
    )

    folder = Path(folder)
    specials = ["<pad>", "<s>", "</s>", "<unk>", "<image>", "USER:", "ASSISTANT:"]
    tokenizer, vocab = word_tokenizer(
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
    )
    text = LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    config = LlavaNextConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=4,
        image_grid_pinpoints=[[32, 32]],
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    model = LlavaNextForConditionalGeneration(config)
    _widen(model, seed)
    image_processor = LlavaNextImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, image_grid_pinpoints=[[32, 32]]
    )
    processor = LlavaNextProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    return _finish(model, tokenizer, processor, folder, [0, 1, 2, 3, 4, 5, 6], eos=2, pad=0, bos=1)


GEMMA3_CHAT_TEMPLATE = (
    "{% for m in messages %}<start_of_turn>user "
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<start_of_image> "
    "{% elif c['type'] == 'text' %}{{ c['text'] }} {% endif %}{% endfor %}<end_of_turn> {% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model {% endif %}"
)


def build_tiny_gemma3(folder: str | Path, seed: int = 0) -> Path:
    """Gemma3ForConditionalGeneration (SigLIP + Gemma 3) with Gemma3Processor and a chat template."""
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessor,
        Gemma3Processor,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    folder = Path(folder)
    specials = [
        "<pad>", "<bos>", "<eos>", "<unk>", "<image_soft_token>", "<start_of_image>", "<end_of_image>",
        "<start_of_turn>", "<end_of_turn>", "user", "model",
    ]  # fmt: skip
    tokenizer, vocab = word_tokenizer(
        specials,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        extra_special_tokens={
            "image_token": "<image_soft_token>",
            "boi_token": "<start_of_image>",
            "eoi_token": "<end_of_image>",
        },
    )
    text = Gemma3TextConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=512,
        sliding_window=64,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    vision = SiglipVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    config = Gemma3Config(
        text_config=text,
        vision_config=vision,
        mm_tokens_per_image=4,
        boi_token_index=5,
        eoi_token_index=6,
        image_token_index=4,
    )
    model = Gemma3ForConditionalGeneration(config)
    _widen(model, seed)
    image_processor = Gemma3ImageProcessor(size={"height": 32, "width": 32})
    processor = Gemma3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=GEMMA3_CHAT_TEMPLATE,
        image_seq_length=4,
    )
    return _finish(model, tokenizer, processor, folder, list(range(11)), eos=2, pad=0, bos=1)


def build_tiny_idefics3(folder: str | Path, seed: int = 0) -> Path:
    """Idefics3ForConditionalGeneration (SigLIP-style encoder + Llama, pixel shuffle) with Idefics3Processor."""
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
        Idefics3VisionConfig,
        LlamaConfig,
    )

    folder = Path(folder)
    specials = [
        "<pad>",
        "<s>",
        "</s>",
        "<unk>",
        "<image>",
        "<fake_token_around_image>",
        "<global-img>",
        "USER:",
        "ASSISTANT:",
    ]
    tokenizer, vocab = word_tokenizer(
        specials,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_special_tokens={
            "image_token": "<image>",
            "fake_image_token": "<fake_token_around_image>",
            "global_image_token": "<global-img>",
        },
    )
    vision = Idefics3VisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    text = LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    config = Idefics3Config(vision_config=vision, text_config=text, scale_factor=2, image_token_id=4)
    model = Idefics3ForConditionalGeneration(config)
    _widen(model, seed)
    image_processor = Idefics3ImageProcessor(
        do_image_splitting=False, size={"longest_edge": 32}, max_image_size={"longest_edge": 32}
    )
    processor = Idefics3Processor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE, image_seq_len=4
    )
    return _finish(model, tokenizer, processor, folder, list(range(9)), eos=2, pad=0, bos=1)


def build_tiny_qwen2vl(folder: str | Path, seed: int = 0) -> Path:
    """Qwen2VLForConditionalGeneration with its processor files as a hub folder has them.

    The processor is written as config files, not built: building Qwen2VLProcessor needs torchvision
    (its video processor), which is exactly what loading it as a judge must report when it is missing.
    """
    import json

    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor

    folder = Path(folder)
    specials = [
        "<pad>",
        "<s>",
        "</s>",
        "<unk>",
        "<|image_pad|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|video_pad|>",
    ]
    tokenizer, vocab = word_tokenizer(
        specials, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": vocab,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "rope_parameters": {"mrope_section": [1, 1, 2], "rope_type": "default", "rope_theta": 1e6},
        },
        vision_config={
            "depth": 1,
            "embed_dim": 32,
            "hidden_size": 32,
            "num_heads": 2,
            "mlp_ratio": 1,
            "spatial_merge_size": 2,
            "patch_size": 8,
            "temporal_patch_size": 2,
        },
        image_token_id=4,
        video_token_id=7,
        vision_start_token_id=5,
        vision_end_token_id=6,
    )
    model = Qwen2VLForConditionalGeneration(config)
    _widen(model, seed)
    model.generation_config.suppress_tokens = list(range(8))
    model.save_pretrained(folder)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessor(min_pixels=32 * 32, max_pixels=64 * 64, patch_size=8).save_pretrained(folder)
    (folder / "processor_config.json").write_text(json.dumps({"processor_class": "Qwen2VLProcessor"}))
    (folder / "video_preprocessor_config.json").write_text(
        json.dumps({"video_processor_type": "Qwen2VLVideoProcessor", "processor_class": "Qwen2VLProcessor"})
    )
    return folder
