"""Registry, laziness and the shared protocol."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.errors import PuncError
from harness.scorers import TextScorer, available_scorers, build_scorer, scorer_params


def test_available():
    names = available_scorers()
    assert {"rouge1", "rougeL", "bertscore", "cosine"} <= set(names)
    assert all(isinstance(d, str) and d and "\n" not in d for d in names.values())


@pytest.mark.parametrize("name", ["rouge1", "rougeL", "bertscore", "cosine"])
def test_build_each(name):
    scorer = build_scorer(name)
    assert isinstance(scorer, TextScorer)
    assert scorer.name == name
    assert scorer.outputs in {("precision", "recall", "f1"), ("cosine",)}
    assert "device" in scorer_params(name)  # the run passes a run-wide device to every scorer
    build_scorer(name, device="cpu")


def test_unknown_name_and_param():
    with pytest.raises(PuncError, match="unknown scorer 'bleu'"):
        build_scorer("bleu")
    with pytest.raises(PuncError, match="unknown parameter"):
        build_scorer("rouge1", layer=3)
    with pytest.raises(PuncError, match="idf"):
        build_scorer("bertscore", idf="maybe")


def test_importing_scorers_and_command_does_not_load_heavy_libraries():
    code = (
        "import sys, harness.scorers, harness.cli.commands.score;"
        "from harness.scorers import build_scorer;"
        "[build_scorer(n) for n in ('rouge1', 'rougeL', 'bertscore', 'cosine')];"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'rouge_score', 'bert_score')"
        " if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_revision_is_refused_for_local_folders(model_path):
    with pytest.raises(PuncError, match="revision"):
        build_scorer("bertscore", revision="main")
    with pytest.raises(PuncError, match="revision"):
        build_scorer("cosine", model=str(model_path), revision="abc")
