import json
import re
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from harness.world.captions import object_phrase, parse_caption
from harness.world.prompts import (
    PARAPHRASE_SHARE,
    PHRASINGS,
    build_all,
    build_bias_probe,
    build_bias_probes,
    eval_texts,
    phrase,
)
from harness.world.vocabulary import (
    BIAS_SHAPE,
    GEN_COLOURS,
    GEN_SHAPES,
    UNSEEN_COLOURS,
    UNSEEN_SHAPES,
)

ROOT = Path(__file__).resolve().parents[2]
SHIFT = {"id": "none", "vague": "vague", "corrupted": "corrupted", "ood": "ood"}


def test_deterministic():
    assert build_all() == build_all()


def test_shipped_files_match_builder():
    built = {**build_all(), "bias_probe": build_bias_probe()}
    for name, prompts in built.items():
        lines = [json.loads(line) for line in (ROOT / f"prompts/world_{name}.jsonl").read_text().splitlines()]
        assert lines == json.loads(json.dumps(prompts))


def test_sets_well_formed():
    all_ids = set()
    for name, prompts in build_all().items():
        assert len(prompts) >= 100
        texts = [p["text"] for p in prompts]
        assert len(set(texts)) == len(texts)
        for p in prompts:
            assert re.fullmatch(r"[A-Za-z0-9_.-]+", p["id"])
            assert p["id"] not in all_ids
            all_ids.add(p["id"])
            assert p["labels"]["shift"] == SHIFT[name]
            assert set(p["labels"]["attributes"]) >= {"shape", "colour", "size", "position", "background"}


def test_set_semantics():
    b = build_all()
    for p in b["id"]:
        a = p["labels"]["attributes"]
        assert a["shape"] in GEN_SHAPES and a["colour"] in GEN_COLOURS and a["background"] == "plain"
        assert a["size"] and a["position"]
    assert not any("bias_probe" in p["labels"] for p in b["id"])  # the probes left the id set
    probes = build_bias_probes()
    assert len(probes) == 20 and {p["labels"]["bias_probe"]["biased"] for p in probes} == {True, False}
    for p in probes:
        assert p["labels"]["attributes"]["colour"] is None and p["labels"]["shift"] == "vague"
        assert (p["labels"]["attributes"]["shape"] == BIAS_SHAPE) == p["labels"]["bias_probe"]["biased"]
    for p in b["vague"]:
        open_ = p["labels"]["open"]
        assert 1 <= len(open_) <= 2 and "position" not in open_
        assert all(p["labels"]["attributes"][k] is None for k in open_)
    unseen = set(UNSEEN_SHAPES) | set(UNSEEN_COLOURS)
    for p in b["ood"]:
        words = p["text"].split()
        assert set(p["labels"]["unseen"]) <= unseen and set(p["labels"]["unseen"]) <= set(words)
        # the id template, substituted (a rewritten prompt keeps it as its template text)
        assert p["labels"]["canonical_caption"] == p["labels"].get("template_text", p["text"])
    for p in b["corrupted"]:
        assert p["text"] != p["labels"]["clean_text"]


def test_lengths_match_id():
    """Vague and OOD prompts are written to id length: every prompt of the three sets has 7 or 8 words."""
    b = build_all()
    for name in ("id", "vague", "ood"):
        assert {len(p["text"].split()) for p in b[name]} == {7, 8}, name


def length_auroc(shifted, ref, length) -> float:
    """AUROC of a length feature for telling shifted from reference prompts, best direction."""
    y = [1] * len(shifted) + [0] * len(ref)
    auc = roc_auc_score(y, [length(p["text"]) for p in shifted + ref])
    return max(auc, 1 - auc)


@pytest.mark.parametrize("shift", ["vague", "ood"])
def test_length_does_not_give_the_shift_away(shift):
    """The issue's ceiling for any prompt-only feature is 0.75; the sets are built to stay well under it
    in words and characters (tokens equal words here: every world word is one token)."""
    b = build_all()
    for length in (lambda t: len(t.split()), len):
        assert length_auroc(b[shift], b["id"], length) <= 0.65


def test_template_phrase_is_the_captions_phrase():
    """phrase() without a rewrite writes exactly what the judge's template (object_phrase) writes."""
    import itertools

    from harness.world.vocabulary import COLOURS, POSITIONS, SHAPES, SIZES

    for shape, colour, size, pos in itertools.product(
        (*SHAPES, None), (*COLOURS, None), (*SIZES, None), (*POSITIONS, None)
    ):
        obj = {"shape": shape, "colour": colour, "size": size, "position": pos}
        assert phrase(obj) == object_phrase(obj)


def test_rewrites_by_hand():
    obj = {"shape": "star", "colour": "green", "size": "small", "position": "top left"}
    assert phrase(obj, "adjectives_after") == "a star small green at the top left"
    assert phrase(obj, "position_swapped") == "a small green star at the left top"
    assert phrase(obj, "on_the") == "a small green star on the top left"
    assert phrase({**obj, "colour": None}, shape_word=True) == "a small star shape at the top left"
    assert phrase({**obj, "colour": None}, "adjectives_after", True) == "a star shape small at the top left"


@pytest.mark.parametrize("name", ["id", "vague", "corrupted", "ood"])
def test_a_quarter_of_every_set_is_rewritten(name):
    """Every set is rewritten in the same share, each rewrite keeping the template's word and character
    counts, so that no prompt-only feature sees the rewrites more in one set than in another."""
    prompts = build_all()[name]
    rewritten = [p for p in prompts if p["labels"]["phrasing"] != "template"]
    assert len(rewritten) == round(PARAPHRASE_SHARE * len(prompts))
    assert {p["labels"]["phrasing"] for p in rewritten} == set(PHRASINGS)
    for p in rewritten:
        clean = p["labels"].get("clean_text", p["text"])
        template = p["labels"]["template_text"]
        assert clean != template
        assert len(clean) == len(template) and len(clean.split()) == len(template.split())
        if p["labels"]["phrasing"] != "on_the":  # word order only
            assert sorted(clean.split()) == sorted(template.split())
        else:
            assert clean.replace(" on the ", " at the ") == template


@pytest.mark.parametrize("name", ["id", "ood"])
def test_rewrites_still_say_the_same_scene(name):
    """The tolerant parser (an independent reading) recovers every named attribute from every prompt,
    rewritten or not."""
    for p in build_all()[name]:
        parsed = parse_caption(p["text"])
        assert len(parsed["objects"]) == 1, p["text"]
        for key in ("shape", "colour", "size", "position"):
            assert parsed[key] == p["labels"]["attributes"][key], (p["text"], key)


def test_rewrites_use_only_whole_tokens():
    """Rewrites add no word the generator's tokenizer splits: only typos split (corrupted set)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(ROOT / "models/embedded/generator-long/tokenizer"))
    for name, prompts in build_all().items():
        if name == "corrupted":
            continue
        for p in prompts:
            assert all(len(tok.tokenize(w)) == 1 for w in p["text"].split()), p["text"]


def test_id_disjoint_from_generator_training():
    import random

    from scripts_loader import load_generator_script

    from harness.world.prompts import build_id

    gen = load_generator_script()
    probes = {p["text"] for p in build_bias_probes()}
    banned = {p["text"] for p in build_id()}
    templates = {p["labels"].get("template_text", p["text"]) for p in build_id()}
    # rewritten or not, exactly the 100 id descriptions are the full descriptions held out of training
    from harness.world.prompts import full_combos

    assert len(templates) == 100 and {object_phrase(o) for o in full_combos()} & eval_texts() == templates
    banned |= templates
    assert len(probes) == 20 and not probes & banned
    rng = random.Random(0)
    for _ in range(2000):
        _, text = gen.sample_example(rng, banned)
        assert text not in banned
