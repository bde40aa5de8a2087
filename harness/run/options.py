"""What one evaluation is asked to do: the task, generator, judge, run directory and knobs of `punc eval`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.config.judge import JudgeConfig
from harness.config.task import LoadedTask
from harness.run.cost import Prices

SCORE_BATCH = 256


@dataclass
class EvalOptions:
    task: LoadedTask
    generator: str
    judge: JudgeConfig
    out_dir: Path
    limit: int | None = None
    device: str | None = None
    dtype: str | None = None
    batch_size: int | None = None
    rescore: bool = False
    model_name: str | None = None
    progress: bool = True
    score_batch_size: int = SCORE_BATCH
    prices: Prices | None = None
    overlap: bool | None = None  # caption while generating; None: for remote judges (run/overlap.py)
