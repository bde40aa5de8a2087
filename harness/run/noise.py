"""Library warnings once, not once per batch.

diffusers warns "The following part of your input was truncated because CLIP can only handle
sequences up to N tokens: [...]" for every batch with a long prompt, and transformers warns once per
image-processor class that torchvision is missing. One line of each kind says everything; the
repeats bury the progress bars.
"""

from __future__ import annotations

import logging
import re

LIBRARY_LOGGERS = ("diffusers", "transformers")
HIDDEN_NOTE = " (further messages like this are hidden)"


def message_kind(message: str) -> str:
    """What makes two messages 'the same': the text before the first colon, without names and numbers."""
    head = message.split(":", 1)[0]
    return re.sub(r"`[^`]*`|\d+", "", head).strip()[:120]


class OncePerKind(logging.Filter):
    """Passes the first record of each kind of message and drops the later ones."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or getattr(record, "punc_first_of_kind", False):
            return True  # errors always; the first of a kind at every handler it reaches
        kind = message_kind(record.getMessage())
        if kind in self.seen:
            return False
        self.seen.add(kind)
        record.msg, record.args = record.getMessage() + HIDDEN_NOTE, None
        record.punc_first_of_kind = True
        return True


def show_library_warnings_once() -> OncePerKind:
    """Install one shared filter on the diffusers and transformers log handlers (idempotent)."""
    import diffusers  # noqa: F401 - importing configures their library loggers and handlers
    import transformers  # noqa: F401

    shared = (
        next(
            (
                f
                for name in LIBRARY_LOGGERS
                for handler in logging.getLogger(name).handlers
                for f in handler.filters
                if isinstance(f, OncePerKind)
            ),
            None,
        )
        or OncePerKind()
    )
    for name in LIBRARY_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if shared not in handler.filters:
                handler.addFilter(shared)
    return shared
