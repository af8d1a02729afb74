"""bench/quiet.py: what counts as a busy CPU, read from /proc/stat's first line."""

from __future__ import annotations

import os
import subprocess
import sys

from cruddur_kit.bench import quiet

STAT = "cpu  {user} 0 {system} {idle} {iowait} 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"


def test_idle_and_iowait_are_not_busy(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text(STAT.format(user=100, system=50, idle=800, iowait=50))
    before = quiet.cpu_times(stat)
    assert before == (150, 1000)
    stat.write_text(STAT.format(user=110, system=50, idle=880, iowait=60))
    assert quiet.busy_share(before, quiet.cpu_times(stat)) == 10 / 100


def test_a_busy_machine_is_waited_for_no_longer_than_the_limit():
    """A spinning process per CPU keeps the machine busy while it waits: the wait gives up at the limit."""
    spin = "import time\nend = time.monotonic() + 2\nwhile time.monotonic() < end: pass"
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(os.cpu_count() or 1)]
    try:
        waited = quiet.wait(limit=1.0)
    finally:
        for spinner in spinners:
            spinner.wait()
    assert 1.0 <= waited < 1.0 + 2 * quiet.SAMPLE_SECONDS
