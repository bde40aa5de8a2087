"""The scorer contract, checked for every scorer in the registry.

Every scorer keeps input order, scores a hostile caption instead of raising, has a signature that is
the same for two instances of the same configuration, and can be closed twice.
"""

from __future__ import annotations

import math

import pytest

from harness.registry import SCORERS
from harness.scorers import build_scorer

#: parameters for each built-in (CPU; the default backbones ship with the package, so no download)
CASES: dict[str, dict[str, object]] = {
    "rouge1": {},
    "rougeL": {},
    "bertscore": {"device": "cpu"},
    "cosine": {"device": "cpu"},
}
BUILT_IN = [name for name in SCORERS.names() if SCORERS.is_builtin(name)]

PROMPTS = ["a red circle", "a small blue square at the top left", "two green triangles"]
CAPTIONS = ["a red circle on a white background", "a blue square", "a green triangle and a star"]
#: captions a judge can return: empty, blank, control and replacement characters, very long, emoji
HOSTILE = ["", "  \n\t", "\x00\u200b\ufffd", "word " * 3000, "\U0001f642" * 50]
TOL = 1e-5  # batched transformer scorers pad differently per batch


def test_every_built_in_scorer_has_a_contract_case():
    assert sorted(BUILT_IN) == sorted(CASES)


@pytest.fixture(scope="module", params=BUILT_IN)
def scorer(request):
    made = build_scorer(request.param, **CASES[request.param])
    yield made
    made.close()


def close_rows(a, b, tol=TOL):
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(abs(x[k] - y[k]) <= tol for k in x) for x, y in zip(a, b, strict=True)
    )


def test_keeps_input_order(scorer):
    forward = scorer.score(PROMPTS, CAPTIONS)
    backward = scorer.score(PROMPTS[::-1], CAPTIONS[::-1])
    alone = [scorer.score_pair(p, c) for p, c in zip(PROMPTS, CAPTIONS, strict=True)]
    assert close_rows(forward, alone)
    assert close_rows(backward[::-1], forward)
    assert all(set(row) == set(scorer.outputs) for row in forward)
    assert len({tuple(sorted(r.items())) for r in forward}) > 1, "the pairs must not all score alike"


def test_hostile_captions_are_scored_not_raised(scorer):
    prompts = [PROMPTS[0], *([PROMPTS[1]] * len(HOSTILE)), PROMPTS[2]]
    captions = [CAPTIONS[0], *HOSTILE, CAPTIONS[2]]
    rows = scorer.score(prompts, captions)
    assert len(rows) == len(captions)
    assert all(math.isfinite(v) for row in rows for v in row.values())
    # the good pairs around the hostile ones score as they do alone
    assert close_rows(
        [rows[0], rows[-1]],
        [scorer.score_pair(PROMPTS[0], CAPTIONS[0]), scorer.score_pair(PROMPTS[2], CAPTIONS[2])],
    )


def test_signature_is_stable_across_instances(scorer):
    name = type(scorer).name
    twin = build_scorer(name, **CASES[name])
    before = scorer.signature()
    assert isinstance(before, str) and before.startswith(name)
    scorer.score(PROMPTS[:1], CAPTIONS[:1])
    assert scorer.signature() == before == twin.signature()
    twin.close()


def test_close_twice_then_score_again(scorer):
    expected = scorer.score(PROMPTS, CAPTIONS)
    scorer.close()
    scorer.close()
    assert close_rows(scorer.score(PROMPTS, CAPTIONS), expected)  # a closed scorer reloads on use
