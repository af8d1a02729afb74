"""`make bench`: the stack on its own ports, data at growing sizes, wrk per endpoint, one table."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from .. import BACKEND, LOCAL_DIR, aws, cognito
from ..errors import KitError
from ..local import moto as motolib
from ..local import postgres as pglocal
from ..local import stack as local_stack
from ..output import log
from . import profile, quiet
from .stack import Gunicorn, app_env
from .wrk import Result, ensure_tool, measure, measure_against

DATABASE = "cruddur_bench"
TABLE = "cruddur-messages-bench"
CREATED_MESSAGE = "bench crud"
HOME_UNCACHED = "home (cache off)"  # HOME_FEED_CACHE_SECONDS=0: every request reads PostgreSQL
PROFILE_UNCACHED = "profile (count cache off)"  # PROFILE_COUNT_CACHE_SECONDS=0: every request counts the cruds
SEARCH_UNCACHED = "search (cache off)"  # SEARCH_CACHE_SECONDS=0: every request searches PostgreSQL
UNCACHED = (HOME_UNCACHED, PROFILE_UNCACHED, SEARCH_UNCACHED)  # served by a second server with the caches off
SIGNED_IN = " (signed in)"  # rows that send a valid access token from the local Cognito (andrewbrown's)
HOME_SIGNED_IN = "home" + SIGNED_IN
# Every row, in the order measured; `--only` picks some of them.
ROWS = (
    "home",
    HOME_SIGNED_IN,
    HOME_UNCACHED,
    "profile",
    PROFILE_UNCACHED,
    "show",
    "search",
    SEARCH_UNCACHED,
    "notifications" + SIGNED_IN,
    "create activity" + SIGNED_IN,
    "reply" + SIGNED_IN,
    "message groups" + SIGNED_IN,
    "messages" + SIGNED_IN,
)
WRITES = ("create activity" + SIGNED_IN, "reply" + SIGNED_IN)  # their cruds are deleted after the row
# Each row's target share of the ceiling (home: issue 7; the rest: issue 16). These rows are measured run by
# run alternately with the ceiling, so their share is a same-minute ratio. The message rows have no target:
# they measure the DynamoDB emulator (see render).
SHARE_TARGETS = {
    "home": 0.40,
    HOME_SIGNED_IN: 0.40,
    HOME_UNCACHED: 0.20,
    "profile": 0.20,
    "show": 0.20,
    "search": 0.20,
    "notifications" + SIGNED_IN: 0.20,
    "create activity" + SIGNED_IN: 0.10,
    "reply" + SIGNED_IN: 0.10,
}
P99_GROWTH = 1.5  # every row: p99 at the largest size <= 1.5x p99 at the smallest
REPLY_PARENTS = 100  # the reply row spreads its replies over this many cruds (one hot row would serialise them)
HEALTH_CHECK_FLAGS = "-I -S"  # as backend-flask/Dockerfile's HEALTHCHECK and the task definition's healthCheck


@dataclass
class Options:
    sizes: list[int]
    # Five short runs, not three longer ones: on shared cores a run in three is disturbed (a ceiling run at
    # half its speed, a p99 doubled), and a median of three is then one run from the outlier.
    seconds: float = 4.0
    runs: int = 5
    warmup: int = 1  # whole seconds (as wrk takes them) of one uncounted run before each row (wrk.warm_up)
    idle_wait: float = quiet.LIMIT_SECONDS  # at most this long after each load for an idle machine (quiet.wait)
    connections: int = 32
    threads: int = 2
    timeout: float = 10.0
    output: Path | None = None
    work_dir: Path = LOCAL_DIR  # postgres-bench/ (the data) and bench/ (logs) go here
    region: str | None = None  # the emulator's (default: the environment's)
    only: tuple[str, ...] = ROWS  # a subset of ROWS; with fewer, cold start and the health check are skipped
    profile: Path | None = None  # cProfile the served workers during each row, into this folder (bench/profile.py)


@dataclass
class Report:
    options: Options
    ceiling: Result | None = None
    rows: dict = field(default_factory=dict)  # (endpoint, size) -> Result
    shares: dict = field(default_factory=dict)  # (endpoint, size) -> req/s over the ceiling, paired runs
    ceilings: dict = field(default_factory=dict)  # size -> the ceiling measured beside that size's home rows
    cold_starts: list = field(default_factory=list)
    health_check_ms: float | None = None
    generated: dict = field(default_factory=dict)  # size -> seconds to load
    quiet_waits: dict = field(default_factory=dict)  # size -> seconds waited after the load for an idle machine


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1]) // 1024 // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return f"{os.cpu_count()} vCPU ({cpu}), {mem} GiB RAM, {platform.system()} {platform.release()}"


def endpoints(database_url: str, base: str, token: str, group: str) -> dict[str, dict]:
    """What each row requests; the show/profile targets are the most active bench user's."""
    with psycopg.connect(database_url) as conn:
        # bench1 is the generator's most active user; at small sizes it may have no top-level crud yet.
        found = conn.execute(
            "SELECT u.handle, a.uuid FROM activities a JOIN users u ON u.uuid = a.user_uuid "
            "WHERE u.handle LIKE 'bench%' AND a.reply_to_activity_uuid IS NULL AND a.expires_at > now() "
            "ORDER BY u.handle = 'bench1' DESC, a.created_at DESC LIMIT 1"
        ).fetchone()
        parents = [
            row[0]
            for row in conn.execute(
                "SELECT uuid FROM activities WHERE reply_to_activity_uuid IS NULL AND expires_at > now() "
                "ORDER BY created_at DESC LIMIT %s",
                (REPLY_PARENTS,),
            )
        ]
    if found is None:
        raise KitError("no generated top-level activity to measure profile and show with: use larger --sizes")
    handle, activity = found
    auth = {"Authorization": f"Bearer {token}"}
    crud = json.dumps({"message": CREATED_MESSAGE, "ttl": "1-hour"})
    return {
        "home": {"url": f"{base}/api/activities/home"},
        HOME_SIGNED_IN: {"url": f"{base}/api/activities/home", "headers": auth},
        "profile": {"url": f"{base}/api/activities/@{handle}"},
        "show": {"url": f"{base}/api/activities/@{handle}/status/{activity}"},
        "search": {"url": f"{base}/api/activities/search?term=fargate"},
        "notifications" + SIGNED_IN: {"url": f"{base}/api/activities/notifications", "headers": auth},
        "create activity" + SIGNED_IN: {
            "url": f"{base}/api/activities",
            "method": "POST",
            "headers": auth,
            "body": crud,
        },
        "reply" + SIGNED_IN: {
            "url": f"{base}/api/activities/{parents[0]}/reply",
            "method": "POST",
            "headers": auth,
            "body": json.dumps({"message": CREATED_MESSAGE}),
            "paths": [f"/api/activities/{p}/reply" for p in parents],
        },
        "message groups" + SIGNED_IN: {"url": f"{base}/api/message_groups", "headers": auth},
        "messages" + SIGNED_IN: {"url": f"{base}/api/messages/{group}", "headers": auth},
    }


def health_check_ms(url: str, runs: int = 30) -> float:
    """Median wall time of backend-flask/bin/health-check against the running API (hyperfine).

    Run as the container's HEALTHCHECK and the task definition run it (`python -I -S`), by the real
    interpreter: a version-manager shim on PATH (pyenv) would add its own start-up to every run."""
    hyperfine = ensure_tool("hyperfine")
    python = os.path.realpath(sys.executable)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        subprocess.run(
            [
                hyperfine,
                "-N",
                "--warmup",
                "3",
                "--runs",
                str(runs),
                "--export-json",
                path,
                f"{python} {HEALTH_CHECK_FLAGS} {BACKEND / 'bin' / 'health-check'}",
            ],
            env={**os.environ, "HEALTH_CHECK_URL": f"{url}/api/health-check"},
            check=True,
            capture_output=True,
            timeout=120,
        )
        return json.loads(Path(path).read_text())["results"][0]["median"] * 1000
    finally:
        os.unlink(path)


def run(options: Options) -> Report:
    report = Report(options)
    ensure_tool("wrk")
    work = options.work_dir / "bench"
    work.mkdir(parents=True, exist_ok=True)
    pg = pglocal.LocalServer(data_dir=options.work_dir / "postgres-bench", port=motolib.free_port())
    moto = motolib.MotoServer(port=motolib.free_port(), log_path=work / "moto.log")
    servers: list[Gunicorn] = []
    try:
        pg.start()
        log(f"bench: postgres on 127.0.0.1:{pg.port} (data in {pg.data_dir})")
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DATABASE}")
        database_url = pglocal.with_database(pg.url, DATABASE)
        moto.start()
        os.environ.update(local_stack.emulator_env(moto.endpoint, options.region))  # boto3 here: this emulator only
        log(f"bench: aws emulator on {moto.endpoint}")
        provisioned = local_stack.provision(database_url, TABLE, lambda m: log(f"bench: {m}"))
        idp = aws.Clients()("cognito-idp")
        token = _token(idp, provisioned.pool, database_url)

        def start(app: str | None = None, **extra_env: str) -> Gunicorn:
            port = motolib.free_port()
            server = Gunicorn(
                env=app_env(
                    database_url=database_url,
                    endpoint=moto.endpoint,
                    pool=provisioned.pool,
                    table=TABLE,
                    port=port,
                    **extra_env,
                ),
                port=port,
                app=app,
                log_path=work / "gunicorn.log",
            )
            servers.append(server)
            return server.start()

        wrk_options = {
            "seconds": options.seconds,
            "connections": options.connections,
            "threads": options.threads,
            "timeout": options.timeout,
        }
        warmup = {"warmup": options.warmup}
        ceiling = start("cruddur_kit.bench.ceiling:app")  # kept running: measured again beside every home row
        report.ceiling = measure(ceiling.url + "/", runs=options.runs, **wrk_options)
        log(f"bench: ceiling {report.ceiling.rps:,.0f} req/s")

        everything = set(options.only) == set(ROWS)
        if everything:  # a subset run (--only) is for comparing rows: these figures are the full run's
            for _ in range(3):  # cold start: process start -> first 200 from the health check
                report.cold_starts.append(start().cold_start)
                servers.pop().stop()  # the cold-start server, not the ceiling
        served = "cruddur_kit.bench.profile:app" if options.profile else None  # wsgi:app under cProfile
        api = start(served)
        # The same server with the caches off: home and profile are reported both ways, so nobody is misled.
        uncached = (
            start(served, HOME_FEED_CACHE_SECONDS="0", PROFILE_COUNT_CACHE_SECONDS="0", SEARCH_CACHE_SECONDS="0")
            if set(UNCACHED) & set(options.only)
            else None
        )
        if everything:
            report.health_check_ms = health_check_ms(api.url)
            log(
                f"bench: cold start {statistics.median(report.cold_starts):.2f}s, "
                f"health-check script {report.health_check_ms:.0f} ms"
            )

        group = _conversation(api.url, token) if "messages" + SIGNED_IN in options.only else ""
        loaded = 0
        for size in sorted(options.sizes):
            log(f"bench: loading {size - loaded:,} activities (to {size:,}) ...")
            from cruddur import manage

            report.generated[size] = manage.generate(database_url, size - loaded, 1000) + _settle(database_url)
            report.quiet_waits[size] = quiet.wait(options.idle_wait)
            loaded = size
            token = _token(idp, provisioned.pool, database_url)  # a fresh one: a 1M run outlasts an hour
            targets = endpoints(database_url, api.url, token, group)
            if uncached:
                targets[HOME_UNCACHED] = {"url": f"{uncached.url}/api/activities/home"}
                for row, cached in ((PROFILE_UNCACHED, "profile"), (SEARCH_UNCACHED, "search")):
                    targets[row] = {"url": targets[cached]["url"].replace(api.url, uncached.url, 1)}
            for name in (row for row in ROWS if row in options.only):
                spec = dict(targets[name])
                url = spec.pop("url")
                if options.profile:  # a fresh folder per row: each breakdown is that row's alone
                    folder = options.profile / f"{size}-{name.replace(' ', '-').replace('(', '').replace(')', '')}"
                    folder.mkdir(parents=True, exist_ok=True)
                    for server in (api, uncached):
                        if server:
                            server.env[profile.PROFILE_DIR] = str(folder)
                            server.stop()
                            server.start()
                    measured = uncached if name in UNCACHED else api
                    postmaster = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
                    parents = {"worker": measured.process.pid, "postgres": postmaster}
                    cpu_before = {part: profile.cpu_seconds(profile.children(pid)) for part, pid in parents.items()}
                if name in SHARE_TARGETS:
                    result, beside, share = measure_against(
                        url, ceiling.url + "/", runs=options.runs, **warmup, **wrk_options, **spec
                    )
                    report.rows[(name, size)], report.shares[(name, size)] = result, share
                    report.ceilings.setdefault(size, beside)
                else:
                    report.rows[(name, size)] = result = measure(
                        url, runs=options.runs, **warmup, **wrk_options, **spec
                    )
                log(
                    f"bench: {size:>9,} {name:<28} {result.rps:8,.0f} req/s  p50 {result.p50_ms:7.1f} ms  "
                    f"p99 {result.p99_ms:7.1f} ms  errors {result.errors}"
                    + (f"  {report.shares[(name, size)]:.0%} of the ceiling" if name in SHARE_TARGETS else "")
                )
                if options.profile:
                    cpu = {
                        part: profile.cpu_since(cpu_before[part], pid) / result.requests * 1e6
                        for part, pid in parents.items()
                    }
                    log(
                        f"bench: CPU per request: gunicorn workers {cpu['worker']:.0f} µs, "
                        f"PostgreSQL {cpu['postgres']:.0f} µs (under cProfile: the workers' figure is inflated)"
                    )
                    for server in (api, uncached):
                        if server:
                            server.stop()  # not a figure: the workers may dump once more on their way out
                    log("bench: " + profile.render(folder))
                if name in WRITES:
                    _forget_created(database_url)
    finally:
        for server in servers:
            server.stop()
        moto.stop()
        pg.stop()
    return report


def _settle(database_url: str) -> float:
    """VACUUM (ANALYZE) after a bulk load, timed: every size is measured in the steady state (hint bits
    set, visibility map built, statistics fresh) instead of paying for the load's aftermath in its first
    rows, or meeting autovacuum, which a million inserts wake, in the middle of a later row. The
    CHECKPOINT writes the load's dirty pages now, not while the first endpoint after a load is measured."""
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        # The signed-in user is mentioned in 1% of the cruds (the "fargate" ones): the notifications row
        # then reads a list that grows with the data (10,000 notifications at 1M), as a popular user's does.
        conn.execute(
            "INSERT INTO notifications (user_uuid, activity_uuid, kind, created_at) "
            "SELECT (SELECT uuid FROM users WHERE handle = 'andrewbrown'), a.uuid, 'mention', a.created_at "
            "FROM activities a WHERE a.message LIKE '%on fargate' ON CONFLICT DO NOTHING"
        )
        conn.execute("VACUUM (ANALYZE) notifications")
        conn.execute("VACUUM (ANALYZE) activities")
        conn.execute("VACUUM (ANALYZE) users")
        conn.execute("CHECKPOINT")
    return time.monotonic() - started


def _forget_created(database_url: str) -> None:
    """Delete the cruds the create row posted: thousands of identical newest rows would otherwise change
    the data every later row reads (search walks newest-first past them), not just its size."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM activities WHERE message = %s", (CREATED_MESSAGE,))
        conn.execute("VACUUM ANALYZE activities")


def _token(idp, pool, database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        email = conn.execute("SELECT email FROM users WHERE handle = 'andrewbrown'").fetchone()[0]
    return cognito.access_token(idp, pool, email)


def _conversation(base: str, token: str) -> str:
    """A conversation andrewbrown -> bayko with a few messages, for the message rows."""

    def post(body):
        request = urllib.request.Request(
            f"{base}/api/messages",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.load(r)

    group = post({"message": "bench conversation", "handle": "bayko"})["message_group_uuid"]
    for i in range(30):
        post({"message": f"bench message {i}", "message_group_uuid": group})
    return group


def _fmt_ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def render(report: Report, argv: str) -> str:
    o = report.options
    sizes = sorted(o.sizes)
    ceiling = report.ceiling
    lines = [
        "# make bench — results",
        "",
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; command: `{argv}`",
        f"- machine: {_machine()}; wrk, gunicorn, PostgreSQL and the emulator share it",
        f"- load: wrk -t{o.threads} -c{o.connections} -d{o.seconds:g}s --timeout {o.timeout:g}s, median of "
        f"{o.runs} runs (errors: sum over the runs, timeouts and non-2xx included)",
        "- server: backend-flask/gunicorn.conf.py as shipped (gthread, workers from the CPU count, 8 threads), "
        "the app's JSON request log on (gunicorn's own access log off), tracing off (no collector configured), "
        "embedded PostgreSQL 15, moto for DynamoDB/Cognito; the caches and checks at their defaults "
        "(AUTH_TOKEN_CACHE_SIZE=4096 verified tokens, DB_CHECK_QUIETLY=true: journal/2026-11-29-real-traffic.md)",
        "- home: the production default, HOME_FEED_CACHE_SECONDS=1 (first pages cached per process for 1 s); "
        f"`{HOME_UNCACHED}`: the same server with HOME_FEED_CACHE_SECONDS=0",
        "- profile: the production default, PROFILE_COUNT_CACHE_SECONDS=1 (the profile's cruds_count remembered "
        f"per process for 1 s; the page itself is read every time); `{PROFILE_UNCACHED}`: the same server with "
        "PROFILE_COUNT_CACHE_SECONDS=0 (the profile's user, bench1, has 0.1% of the cruds: 1,000 to count at 1M)",
        "- search: the production default, SEARCH_CACHE_SECONDS=1 (first pages per term cached per process for "
        f"1 s); `{SEARCH_UNCACHED}`: the same server with SEARCH_CACHE_SECONDS=0 (the term, fargate, is in 1% of "
        "the cruds)",
        f"- signed in: the rows marked `{SIGNED_IN.strip()}` send `Authorization: Bearer <token>`, an access token "
        "of the demo user andrewbrown from the local Cognito (as the frontend sends on every call); the others "
        "send none. andrewbrown is mentioned in 1% of the generated cruds (the notifications row's list); the "
        f"reply row replies to the {REPLY_PARENTS} newest cruds in turn",
        "- of ceiling: rows with a target are measured run by run alternately with the ceiling (median of the "
        "paired ratios); the others are divided by the ceiling measured beside that size's first row",
        "- message groups, messages: DynamoDB here is the local emulator (moto, one DynamoDB request at a time, "
        "on the same cores), so these rows show the emulator's ceiling, not DynamoDB's or the API's",
        "",
        "| endpoint | activities | req/s | p50 ms | p99 ms | errors | of ceiling |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    if ceiling:
        lines.append(
            f"| ceiling (constant JSON, 20 activities), at start | – | {ceiling.rps:,.0f} "
            f"| {_fmt_ms(ceiling.p50_ms)} | {_fmt_ms(ceiling.p99_ms)} | {ceiling.errors} | 100% |"
        )
    for size in sizes:
        c = report.ceilings.get(size)
        if c:
            lines.append(
                f"| ceiling, alternating with the rows | {size:,} | {c.rps:,.0f} | {_fmt_ms(c.p50_ms)} "
                f"| {_fmt_ms(c.p99_ms)} | {c.errors} | 100% |"
            )
    names = list(dict.fromkeys(name for name, _ in report.rows))
    for name in names:
        for size in sizes:
            r = report.rows.get((name, size))
            if r:
                base = report.ceilings.get(size) or ceiling
                share = report.shares.get((name, size))
                share = f"{share:.0%}" if share is not None else (f"{r.rps / base.rps:.0%}" if base else "–")
                lines.append(
                    f"| {name} | {size:,} | {r.rps:,.0f} | {_fmt_ms(r.p50_ms)} | {_fmt_ms(r.p99_ms)} "
                    f"| {r.errors} | {share} |"
                )
    lines += ["", "| figure | value | target | met |", "|---|---|---|---|"]
    if report.cold_starts:
        cold = statistics.median(report.cold_starts)
        lines.append(
            f"| cold start (spawn → first 200 from /api/health-check), median of "
            f"{len(report.cold_starts)} | {cold:.2f} s | ≤ 2 s | {'yes' if cold <= 2 else 'NO'} |"
        )
    if report.health_check_ms is not None:
        lines.append(
            f"| bin/health-check run time (hyperfine median of 30) | {report.health_check_ms:.0f} ms "
            f"| ≤ 150 ms | {'yes' if report.health_check_ms <= 150 else 'NO'} |"
        )
    for name, target in SHARE_TARGETS.items():
        for size in sizes:
            if (name, size) in report.shares:
                share = report.shares[(name, size)]
                met = "yes" if share >= target else "NO"
                lines.append(
                    f"| {name} req/s as a share of the ceiling at {size:,} (median of {o.runs} runs paired "
                    f"with a ceiling run) | {share:.0%} | ≥ {target:.0%} | {met} |"
                )
    for name in ROWS:
        small, large = report.rows.get((name, sizes[0])), report.rows.get((name, sizes[-1]))
        if small and large and len(sizes) > 1:
            ratio = large.p99_ms / small.p99_ms
            lines.append(
                f"| {name} p99 at {sizes[-1]:,} / at {sizes[0]:,} | {ratio:.2f}× | ≤ {P99_GROWTH:g}× "
                f"| {'yes' if ratio <= P99_GROWTH else 'NO'} |"
            )
    errors = sum(r.errors for r in report.rows.values())
    lines.append(f"| errors over every row | {errors} | 0 | {'yes' if errors == 0 else 'NO'} |")
    if report.generated:
        lines += [
            "",
            "Data load (cruddur.manage.generate, incremental, then VACUUM ANALYZE): "
            + ", ".join(f"to {size:,} in {seconds:.0f} s" for size, seconds in sorted(report.generated.items()))
            + "; then waited for an idle machine ("
            + ", ".join(f"{seconds:.1f} s at {size:,}" for size, seconds in sorted(report.quiet_waits.items()))
            + f"; {quiet.rule(o.idle_wait)}), and "
            + (f"each row began with a {o.warmup} s wrk run not counted" if o.warmup else "no warm-up run"),
        ]
    return "\n".join(lines) + "\n"
