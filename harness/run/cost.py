"""Throughput and cost of a run, from the `stage` events every invocation logs.

Each invocation logs one event per stage with the items its processes computed, the stage's wall time
and the process-seconds spent; a resumed run adds its own, so the cost covers all the work the run
directory holds (work of a process killed mid-stage is not counted: it logged no event).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from harness.run.schema import RunCost, StageCost

STAGES = ("generate", "caption", "score")


class Prices(BaseModel):
    """Prices in US dollars; any left unset adds nothing, and a run with none set has no usd figures."""

    generator_per_image_usd: float | None = Field(default=None, ge=0)
    judge_per_call_usd: float | None = Field(default=None, ge=0)
    device_hour_usd: float | None = Field(default=None, ge=0)

    def any(self) -> bool:
        return any(v is not None for v in self.model_dump().values())

    def per_item(self, stage: str) -> float | None:
        return {"generate": self.generator_per_image_usd, "caption": self.judge_per_call_usd}.get(stage)


@dataclass(frozen=True)
class StageTally:
    """One process's share of one stage in one invocation."""

    items: int
    calls: int
    seconds: float
    device: str

    @staticmethod
    def combine(tallies: list[StageTally]) -> dict[str, Any]:
        """The event the main process logs for the stage: wall time is the slowest process's."""
        devices = sorted({t.device for t in tallies})
        label = devices[0] if len(devices) == 1 else ",".join(devices)
        if len(tallies) > 1:
            label = f"{len(tallies)} x {label}"
        return {
            "items": sum(t.items for t in tallies),
            "calls": sum(t.calls for t in tallies),
            "seconds": round(max(t.seconds for t in tallies), 3),
            "device_seconds": round(sum(t.seconds for t in tallies), 3),
            "device": label,
            "processes": len(tallies),
        }


def run_cost(events: Iterable[dict[str, Any]], prices: Prices) -> RunCost:
    """Sum the stage events of every invocation into per-stage throughput and priced cost."""
    items: dict[str, int] = {}
    calls: dict[str, int] = {}
    seconds: dict[str, float] = {}
    device_seconds: dict[str, float] = {}
    device: dict[str, str] = {}
    for event in events:
        if event.get("event") != "stage" or event.get("stage") not in STAGES:
            continue
        stage = event["stage"]
        items[stage] = items.get(stage, 0) + int(event.get("items", 0))
        calls[stage] = calls.get(stage, 0) + int(event.get("calls", 0))
        seconds[stage] = seconds.get(stage, 0.0) + float(event.get("seconds", 0.0))
        device_seconds[stage] = device_seconds.get(stage, 0.0) + float(event.get("device_seconds", 0.0))
        if int(event.get("items", 0)) or stage not in device:
            device[stage] = str(event.get("device", "unknown"))
    per_stage: dict[str, StageCost] = {}
    for stage in (s for s in STAGES if s in items):
        usd = None
        if prices.any():
            usd = (prices.per_item(stage) or 0.0) * calls[stage]
            usd += (prices.device_hour_usd or 0.0) * device_seconds[stage] / 3600
        per_stage[stage] = StageCost(
            items=items[stage],
            seconds=round(seconds[stage], 3),
            items_per_s=round(items[stage] / seconds[stage], 4) if seconds[stage] > 0 else 0.0,
            device=device[stage],
            usd=round(usd, 6) if usd is not None else None,
        )
    total = None
    if prices.any():
        total = round(sum(s.usd or 0.0 for s in per_stage.values()), 6)
    return RunCost(
        total_usd=total, device_seconds=round(sum(device_seconds.values()), 3), per_stage=per_stage
    )
