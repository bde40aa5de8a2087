"""Print the largest differences between punc's scorers and their reference packages.

    python scripts/compare_scorers.py            # default backbone, layers 6 and 3
    python scripts/compare_scorers.py --layers 2 4 6 --idf

Compares, over the pairs in tests/scorers/pairs.json (reference = prompt, candidate = caption):
* rouge1/rougeL against rouge_score.RougeScorer(use_stemmer=True).score(target, prediction);
* bertscore against bert_score.score(cands, refs, model_type=<local path>, num_layers=layer);
* cosine against manual mean pooling of transformers.AutoModel outputs.
Runs offline (HF_HUB_OFFLINE=1 is set here).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bert_score_reference import reference_bertscore  # noqa: E402  (the one the tests use)

PAIRS = ROOT / "tests" / "scorers" / "pairs.json"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layers", type=int, nargs="+", default=[6, 3])
    parser.add_argument("--idf", action="store_true", help="also compare with idf weighting")
    args = parser.parse_args()

    import numpy as np
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    from harness.scorers import BERTScoreScorer, CosineScorer, rouge_prf
    from harness.scorers.base import default_model_path

    pairs = json.loads(PAIRS.read_text(encoding="utf-8"))
    prompts = [p for p, _ in pairs]
    captions = [c for _, c in pairs]
    print(f"{len(pairs)} pairs from {PAIRS.relative_to(ROOT)}")

    from rouge_score import rouge_scorer

    for variant in ("rouge1", "rougeL"):
        ref = rouge_scorer.RougeScorer([variant], use_stemmer=True)
        diff = 0.0
        for p, c in zip(prompts, captions, strict=True):
            want = ref.score(target=p, prediction=c)[variant]
            got = rouge_prf(p, c, variant)
            diff = max(
                diff, *(abs(got[k] - w) for k, w in zip(("precision", "recall", "f1"), want, strict=True))
            )
        print(f"{variant:9s} vs rouge_score {'':22s} max |diff| = {diff:.3g}")

    path = default_model_path()
    for idf in (False, True) if args.idf else (False,):
        for layer in args.layers:
            scorer = BERTScoreScorer(layer=layer, idf=idf, device="cpu")
            ours = scorer.score(prompts, captions)
            diffs = []
            for batch_size in (1, 64):
                want = reference_bertscore(captions, prompts, path, layer, idf=idf, batch_size=batch_size)
                diffs.append(
                    max(
                        abs(row[k] - ref[k])
                        for row, ref in zip(ours, want, strict=True)
                        for k in ("precision", "recall", "f1")
                    )
                )
            print(
                f"bertscore vs bert_score layer={layer} idf={idf!s:5s}   max |diff| = {diffs[0]:.3g}"
                f"   (bert_score batch_size=64: {diffs[1]:.3g})"
            )

    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    texts = [t for t in dict.fromkeys(prompts + captions) if t.strip()]
    with torch.inference_mode():
        enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        emb = torch.nn.functional.normalize(emb, dim=-1).numpy()
    index = {t: i for i, t in enumerate(texts)}
    ours = CosineScorer(device="cpu").score(prompts, captions)
    diff = 0.0
    for (p, c), row in zip(pairs, ours, strict=True):
        want = float(np.dot(emb[index[p]], emb[index[c]])) if p.strip() and c.strip() else 0.0
        diff = max(diff, abs(row["cosine"] - want))
    print(f"cosine    vs manual mean pooling {'':15s} max |diff| = {diff:.3g}")


if __name__ == "__main__":
    main()
