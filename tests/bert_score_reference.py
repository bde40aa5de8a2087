"""bert-score, the reference implementation, run on a local model folder (used by tests and scripts)."""

from __future__ import annotations


def reference_bertscore(cands, refs, model_path, layer, idf=False, baseline=None, batch_size=64):
    """bert_score.score on the local folder (the reference implementation).

    bert-score 0.3.13 calls `build_inputs_with_special_tokens`, which transformers 5 removed, for
    empty texts; the shim returns what that call returned ([CLS] [SEP]) and leaves the rest as is.
    """
    import bert_score
    import bert_score.utils as bu

    original = bu.sent_encode

    def sent_encode(tokenizer, sent):
        if sent.strip() == "":
            return [tokenizer.cls_token_id, tokenizer.sep_token_id]
        return original(tokenizer, sent)

    bu.sent_encode = sent_encode
    try:
        extra = (
            {"rescale_with_baseline": True, "baseline_path": str(baseline), "lang": "en"} if baseline else {}
        )
        p, r, f = bert_score.score(
            list(cands),
            list(refs),
            model_type=str(model_path),
            num_layers=layer,
            idf=idf,
            device="cpu",
            nthreads=0,
            batch_size=batch_size,
            **extra,
        )
    finally:
        bu.sent_encode = original
    return [
        {"precision": a, "recall": b, "f1": c}
        for a, b, c in zip(p.tolist(), r.tolist(), f.tolist(), strict=True)
    ]
