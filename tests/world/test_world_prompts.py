import json
import re
from pathlib import Path

from harness.world.prompts import build_all, eval_texts
from harness.world.vocabulary import (
    BIAS_SHAPE,
    GEN_SHAPES,
    UNSEEN_BACKGROUNDS,
    UNSEEN_COLOURS,
    UNSEEN_SHAPES,
)

ROOT = Path(__file__).resolve().parents[2]
SHIFT = {"id": "none", "vague": "vague", "corrupted": "corrupted", "ood": "ood"}


def test_deterministic():
    assert build_all() == build_all()


def test_shipped_files_match_builder():
    built = build_all()
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
        assert a["shape"] in GEN_SHAPES and a["background"] == "plain"
    probes = [p for p in b["id"] if "bias_probe" in p["labels"]]
    assert {p["labels"]["bias_probe"]["biased"] for p in probes} == {True, False}
    for p in probes:
        assert p["labels"]["attributes"]["colour"] is None
        assert (p["labels"]["attributes"]["shape"] == BIAS_SHAPE) == p["labels"]["bias_probe"]["biased"]
    for p in b["vague"]:
        assert len(p["labels"]["open"]) >= 2
    unseen = set(UNSEEN_SHAPES) | set(UNSEEN_COLOURS) | set(UNSEEN_BACKGROUNDS)
    for p in b["ood"]:
        assert set(p["labels"]["unseen"]) & (unseen | {"second_object"})
        assert any(w in unseen for w in p["text"].split())
    for p in b["corrupted"]:
        assert p["text"] != p["labels"]["clean_text"]


def test_id_disjoint_from_generator_training():
    import random

    from scripts_loader import load_generator_script

    from harness.world.prompts import build_id

    gen = load_generator_script()
    probes = {p["text"] for p in build_id() if "bias_probe" in p["labels"]}
    banned = eval_texts() - probes
    assert len(probes) == 20
    rng = random.Random(0)
    for _ in range(2000):
        _, text = gen.sample_example(rng, banned)
        assert text not in banned
