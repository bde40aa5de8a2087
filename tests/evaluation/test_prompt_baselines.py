"""Prompt-only null baselines and the disentanglement AUROC, against hand-computed values."""

import json
from pathlib import Path

import pytest
from eval_helpers import run_punc, write_results

from harness.evaluation.prompt_baselines import (
    generator_tokenizer,
    modal_caption,
    prompt_features,
    word_pieces,
)

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "models" / "embedded" / "generator-long"


def test_words_characters_and_modal_caption():
    texts = {"a": "a red circle", "b": "two  words"}
    f = prompt_features(texts)
    assert f["words"] == {"a": 3.0, "b": 2.0}
    assert f["characters"] == {"a": 12.0, "b": 10.0}
    assert set(f) == {"words", "characters"}  # no tokenizer, no captions: no other features
    assert modal_caption(["x y", "a b", "x y", " a b ", "c"]) == "x y"  # 2 each: first seen wins
    assert modal_caption(["", "  "]) is None


def test_rouge_against_modal_caption_hand_computed():
    # prompt tokens {a, red, circl}; caption {a, red, squar, at, the, center}: overlap 2
    # P = 2/6, R = 2/3, F1 = 2PR/(P+R) = (4/18)/(1) = 4/9
    f = prompt_features({"p": "a red circle"}, modal="a red square at the center")
    assert f["ROUGE vs modal caption"]["p"] == pytest.approx(4 / 9)


def test_generator_tokenizer_features():
    tok = generator_tokenizer({"spec": str(GENERATOR)})
    assert tok is not None
    # every world word is one token of the shipped generator's tokenizer; the typo 'yelrow' is not:
    # it splits into 'yel', 'r', 'o', 'w' (4 pieces) -> 1 + 1 + 4 + 1 = 7 tokens, 1 split word
    f = prompt_features(
        {"ood": "a small purple diamond at the top left", "typo": "a small yelrow star"}, word_pieces(tok)
    )
    assert f["tokens"] == {"ood": 8.0, "typo": 7.0}
    assert f["split words"] == {"ood": 0.0, "typo": 1.0}
    assert generator_tokenizer({"spec": "world-renderer:"}) is None
    assert generator_tokenizer({"spec": "/no/such/folder"}) is None


def _prompt(pid, shift, text, ale, epi):
    return {
        "id": pid,
        "text": text,
        "labels": {"shift": shift},
        "u": {"u_ale": ale, "u_epi": epi, "u_tot": (ale + epi) / 2},
    }


def _run(tmp_path):
    """id prompts long, vague short (words separate perfectly, lower = vague), ood as long as id.
    U_ale - U_epi: vague gaps 0.5, 0.2, -0.1; ood gaps 0.0, 0.3, -0.2."""
    prompts = [
        _prompt("id.0", "none", "a small red star at the top left", 0.0, 0.0),
        _prompt("id.1", "none", "a large blue cross at the top right", 0.1, 0.1),
        _prompt("id.2", "none", "a small white circle at the bottom left", 0.2, 0.1),
        _prompt("v.0", "vague", "a star", 0.6, 0.1),
        _prompt("v.1", "vague", "a red shape", 0.5, 0.3),
        _prompt("v.2", "vague", "a cross at the center", 0.3, 0.4),
        _prompt("o.0", "ood", "a small red diamond at the top left", 0.4, 0.4),
        _prompt("o.1", "ood", "a large purple cross at the top right", 0.5, 0.2),
        _prompt("o.2", "ood", "a small black circle at the bottom left", 0.3, 0.5),
    ]
    run = write_results(tmp_path / "run", prompts)
    data = json.loads((run / "results.json").read_text())
    data["generator"] = {"spec": str(GENERATOR)}
    (run / "results.json").write_text(json.dumps(data))
    captions = ["a small red star at the top left"] * 3 + ["a large blue cross at the top right"] * 2
    with open(run / "captions.jsonl", "w") as fh:
        for i, c in enumerate(captions):
            record = {"prompt_id": "id.0", "index": i, "image_hash": "0" * 64, "sample_index": 0}
            fh.write(json.dumps({**record, "judge": "fp", "caption": c}) + "\n")
    return run


def test_detect_reports_prompt_only_margin_and_disentanglement(tmp_path):
    run = _run(tmp_path)
    code, out, err = run_punc("detect", str(run), "--bootstrap", "50")
    assert code == 0, err
    data = json.loads((run / "detection.json").read_text())
    rows = {(c["shift"], c["score"]): c for c in data["comparisons"]}
    # vague prompts have 2, 3, 5 words, id prompts 8, 8, 8: every pair ordered -> AUROC 1, "lower"
    words = rows[("vague", "prompt-only: words (lower)")]
    assert words["auroc"] == 1.0 and words["kind"] == "prompt-only" and words["direction"] == "lower"
    # ood vs id words: 8,8,8 vs 8,8,8 -> all ties -> 0.5 (ties count higher)
    assert rows[("ood", "prompt-only: words (higher)")]["auroc"] == 0.5
    # characters ood 35, 37, 39 vs id 32, 35, 39, pairs won per ood prompt:
    # o=35: >32 (1), =35 (.5), <39 (0) -> 1.5; o=37: 1, 1, 0 -> 2; o=39: 1, 1, .5 -> 2.5; total 6/9
    assert rows[("ood", "prompt-only: characters (higher)")]["auroc"] == pytest.approx(6 / 9)
    assert data["prompt_only"]["modal_caption"] == "a small red star at the top left"
    tokens = rows[("ood", "prompt-only: tokens (higher)")]
    assert tokens["auroc"] == 0.5  # purple, diamond, black are whole tokens: 8 tokens like id
    split = rows[("ood", "prompt-only: split words (higher)")]
    assert split["auroc"] == 0.5
    # U_ale for vague: 0.6, 0.5, 0.3 vs id 0, 0.1, 0.2 -> 1.0; PUNC best for vague is 1.0, so margin 0
    margins = {m["shift"]: m for m in data["margins"]}
    assert margins["vague"]["punc_auroc"] == 1.0 and margins["vague"]["prompt_only_auroc"] == 1.0
    assert margins["vague"]["margin"] == 0.0
    # ood: U_epi 0.4, 0.2, 0.5 vs id 0, 0.1, 0.1 -> 1.0; best prompt-only is ROUGE or chars
    assert margins["ood"]["punc_auroc"] == 1.0
    assert margins["ood"]["margin"] == pytest.approx(1.0 - margins["ood"]["prompt_only_auroc"])
    # disentanglement, vague gaps 0.5, 0.2, -0.1 against ood gaps 0.0, 0.3, -0.2:
    # 0.5 beats 3, 0.2 beats 2, -0.1 beats 1 -> 6/9
    (dis,) = data["disentanglement"]
    assert (dis["positive"], dis["negative"]) == ("vague", "ood")
    assert dis["auroc"] == pytest.approx(6 / 9)
    assert "margin" in out and "disentanglement vague vs ood: AUROC 0.667" in out
    md = (run / "detection.md").read_text()
    assert "## PUNC against the prompt-only baselines" in md and "## Disentanglement" in md
