"""Fault injection for `ImageServer`, kept out of the production server: a handler subclass that answers
some requests with an HTTP error, a dropped connection or a delay before the real answer."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from harness.generators.image_server import ImageHandler


class FaultPlan:
    """prompt text (or "*") -> actions of its successive requests: "500", "429", "drop", "slow:S", "ok"."""

    def __init__(self, plan: dict[str, list[str]]) -> None:
        self.plan = plan
        self.counts: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def next_action(self, prompt: str) -> str:
        with self.lock:
            index = self.counts[prompt]
            self.counts[prompt] += 1
        actions = self.plan.get(prompt, self.plan.get("*", []))
        return actions[index] if index < len(actions) else "ok"


def faulty_handler(plan: FaultPlan) -> type[ImageHandler]:
    class FaultyImageHandler(ImageHandler):
        def answer(self, settings: dict[str, Any]) -> None:
            action = plan.next_action(settings["prompt"])
            if action.isdigit():
                self.server_ref.count("faults")
                self._send_error(int(action), "injected fault", "server_error")
                return
            if action == "drop":
                self.server_ref.count("faults")
                self._drop()
                return
            if action.startswith("slow:"):
                time.sleep(float(action[5:]))
            super().answer(settings)

    return FaultyImageHandler
