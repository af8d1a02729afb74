"""bin/db/*: run as processes against a real PostgreSQL, each test on its own database."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import uuid

import psycopg
import pytest

from cruddur_kit import REPO_ROOT
from cruddur_kit.local.postgres import with_database

SCRIPTS = ("setup", "create", "drop", "migrate", "seed", "connect", "sessions", "kill-all", "generate")


def run(script: str, *args: str, url: str | None, env: dict | None = None, timeout: int = 60):
    environ = {k: v for k, v in os.environ.items() if k != "CONNECTION_URL"}
    if url is not None:
        environ["CONNECTION_URL"] = url
    environ.update(env or {})
    return subprocess.run(
        [str(REPO_ROOT / "bin" / "db" / script), *args], env=environ, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def db_url(pg_server_url):
    """A URL for a database that does not exist yet; dropped afterwards whatever the test did."""
    name = f"cruddur_s_{uuid.uuid4().hex[:12]}"
    yield with_database(pg_server_url, name)
    with psycopg.connect(with_database(pg_server_url, "postgres"), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


def scalar(url: str, sql: str):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def database_exists(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    return scalar(with_database(url, "postgres"), f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == 1


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_names_a_missing_connection_url(script):
    result = run(script, url=None)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: CONNECTION_URL is not set: export CONNECTION_URL=")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_help(script):
    result = run(script, "--help", url=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: bin/db/{script}")


def test_setup_creates_migrates_and_seeds_then_changes_nothing(db_url):
    first = run("setup", url=db_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[:2] == ["created", "database"]
    assert "created      migrations" in first.stdout and "0001_initial" in first.stdout
    assert scalar(db_url, "SELECT count(*) FROM users WHERE handle IN ('andrewbrown','altbrown','bayko','londo')") == 4
    activities = scalar(db_url, "SELECT count(*) FROM activities")
    assert activities > 0

    second = run("setup", url=db_url)
    assert second.returncode == 0, second.stderr
    assert [line.split()[0] for line in second.stdout.splitlines()] == ["unchanged"] * 3
    assert scalar(db_url, "SELECT count(*) FROM activities") == activities


def test_create_then_drop_are_idempotent(db_url):
    assert run("create", url=db_url).stdout.split()[0] == "created"
    assert database_exists(db_url)
    assert run("create", url=db_url).stdout.split()[0] == "unchanged"
    dropped = run("drop", url=db_url)
    assert dropped.returncode == 0, dropped.stderr
    assert dropped.stdout.split()[0] == "deleted"
    assert not database_exists(db_url)
    again = run("drop", url=db_url)
    assert again.returncode == 0 and again.stdout.split()[0] == "absent"


def test_migrate_and_seed_call_the_manage_module_and_are_idempotent(db_url):
    run("create", url=db_url)
    first = run("migrate", url=db_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[:3] == ["created", "migration", "0001_initial"]
    assert run("migrate", url=db_url).stdout.split()[0] == "unchanged"
    assert run("seed", url=db_url).returncode == 0
    counts = scalar(db_url, "SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM activities)")
    assert run("seed", url=db_url).returncode == 0
    assert scalar(db_url, "SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM activities)") == counts


def test_generate_adds_bench_rows(db_url):
    run("setup", url=db_url)
    result = run("generate", "--activities", "500", "--users", "7", url=db_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("generated 500 activities for 7 users in ")
    assert scalar(db_url, "SELECT count(*) FROM users WHERE handle LIKE 'bench%'") == 7
    assert (
        scalar(
            db_url,
            "SELECT count(*) FROM activities a JOIN users u ON u.uuid = a.user_uuid WHERE u.handle LIKE 'bench%'",
        )
        == 500
    )


def test_sessions_lists_and_kill_all_ends_other_sessions_and_drop_refuses_while_in_use(db_url):
    run("create", url=db_url)
    holder = psycopg.connect(db_url, autocommit=True, application_name="test-holder")
    try:
        listed = run("sessions", url=db_url)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.splitlines()[0].split()[:3] == ["pid", "user", "application"]
        assert [line.split()[2] for line in listed.stdout.splitlines()[1:]] == ["test-holder"]
        assert str(holder.info.backend_pid) in listed.stdout

        refused = run("drop", url=db_url)
        assert refused.returncode == 1
        assert "1 other session(s) use database" in refused.stderr and "bin/db/kill-all" in refused.stderr
        assert database_exists(db_url)

        killed = run("kill-all", url=db_url)
        assert killed.returncode == 0, killed.stderr
        assert killed.stdout.split() == ["terminated", "session", str(holder.info.backend_pid)]
        with pytest.raises(psycopg.OperationalError):
            holder.execute("SELECT 1")
        assert "unchanged" in run("kill-all", url=db_url).stderr
        assert run("sessions", url=db_url).stdout.splitlines()[1:] == []
    finally:
        holder.close()
    assert run("drop", url=db_url).stdout.split()[0] == "deleted"


def test_drop_force_ends_sessions_itself(db_url):
    run("create", url=db_url)
    with psycopg.connect(db_url, autocommit=True):
        result = run("drop", "--force", url=db_url)
    assert result.returncode == 0, result.stderr
    assert not database_exists(db_url)


def test_drop_refuses_a_remote_server_without_yes():
    # 192.0.2.1 is TEST-NET-1: the refusal happens before any connection is attempted.
    result = run("drop", url="postgresql://postgres@192.0.2.1:5432/cruddur")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: database cruddur on 192.0.2.1:5432 is not on this machine: pass --yes to drop it anyway"
    )


def test_drop_refuses_the_maintenance_database(pg_server_url):
    result = run("drop", url=with_database(pg_server_url, "postgres"))
    assert result.returncode == 1 and "refusing to drop the maintenance database postgres" in result.stderr


def test_unreachable_server_is_one_line_and_never_shows_the_password():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("migrate", url=f"postgresql://cruddur:Sup3rSecret@127.0.0.1:{port}/cruddur")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach database cruddur on 127.0.0.1:{port}: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Sup3rSecret" not in result.stderr + result.stdout


def test_dev_provision_names_an_unreachable_database_in_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "CONNECTION_URL": f"postgresql://cruddur:Sup3rSecret@127.0.0.1:{port}/cruddur",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [str(REPO_ROOT / "bin" / "dev" / "provision")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach database cruddur on 127.0.0.1:{port}: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Sup3rSecret" not in result.stderr + result.stdout


def test_connect_runs_psql_on_the_database(db_url):
    run("create", url=db_url)
    result = run("connect", "-Atc", "select current_database()", url=db_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == db_url.rsplit("/", 1)[1]


def test_connect_passes_the_password_in_the_environment_not_argv(tmp_path):
    fake = tmp_path / "psql"
    fake.write_text('#!/bin/sh\necho "argv: $*"\necho "PGPASSWORD=${PGPASSWORD:-unset}"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    result = run(
        "connect",
        "-c",
        "select 1",
        url="postgresql://cruddur:Sup3rSecret@127.0.0.1:5432/cruddur",
        env={"PATH": f"{tmp_path}:{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr
    argv, password = result.stdout.splitlines()
    assert "Sup3rSecret" not in argv and "dbname=cruddur" in argv and argv.endswith("-c select 1")
    assert password == "PGPASSWORD=Sup3rSecret"
