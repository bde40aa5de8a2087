"""Building scorers by name from `harness.registry.SCORERS` (built-ins and ``punc.scorers`` plug-ins).

Classes are imported lazily, so listing scorers never loads torch.
"""

from __future__ import annotations

import inspect
from typing import Any

from harness.errors import PuncError
from harness.registry import SCORERS
from harness.scorers.base import TextScorer


def available_scorers() -> dict[str, str]:
    """Scorer name -> one-line description (for ``punc ls scorers``)."""
    return SCORERS.describe()


def scorer_class(name: str) -> type[TextScorer]:
    return SCORERS.get(name)


def scorer_params(name: str) -> list[str]:
    """The parameter names a scorer accepts (``--param NAME.KEY=VALUE`` keys)."""
    return [p for p in inspect.signature(scorer_class(name).__init__).parameters if p != "self"]


def build_scorer(name: str, **params: Any) -> TextScorer:
    """Instantiate a scorer by name; unknown names or parameters raise ``PuncError``.

    Models are not loaded here: that happens on the first ``score()`` call.
    """
    cls = scorer_class(name)
    accepted = scorer_params(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise PuncError(
            f"scorer '{name}': unknown parameter(s) {', '.join(unknown)}; expected: {', '.join(accepted)}"
        )
    try:
        return cls(**params)
    except PuncError:
        raise
    except (TypeError, ValueError) as exc:
        raise PuncError(f"scorer '{name}': bad parameters: {exc}") from None
