"""Prompt-only null baselines: what the prompt text alone says about the shift, with no image.

If a score computed from the wording of the prompt (its length, how the generator's tokenizer splits
it, how much it looks like the captions the judge writes) detects a shift as well as PUNC does, then
PUNC's number carries no information beyond the wording. `punc detect` always reports these beside
the uncertainty scores, each in the direction that separates best, labelled "prompt-only".

Features per prompt:
- words: whitespace-separated words;
- characters: length of the text;
- tokens: tokens of the generator's tokenizer (no special tokens), when the generator has one;
- split words: words the generator's tokenizer cuts into more than one token;
- ROUGE vs modal caption: ROUGE-1 F1 of the prompt against the run's most frequent caption (the
  reference implementation, `rouge-score` with the Porter stemmer, as the ROUGE scorers use).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

PROMPT_ONLY = "prompt-only"
FEATURES = ("words", "characters", "tokens", "split words", "ROUGE vs modal caption")

Tokenize = Callable[[str], list[list[str]]]  # text -> pieces of each word


def label(feature: str) -> str:
    return f"{PROMPT_ONLY}: {feature}"


def modal_caption(captions: Iterable[str]) -> str | None:
    """The most frequent caption; ties go to the caption seen first (Counter keeps insertion order)."""
    counts = Counter(c.strip() for c in captions if c and c.strip())
    return counts.most_common(1)[0][0] if counts else None


def word_pieces(tokenizer: Any) -> Tokenize:
    """Per word, the pieces a Hugging Face tokenizer makes of it (special tokens excluded)."""

    def split(text: str) -> list[list[str]]:
        return [tokenizer.tokenize(word) for word in text.split()]

    return split


def prompt_features(
    texts: Mapping[str, str], tokenize: Tokenize | None = None, modal: str | None = None
) -> dict[str, dict[str, float]]:
    """feature -> prompt id -> value. Token features need `tokenize`; the ROUGE feature needs `modal`."""
    from harness.scorers.rouge import rouge_prf

    out: dict[str, dict[str, float]] = {
        "words": {pid: float(len(t.split())) for pid, t in texts.items()},
        "characters": {pid: float(len(t)) for pid, t in texts.items()},
    }
    if tokenize is not None:
        pieces = {pid: tokenize(t) for pid, t in texts.items()}
        out["tokens"] = {pid: float(sum(len(w) for w in p)) for pid, p in pieces.items()}
        out["split words"] = {pid: float(sum(len(w) > 1 for w in p)) for pid, p in pieces.items()}
    if modal is not None:
        out["ROUGE vs modal caption"] = {pid: rouge_prf(t, modal, "rouge1")["f1"] for pid, t in texts.items()}
    return out


def generator_tokenizer(generator: Mapping[str, Any]) -> Any | None:
    """The tokenizer of the run's generator when it is a diffusers folder (or hub copy already on
    this machine) with a `tokenizer/` subfolder; None otherwise (no download is attempted)."""
    spec = generator.get("spec")
    if not isinstance(spec, str) or not spec:
        return None
    kind, sep, rest = spec.partition(":")
    if sep and kind == "diffusers":
        spec = rest
    try:
        from transformers import AutoTokenizer

        path = Path(spec)
        if path.is_dir():
            if not (path / "tokenizer").is_dir():
                return None
            return AutoTokenizer.from_pretrained(str(path / "tokenizer"), local_files_only=True)
        if sep and kind != "diffusers":
            return None
        return AutoTokenizer.from_pretrained(spec, subfolder="tokenizer", local_files_only=True)
    except (OSError, ValueError):
        return None
