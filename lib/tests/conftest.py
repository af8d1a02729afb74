"""Fixtures of the container tests (marked `container`): a Docker engine that answers, the images `make image`
builds, and a provisioned local stack for bin/ecs/run-local.

Without an engine the container tests are skipped with one line saying why; with CI=true that is a
failure instead (CI provisions an engine with bin/dev/provision-docker before `make test`)."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

from cruddur_kit import images as gitimages
from cruddur_kit.containers import build, engine
from cruddur_kit.errors import KitError
from cruddur_kit.local import moto as motolib
from cruddur_kit.local import postgres as pglocal
from testkit import REGION, own_moto


def pytest_configure(config):
    config.addinivalue_line("markers", "container: needs a Docker engine (skipped without one; a failure with CI=true)")


@pytest.fixture(scope="session")
def docker_engine():
    try:
        return engine.connect(timeout=15)
    except KitError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the container tests cannot run: {e}", pytrace=False)
        pytest.skip(
            f"container tests skipped: no Docker engine answers at {engine.where()} "
            "(bin/dev/provision-docker starts one)"
        )


@pytest.fixture(scope="session")
def built(docker_engine):
    """`make image`'s images (built, or found in the engine's cache): {'backend': …, 'base': …, 'ca': …, and each
    local image's name: …}."""
    logs: list[str] = []
    tools = build.toolchain(logs.append)
    tag = gitimages.git_sha()
    names = {
        "backend": build.service_image(tools, "backend-flask", tag, logs.append)[0],
        "base": tools.base.image,
        "ca": tools.ca,
    }
    for name in build.LOCAL_IMAGES:
        names[name] = build.local_image(tools, name, logs.append)
    return names


@contextmanager
def _environ(values: dict):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


SECRET_HEADERS = "x-honeycomb-team=run-local-s3cret-key"


@pytest.fixture(scope="module")
def local_stack(pg_server_url, tmp_path_factory):
    """What `make up` provisions, in an emulator and a database of this module's own: the environment a
    developer's shell gives bin/ecs/run-local (emulator endpoint, dummy credentials, an empty .local)."""
    from cruddur_kit.local import stack

    name = f"cruddur_runlocal_{uuid.uuid4().hex[:8]}"
    url = pglocal.with_database(pg_server_url, name)
    pglocal.ensure_database(pg_server_url, name)
    with own_moto(tmp_path_factory.mktemp("moto-run-local")) as server:
        aws = {
            **motolib.DUMMY_CREDENTIALS,
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
        with _environ({**aws, "OTEL_EXPORTER_OTLP_HEADERS": SECRET_HEADERS}):
            provisioned = stack.provision(url, "cruddur-messages", lambda m: None)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OTEL_", "CONNECTION_URL"))}
        env = {
            **base,
            **aws,
            "CRUDDUR_LOCAL_DIR": str(tmp_path_factory.mktemp("local-dir")),
            "AWS_COGNITO_USER_POOL_ID": provisioned.pool.pool_id,
            "AWS_COGNITO_USER_POOL_CLIENT_ID": provisioned.pool.client_id,
        }
        yield {
            "env": env,
            "server": server,
            "database_url": url,
            "secrets": [url, SECRET_HEADERS, SECRET_HEADERS.split("=", 1)[1]],
        }
    import psycopg

    with psycopg.connect(pglocal.with_database(pg_server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
