"""Tokenizers built offline (no download): a character-level CLIP BPE and a word-level fast tokenizer."""

from __future__ import annotations

import json
import string
from pathlib import Path

WORDS = (
    "a an the red blue green yellow cat dog sky tree house of on in with big small photo "
    "two three field river road car boat bird flower mountain night day light dark"
).split()
EXTRA_WORDS = "describe this image . what is in it ?".split()


def write_clip_tokenizer(folder: Path) -> None:
    """A character-level CLIP BPE vocabulary: every word tokenizes, no download needed."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + ".,!?'-")
    vocab: dict[str, int] = {}
    for token in ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]:
        vocab.setdefault(token, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77
    ).save_pretrained(folder)


def clip_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    write_clip_tokenizer(folder)
    return CLIPTokenizer.from_pretrained(folder)


def word_tokenizer(specials: list[str], **special_kwargs):
    """A whitespace word-level tokenizer over a small vocabulary (unknown words map to the unk token)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = specials + WORDS + [w for w in EXTRA_WORDS if w not in WORDS]
    vocab = {word: index for index, word in enumerate(words)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=special_kwargs["unk_token"]))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=backend, **special_kwargs), len(words)


def t5_style_tokenizer(max_length: int = 32):
    """Stands in for T5's sentencepiece tokenizer: pad 0, eos 1, unk 2, like T5."""
    tokenizer, size = word_tokenizer(
        ["<pad>", "</s>", "<unk>"], pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    tokenizer.model_max_length = max_length
    return tokenizer, size


def char_tokenizer(chat_template: str | None = None):
    """A character-level tokenizer: long fixed templates (QwenImage drops its first 34 tokens) keep length."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<unk>", "<|im_start|>", "<|im_end|>"]
    chars = list(string.ascii_letters + string.digits + " .,:!?'-\n{}<>|_/")
    vocab = {token: index for index, token in enumerate(specials + chars)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        unk_token="<unk>",
        additional_special_tokens=["<|im_start|>"],
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    return tokenizer, len(vocab)
