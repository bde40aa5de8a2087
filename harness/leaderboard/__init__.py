"""Leaderboards: publish finished runs as inert bundles and build a static, offline board from them.

A board lives in ``leaderboards/NAME/``::

    board.json               identity every run must share: task hash, judge fingerprint, scorer signatures
    runs/<bundle_id>/        one published run (known files only, re-serialised / re-validated)
    index.json README.md index.html   rebuilt from the bundles by ``punc leaderboard build``
    data/per_prompt.parquet  every run's per-prompt results, a Hugging Face dataset (named in README.md)
"""

from __future__ import annotations

BOARD_FORMAT = 1
BUNDLE_FORMAT = 1
