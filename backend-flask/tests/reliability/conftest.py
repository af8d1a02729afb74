"""The real API under gunicorn as a process, for the reliability suite.

Every test here talks HTTP to 127.0.0.1 only, and bounds its load in time and in request count.
"""

from __future__ import annotations

import uuid

import boto3
import psycopg
import pytest

from cruddur_kit import ddb
from cruddur_kit.bench.stack import Gunicorn, app_env
from cruddur_kit.local import postgres as pglocal
from cruddur_kit.local.moto import free_port


def _start_api(tmp_path, database_url: str, aws_env: dict, pool, **extra) -> Gunicorn:
    """gunicorn with `make up`'s environment, this test's database and its own messages table."""
    endpoint = extra.pop("endpoint", aws_env["AWS_ENDPOINT_URL"])
    table = f"cruddur-messages-{uuid.uuid4().hex[:8]}"
    ddb.ensure_table(boto3.client("dynamodb", endpoint_url=endpoint, region_name=aws_env["AWS_DEFAULT_REGION"]), table)
    port = free_port()
    env = app_env(
        database_url=database_url, endpoint=endpoint, pool=pool, table=table, port=port, GUNICORN_ACCESSLOG="", **extra
    )
    return Gunicorn(env=env, port=port, log_path=tmp_path / "gunicorn.log").start()


@pytest.fixture(scope="session")
def start_api():
    """`start_api(tmp_path, database_url, aws_env, pool, **env)`: a started Gunicorn; the caller stops it."""
    return _start_api


@pytest.fixture
def api(tmp_path, database_url, aws_env, cognito_pool):
    """A gunicorn serving the test's own database; stopped (gracefully) after the test."""
    server = _start_api(tmp_path, database_url, aws_env, cognito_pool)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_database_url(pg_server_url, template_db):
    """A database copied from the template, shared by one module's tests."""
    name = f"cruddur_r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pglocal.with_database(pg_server_url, "postgres"), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.Identifier(template_db)
            )
        )
    yield pglocal.with_database(pg_server_url, name)
    with psycopg.connect(pglocal.with_database(pg_server_url, "postgres"), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


@pytest.fixture(scope="module")
def module_api(tmp_path_factory, module_database_url, aws_env, cognito_pool):
    """One gunicorn for a whole module (schemathesis, forged tokens)."""
    server = _start_api(tmp_path_factory.mktemp("api"), module_database_url, aws_env, cognito_pool)
    yield server
    server.stop()
