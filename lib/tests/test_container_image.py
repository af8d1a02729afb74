"""The backend image `make image` builds, tested as a container on a real engine: who it runs as, how it
fails without settings, migrations and the API inside it against a real PostgreSQL and the emulator, the
task definition's own health check, a graceful `docker stop`, and what the image must not hold.

The API containers use the host's network (their settings name 127.0.0.1, as in the other tests);
bin/ecs/run-local's tests cover the task's own network."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import urllib.request
import uuid

import psycopg
import pytest

from cruddur_kit import REPO_ROOT
from cruddur_kit.containers import build
from cruddur_kit.local import postgres as pglocal
from cruddur_kit.local.moto import free_port
from processes import Process

pytestmark = [pytest.mark.container, pytest.mark.usefixtures("docker_engine")]
LABEL = {"cruddur.test": "container-image"}
TASK_DEFINITION = REPO_ROOT / "aws" / "json" / "task-definitions" / "backend-flask.json"


@pytest.fixture
def containers(docker_engine):
    made = []
    yield made
    for container in made:
        container.remove(force=True)


def start(client, made: list, image: str, **kw):
    container = client.containers.create(image, labels=LABEL, detach=True, **kw)
    made.append(container)
    container.start()
    return container


def inside(client, image: str, script: str) -> str:
    """Run a shell script in a throw-away container of the image, as root, without network; its output."""
    return client.containers.run(
        image, ["sh", "-c", script], user="0", network_mode="none", remove=True, labels=LABEL
    ).decode()


def test_it_runs_as_uid_10001(docker_engine, built):
    assert docker_engine.images.get(built["backend"]).attrs["Config"]["User"] == "10001:10001"
    assert (
        docker_engine.containers.run(built["backend"], ["id", "-u"], remove=True, network_mode="none", labels=LABEL)
        .decode()
        .strip()
        == "10001"
    )


def test_a_missing_setting_stops_it_with_one_line(docker_engine, built, containers):
    container = start(docker_engine, containers, built["backend"], network_mode="none")
    assert container.wait(timeout=60)["StatusCode"] == 1
    lines = container.logs().decode().strip().splitlines()
    assert [line for line in lines if "[INFO] Starting gunicorn" not in line] == [
        "backend-flask: missing required setting CONNECTION_URL: set it in the environment"
    ], lines


def test_migrate_works_inside_it(docker_engine, built, pg_server_url, containers):
    name = f"cruddur_img_{uuid.uuid4().hex[:8]}"
    pglocal.ensure_database(pg_server_url, name)
    url = pglocal.with_database(pg_server_url, name)
    try:
        container = start(
            docker_engine,
            containers,
            built["backend"],
            network_mode="host",
            command=["python", "-m", "cruddur.manage", "migrate"],
            environment={"CONNECTION_URL": url},
        )
        assert container.wait(timeout=120)["StatusCode"] == 0, container.logs().decode()
        with psycopg.connect(url) as conn:
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"users", "activities"} <= tables
    finally:
        with psycopg.connect(pglocal.with_database(pg_server_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def serving(docker_engine, built, database_url, aws_env, cognito_pool, containers):
    """The image serving the API on a free host port, against this test's database and the emulator."""
    port = free_port()
    env = {
        "CONNECTION_URL": database_url,
        "AWS_ENDPOINT_URL": aws_env["AWS_ENDPOINT_URL"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_COGNITO_USER_POOL_ID": cognito_pool.pool_id,
        "AWS_COGNITO_USER_POOL_CLIENT_ID": cognito_pool.client_id,
        "PORT": str(port),
        "GUNICORN_WORKERS": "1",
        "DB_STATEMENT_TIMEOUT_MS": "60000",
        "AWS_XRAY_SDK_ENABLED": "false",
    }
    container = start(docker_engine, containers, built["backend"], network_mode="host", environment=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health-check", timeout=2):
                break
        except OSError:
            container.reload()
            assert container.status == "running", container.logs().decode()
            assert time.monotonic() < deadline, "the container did not answer within 60s"
            time.sleep(0.2)
    return container, port, database_url


def test_the_api_answers_and_the_task_definitions_health_check_passes_inside(serving):
    container, port, _ = serving
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/activities/home", timeout=10) as response:
        assert response.status == 200 and {a["handle"] for a in json.load(response)} >= {"andrewbrown"}
    command = next(
        c["healthCheck"]["command"]
        for c in json.loads(TASK_DEFINITION.read_text())["containerDefinitions"]
        if c["name"] == "backend-flask"
    )
    assert command[0] == "CMD"
    result = container.exec_run(command[1:])
    assert result.exit_code == 0, result.output
    assert result.output.decode().startswith("[OK] Flask server is running")


def test_docker_stop_answers_the_request_in_flight_and_exits_0(docker_engine, serving):
    """A request held inside the database (a table lock) when SIGTERM arrives is answered, and gunicorn exits 0
    before the stop timeout (a SIGKILL would be exit 137)."""
    container, port, url = serving
    answers: queue.Queue = queue.Queue()
    events = docker_engine.events(decode=True, filters={"container": container.id, "event": "kill"})
    with psycopg.connect(url) as lock:
        lock.execute("LOCK TABLE activities IN ACCESS EXCLUSIVE MODE")

        def request():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/activities/home", timeout=60) as r:
                    answers.put(r.status)
            except Exception as e:
                answers.put(e)

        threading.Thread(target=request, daemon=True).start()
        deadline = time.monotonic() + 30
        with psycopg.connect(url, autocommit=True) as watch:
            while not watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%activities%'"
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "the request never reached the database"
                time.sleep(0.05)
        stopper = threading.Thread(target=container.stop, kwargs={"timeout": 30})
        stopper.start()
        kill = next(events)  # the engine sent the stop signal: the request is now in flight during a stop
        assert kill["Actor"]["Attributes"]["signal"] == "15"
        lock.rollback()
    events.close()
    assert answers.get(timeout=60) == 200
    stopper.join(timeout=60)
    assert container.wait(timeout=10)["StatusCode"] == 0, container.logs().decode()[-2000:]


def test_the_image_holds_no_tests_env_files_compiler_pip_cache_or_build_ca(docker_engine, built):
    image = built["backend"]
    found = inside(
        docker_engine,
        image,
        """
        find / -xdev \\( -name '.env' -o -name '*.env' -o -name 'test_*.py' -o -name tests -o -name conftest.py \\) \\
             -not -path '/usr/lib/*' -not -path '/opt/venv/*' -print
        find / -xdev -type d -path '*/.cache/pip' -print
        for c in gcc cc c++ g++ clang; do command -v $c; done
        ls -d /build-ca /wheels 2>/dev/null
        true""",
    )
    assert found.strip() == "", found
    # The build CA: certificates the builder was given that the base does not carry are nowhere in the image.
    given = _certificates(build.ca_bundle().read_text())
    shipped = _certificates(inside(docker_engine, image, "cat /etc/ssl/certs/ca-certificates.crt"))
    extra = [cert for cert in given if cert not in shipped]
    if extra:  # on a machine behind a TLS-intercepting proxy (this one), its CA: searched for everywhere
        patterns = " ".join(f"-e '{cert.splitlines()[1]}'" for cert in extra)  # each one's first base64 line
        hits = inside(
            docker_engine,
            image,
            f"grep -rlF {patterns} / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null; true",
        )
        assert hits.strip() == "", hits
    history = json.dumps(docker_engine.api.history(image))
    assert "build-ca" not in history and "BUILD_CA_IMAGE" not in history


def _certificates(text: str) -> list[str]:
    return re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----", text, re.S)


def test_a_second_make_image_rebuilds_nothing(docker_engine, built):
    before = {name: docker_engine.images.get(ref).id for name, ref in built.items() if ref}
    run = Process([str(REPO_ROOT / "bin" / "dev" / "image")], None)
    assert run.finish(timeout=600) == 0, run.text()
    after = {name: docker_engine.images.get(ref).id for name, ref in built.items() if ref}
    assert after == before
    assert "building the stand-in base" not in run.stderr and "debootstrap" not in run.stderr
    listed = {line.split()[0] for line in run.out}
    assert {built["backend"], built["task-agent"], built["xray-daemon"]} <= listed
