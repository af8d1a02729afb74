"""Waiting for an idle machine before measuring: a bulk load leaves work behind it (the kernel writing dirty
pages, PostgreSQL's background writer and autovacuum launcher catching up) that would otherwise land in the
first rows measured after it, as a p99 twice the others'."""

from __future__ import annotations

import os
import time
from pathlib import Path

IDLE = 0.10  # at most this share of every CPU busy ...
SAMPLE_SECONDS = 0.5
SAMPLES = 4  # ... over this many samples in a row (2 s)
LIMIT_SECONDS = 60.0


def rule(limit: float) -> str:
    return f"≤ {IDLE:.0%} CPU busy for {SAMPLES * SAMPLE_SECONDS:g} s in a row, at most {limit:g} s"


def cpu_times(stat: Path = Path("/proc/stat")) -> tuple[int, int]:
    """(busy, total) jiffies over every CPU since boot. Idle and iowait are not busy."""
    fields = [int(v) for v in stat.read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total > 0 else 0.0


def wait(limit: float = LIMIT_SECONDS) -> float:
    """Write dirty pages now, then wait until the CPUs are idle (rule()); the seconds waited. Gives up at
    `limit` (a busy neighbour is not ours to wait out): the table says how long each wait took."""
    started = time.monotonic()
    os.sync()
    quiet, before = 0, cpu_times()
    while quiet < SAMPLES and time.monotonic() - started < limit:
        time.sleep(SAMPLE_SECONDS)
        after = cpu_times()
        quiet = quiet + 1 if busy_share(before, after) <= IDLE else 0
        before = after
    return time.monotonic() - started
