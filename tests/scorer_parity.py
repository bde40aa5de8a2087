"""One parity check for every scorer against its reference implementation (torchmetrics' MetricTester spirit).

`assert_parity(scorer, reference, pairs, tol)` scores the (prompt, caption) pairs with our scorer
and with a reference function, in the convention every scorer uses (reference = prompt, candidate =
caption), and asserts the largest absolute difference over every output is at most `tol`. The
references below wrap the packages the scorers promise to match: rouge-score, bert-score, and an
independent transformers mean-pooling computation of the sentence-transformers cosine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from harness.scorers.base import TextScorer

#: (prompts, captions) -> one dict per pair with the scorer's output names
Reference = Callable[[list[str], list[str]], list[dict[str, float]]]


def max_abs_diff(ours: Sequence[dict[str, float]], theirs: Sequence[dict[str, float]]) -> float:
    assert len(ours) == len(theirs)
    return max(abs(o[k] - t[k]) for o, t in zip(ours, theirs, strict=True) for k in t)


def assert_parity(
    scorer: TextScorer, reference: Reference, pairs: Sequence[tuple[str, str]], tol: float = 0.0
) -> float:
    """Our scores equal the reference's within `tol` on every pair and output; returns the max difference."""
    assert pairs, "parity needs at least one pair"
    prompts, captions = [p for p, _ in pairs], [c for _, c in pairs]
    ours = scorer.score(prompts, captions)
    theirs = reference(prompts, captions)
    assert all(set(row) == set(scorer.outputs) for row in ours)
    assert all(set(row) == set(scorer.outputs) for row in theirs), "the reference must give the same outputs"
    worst = max_abs_diff(ours, theirs)
    assert worst <= tol, f"{scorer.signature()}: max |ours - reference| = {worst:.3g} > {tol:g}"
    return worst


def rouge_reference(variant: str, stemmer: bool = True) -> Reference:
    """The rouge-score package: target = prompt, prediction = caption."""
    from rouge_score import rouge_scorer

    reference = rouge_scorer.RougeScorer([variant], use_stemmer=stemmer)

    def score(prompts: list[str], captions: list[str]) -> list[dict[str, float]]:
        rows = []
        for prompt, caption in zip(prompts, captions, strict=True):
            value = reference.score(target=prompt, prediction=caption)[variant]
            rows.append({"precision": value.precision, "recall": value.recall, "f1": value.fmeasure})
        return rows

    return score


def bertscore_reference(
    model_path: Path, layer: int, idf: bool = False, baseline: Path | None = None, batch_size: int = 64
) -> Reference:
    """The bert-score package on the same local model folder: candidates = captions, refs = prompts."""
    from bert_score_reference import reference_bertscore

    def score(prompts: list[str], captions: list[str]) -> list[dict[str, float]]:
        return reference_bertscore(captions, prompts, model_path, layer, idf, baseline, batch_size)

    return score


def cosine_reference(model_path: Path) -> Reference:
    """Mean pooling over the attention mask (the model's 1_Pooling config) with transformers, L2 norm,
    dot product; an empty text scores 0 (the scorer's documented convention)."""
    import json

    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]
    max_len = json.loads((model_path / "sentence_bert_config.json").read_text())["max_seq_length"]
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path).eval()

    def embed(texts: list[str]) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            enc = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
            hidden = model(**enc).last_hidden_state.numpy().astype(np.float64)
        mask = enc["attention_mask"].numpy()[..., None].astype(np.float64)
        emb = (hidden * mask).sum(1) / mask.sum(1)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        return dict(zip(texts, emb, strict=True))

    def score(prompts: list[str], captions: list[str]) -> list[dict[str, float]]:
        vectors = embed(sorted({t for t in [*prompts, *captions] if t.strip()}))
        return [
            {"cosine": float(np.dot(vectors[p], vectors[c])) if p.strip() and c.strip() else 0.0}
            for p, c in zip(prompts, captions, strict=True)
        ]

    return score
