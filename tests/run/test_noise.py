"""Repeated library warnings are shown once: the first of each kind passes, the repeats are dropped."""

from __future__ import annotations

import io
import logging

from harness.run.noise import HIDDEN_NOTE, OncePerKind, message_kind, show_library_warnings_once


def test_clip_truncation_warnings_of_every_batch_count_as_one_kind():
    a = "The following part of your input was truncated because CLIP can only handle sequences up to 32 tokens: ['x']"
    b = "The following part of your input was truncated because CLIP can only handle sequences up to 77 tokens: ['y z']"
    assert message_kind(a) == message_kind(b)
    c = "`CLIPImageProcessor` requires torchvision (not installed); falling back to `CLIPImageProcessorPil`"
    d = "`SiglipImageProcessor` requires torchvision (not installed); falling back to `SiglipImageProcessorPil`"
    assert message_kind(c) == message_kind(d) != message_kind(a)


def test_diffusers_pipeline_warnings_pass_once():
    from diffusers.utils import logging as diffusers_logging

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # where a user's terminal would be
    logging.getLogger("diffusers").addHandler(handler)
    try:
        shared = show_library_warnings_once()
        assert show_library_warnings_once() is shared, "installing twice keeps one filter"
        assert shared in handler.filters
        shared.seen.clear()
        logger = diffusers_logging.get_logger(
            "diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion"
        )
        for batch in range(5):
            logger.warning(
                "The following part of your input was truncated because CLIP can only handle sequences up to"
                f" 32 tokens: ['batch {batch}']"
            )
        logger.error("an error is never hidden")
        logger.error("an error is never hidden")
    finally:
        logging.getLogger("diffusers").removeHandler(handler)
    err = stream.getvalue()
    assert err.count("truncated because CLIP") == 1
    assert "['batch 0']" + HIDDEN_NOTE in err
    assert err.count("an error is never hidden") == 2


def test_filter_alone():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "same %s: %d", ("thing", 1), None)
    again = logging.LogRecord("x", logging.WARNING, __file__, 1, "same %s: %d", ("thing", 2), None)
    once = OncePerKind()
    assert once.filter(record) and not once.filter(again)
