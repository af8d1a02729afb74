"""bin/dev/up (`make up`) as a process, on free ports with its own data dir: it brings the stack up,
serves the seed, stops on SIGINT exactly what it started, and keeps the database across runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from cruddur_kit import REPO_ROOT, cognito
from cruddur_kit.local import moto as motolib
from cruddur_kit.local import postgres as pglocal
from cruddur_kit.local.stack import web_urls

UP = REPO_ROOT / "bin" / "dev" / "up"
# What decides the origins the API allows (set by each test, never inherited)
WEB_ENV = (
    "FRONTEND_URL",
    "BACKEND_URL",
    "CODESPACE_NAME",
    "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN",
    "GITPOD_WORKSPACE_URL",
)
CODESPACE = {"CODESPACE_NAME": "fluffy-fiesta-q7w9", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"}
START_BOUND = 45  # seconds; a first run includes initdb
STOP_BOUND = 30  # ECS's stop timeout; gunicorn's graceful stop is 20 s at most


@pytest.fixture
def local_dir():
    # Not under pytest's tmp_path: its 0700 parents would lock out the unprivileged PostgreSQL user.
    path = Path(tempfile.mkdtemp(prefix="cruddur-up-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def ports():
    return {
        "API_PORT": motolib.free_port(),
        "CRUDDUR_AWS_PORT": motolib.free_port(),
        "CRUDDUR_PG_PORT": motolib.free_port(),
    }


def get(url: str, headers: dict | None = None, timeout: float = 5):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as r:
        return r.status, json.load(r)


def post(url: str, body: dict, headers: dict):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        return r.status, json.load(r)


class Up:
    """One `bin/dev/up` process; its output goes to files so a full pipe can never stall it."""

    def __init__(self, local_dir: Path, ports: dict, **extra_env: str):
        self.api = f"http://127.0.0.1:{ports['API_PORT']}"
        self.endpoint = f"http://127.0.0.1:{ports['CRUDDUR_AWS_PORT']}"
        self.pg_url = f"postgresql://postgres@127.0.0.1:{ports['CRUDDUR_PG_PORT']}/cruddur"
        self.out, self.err = local_dir / "up.out", local_dir / "up.err"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL", "GUNICORN_"))}
        env = {k: v for k, v in env.items() if k not in WEB_ENV}
        env.update({k: str(v) for k, v in ports.items()}, CRUDDUR_LOCAL_DIR=str(local_dir), **extra_env)
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([str(UP)], env=env, stdout=out, stderr=err, cwd=REPO_ROOT)

    def log(self) -> str:
        return self.err.read_text(errors="replace")[-3000:]

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_BOUND
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"bin/dev/up exited {self.proc.returncode}:\n{self.log()}"
            try:
                if get(f"{self.api}/api/health-check", timeout=1)[1] == {"success": True, "ver": 1}:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the API did not answer within {START_BOUND}s:\n{self.log()}")

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"bin/dev/up did not stop within {STOP_BOUND}s of SIGINT:\n{self.log()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def token(self, handle: str) -> str:
        idp = boto3.client(
            "cognito-idp",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )
        pool = cognito.find_pool(idp)
        user = cognito.find_user_by_handle(idp, pool.pool_id, handle)
        return cognito.access_token(idp, pool, cognito.attributes(user)["email"])


def bin_token(local_dir: Path, handle: str) -> str:
    """`bin/cognito/token HANDLE` as a user's shell runs it: no AWS_* variables exported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DDB_"))}
    proc = subprocess.run(
        [str(REPO_ROOT / "bin" / "cognito" / "token"), handle],
        capture_output=True,
        text=True,
        env={**env, "CRUDDUR_LOCAL_DIR": str(local_dir)},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def assert_gone(up: Up, local_dir: Path) -> None:
    assert not pglocal.answers(up.pg_url, timeout=1), "the PostgreSQL it started still answers"
    assert not (local_dir / "postgres" / "postmaster.pid").exists()
    assert not motolib.answers(up.endpoint, timeout=1), "the emulator it started still answers"
    with pytest.raises(OSError):
        get(f"{up.api}/api/health-check", timeout=1)


def cross_origin(url: str, origin: str):
    """(Access-Control-Allow-Origin, Link) of a GET a browser on `origin` makes."""
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Origin": origin}), timeout=5) as r:
        return r.headers.get("Access-Control-Allow-Origin"), r.headers.get("Link")


def test_up_serves_the_seed_stops_on_sigint_and_keeps_the_data(local_dir, ports):
    # First run: everything from nothing (initdb, a new emulator), in a Codespace.
    up = Up(local_dir, ports, **CODESPACE)
    try:
        up.wait_healthy()
        # The workspace's forwarded frontend (port 3000) may call the API, and so may localhost's; the
        # output says so; links point at the forwarded API.
        forwarded = "https://fluffy-fiesta-q7w9-3000.app.github.dev"
        api = f"https://fluffy-fiesta-q7w9-{ports['API_PORT']}.app.github.dev"
        for origin in (forwarded, "http://localhost:3000"):
            allowed, link = cross_origin(f"{up.api}/api/activities/home?limit=1", origin)
            assert allowed == origin and link.startswith(f"<{api}/api/activities/home?"), (allowed, link)
        assert cross_origin(f"{up.api}/api/activities/home", "https://evil.example")[0] is None
        assert f"may call it from {forwarded}, http://localhost:3000 (FRONTEND_URL)" in up.log()
        status, home = get(f"{up.api}/api/activities/home")
        assert status == 200 and {a["handle"] for a in home} >= {"andrewbrown", "londo"}
        assert get(f"{up.api}/api/ready")[0] == 200
        # Provisioned into the emulator: the messages table and the SSM parameter the app reads.
        aws = {
            "endpoint_url": up.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        assert boto3.client("dynamodb", **aws).describe_table(TableName="cruddur-messages")["Table"]
        stored = boto3.client("ssm", **aws).get_parameter(
            Name="/cruddur/backend-flask/CONNECTION_URL", WithDecryption=True
        )["Parameter"]
        assert stored["Type"] == "SecureString" and stored["Value"] == up.pg_url
        # The README's session: bin/cognito/token with nothing exported takes make up's .local/env (no secrets),
        # and the demo conversation (what bin/ddb/seed writes) is there from the start.
        written = (local_dir / "env").read_text()
        assert f"AWS_ENDPOINT_URL={up.endpoint}\n" in written and "AWS_COGNITO_USER_POOL_CLIENT_ID=" in written
        assert "CONNECTION_URL" not in written and "postgresql" not in written and "SECRET" not in written
        token = bin_token(local_dir, "andrewbrown")
        status, groups = get(f"{up.api}/api/message_groups", {"Authorization": f"Bearer {token}"})
        assert status == 200 and "bayko" in {g["handle"] for g in groups}, groups
        # A signed-in write through the API, to find again after a restart.
        status, created = post(
            f"{up.api}/api/activities",
            {"message": "still here after a restart", "ttl": "7-days"},
            {"Authorization": f"Bearer {up.token('andrewbrown')}"},
        )
        assert status == 200, created
    finally:
        code = up.interrupt()
    assert code == 0, up.log()
    assert "stopping postgres" in up.log() and "stopping aws emulator" in up.log()
    assert not (local_dir / "env").exists(), "the stopped stack's settings outlived it"
    assert_gone(up, local_dir)

    # Second run, with an emulator the test started itself on the port: reused, and left running.
    ours = motolib.MotoServer(port=ports["CRUDDUR_AWS_PORT"], log_path=local_dir / "our-moto.log").start()
    try:
        # FRONTEND_URL and BACKEND_URL from the environment win, in a Codespace too.
        up = Up(
            local_dir, ports, FRONTEND_URL="http://127.0.0.1:5173", BACKEND_URL="https://api.example.test", **CODESPACE
        )
        try:
            up.wait_healthy()
            allowed, link = cross_origin(f"{up.api}/api/activities/home?limit=1", "http://127.0.0.1:5173")
            assert allowed == "http://127.0.0.1:5173" and link.startswith("<https://api.example.test/api/")
            assert cross_origin(f"{up.api}/api/activities/home", "http://localhost:3000")[0] is None
            assert "may call it from http://127.0.0.1:5173 (FRONTEND_URL)" in up.log()
            home = get(f"{up.api}/api/activities/home")[1]
            assert created["uuid"] in {a["uuid"] for a in home}, "the database lost the first run's data"
            # The demo users are linked to the new emulator's Cognito users: their tokens work.
            status, _ = get(f"{up.api}/api/activities/notifications", {"Authorization": f"Bearer {up.token('bayko')}"})
            assert status == 200
        finally:
            code = up.interrupt()
        assert code == 0, up.log()
        assert "reusing" in up.log() and "stopping aws emulator" not in up.log()
        assert motolib.answers(ours.endpoint), "bin/dev/up stopped an emulator it did not start"
        assert not pglocal.answers(up.pg_url, timeout=1)
    finally:
        ours.stop()


def test_a_taken_api_port_is_one_line_and_starts_nothing(local_dir, ports):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["API_PORT"]))
        taken.listen(1)
        up = Up(local_dir, ports)
        code = up.proc.wait(timeout=30)
    assert code == 1
    err = up.err.read_text()
    assert err.startswith("error: port ") and "API_PORT" in err and len(err.strip().splitlines()) == 1
    assert not (local_dir / "postgres").exists() and not motolib.answers(up.endpoint, timeout=1)


PROVISION = REPO_ROOT / "bin" / "dev" / "provision"


def test_provision_is_idempotent_and_prints_the_api_settings(database_url, aws_env, cognito_pool, tmp_path):
    """docker-compose's `setup` step, against the real emulator and a real database."""
    env = {
        **os.environ,
        **aws_env,
        "CONNECTION_URL": database_url,
        "DDB_MESSAGE_TABLE": f"cruddur-messages-{tmp_path.name[-8:]}",
    }
    env_file = tmp_path / "api.env"
    runs = [
        subprocess.run(
            [str(PROVISION), "--env-file", str(env_file)], env=env, capture_output=True, text=True, timeout=60
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert f"AWS_COGNITO_USER_POOL_ID={cognito_pool.pool_id}\n" in run.stdout
        assert "CONNECTION_URL" not in run.stdout  # a secret: never printed
    assert env_file.read_text() == runs[1].stdout
    assert "migrations up to date" in runs[1].stderr and "CONNECTION_URL unchanged" in runs[1].stderr
    assert "demo conversation andrewbrown <-> bayko created" in runs[0].stderr
    assert "demo conversation andrewbrown <-> bayko unchanged" in runs[1].stderr
    assert database_url not in runs[0].stderr + runs[1].stderr


def test_provision_refuses_without_an_emulator(database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(
        [str(PROVISION)], env={**env, "CONNECTION_URL": database_url}, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 1 and run.stderr.startswith("error: AWS_ENDPOINT_URL is not set")


@pytest.mark.parametrize(
    "env, frontend, backend",
    [
        ({}, "http://localhost:3000", "http://127.0.0.1:4567"),
        (
            {"FRONTEND_URL": "https://app.example", "BACKEND_URL": "https://api.example"},
            "https://app.example",
            "https://api.example",
        ),
        (
            {"CODESPACE_NAME": "cs-1", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"},
            "https://cs-1-3000.app.github.dev,http://localhost:3000",
            "https://cs-1-4567.app.github.dev",
        ),
        (
            {"GITPOD_WORKSPACE_URL": "https://andrew-cruddur-x1.ws-us94.gitpod.io"},
            "https://3000-andrew-cruddur-x1.ws-us94.gitpod.io,http://localhost:3000",
            "https://4567-andrew-cruddur-x1.ws-us94.gitpod.io",
        ),
        (
            {"GITPOD_WORKSPACE_URL": "https://w.gitpod.io", "FRONTEND_URL": "http://localhost:5173"},
            "http://localhost:5173",
            "https://4567-w.gitpod.io",
        ),
        ({"CODESPACE_NAME": "cs-1"}, "http://localhost:3000", "http://127.0.0.1:4567"),  # half a Codespace: none
    ],
)
def test_the_api_allows_the_environment_s_or_the_workspace_s_frontend(env, frontend, backend):
    """(FRONTEND_URL, BACKEND_URL) `make up` gives the API, from the environment it runs in."""
    assert web_urls(env, 4567) == (frontend, backend)
