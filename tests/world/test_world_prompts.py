import json
import re
from pathlib import Path

from harness.world.prompts import build_all, build_bias_probe, build_bias_probes
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
        assert p["labels"]["canonical_caption"] == p["text"]  # the id template, substituted
    for p in b["corrupted"]:
        assert p["text"] != p["labels"]["clean_text"]


def test_lengths_match_id():
    """Vague and OOD prompts are written to id length: every id prompt has 7 or 8 words, and so does
    every OOD prompt; vague prompts have 5 to 8."""
    b = build_all()
    assert {len(p["text"].split()) for p in b["id"]} == {7, 8}
    assert {len(p["text"].split()) for p in b["ood"]} == {7, 8}
    assert {len(p["text"].split()) for p in b["vague"]} <= {5, 6, 7, 8}


def test_id_disjoint_from_generator_training():
    import random

    from scripts_loader import load_generator_script

    from harness.world.prompts import build_id

    gen = load_generator_script()
    probes = {p["text"] for p in build_bias_probes()}
    banned = {p["text"] for p in build_id()}
    assert len(probes) == 20 and not probes & banned
    rng = random.Random(0)
    for _ in range(2000):
        _, text = gen.sample_example(rng, banned)
        assert text not in banned
