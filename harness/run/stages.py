"""One runner for every stage of an evaluation over its fixed work grid: fold the processes' shard logs,
load what is done, plan batches, run them with a progress bar, log finished items (and failures) as
they come, and report the stage's throughput.

A stage's work is a `StageWork`: how big its batches are, whether its backend is batch-invariant, how
to turn one batch into records, and how to log them. `run_batches` consumes any iterable of batches,
so a caller may feed batches as another stage finishes them (captioning while generating).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness.run.cost import StageTally
from harness.run.progress import stage_progress
from harness.run.sharding import Ranks, device_label, fold_shards
from harness.run.store import RunStore

Key = Hashable
Record = dict[str, Any]
Batch = tuple[list[Any], set[Any]]  # (the batch as planned, its items still to do)


def plan_chunks(grid: list[Any], size: int, done: Any, batch_invariant: bool = False) -> list[Batch]:
    """Batches of work still to do, as (batch, unfinished items of it).

    Batched kernels round differently for different batch compositions, so for local models a resumed
    run must batch exactly like an uninterrupted one: batches are fixed over the whole work grid, and a
    batch with some finished items is recomputed whole (only its unfinished items are stored).
    Batch-invariant backends (a remote judge, pre-made images) get only the unfinished items.
    """
    if batch_invariant:
        todo = [key for key in grid if key not in done]
        return [(todo[i : i + size], set(todo[i : i + size])) for i in range(0, len(todo), size)]
    plan = []
    for start in range(0, len(grid), size):
        chunk = grid[start : start + size]
        todo = {key for key in chunk if key not in done}
        if todo:
            plan.append((chunk, todo))
    return plan


class StageWork(Protocol):
    """What a stage does with one batch; the runner does everything around it."""

    batch_size: int
    batch_invariant: bool

    def process(self, chunk: list[Any], todo: set[Any]) -> list[tuple[Key, Record]]:
        """The records of the batch's unfinished items that succeeded (failures are recorded here)."""
        ...

    def commit(self, records: list[Record]) -> None:
        """Log finished records durably (after their files are on disk)."""
        ...

    def close(self) -> None: ...


@dataclass
class Stage:
    """A stage's grid and its log: what the runner needs to fold, resume and report it."""

    name: str
    grid: list[Any]
    log: Path
    load_done: Callable[[], dict[Any, Record]]
    fold_identity: Callable[[Record], Any] | None = None
    fold_position: Callable[[Record], Any] | None = None


class StageRunner:
    """Runs stages for one process of an evaluation (several when accelerate launched them)."""

    def __init__(self, store: RunStore, ranks: Ranks, device: str | None, show_progress: bool) -> None:
        self.store = store
        self.ranks = ranks
        self.device = device
        self.show_progress = show_progress
        self.recomputed = 0  # finished items recomputed to keep batches identical after a resume
        self.timings: dict[str, float] = {}

    # -- around a stage ------------------------------------------------------------------------
    def fold(self, stage: Stage) -> None:
        """Fold the processes' shard logs (and a killed run's leftovers) into the stage's log; everyone
        waits for it."""
        self.ranks.barrier()
        if self.ranks.is_main:
            fold_shards(self.store.root, stage.log, stage.fold_identity, stage.fold_position)
        self.ranks.barrier()

    def note_recompute(self, stage: str, count: int) -> None:
        if count:
            self.recomputed += count
            self.store.log_event("recompute", stage=stage, finished_items=count)

    def progress_span(self, grid_size: int, plan: list[Batch]) -> dict[str, int]:
        """A bar over the whole grid for one process; over its own share when several work."""
        todo = sum(len(t) for _, t in plan)
        if self.ranks.sharded:
            return {"total": todo}
        return {"total": grid_size, "completed": grid_size - todo}

    def tally(self, stage: str, items: int, started: float) -> None:
        """Every process reports its work on a stage; the main process logs the stage's throughput."""
        mine = StageTally(items, items, time.perf_counter() - started, device_label(self.device))
        everyone = self.ranks.gather(mine)
        if self.ranks.is_main:
            self.store.log_event("stage", stage=stage, **StageTally.combine(everyone))

    # -- the stage ---------------------------------------------------------------------------
    def run_batches(
        self,
        label: str,
        batches: Iterable[Batch],
        work: StageWork,
        done: dict[Any, Record],
        bar: Any,
        task: Any,
    ) -> int:
        """Process batches in order, logging each batch's records before the next; the items computed."""
        items = 0
        for chunk, todo in batches:
            self.note_recompute(label, len(chunk) - len(todo))
            finished = work.process(chunk, todo)
            work.commit([record for _, record in finished])
            done.update(finished)
            items += len(chunk)
            bar.advance(task, len(todo))
        return items

    def plan(self, grid: list[Any], work: StageWork, done: Any) -> list[Batch]:
        """This process's share of the batches still to do."""
        return self.ranks.mine(plan_chunks(grid, work.batch_size, done, work.batch_invariant))

    def run(
        self,
        stage: Stage,
        open_work: Callable[[], StageWork],
        *,
        opened: StageWork | None = None,
        attempted: frozenset[Any] | set[Any] = frozenset(),
        items_before: int = 0,
        fold_first: bool = True,
        on_bar: Callable[[Any, list[Batch]], None] | None = None,
        started: float | None = None,
    ) -> dict[Any, Record]:
        """Resume `stage`: do the grid items without a record (opening the backend only if there are
        any), then return the records of the whole grid, in grid order.

        Captioning while generating (run/overlap.py) passes the judge it already `opened`, the items
        its feed `attempted` (not asked again in this run), the `items_before` it computed, when the stage
        `started` (generation's end), and `fold_first=False` (its logs were folded before generation).
        `on_bar` may add a bar of its own beside the stage's."""
        if fold_first:
            self.fold(stage)
        done = stage.load_done()
        started = time.perf_counter() if started is None else started
        items = items_before
        work = opened
        try:
            if any(key not in done and key not in attempted for key in stage.grid):
                work = work or open_work()
                plan = self.plan(stage.grid, work, {**done, **dict.fromkeys(attempted)})
                with stage_progress(self.show_progress) as bar:
                    task = bar.add_task(stage.name, **self.progress_span(len(stage.grid), plan))
                    if on_bar is not None:
                        on_bar(bar, plan)
                    items += self.run_batches(stage.name, plan, work, done, bar, task)
        finally:
            if work is not None:
                work.close()
        self.tally(stage.name, items, started)
        self.fold(stage)
        if self.ranks.sharded or attempted:
            done = stage.load_done()
        self.timings[f"{stage.name}_s"] = round(time.perf_counter() - started, 3)
        return {key: done[key] for key in stage.grid if key in done}
