"""wrk, the HTTP load generator, as a separate process: one JSON line per run from a Lua `done` hook."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass

from ..errors import KitError
from ..output import log

DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"timeouts":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout, e.timeout))
end
"""


def ensure_tool(name: str) -> str:
    """The tool's path; installs the Debian package when it is missing (and says so)."""
    found = shutil.which(name)
    if found:
        return found
    log(f"bench: {name} is missing: installing the Debian package (apt-get install -y {name})")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in ([*sudo, "apt-get", "update", "-qq"], [*sudo, "apt-get", "install", "-y", "-qq", name]):
        if subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600).returncode != 0:
            raise KitError(f"could not install {name}: run `apt-get install -y {name}` and try again")
    found = shutil.which(name)
    if not found:
        raise KitError(f"{name} installed but not on PATH")
    return found


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect/read/write errors, non-2xx/3xx answers and timeouts, over all runs
    requests: int


def run_once(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    timeout: float,
    method: str = "GET",
    body: str | None = None,
    headers: dict | None = None,
    paths: list[str] | None = None,
) -> dict:
    """One wrk run; `paths` (on `url`'s host) are requested in turn instead of `url`'s own path."""
    script = DONE
    if paths:
        script = (
            f"local paths = {{{', '.join(json.dumps(p) for p in paths)}}}\nlocal n = 0\n"
            "request = function()\n  n = n + 1\n  return wrk.format(nil, paths[(n % #paths) + 1])\nend\n" + script
        )
    if method != "GET":
        script = f"wrk.method = {json.dumps(method)}\n" + script
    if body is not None:
        script = f"wrk.body = {json.dumps(body)}\nwrk.headers['Content-Type'] = 'application/json'\n" + script
    for key, value in (headers or {}).items():  # in the script, not on wrk's command line: a token is a secret
        script = f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}\n" + script
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:  # mode 0600: only we read it
        f.write(script)
    argv = [
        ensure_tool("wrk"),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={timeout:g}s",
        "-s",
        f.name,
    ]
    try:
        out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + timeout + 30)
    finally:
        os.unlink(f.name)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise KitError(f"wrk failed on {url}: {out.stderr.strip() or out.stdout.strip()}")
    return json.loads(lines[-1])


def _rps(sample: dict) -> float:
    return sample["requests"] / (sample["duration_us"] / 1e6)


def summarise(samples: list[dict]) -> Result:
    return Result(
        rps=statistics.median(_rps(s) for s in samples),
        p50_ms=statistics.median(s["p50_us"] for s in samples) / 1000,
        p99_ms=statistics.median(s["p99_us"] for s in samples) / 1000,
        errors=sum(s["errors"] for s in samples),
        requests=sum(s["requests"] for s in samples),
    )


def warm_up(url: str, *, warmup: int, **options) -> None:
    """One run nobody counts: the first requests to an endpoint pay for what later ones find ready (pool
    connections, caches, the database pages the new data put on disk)."""
    if warmup > 0:
        run_once(url, **{**options, "seconds": warmup})


def measure(url: str, *, runs: int, warmup: int = 0, **options) -> Result:
    """The medians of `runs` short runs, after a warm-up run of `warmup` seconds."""
    warm_up(url, warmup=warmup, **options)
    return summarise([run_once(url, **options) for _ in range(runs)])


def measure_against(
    url: str, ceiling_url: str, *, runs: int, warmup: int = 0, **options
) -> tuple[Result, Result, float]:
    """`url` and the ceiling measured alternately, run by run: (url's result, the ceiling's, the median of
    the per-pair req/s ratios). The machine's speed drifts over minutes (shared cores, a neighbour's load);
    a ratio of two figures taken seconds apart is stable where a ceiling measured once is not."""
    warm_up(url, warmup=warmup, **options)
    pairs = [(run_once(ceiling_url, **options), run_once(url, **options)) for _ in range(runs)]
    ratio = statistics.median(_rps(mine) / _rps(ceiling) for ceiling, mine in pairs)
    return summarise([m for _, m in pairs]), summarise([c for c, _ in pairs]), ratio
