"""The emulator's clock: AWS's timeline (task start-up, bake times, deregistration delays) run faster.

ECS counts in minutes; tests and rehearsals cannot wait that long. `CRUDDUR_EMULATOR_MINUTE_SECONDS` says how
many real seconds one emulated minute lasts (default 1.0: 60x faster than AWS, so a 10-minute canary bake
takes 10 s). In "manual" mode the clock stands still and moves only when told to
(`POST /moto-api/cruddur/clock`), which makes every intermediate state of a rollout reproducible.

`now()` is in scaled seconds since the epoch; timestamps the API returns are built from it, so they are
wall-clock instants in real mode (the clock never runs ahead of the wall by itself).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

MINUTE_SECONDS_ENV = "CRUDDUR_EMULATOR_MINUTE_SECONDS"
CLOCK_MODE_ENV = "CRUDDUR_EMULATOR_CLOCK"
DEFAULT_MINUTE_SECONDS = 1.0


class Clock:
    def __init__(self, minute_seconds: float = DEFAULT_MINUTE_SECONDS, mode: str = "real"):
        self._lock = threading.Lock()
        self.default_minute_seconds = minute_seconds
        self.default_mode = mode
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.minute_seconds = self.default_minute_seconds
            self.mode = self.default_mode
            self._offset = 0.0
            self._frozen = time.time()

    def now(self) -> float:
        with self._lock:
            return self._frozen if self.mode == "manual" else time.time() + self._offset

    def span(self, emulated_seconds: float) -> float:
        """How long `emulated_seconds` of AWS time lasts on this clock."""
        return emulated_seconds * self.minute_seconds / 60.0

    def emulated(self, span: float) -> float:
        """The inverse of span(): clock seconds back to AWS seconds."""
        return span * 60.0 / self.minute_seconds

    def advance(self, emulated_seconds: float) -> None:
        with self._lock:
            step = emulated_seconds * self.minute_seconds / 60.0
            if self.mode == "manual":
                self._frozen += step
            else:
                self._offset += step

    def configure(self, mode: str | None = None, minute_seconds: float | None = None) -> None:
        with self._lock:
            current = self._frozen if self.mode == "manual" else time.time() + self._offset
            if minute_seconds is not None:
                self.minute_seconds = minute_seconds
            if mode == "manual":
                self._frozen = current
            elif mode == "real" and self.mode == "manual":
                self._offset = current - time.time()
            if mode:
                self.mode = mode

    def from_wall(self, wall: float) -> float:
        """A wall-clock instant (another service's timestamp) on this clock; never later than now()."""
        now = self.now()
        return now if self.mode == "manual" else min(now, wall + self._offset)

    def describe(self) -> dict:
        return {"mode": self.mode, "minuteSeconds": self.minute_seconds, "now": self.now()}

    def load_env(self, environ) -> None:
        """Take the defaults from the server's environment; a bad value stops start-up with one line."""
        raw = environ.get(MINUTE_SECONDS_ENV, "")
        minute = DEFAULT_MINUTE_SECONDS
        if raw:
            try:
                minute = float(raw)
            except ValueError:
                raise SystemExit(
                    f"{MINUTE_SECONDS_ENV}={raw!r} is not a number: set it to the real seconds one "
                    "emulated minute lasts (e.g. 1.0)"
                ) from None
            if minute <= 0:
                raise SystemExit(
                    f"{MINUTE_SECONDS_ENV}={raw!r} must be above 0 (to stop time, set {CLOCK_MODE_ENV}=manual)"
                )
        mode = environ.get(CLOCK_MODE_ENV) or "real"
        if mode not in ("real", "manual"):
            raise SystemExit(f"{CLOCK_MODE_ENV}={mode!r} must be 'real' or 'manual'")
        self.default_minute_seconds, self.default_mode = minute, mode
        self.reset()


def timestamp(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


CLOCK = Clock()
