"""bin/dev/bench (`make bench`): measure the API under load and write journal/bench-results.md."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from ... import LOCAL_DIR, REPO_ROOT
from ...bench import run as bench
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(
    region="AWS region of the bench's own emulator (env AWS_DEFAULT_REGION, then AWS_REGION).", endpoint=False
)  # it runs an emulator of its own
@click.option(
    "--sizes",
    default="10000,100000,1000000",
    show_default=True,
    help="activity counts to measure at, loaded incrementally (comma-separated)",
)
@click.option("--seconds", default=bench.Options.seconds, show_default=True, help="length of one wrk run")
@click.option("--runs", default=bench.Options.runs, show_default=True, help="wrk runs per row (the median is reported)")
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=bench.Options.warmup,
    show_default=True,
    help="whole seconds of one uncounted wrk run before each row (0: none)",
)
@click.option(
    "--idle-wait",
    default=bench.Options.idle_wait,
    show_default=True,
    help="at most this many seconds after each data load waiting for an idle machine before measuring",
)
@click.option(
    "--connections",
    default=bench.Options.connections,
    show_default=True,
    help="wrk connections (more than workers x threads, against keep-alive stickiness)",
)
@click.option(
    "--only",
    default=",".join(bench.ROWS),
    show_default=True,
    help="the rows to measure (comma-separated names; the ceiling is always measured). With fewer than "
    "all, cold start and the health-check script are skipped: for short comparisons",
)
@click.option(
    "--profile",
    type=click.Path(file_okay=False, path_type=Path),
    help="serve the API under cProfile in its gunicorn workers; each row's statistics and a "
    "breakdown go to this folder (python -m cruddur_kit.bench.profile DIR reads one)",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=REPO_ROOT / "journal" / "bench-results.md",
    show_default=True,
    help="where the table is written (also printed on stdout)",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=LOCAL_DIR,
    show_default=True,
    help="where the bench keeps its PostgreSQL data and its servers' logs",
)
def command(kit: Kit, sizes, seconds, runs, warmup, idle_wait, connections, only, profile, output, work_dir):
    """Start PostgreSQL, the AWS emulator and gunicorn on free ports of their own (nothing of `make up`'s is
    touched), load benchmark data, drive each endpoint with wrk from a separate process and print one
    table: req/s, p50, p99 and errors per endpoint and size, the constant-JSON ceiling, cold start and the
    health-check script's run time. Installs wrk and hyperfine with apt-get when they are missing."""
    rows = tuple(name.strip() for name in only.split(",") if name.strip())
    unknown = [name for name in rows if name not in bench.ROWS]
    if unknown or not rows:
        raise KitError(
            f"--only: unknown row {unknown[0] if unknown else '(none given)'!r}: choose from {', '.join(bench.ROWS)}"
        )
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    options = bench.Options(
        sizes=[int(s.replace("_", "")) for s in sizes.split(",") if s.strip()],
        seconds=seconds,
        runs=runs,
        warmup=warmup,
        idle_wait=idle_wait,
        connections=connections,
        output=output,
        only=rows,
        profile=profile,
        work_dir=work_dir,
        region=kit.region,
    )
    report = bench.run(options)
    text = bench.render(report, "make bench" if len(sys.argv) <= 3 else "bin/dev/bench " + shlex.join(sys.argv[3:]))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    click.echo(text)
    log(f"bench: table written to {output}")
