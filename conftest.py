"""Fixtures shared by every test tree: a real PostgreSQL, the local AWS emulator over HTTP, Cognito
users with real tokens, and a fresh app per test (Flask tutorial style)."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from cruddur_kit import LOCAL_DIR, cognito
from cruddur_kit.local import moto as motolib
from cruddur_kit.local import postgres as pglocal
from testkit import REGION, aws_client, own_moto


@pytest.fixture(scope="session", autouse=True)
def local_dir_of_our_own(tmp_path_factory):
    """Scripts under test must not take a developer's running `make up` settings (.local/env) as defaults."""
    saved = os.environ.get("CRUDDUR_LOCAL_DIR")
    os.environ["CRUDDUR_LOCAL_DIR"] = str(tmp_path_factory.mktemp("local-dir"))
    yield
    if saved is None:
        os.environ.pop("CRUDDUR_LOCAL_DIR", None)
    else:
        os.environ["CRUDDUR_LOCAL_DIR"] = saved


@pytest.fixture(scope="session")
def pg_server_url():
    """A server we may create databases on: CRUDDUR_TEST_PG_URL if it answers, else an embedded one."""
    handle = pglocal.ensure(
        os.environ.get("CRUDDUR_TEST_PG_URL"),
        data_dir=LOCAL_DIR / "postgres-test",
        port=int(os.environ.get("CRUDDUR_TEST_PG_PORT", 5434)),
    )
    yield handle.server_url
    handle.stop()


def _create_db(server_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(pglocal.with_database(server_url, "postgres"), autocommit=True) as conn:
        sql = psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
        if template:
            sql += psycopg.sql.SQL(" TEMPLATE {}").format(psycopg.sql.Identifier(template))
        conn.execute(sql)
    return pglocal.with_database(server_url, name)


def _drop_db(server_url: str, name: str) -> None:
    with psycopg.connect(pglocal.with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    with own_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(scope="session")
def aws_env(moto_server):
    """Point every boto3 client in this process (and child processes) at the emulator."""
    values = {
        **motolib.DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": moto_server.endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    yield values
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def cognito_pool(aws_env):
    pool, _ = cognito.ensure_pool(aws_client("cognito-idp"))
    return pool


@pytest.fixture(scope="session")
def template_db(pg_server_url, cognito_pool):
    """Migrated, seeded, demo users linked to Cognito users: copied for each test (fast)."""
    from cruddur import manage
    from cruddur_kit.local.provision import link_demo_users

    name = f"cruddur_tmpl_{uuid.uuid4().hex[:10]}"
    url = _create_db(pg_server_url, name)
    manage.migrate(url)
    manage.seed(url)
    link_demo_users(url, aws_client("cognito-idp"), cognito_pool)
    yield name
    _drop_db(pg_server_url, name)


@pytest.fixture
def database_url(pg_server_url, template_db):
    name = f"cruddur_t_{uuid.uuid4().hex[:12]}"
    url = _create_db(pg_server_url, name, template=template_db)
    yield url
    _drop_db(pg_server_url, name)


@pytest.fixture
def settings(database_url, aws_env, cognito_pool):
    from cruddur.config import Settings

    return Settings(
        connection_url=database_url,
        aws_region=REGION,
        cognito_user_pool_id=cognito_pool.pool_id,
        cognito_client_id=cognito_pool.client_id,
        aws_endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        frontend_url="http://localhost:3000",
        backend_url="http://localhost:4567",
        db_pool_min=1,
        db_pool_max=4,
        ddb_message_table=f"cruddur-messages-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture
def app(settings):
    from cruddur import create_app

    app = create_app(settings, TESTING=True)
    yield app
    app.extensions["db_pool"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def tokens(cognito_pool, template_db):
    """Access tokens for the demo users, by handle: `tokens['andrewbrown']`."""
    idp = aws_client("cognito-idp")
    cache = {}

    class Tokens(dict):
        def __missing__(self, handle):
            user = cognito.find_user_by_handle(idp, cognito_pool.pool_id, handle)
            assert user is not None, f"no Cognito user {handle}"
            token = cognito.access_token(idp, cognito_pool, cognito.attributes(user)["email"])
            self[handle] = token
            return token

    return Tokens(cache)


@pytest.fixture
def auth(tokens):
    """Headers for a signed-in demo user: `client.get(url, headers=auth('andrewbrown'))`."""
    return lambda handle: {"Authorization": f"Bearer {tokens[handle]}"}


@pytest.fixture
def messages_table(settings):
    """This test's own direct-messages table (settings.ddb_message_table) in the emulator, ACTIVE; dropped after."""
    from cruddur_kit import ddb

    client = aws_client("dynamodb")
    ddb.ensure_table(client, settings.ddb_message_table)
    yield settings.ddb_message_table
    client.delete_table(TableName=settings.ddb_message_table)
