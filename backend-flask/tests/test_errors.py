"""Errors are JSON with stable codes: never HTML, never a stack trace, 503 fast when the database is down."""

import time

import pytest

from cruddur import create_app
from cruddur.config import ConfigError, Settings


def test_unknown_route_is_json_404(client):
    r = client.get("/api/nope")
    assert r.status_code == 404 and r.is_json and r.get_json() == {"error": "not_found"}


def test_wrong_method_is_json_405_with_allow(client):
    r = client.delete("/api/activities/home")
    assert r.status_code == 405 and r.get_json() == {"error": "method_not_allowed"}
    assert "GET" in r.headers["Allow"]


def test_unexpected_error_is_500_with_an_id_and_no_details(app, client):
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    r = client.get("/api/boom")
    assert r.status_code == 500
    body = r.get_json()
    assert body["error"] == "internal_error" and len(body["error_id"]) >= 16
    assert "hunter2" not in r.get_data(as_text=True) and "Traceback" not in r.get_data(as_text=True)


@pytest.fixture
def dead_db_app(settings):
    # a port nothing listens on: every connection attempt is refused
    app = create_app(settings.with_overrides(connection_url="postgresql://postgres@127.0.0.1:9/cruddur"))
    yield app
    app.extensions["db_pool"].close(timeout=0)


@pytest.mark.parametrize(
    "path",
    [
        "/api/activities/home",
        "/api/activities/search?term=x",
        "/api/activities/@andrewbrown",
        "/api/users/@londo/short",
    ],
)
def test_database_down_is_503_json_within_2s(dead_db_app, path):
    client = dead_db_app.test_client()
    started = time.monotonic()
    r = client.get(path)
    elapsed = time.monotonic() - started
    assert r.status_code == 503 and r.get_json() == {"error": "database_unavailable"}
    assert r.headers["Retry-After"] == "2"
    assert elapsed < 2.5  # the pool's wait timeout (2 s) bounds it; the margin is for a loaded CI machine


def test_liveness_stays_up_and_readiness_reports_the_database(dead_db_app, client):
    dead = dead_db_app.test_client()
    assert dead.get("/api/health-check").status_code == 200
    r = dead.get("/api/ready")
    assert r.status_code == 503 and r.get_json()["ready"] is False
    ok = client.get("/api/ready")
    assert ok.status_code == 200 and ok.get_json() == {"ready": True, "checks": {"database": "ok"}}


def test_statement_timeout_is_503_not_a_hang(settings):
    app = create_app(settings.with_overrides(db_statement_timeout_ms=200))

    @app.get("/api/slow")
    def slow():
        from cruddur import db

        with db.connection() as conn:
            conn.execute("SELECT pg_sleep(5)")
        return {}

    try:
        started = time.monotonic()
        r = app.test_client().get("/api/slow")
        assert r.status_code == 503 and time.monotonic() - started < 2
    finally:
        app.extensions["db_pool"].close()


@pytest.mark.parametrize(
    "missing", ["CONNECTION_URL", "AWS_COGNITO_USER_POOL_ID", "AWS_COGNITO_USER_POOL_CLIENT_ID", "AWS_DEFAULT_REGION"]
)
def test_missing_required_setting_names_it(missing):
    env = {
        "CONNECTION_URL": "postgresql://x@127.0.0.1/db",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)


def test_wsgi_start_up_fails_in_one_line_naming_the_setting(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    backend = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECTION_URL", "AWS_COGNITO"))}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=backend, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "backend-flask: missing required setting CONNECTION_URL: set it in the environment"
    ]


def test_a_lost_database_is_retried_every_second_not_ever_more_rarely(app):
    """psycopg_pool doubles its reconnect delay without bound; the app keeps it at ~1 s, so a worker is back
    within about a second of the database, however long the outage was."""
    from psycopg_pool.base import AttemptWithBackoff

    attempt = AttemptWithBackoff(timeout=3600)
    delays = []
    for _ in range(8):
        attempt.update_delay(now=0.0)
        delays.append(attempt.delay)
    assert max(delays) < 1.2
