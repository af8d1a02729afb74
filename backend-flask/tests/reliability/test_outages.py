"""Dependency outages under load, on servers this module owns so it can stop them:
- PostgreSQL stopped: requests get 503 JSON within 2 s, liveness stays 200, readiness says 503, and the
  service recovers without a restart within 5 s of the database returning;
- the DynamoDB emulator stopped: message routes get 503 JSON while activity routes keep working.
"""

from __future__ import annotations

import json
import shutil
import time

import boto3
import psycopg
import pytest
from botocore.config import Config
from reliability_load import Load, request

from cruddur import manage
from cruddur.config import Settings
from cruddur_kit import LOCAL_DIR
from cruddur_kit.local import moto as motolib
from cruddur_kit.local import postgres as pglocal
from cruddur_kit.local.provision import link_demo_users


@pytest.fixture(scope="module")
def own_postgres():
    """An embedded PostgreSQL of our own (data under .local/: the server runs as an unprivileged user)."""
    data_dir = LOCAL_DIR / "postgres-outage"
    server = pglocal.LocalServer(data_dir=data_dir, port=motolib.free_port())
    if (data_dir / "postmaster.pid").exists():  # a previous run was killed: start clean
        server.stop()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def outage_db(own_postgres, cognito_pool, aws_env):
    url = pglocal.with_database(own_postgres.url, "cruddur_outage")
    with psycopg.connect(own_postgres.url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS cruddur_outage WITH (FORCE)")
        conn.execute("CREATE DATABASE cruddur_outage")
    manage.migrate(url)
    manage.seed(url)
    idp = boto3.client(
        "cognito-idp", region_name=aws_env["AWS_DEFAULT_REGION"], config=Config(retries={"max_attempts": 1})
    )
    link_demo_users(url, idp, cognito_pool)
    return url


def _json_503(o) -> bool:
    return o.status == 503 and isinstance(json.loads(o.body), dict)


def test_database_outage_is_503_json_fast_and_recovers_without_restart(
    start_api, tmp_path, own_postgres, outage_db, aws_env, cognito_pool, tokens
):
    api = start_api(tmp_path, outage_db, aws_env, cognito_pool)
    try:
        headers = {"Authorization": f"Bearer {tokens['bayko']}"}

        def traffic(worker, n):
            if worker == 0:
                return request(
                    api.port, "POST", "/api/activities", {"message": f"outage {n}", "ttl": "1-hour"}, headers, timeout=5
                )
            return request(api.port, "GET", "/api/activities/home", timeout=5)

        load = Load(traffic, workers=8, seconds=40, max_requests=4000).start()
        time.sleep(1.0)
        own_postgres.stop()
        down_at = time.monotonic()
        time.sleep(4.0 + Settings.home_feed_cache_seconds)  # the window below starts that much later
        liveness = request(api.port, "GET", "/api/health-check")
        readiness = request(api.port, "GET", "/api/ready")
        restart_at = time.monotonic()
        own_postgres.start()  # returns once it accepts connections: "the database is back"
        up_at = time.monotonic()
        recovered_at = None
        while time.monotonic() < up_at + 10:
            if request(api.port, "GET", "/api/activities/home", timeout=5).status == 200:
                recovered_at = time.monotonic()
                break
            time.sleep(0.05)
        time.sleep(1.0)
        outcomes = load.stop()

        # The stop itself takes a moment, and the home feed's first page may be served from the API's
        # cache for HOME_FEED_CACHE_SECONDS after it (a 200 no older than that, which is fine).
        settled = down_at + 0.5 + Settings.home_feed_cache_seconds
        during = [o for o in outcomes if settled < o.started and o.started + o.seconds < restart_at]
        assert len(during) > 10
        assert all(_json_503(o) for o in during), {(o.status, o.body[:80]) for o in during if not _json_503(o)}
        assert max(o.seconds for o in during) < 2.0
        assert all(o.status in (200, 503) for o in outcomes), {o.status for o in outcomes}
        assert liveness.status == 200
        assert readiness.status == 503 and json.loads(readiness.body)["ready"] is False
        assert recovered_at is not None and recovered_at - up_at < 5.0, "no recovery within 5 s"
        assert request(api.port, "GET", "/api/ready").status == 200
        assert api.process.poll() is None  # the same process: recovered without a restart
    finally:
        api.stop()


@pytest.fixture
def own_moto(tmp_path):
    server = motolib.MotoServer(port=motolib.free_port(), log_path=tmp_path / "moto.log").start()
    yield server
    server.stop()


def test_dynamodb_outage_is_503_json_on_message_routes_while_activities_work(
    start_api, tmp_path, own_moto, database_url, aws_env, cognito_pool, tokens
):
    # DynamoDB on our own emulator (stopped below); Cognito's keys still from the shared one.
    jwks = f"{aws_env['AWS_ENDPOINT_URL']}/{cognito_pool.pool_id}/.well-known/jwks.json"
    api = start_api(
        tmp_path, database_url, aws_env, cognito_pool, endpoint=own_moto.endpoint, AWS_COGNITO_JWKS_URL=jwks
    )
    try:
        headers = {"Authorization": f"Bearer {tokens['andrewbrown']}"}
        started = request(api.port, "POST", "/api/messages", {"message": "before", "handle": "bayko"}, headers)
        assert started.status == 200, started.body
        group = json.loads(started.body)["message_group_uuid"]
        own_moto.stop()

        message_calls = [
            ("GET", "/api/message_groups", None),
            ("GET", f"/api/messages/{group}", None),
            ("POST", "/api/messages", {"message": "during", "message_group_uuid": group}),
        ]
        for method, path, body in message_calls * 2:  # every worker process, not just one
            o = request(api.port, method, path, body, headers, timeout=10)
            assert _json_503(o), (path, o.status, o.body[:200])
            assert o.seconds < 5.0, (path, o.seconds)
        for method, path, body in [
            ("GET", "/api/activities/home", None),
            ("GET", "/api/activities/@bayko", None),
            ("POST", "/api/activities", {"message": "still here", "ttl": "1-hour"}),
            ("GET", "/api/ready", None),
            ("GET", "/api/health-check", None),
        ]:
            o = request(api.port, method, path, body, headers)
            assert o.status == 200, (path, o.status, o.body[:200])
    finally:
        api.stop()
