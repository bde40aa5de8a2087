"""`punc eval --num-processes N`: start N copies of the evaluation through `accelerate launch`.

The copies find each other through torch.distributed (accelerate's PartialState) and split each
stage's batches (harness/run/sharding.py). One device each on GPUs; on CPU they split the cores.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator

from harness.errors import PuncError
from harness.run.sharding import split_threads


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accelerate_command(processes: int, threads_per_process: int, harness_args: list[str]) -> list[str]:
    """`accelerate launch` of `python -m harness ARGS` on this machine.

    `--multi_gpu` selects accelerate's torchrun launcher, which also starts CPU processes (its `--cpu`
    mode starts several only through MPI); each process then joins on gloo or NCCL.
    """
    return [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_machines", "1", "--num_processes", str(processes),
        "--num_cpu_threads_per_process", str(threads_per_process),
        "--main_process_port", str(free_port()),
        "--mixed_precision", "no", "--dynamo_backend", "no",
        "-m", "harness", *harness_args,
    ]  # fmt: skip


def run_processes(processes: int, harness_args: list[str], out_dir: str) -> None:
    """Run the evaluation in `processes` processes and wait; a failure says how to resume."""
    command = accelerate_command(processes, split_threads(processes), harness_args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        with subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, text=True, errors="replace"
        ) as launcher:
            assert launcher.stderr is not None
            for line in without_launcher_report(launcher.stderr):
                sys.stderr.write(line)
        code = launcher.returncode
    except KeyboardInterrupt:
        raise  # the command reports what was kept (exit 130)
    if code != 0:
        raise PuncError(
            f"a process of the {processes}-process evaluation failed; finished work is kept in "
            f"{out_dir}: run the same command, with any --num-processes, to resume"
        )


def without_launcher_report(lines: Iterable[str]) -> Iterator[str]:
    """The processes' own messages; not torchrun's log lines nor the launcher's traceback and report.

    When a process fails, the launcher logs through torch.distributed.elastic and raises
    ChildFailedError with a traceback of its own frames; the process already said what went wrong.
    A traceback is held until its end, then passed on unless it is the launcher's.
    """
    held: list[str] = []
    launcher_failed = False
    for line in lines:
        if launcher_failed:
            continue  # read to the end, so the launcher never blocks on a full pipe
        if held:
            held.append(line)
            if line[:1].strip():  # the exception line ends the traceback
                if any("accelerate/commands/launch.py" in h or "torch/distributed/run.py" in h for h in held):
                    launcher_failed = True  # the launcher's: its failure report follows
                    held = []
                    continue
                yield from held
                held = []
            continue
        if line.startswith("Traceback (most recent call last)"):
            held = [line]
        elif not _ELASTIC_LOG.match(line):
            yield line
    yield from held


_ELASTIC_LOG = re.compile(r"^[DIWEF]\d{4} [\d:.]+ \d+ .*torch/distributed/")
