"""CPU threads for torch: `--threads N`, else PUNC_THREADS, else the CPU quota this process may use.

torch defaults to one thread per physical core of the machine, which oversubscribes a container
limited to a few CPUs (cgroup quota) or a process pinned to some cores: every thread then waits for
a time slice and a run gets slower than with fewer threads.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from harness.errors import PuncError

THREADS_ENV = "PUNC_THREADS"
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _cgroup_quota(root: Path) -> float | None:
    """CPUs allowed by the cgroup: v2 `cpu.max` ("QUOTA PERIOD" or "max PERIOD") or v1 cfs files."""
    try:
        quota, _, period = (root / "cpu.max").read_text().strip().partition(" ")
        if quota != "max":
            return int(quota) / int(period or 100000)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def cpu_quota(cgroup_root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may use: cores it is pinned to, capped by a cgroup quota, at least 1."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    quota = _cgroup_quota(cgroup_root)
    if quota is not None:
        available = min(available, max(1, math.ceil(quota)))
    return max(1, available)


def resolve_threads(requested: int | None, cgroup_root: Path = CGROUP_ROOT) -> tuple[int, str]:
    """(threads, where the number came from): the option, then the environment, then the quota."""
    if requested is not None:
        return requested, "--threads"
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise PuncError(f"{THREADS_ENV}={raw!r}: expected a whole number of threads >= 1")
        return value, THREADS_ENV
    return cpu_quota(cgroup_root), "CPU quota"


def apply_threads(threads: int) -> None:
    """Set torch's intra-op threads (inter-op threads can only be set before torch runs anything)."""
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # already started: keep torch's own choice
        pass
