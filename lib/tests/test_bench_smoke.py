"""`bin/dev/bench` end to end at a tiny size: its own stack, wrk, the ceiling, the table printed and written.

This checks that the machinery works and that no request failed under its load; the figures themselves
are measured by `make bench` on a quiet machine (journal/2026-11-24-bench.md), never asserted here."""

from __future__ import annotations

import re
import subprocess

from cruddur_kit import REPO_ROOT
from cruddur_kit.bench.run import ROWS, SHARE_TARGETS

ENDPOINTS = set(ROWS)


def test_bench_prints_and_writes_one_table_with_every_endpoint_and_no_failed_request(tmp_path):
    out = tmp_path / "bench.md"
    result = subprocess.run(
        [
            str(REPO_ROOT / "bin" / "dev" / "bench"),
            "--sizes",
            "200,400",
            "--seconds",
            "1",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--idle-wait",
            "2",
            "--output",
            str(out),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = out.read_text()
    assert table in result.stdout  # printed and written: the same table
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.splitlines()
        if re.match(r"\| [a-z]", line)
    ]
    measured = {(r[0], r[1]): r for r in rows if r[0] in ENDPOINTS}
    assert set(measured) == {(name, size) for name in ENDPOINTS for size in ("200", "400")}
    assert {r[5] for r in measured.values()} == {"0"}, measured  # errors: none in any row
    assert all(float(r[2].replace(",", "")) > 0 for r in measured.values())
    figures = {r[0]: r for r in rows if len(r) == 4}
    assert {"cold start", "bin/health-check run time"} <= {name.split(" (")[0] for name in figures}
    for name in SHARE_TARGETS:  # every target's share at both sizes, every row's p99 growth
        for size in ("200", "400"):
            assert any(f.startswith(f"{name} req/s as a share of the ceiling at {size} ") for f in figures), name
    assert {f"{name} p99 at 400 / at 200" for name in ROWS} <= set(figures)
    assert figures["errors over every row"][1:] == ["0", "0", "yes"]


def test_only_measures_the_rows_named_and_refuses_an_unknown_one(tmp_path):
    out = tmp_path / "bench.md"
    argv = [
        str(REPO_ROOT / "bin" / "dev" / "bench"),
        "--sizes",
        "200",
        "--seconds",
        "1",
        "--runs",
        "1",
        "--warmup",
        "1",
        "--idle-wait",
        "2",
        "--output",
        str(out),
        "--work-dir",
        str(tmp_path / "work"),
    ]
    wrong = subprocess.run([*argv, "--only", "home,homme"], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert wrong.returncode != 0 and "unknown row 'homme'" in wrong.stderr
    result = subprocess.run(  # with a warm-up run before each row (the full run above has none: CI time)
        [*argv, "--only", "home (signed in),reply (signed in)"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in out.read_text().splitlines()
        if re.match(r"\| [a-z]", line)
    ]
    assert {r[0] for r in rows if len(r) == 7 and r[0] in ROWS} == {"home (signed in)", "reply (signed in)"}
