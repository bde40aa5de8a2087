"""punc-harness: per-prompt uncertainty of text-to-image models, measured in text space by VLM judges.

From a notebook:

    import harness
    results = harness.evaluate("world_default", limit=2, out="runs/notebook")   # the embedded world
    run = harness.load_run("runs/notebook")       # a RunReader: results, images, captions, scores
    run.results.overall.metrics["bertscore"]["u_tot"]

Plug-ins subclass `Generator`, `Judge`, `Scorer` or `Baseline` (docs/extending.md). Names are imported
on first use, so `import harness` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness._version import __version__

_PUBLIC = {
    "evaluate": ("harness.api", "evaluate"),
    "load_run": ("harness.run.reader", "load_run"),
    "RunReader": ("harness.run.reader", "RunReader"),
    "Results": ("harness.run.schema", "Results"),
    "Generator": ("harness.generators.base", "Generator"),
    "Judge": ("harness.judges.base", "Judge"),
    "Scorer": ("harness.scorers.base", "TextScorer"),
    "Baseline": ("harness.baselines.base", "Baseline"),
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    """The public names, imported when first used."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
