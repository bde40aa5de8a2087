"""Give the generator's tokenizer whole-word tokens for words it never saw in training.

Unseen concepts must be unseen in *training*, not unseen to the tokenizer: otherwise an unseen word
splits into characters and a prompt-only token count finds the OOD prompts without any image. New
words get BPE merges appended after the existing ones (lowest priority), so every word that already
had a token keeps it; the text encoder gets one new embedding row per new vocabulary entry, drawn
from the same initialisation CLIP uses for rows that training never updates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

CLIP_INIT_STD = 0.02  # transformers' CLIPTextEmbeddings init: normal(0, initializer_factor * 0.02)


def pieces(tokenizer_json: dict[str, Any], word: str) -> list[str]:
    """How the tokenizer described by `tokenizer_json` splits one lower-case word."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(json.dumps(tokenizer_json))
    tok.no_padding()
    tok.no_truncation()
    return tok.encode(word, add_special_tokens=False).tokens


def add_whole_words(tokenizer_json: dict[str, Any], words: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Return (new tokenizer.json, new vocabulary entries in id order). Each new word's current pieces
    are merged left to right by merges appended at the end of the merge list."""
    data = json.loads(json.dumps(tokenizer_json))
    vocab: dict[str, int] = data["model"]["vocab"]
    merges: list = data["model"]["merges"]
    added: list[str] = []
    for word in words:
        parts = pieces(data, word)
        if len(parts) == 1:
            continue
        current = parts[0]
        for nxt in parts[1:]:
            merges.append([current, nxt] if merges and isinstance(merges[0], list) else f"{current} {nxt}")
            current = current + nxt
            if current not in vocab:
                vocab[current] = len(vocab)
                added.append(current)
        if len(pieces(data, word)) != 1:
            raise RuntimeError(f"could not give {word!r} a whole-word token")
    return data, added


def extend_generator(pipeline_dir: str | Path, words: list[str], seed: int = 0) -> list[str]:
    """Rewrite a saved pipeline's tokenizer and text encoder in place; return the new tokens."""
    from transformers import CLIPTextModel

    pipeline_dir = Path(pipeline_dir)
    tok_path = pipeline_dir / "tokenizer" / "tokenizer.json"
    before = json.loads(tok_path.read_text(encoding="utf-8"))
    after, added = add_whole_words(before, words)
    if not added:
        return []
    suffix = before["model"].get("end_of_word_suffix") or ""
    old_words = [w[: -len(suffix)] for w in before["model"]["vocab"] if suffix and w.endswith(suffix)]
    for word in sorted(old_words):  # no word that had a token of its own may tokenize differently
        if pieces(before, word) != pieces(after, word):
            raise RuntimeError(f"extending the tokenizer changed how {word!r} splits")
    encoder = CLIPTextModel.from_pretrained(str(pipeline_dir / "text_encoder"))
    old = encoder.get_input_embeddings().weight.data
    gen = torch.Generator().manual_seed(seed)
    rows = torch.randn((len(added), old.shape[1]), generator=gen) * CLIP_INIT_STD
    table = torch.nn.Embedding(old.shape[0] + len(added), old.shape[1])
    table.weight.data = torch.cat([old, rows.to(old.dtype)])
    encoder.set_input_embeddings(table)
    encoder.config.vocab_size = table.weight.shape[0]
    encoder.save_pretrained(str(pipeline_dir / "text_encoder"), safe_serialization=True)
    tok_path.write_text(json.dumps(after, ensure_ascii=False), encoding="utf-8")
    return added
