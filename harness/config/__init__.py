"""Declarative inputs (prompt sets, tasks, judges), validated with pydantic; errors name file, line and field."""

from harness.config.judge import DecodingConfig, JudgeConfig, load_judge
from harness.config.prompts import PromptRecord, load_prompt_file, load_prompts
from harness.config.task import DatasetSource, ScorerSpec, TaskConfig, load_task

__all__ = [
    "DatasetSource",
    "DecodingConfig",
    "JudgeConfig",
    "PromptRecord",
    "ScorerSpec",
    "TaskConfig",
    "load_judge",
    "load_prompt_file",
    "load_prompts",
    "load_task",
]
