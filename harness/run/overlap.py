"""Caption while generating: a remote judge captions finished images while later ones are generated.

Overlap pays only when captioning does not compete with generation for the same device: a remote
judge (an OpenAI-compatible server on other hardware) spends this process's time waiting on sockets.
A local judge shares the GPU (or the CPU cores) with the generator and would need both models in
memory at once, so it keeps the sequential stages.

The generation loop hands each batch of freshly stored images to a `CaptionFeed`; the feed cuts their
caption items into the judge's batches, in grid order, and a consumer thread captions them from a
bounded queue while the generator keeps producing. Only batch-invariant judges are fed (each caption
is one request), so the captions are the ones the sequential caption stage would make, and for an
uninterrupted run they are appended in the same order. Items the feed attempted are not asked again
by the caption stage (a failure is recorded once per run, as in a sequential run).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.config.judge import JudgeConfig
from harness.errors import PuncError
from harness.run.progress import stage_progress

CaptionKey = tuple[str, int, str, int]  # prompt id, image index, image hash, sample index
# caption batches waiting for the judge before the generator waits too: keys only (images stay on
# disk), so this bounds how far generation runs ahead of a slow or failing judge, not memory
QUEUE_BATCHES = 16
_FINISHED = None  # the producer's end-of-work mark on the queue

REMOTE_BACKENDS = ("openai",)


def overlap_wanted(requested: bool | None, judge: JudgeConfig) -> bool:
    """Whether this run captions while generating: by default for remote judges only.

    `requested` is the user's `--overlap` (True) or `--no-overlap` (False); None chooses by backend.
    """
    remote = judge.backend in REMOTE_BACKENDS
    if requested and not remote:
        raise PuncError(
            f"--overlap: judge '{judge.name}' runs in this process (backend {judge.backend}); overlap is "
            "for remote judges (backend openai), since a local judge would share the device with the "
            "generator and hold both models in memory at once"
        )
    return remote if requested is None else requested


@dataclass
class FeedOutcome:
    """What the feed did: the caption items it attempted (captioned or failed), its batches (how many
    finished before generation did) and the seconds it spent captioning."""

    attempted: set[CaptionKey] = field(default_factory=set)
    items: int = 0
    batches: int = 0
    while_generating: int = 0
    busy_s: float = 0.0

    def event(self) -> dict[str, Any]:
        """The `overlap` event of events.jsonl."""
        return {
            "items": self.items,
            "batches": self.batches,
            "batches_while_generating": self.while_generating,
            "busy_s": round(self.busy_s, 3),
        }


class CaptionFeed:
    """Caption batches made from finished images, captioned on a thread while the generator goes on.

    `caption_batch(keys)` captions one batch and stores its results (the caption stage's own code);
    it runs on the feed's thread only, one batch at a time.
    """

    def __init__(
        self,
        caption_batch: Callable[[list[CaptionKey]], None],
        batch_size: int,
        samples_per_image: int,
        skip: set[CaptionKey] | None = None,
        queue_batches: int = QUEUE_BATCHES,
        judge: Any = None,
    ) -> None:
        self.judge = (
            judge  # what `caption_batch` captions with; the caption stage goes on with it, then closes it
        )
        self._caption_batch = caption_batch
        self.batch_size = batch_size
        self.samples = samples_per_image
        self._skip = skip or set()
        self._pending: list[CaptionKey] = []
        self._sent = 0  # caption items handed to the thread
        self._queue: queue.Queue[list[CaptionKey] | None] = queue.Queue(maxsize=queue_batches)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._advance: Callable[[int], None] = lambda n: None
        self.outcome = FeedOutcome()
        self._thread = threading.Thread(target=self._consume, name="punc-caption-feed", daemon=True)
        self._thread.start()

    # -- producer side (the generation loop) -----------------------------------------------------
    def show(self, bar: Any, images: int) -> None:
        """Show a caption bar on the generation stage's display, sized for `images` planned images."""
        task = bar.add_task("caption", total=images * self.samples)
        self._advance = lambda n: bar.advance(task, n)

    def put(self, images: Sequence[dict[str, Any]]) -> None:
        """Hand over image records just stored, in grid order; full caption batches go to the judge."""
        self._raise_if_failed()
        for record in images:
            for sample in range(self.samples):
                key = (record["prompt_id"], int(record["index"]), record["image_hash"], sample)
                if key not in self._skip:
                    self._pending.append(key)
        while len(self._pending) >= self.batch_size:
            self._send(self._pending[: self.batch_size])
            del self._pending[: self.batch_size]

    def finish(self, show_progress: bool = False) -> FeedOutcome:
        """Send the last partial batch and wait until every batch is captioned; re-raise the thread's error.

        Ctrl-C (or any error) while waiting stops the feed: the batch in flight is finished and kept.
        """
        self.outcome.while_generating = self.outcome.batches
        try:
            if self._pending:
                self._send(self._pending)
                self._pending = []
            self._send_finished()
            if show_progress and self._thread.is_alive():
                with stage_progress(True) as bar:  # the captions still to come, once generation is done
                    task = bar.add_task("caption", total=None)
                    self._advance = lambda n: bar.advance(task, n)
                    bar.update(task, total=self._sent - self.outcome.items)
                    self._thread.join()
            else:
                self._thread.join()
        except BaseException:
            self.abort()
            raise
        if self._error is not None and self.judge is not None:
            self.judge.close()
        self._raise_if_failed()
        return self.outcome

    def abort(self) -> None:
        """Stop after the batch in flight (it is stored); batches not started are dropped; close the judge."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._thread.join()
        finally:
            if self.judge is not None:
                self.judge.close()

    # -- internals --------------------------------------------------------------------------------
    def _send(self, keys: list[CaptionKey]) -> None:
        while True:  # a bounded wait, so an error on the feed's thread stops the generator promptly
            self._raise_if_failed()
            try:
                self._queue.put(list(keys), timeout=0.2)
                self._sent += len(keys)
                return
            except queue.Full:
                continue

    def _send_finished(self) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(_FINISHED, timeout=0.2)
                return
            except queue.Full:
                continue

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _consume(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if batch is _FINISHED:
                return
            started = time.perf_counter()
            try:
                self._caption_batch(batch)
            except BaseException as exc:  # handed to the producer, which raises it in the main thread
                self._error = exc
                return
            self.outcome.attempted.update(batch)
            self.outcome.items += len(batch)
            self.outcome.batches += 1
            self.outcome.busy_s += time.perf_counter() - started
            self._advance(len(batch))
