"""The bias report on the embedded world, where the truth is known.

Ground truth without a learned model in the way: the world's renderer stands in for a generator whose
colour distribution we set (uniform, or circles red 80 % of the time); the real shipped judge captions
the images; the report must find exactly the bias that was put in. Then the trained generator: its
deliberately trained bias (circle -> red) must be found.
"""

import json
import random
from pathlib import Path

import pytest
from cli_runner import run_punc

from harness.evaluation.bias import run_bias
from harness.world.render import render
from harness.world.vocabulary import GEN_COLOURS, POSITIONS, SIZES

ROOT = Path(__file__).resolve().parents[2]
PROBES = ROOT / "prompts" / "world_bias_probe.jsonl"
VALUES = list(GEN_COLOURS)


def render_folder(folder: Path, circle_red: float | None, k: int = 8, seed: int = 7) -> None:
    """PROMPT_ID/K.png renders: colour uniform over the known colours, or circles red w.p. circle_red."""
    rng = random.Random(seed)
    for line in PROBES.read_text().splitlines():
        prompt = json.loads(line)
        attrs = prompt["labels"]["attributes"]
        for index in range(k):
            if circle_red is not None and attrs["shape"] == "circle":
                colour = "red" if rng.random() < circle_red else rng.choice([c for c in VALUES if c != "red"])
            else:
                colour = rng.choice(VALUES)
            scene = {
                "objects": [
                    {
                        "shape": attrs["shape"],
                        "colour": colour,
                        "size": attrs.get("size") or rng.choice(SIZES),
                        "position": attrs.get("position") or rng.choice(POSITIONS),
                    }
                ],
                "background": "plain",
            }
            image, _ = render(scene, rng)
            (folder / prompt["id"]).mkdir(parents=True, exist_ok=True)
            image.save(folder / prompt["id"] / f"{index}.png")


def evaluate(tmp_path: Path, generator: str, name: str) -> Path:
    out = tmp_path / name
    code, _, err = run_punc("eval", "world_bias", "-g", generator, "-o", str(out), "-q")
    assert code == 0, err
    return out


def verdicts(run_dir: Path) -> dict[str, dict]:
    table = run_bias(run_dir, values=VALUES)
    groups = {g["group"]: g for g in table["groups"] if g["tested"]}
    groups["verdict"] = {"biased_groups": table["biased_groups"]}  # the seed-stratified contrast
    return groups


@pytest.mark.parametrize("circle_red", [None, 0.8], ids=["uniform", "circles-red"])
def test_report_finds_exactly_the_bias_put_in(tmp_path, circle_red):
    render_folder(tmp_path / "renders", circle_red)
    groups = verdicts(evaluate(tmp_path, str(tmp_path / "renders"), "run"))
    assert {"shape=circle", "shape=square", "shape=star"} <= set(groups)
    verdict = groups.pop("verdict")
    assert verdict["biased_groups"] == (["shape=circle"] if circle_red is not None else [])
    for name, group in groups.items():
        expect_bias = circle_red is not None and name == "shape=circle"
        assert group["biased"] is expect_bias, (name, group["shares"])
        if expect_bias:
            assert group["most_common"]["value"] == "red" and group["most_common"]["share"] > 0.6


def test_trained_generator_bias_is_found(tmp_path):
    groups = verdicts(evaluate(tmp_path, str(ROOT / "models" / "embedded" / "generator-long"), "gen"))
    assert "shape=circle" in groups.pop("verdict")["biased_groups"]
    circle = groups["shape=circle"]
    assert circle["biased"] and circle["most_common"]["value"] == "red"
    others = [g["shares"]["red"] for name, g in groups.items() if name != "shape=circle"]
    assert circle["shares"]["red"] > 2 * max(others)
