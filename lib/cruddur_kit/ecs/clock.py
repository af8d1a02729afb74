"""One deadline per command: every wait in it shares the same bound."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Deadline:
    seconds: float | None  # None: no bound (only for waits the user ends, e.g. logs --follow)
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        if self.seconds is None:
            return float("inf")
        return max(0.0, self.started + self.seconds - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def sleep(self, interval: float) -> None:
        time.sleep(max(0.0, min(interval, self.remaining())))
