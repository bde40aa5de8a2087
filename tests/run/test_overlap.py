"""CaptionFeed: batches cut like the sequential caption plan, a bounded queue, errors and Ctrl-C handled."""

from __future__ import annotations

import threading
import time

import pytest

from harness.config.judge import JudgeConfig
from harness.errors import PuncError
from harness.run.evaluate import plan_chunks
from harness.run.overlap import CaptionFeed, overlap_wanted


def image_records(n: int, start: int = 0) -> list[dict]:
    return [
        {"prompt_id": f"p{i // 3}", "index": i % 3, "image_hash": f"h{i}"} for i in range(start, start + n)
    ]


class Recorder:
    """The caption stage's batch function, recording what it was given and on which thread."""

    def __init__(self, delay_s: float = 0.0, fail_on: int | None = None) -> None:
        self.batches: list[list[tuple]] = []
        self.threads: set[str] = set()
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.started = threading.Event()

    def __call__(self, keys: list[tuple]) -> None:
        self.started.set()
        self.threads.add(threading.current_thread().name)
        if self.fail_on is not None and len(self.batches) == self.fail_on:
            raise OSError(28, "No space left on device")
        time.sleep(self.delay_s)
        self.batches.append(keys)


@pytest.mark.parametrize(("generation_batch", "caption_batch", "samples"), [(2, 3, 1), (5, 4, 2), (1, 8, 3)])
def test_batches_are_the_sequential_plans_batches_in_order(generation_batch, caption_batch, samples):
    records = image_records(17)
    recorder = Recorder()
    feed = CaptionFeed(recorder, batch_size=caption_batch, samples_per_image=samples)
    for start in range(0, len(records), generation_batch):
        feed.put(records[start : start + generation_batch])
    outcome = feed.finish()
    grid = [(r["prompt_id"], r["index"], r["image_hash"], s) for r in records for s in range(samples)]
    expected = [chunk for chunk, _ in plan_chunks(grid, caption_batch, {}, batch_invariant=True)]
    assert recorder.batches == expected
    assert recorder.threads == {"punc-caption-feed"}
    assert outcome.attempted == set(grid) and outcome.items == len(grid) and outcome.batches == len(expected)


def test_items_already_captioned_are_skipped():
    records = image_records(6)
    done = {(r["prompt_id"], r["index"], r["image_hash"], 0) for r in records[::2]}
    recorder = Recorder()
    feed = CaptionFeed(recorder, batch_size=2, samples_per_image=1, skip=done)
    feed.put(records)
    feed.finish()
    sent = [key for batch in recorder.batches for key in batch]
    assert sent == [(r["prompt_id"], r["index"], r["image_hash"], 0) for r in records[1::2]]


def test_the_generator_waits_when_the_judge_falls_behind():
    recorder = Recorder(delay_s=0.3)
    feed = CaptionFeed(recorder, batch_size=1, samples_per_image=1, queue_batches=1)
    started = time.perf_counter()
    feed.put(image_records(4))  # 4 batches, room for 1 waiting: put returns only after ~2 have finished
    waited = time.perf_counter() - started
    feed.finish()
    assert waited >= 0.5
    assert len(recorder.batches) == 4


def test_an_error_on_the_feed_thread_stops_the_generator_loop():
    recorder = Recorder(fail_on=1)
    feed = CaptionFeed(recorder, batch_size=1, samples_per_image=1)
    with pytest.raises(OSError, match="No space left"):
        for start in range(0, 200):
            feed.put(image_records(1, start))
            time.sleep(0.01)
    assert len(recorder.batches) == 1


def test_an_error_is_raised_by_finish_too():
    feed = CaptionFeed(Recorder(fail_on=0), batch_size=4, samples_per_image=1)
    feed.put(image_records(2))
    with pytest.raises(OSError, match="No space left"):
        feed.finish()


def test_abort_finishes_the_batch_in_flight_and_drops_the_rest():
    recorder = Recorder(delay_s=0.3)
    feed = CaptionFeed(recorder, batch_size=1, samples_per_image=1)
    feed.put(image_records(5))
    assert recorder.started.wait(5)
    feed.abort()
    assert len(recorder.batches) == 1  # the one in flight, stored; the four waiting were dropped
    assert not feed._thread.is_alive()


def test_overlap_is_for_remote_judges():
    remote = JudgeConfig(name="r", backend="openai", model="m", base_url="http://127.0.0.1:9/v1")
    local = JudgeConfig(name="l", backend="transformers", model="m")
    assert overlap_wanted(None, remote) is True
    assert overlap_wanted(False, remote) is False
    assert overlap_wanted(None, local) is False
    assert overlap_wanted(False, local) is False
    with pytest.raises(PuncError, match="share the device with the generator"):
        overlap_wanted(True, local)
