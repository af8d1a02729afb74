"""Where a served request spends its time: cProfile inside the gunicorn workers while wrk drives them.

`bin/dev/bench --profile DIR` serves `cruddur_kit.bench.profile:app` instead of `wsgi:app`: the same app
under the same gunicorn config, each request run under its thread's own cProfile (cProfile follows one
thread). Every thread writes its statistics to DIR/<pid>-<thread>.prof every `DUMP_EVERY` requests, between
two requests. `breakdown` reads them and splits the time inside the WSGI call into the parts a request is
made of; what gunicorn itself does (parse, write, the event loop) is outside it: the ceiling pays that too.
cProfile's own cost per call makes call-heavy parts look bigger: read the shares, not the milliseconds.

`python -m cruddur_kit.bench.profile DIR` prints the breakdown of a folder.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import threading
import time
from pathlib import Path

PROFILE_DIR = "CRUDDUR_BENCH_PROFILE_DIR"
DUMP_EVERY = 50

# (part, [(file suffix, function name)]): the cumulative time of these functions. They overlap where one calls
# another: the user lookup includes its own pool checkout, query and row shaping, which those parts also count.
PARTS = (
    ("token verification", [("cruddur/auth.py", "verify")]),
    ("user lookup (checkout + query)", [("cruddur/stores/users.py", "by_cognito_user_id")]),
    ("pool checkout + return", [("psycopg_pool/pool.py", "getconn"), ("psycopg_pool/pool.py", "putconn")]),
    (
        "query (execute + fetch)",
        # cursor.execute: conn.execute and conn.cursor().execute both end there (counting both would count twice)
        [("psycopg/cursor.py", "execute"), ("psycopg/cursor.py", "fetchall"), ("psycopg/cursor.py", "fetchone")],
    ),
    ("row shaping", [("psycopg/rows.py", "dict_row_"), ("cruddur/stores/keyset.py", "split")]),
    ("JSON encoding", [("cruddur/__init__.py", "encode")]),
    ("request log line", [("cruddur/telemetry/logs.py", "_access_log")]),
)
WSGI = ("flask/app.py", "__call__")  # the whole request inside the WSGI call
VIEW = ("cruddur/contract.py", "wrapper")  # the view with its auth, body and page parsing


def _make_app():
    from wsgi import app as api  # backend-flask/wsgi.py: on the path under gunicorn --chdir

    folder = os.environ.get(PROFILE_DIR)  # unset: profiled, never written (the bench names one per row)
    local = threading.local()

    def app(environ, start_response):
        profiler = getattr(local, "profiler", None)
        if profiler is None:
            # CPU time of this thread, not wall time: a thread waiting for PostgreSQL or the GIL costs nothing.
            profiler = local.profiler = cProfile.Profile(time.thread_time)
            local.count = 0
        profiler.enable()
        try:
            return api(environ, start_response)
        finally:
            profiler.disable()
            local.count += 1
            if folder and local.count % DUMP_EVERY == 0:
                profiler.dump_stats(Path(folder) / f"{os.getpid()}-{threading.get_ident()}.prof")

    return app


def __getattr__(name: str):
    if name == "app":  # built on first use, in the worker: importing this module elsewhere builds nothing
        built = globals()["app"] = _make_app()
        return built
    raise AttributeError(name)


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(child) for child in out.stdout.split()]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """{pid: user + system CPU seconds used so far} (a process that has exited is left out)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (proc(5))
    return used


def cpu_since(before: dict[int, float], parent: int) -> float:
    """CPU seconds `parent`'s children used since `before` (children started since count from zero:
    the pool opens PostgreSQL connections, i.e. new backends, as the load grows)."""
    return sum(now - before.get(pid, 0.0) for pid, now in cpu_seconds(children(parent)).items())


def _cumulative(stats: pstats.Stats, targets: list[tuple[str, str]]) -> float:
    total = 0.0
    for (path, _line, function), (_cc, _nc, _tt, ct, callers) in stats.stats.items():
        if any(path.endswith(suffix) and function == name for suffix, name in targets):
            # Only the outermost calls: a recursive or nested call's time is inside its caller's already.
            if not any(c[0].endswith(s) and c[2] == n for c in callers for s, n in targets):
                total += ct
    return total


def breakdown(folder: Path) -> list[tuple[str, float]]:
    """[(part, share of the time inside the WSGI call)] over every .prof in `folder`."""
    files = sorted(folder.glob("*.prof"))
    if not files:
        return []
    stats = pstats.Stats(*map(str, files))
    whole = _cumulative(stats, [WSGI])
    if not whole:
        return []
    parts = [(name, _cumulative(stats, targets) / whole) for name, targets in PARTS]
    view = _cumulative(stats, [VIEW]) / whole
    parts.append(
        (
            "framework (Flask, werkzeug, CORS, hooks: outside the view and the log line)",
            1 - view - dict(parts)["request log line"],
        )
    )
    return parts


def render(folder: Path) -> str:
    parts = breakdown(folder)
    if not parts:
        return f"{folder}: no profile written (fewer than {DUMP_EVERY} requests per thread?)"
    return f"{folder.name}: " + ", ".join(f"{name} {share:.0%}" for name, share in parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cruddur_kit.bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders of .prof files, from bin/dev/bench --profile")
    for folder in parser.parse_args(argv).folders:
        print(render(folder))


if __name__ == "__main__":
    main()
