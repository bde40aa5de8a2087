"""`punc eval --num-processes N`: start N copies of the evaluation through `accelerate launch`.

The copies find each other through torch.distributed (accelerate's PartialState) and split each
stage's batches (harness/run/sharding.py). One device each on GPUs; on CPU they split the cores.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

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
        code = subprocess.run(command, env=env, check=False).returncode
    except KeyboardInterrupt:
        raise PuncError(
            f"interrupted: finished work is kept in {out_dir}; run the same command to resume"
        ) from None
    if code != 0:
        raise PuncError(
            f"a process of the {processes}-process evaluation failed (exit code {code}); finished work is "
            f"kept in {out_dir}: run the same command, with any --num-processes, to resume"
        )
