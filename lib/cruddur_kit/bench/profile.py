"""Where a served request spends its time: py-spy attached to a gunicorn worker while wrk drives it.

`record` samples one worker (`--gil`: only the thread holding the GIL, i.e. Python CPU, not threads waiting
on a socket or PostgreSQL) into py-spy's collapsed-stack text; `breakdown` sorts the samples into the parts
a request is made of. `python -m cruddur_kit.bench.profile FILE...` prints the breakdown of recorded files.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ..errors import KitError

# A sample belongs to the first part, walking from the innermost frame outwards, whose pattern its frame
# matches; the user lookup claims the whole call (its pool checkout and query included), found anywhere on
# the stack. Patterns match py-spy's frame text: "function (path/to/file.py:line)".
WHOLE_CALLS = (("user lookup", ("by_cognito_user_id",)),)
PARTS = (
    ("token verification", ("/jwt/", "cryptography", "cruddur/auth.py")),
    ("pool checkout", ("psycopg_pool/",)),
    ("row shaping", ("psycopg/rows.py", "psycopg/types/", "_psycopg/", "cruddur/stores/keyset.py")),
    ("query", ("psycopg/",)),
    ("JSON encoding", ("json/encoder.py", "json/__init__.py", "flask/json/", "cruddur/pagination.py")),
    ("logging", ("cruddur/telemetry/logs.py", "logging/")),
    ("framework", ("flask/", "werkzeug/", "flask_cors/", "pydantic")),
    ("our code", ("cruddur/",)),
    ("gunicorn", ("gunicorn", "selectors.py", "socket.py", "threading.py", "concurrent/")),
)


def pids_of_workers(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """Start sampling `pid` for `seconds` into `out` (collapsed stacks); wait() on the result."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise KitError("py-spy is missing: run `make venv` (it is pinned in requirements-dev.txt)")
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                             "--rate", "250", "--gil", "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def part_of(stack: str) -> str:
    frames = stack.split(";")
    for name, patterns in WHOLE_CALLS:
        if any(p in frame for frame in frames for p in patterns):
            return name
    for frame in reversed(frames):
        for name, patterns in PARTS:
            if any(p in frame for p in patterns):
                return name
    return "other"


def breakdown(path: Path) -> tuple[Counter, int]:
    """(samples per part, all samples) of one collapsed-stack file."""
    parts: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            parts[part_of(stack)] += int(count)
    return parts, sum(parts.values())


def render(path: Path) -> str:
    parts, total = breakdown(path)
    if not total:
        return f"{path.name}: no samples"
    return f"{path.name} ({total} samples): " + ", ".join(
        f"{name} {count / total:.0%}" for name, count in parts.most_common())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cruddur_kit.bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="py-spy raw (collapsed) output, e.g. from --profile")
    for path in parser.parse_args(argv).files:
        print(render(path))


if __name__ == "__main__":
    main()
