"""Split each stage's fixed batches across the processes accelerate started; fold their logs into one run.

Every process computes the same batch plan over the whole work grid (batches never depend on the
number of processes) and takes every N-th batch. A process writes only its own shard logs
(`shards/<log>.rank<R>.jsonl`); between stages the main process folds the shards into the run's logs
in grid order, so the run directory is the one a single process would have written, and a run started
with N processes resumes with any M: leftover shards of a killed run are folded in before a stage plans.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from harness.run.jsonl import JsonlAppender, read_jsonl

T = TypeVar("T")
SHARDS_DIR = "shards"
# a stage can take hours; processes wait for the slowest one at stage ends
BARRIER_TIMEOUT = timedelta(hours=24)


def launched_world_size() -> int:
    """Processes in this launch, from the variables torchrun/accelerate (or MPI) set; 1 when run plainly."""
    for name in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


@dataclass
class Ranks:
    """This process's place among the processes of one evaluation."""

    index: int = 0
    count: int = 1
    local_index: int = 0
    local_count: int = 1
    device: str | None = None
    state: Any = field(default=None, repr=False)

    @property
    def is_main(self) -> bool:
        return self.index == 0

    @property
    def sharded(self) -> bool:
        return self.count > 1

    @property
    def shard_name(self) -> str | None:
        return f"rank{self.index}" if self.sharded else None

    def mine(self, batches: Sequence[T]) -> list[T]:
        """Every N-th batch, starting at this rank: balanced and independent of batch contents."""
        return list(batches[self.index :: self.count])

    def barrier(self) -> None:
        if self.state is not None:
            self.state.wait_for_everyone()

    def close(self) -> None:
        """Leave the process group cleanly (torch warns about a group never destroyed)."""
        if self.state is None:
            return  # one plain process: never imports torch (a cached re-run needs none of it)
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()

    def gather(self, value: Any) -> list[Any]:
        """Every process's value, in rank order (on every process)."""
        if self.state is None:
            return [value]
        from accelerate.utils import gather_object

        return gather_object([value])


def join_processes(device: str | None) -> Ranks:
    """Join the process group accelerate launched (one device per process); a plain run is one rank."""
    if launched_world_size() <= 1:
        return Ranks(device=device)
    import torch
    from accelerate import PartialState

    end_with_launcher()
    on_cpu = device == "cpu" or (device is None and not torch.cuda.is_available())
    state = PartialState(cpu=on_cpu, timeout=BARRIER_TIMEOUT)
    if device is None or device == "cuda" or on_cpu:
        device = "cpu" if on_cpu else str(state.device)
    return Ranks(
        index=state.process_index,
        count=state.num_processes,
        local_index=state.local_process_index,
        local_count=int(os.environ.get("LOCAL_WORLD_SIZE", state.num_processes)),
        device=device,
        state=state,
    )


def device_label(device: str | None) -> str:
    """The device a process computes on, as results name it (`auto` resolved the way generators do)."""
    from harness.devices import pick_device

    return pick_device(device)


def end_with_launcher() -> None:
    """Let the kernel kill this process when its launcher dies.

    torchrun starts every process in a session of its own, so killing the launcher (`punc eval
    --num-processes`, `accelerate launch`) would otherwise leave the processes running on, unwatched.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def shard_path(root: Path, log: Path, shard: str) -> Path:
    return root / SHARDS_DIR / f"{log.stem}.{shard}.jsonl"


def fold_shards(
    root: Path,
    log: Path,
    identity: Callable[[dict[str, Any]], Hashable] | None = None,
    position: Callable[[dict[str, Any]], Any] | None = None,
) -> int:
    """Append every shard record of `log` not already in it, sorted by `position`, then delete the shards.

    Safe to repeat after a kill at any point: records already folded are recognised by `identity` and
    skipped, and shards are deleted only after the log is fsynced. Returns the records appended.
    """
    shards = sorted((root / SHARDS_DIR).glob(f"{log.stem}.*.jsonl"))
    if not shards:
        return 0
    present = {identity(r) for r in read_jsonl(log)} if identity else set()
    pending: list[dict[str, Any]] = []
    for shard in shards:
        for record in read_jsonl(shard):
            if identity is not None:
                k = identity(record)
                if k in present:
                    continue
                present.add(k)
            pending.append(record)
    if position is not None:
        pending.sort(key=position)  # stable: records of unknown position keep their shard order
    if pending:
        with JsonlAppender(log) as appender:
            appender.extend(pending)
    for shard in shards:
        shard.unlink()
    try:
        (root / SHARDS_DIR).rmdir()  # only when empty: a run directory like a one-process run's
    except OSError:
        pass
    return len(pending)


def grid_position(
    keys: Iterable[Hashable], key_of: Callable[[dict[str, Any]], Hashable]
) -> Callable[[dict[str, Any]], int]:
    """Sort key for records: their item's place in the work grid (records of other items go last)."""
    order = {k: i for i, k in enumerate(keys)}
    last = len(order)
    return lambda record: order.get(key_of(record), last)


def split_threads(local_count: int) -> int:
    """CPU threads for one of `local_count` processes on this machine: the usable cores, split evenly."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, usable // max(1, local_count))
