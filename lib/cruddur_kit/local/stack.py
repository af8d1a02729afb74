"""The local stack behind `make up`: PostgreSQL, the AWS emulator, provisioning, and the API under gunicorn.

Everything started here is remembered on a stack of clean-ups, so a stop (Ctrl-C, SIGTERM, an
error half-way) undoes exactly what this run started — never a server that was already there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .. import BACKEND, aws, cognito, ddb, envfile, ssm
from .. import spec as speclib
from ..errors import KitError
from . import moto as motolib
from . import postgres as pglocal

DEFAULT_API_PORT = 4567
DEFAULT_AWS_PORT = 4566
FRONTEND_PORT = 3000  # the original Cruddur frontend's dev server
FRONTEND_URL = f"http://localhost:{FRONTEND_PORT}"
# The local stack holds every secret the task definitions name, so bin/ecs/run-local can run them: without a
# Honeycomb key in the environment, OTEL_EXPORTER_OTLP_HEADERS and HONEYCOMB_API_KEY get this placeholder (not a key).
LOCAL_OTLP_HEADERS = "x-honeycomb-team=local-placeholder"


@dataclass
class Ports:
    api: int = DEFAULT_API_PORT
    aws: int = DEFAULT_AWS_PORT
    pg: int = pglocal.DEFAULT_PORT


@dataclass
class Provisioned:
    """What the API needs to know about the provisioned resources (no secret values)."""

    database_url: str
    pool: cognito.Pool
    table: str
    linked: dict[str, str] = field(default_factory=dict)
    parameters: list[tuple[str, str]] = field(default_factory=list)

    def app_env(self) -> dict[str, str]:
        return {
            "CONNECTION_URL": self.database_url,
            "AWS_COGNITO_USER_POOL_ID": self.pool.pool_id,
            "AWS_COGNITO_USER_POOL_CLIENT_ID": self.pool.client_id,
            "DDB_MESSAGE_TABLE": self.table,
        }


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def emulator_env(endpoint: str, region: str | None = None) -> dict[str, str]:
    """Dummy credentials and the endpoint: boto3 (here and in every child) talks only to the emulator.
    The region: the one given, else the environment's (aws.default_region)."""
    region = region or aws.default_region()
    return {
        **motolib.DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def ensure_emulator(stack: ExitStack, port: int, log_path: Path, log: Callable[[str], None]) -> str:
    """Reuse an emulator answering on the port, else start one (and stop it on the way out)."""
    endpoint = f"http://127.0.0.1:{port}"
    if motolib.answers(endpoint):
        log(f"aws emulator: reusing the one answering on {endpoint} (left running on exit)")
        return endpoint
    server = motolib.MotoServer(port=port, log_path=log_path)
    stack.callback(_stopping("aws emulator", server.stop, log))  # before start: a stop mid-start cleans up too
    server.start()
    log(f"aws emulator: started moto on {endpoint} (log {log_path})")
    return endpoint


def ensure_database(
    stack: ExitStack, connection_url: str | None, data_dir: Path, port: int, log: Callable[[str], None]
) -> str:
    """The database URL: CONNECTION_URL when it answers, else `cruddur` on the embedded server."""
    handle = pglocal.ensure(connection_url, data_dir=data_dir, port=port)
    if handle.started is None and connection_url and handle.server_url == connection_url:
        log("postgres: using CONNECTION_URL (it answers)")
        return connection_url
    if connection_url:
        log("postgres: CONNECTION_URL does not answer; using the embedded server instead")
    if handle.started is not None:
        data_in = handle.started.data_dir  # may differ from data_dir: see postgres.reachable_data_dir
        stack.callback(_stopping("postgres", handle.stop, log))
        log(f"postgres: started on 127.0.0.1:{port} (data in {data_in})")
    else:
        log(f"postgres: reusing the server already running on 127.0.0.1:{port} (left running on exit)")
    if pglocal.ensure_database(handle.server_url, pglocal.DEFAULT_DB):
        log(f"postgres: created database {pglocal.DEFAULT_DB}")
    return pglocal.with_database(handle.server_url, pglocal.DEFAULT_DB)


def provision(
    database_url: str, table: str, log: Callable[[str], None], clients: aws.Clients | None = None
) -> Provisioned:
    """Migrate and seed the database; the DynamoDB table, Cognito pool, demo users, the demo conversation
    and SSM parameters where `clients` point (default: whatever AWS_ENDPOINT_URL names). Idempotent: a
    second run changes nothing."""
    from cruddur import manage

    from .provision import link_demo_users

    applied = manage.migrate(database_url)
    log(f"postgres: migrations {'applied: ' + ', '.join(applied) if applied else 'up to date'}")
    manage.seed(database_url)
    log("postgres: demo users and activities seeded")

    clients = clients or aws.Clients()
    dynamodb = clients("dynamodb")
    created = ddb.ensure_table(dynamodb, table)
    log(f"dynamodb: table {table} {'created' if created else 'present'}")

    idp = clients("cognito-idp")
    pool, created = cognito.ensure_pool(idp)
    log(f"cognito: pool {pool.pool_id} {'created' if created else 'present'}, app client {pool.client_id}")
    linked = link_demo_users(database_url, idp, pool)
    log(f"cognito: demo users linked to their rows: {', '.join(sorted(linked))}")
    status, group = ddb.seed_conversation(dynamodb, table, database_url)  # what bin/ddb/seed writes
    log(f"dynamodb: demo conversation andrewbrown <-> bayko {status} ({group})")

    keys = ssm.with_honeycomb_pair(
        {k: os.environ.get(k, "") for k in ("HONEYCOMB_API_KEY", "OTEL_EXPORTER_OTLP_HEADERS")}
    )
    values = {
        "CONNECTION_URL": database_url,
        "OTEL_EXPORTER_OTLP_HEADERS": keys.get("OTEL_EXPORTER_OTLP_HEADERS") or LOCAL_OTLP_HEADERS,
        "HONEYCOMB_API_KEY": keys.get("HONEYCOMB_API_KEY") or LOCAL_OTLP_HEADERS.split("=", 1)[1],
    }
    parameters = ssm.put_parameters(clients("ssm"), ssm.DEFAULT_PREFIX, values)
    for name, status in parameters:
        log(f"ssm: {name} {status}")  # names only: the values are secrets
    ensure_log_groups(clients("logs"), log)
    return Provisioned(database_url, pool, table, linked, parameters)


def ensure_log_groups(client, log: Callable[[str], None]) -> None:
    """The CloudWatch Logs groups the task definitions' awslogs options name (the awslogs driver needs them)."""
    for group in sorted({g for s in speclib.services() for g in s.log_groups}):
        found = client.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if any(g["logGroupName"] == group for g in found):
            log(f"logs: group {group} present")
        else:
            client.create_log_group(logGroupName=group)
            log(f"logs: group {group} created")


def _forget(path: Path) -> None:
    path.unlink(missing_ok=True)  # the stack is going away: its settings must not outlive it


def forwarded_origin(env: Mapping[str, str], port: int) -> str | None:
    """The URL a Codespace or Gitpod workspace forwards `port` to (what a browser there opens), else None."""
    codespace, domain = env.get("CODESPACE_NAME"), env.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN")
    if codespace and domain:
        return f"https://{codespace}-{port}.{domain}"
    workspace = env.get("GITPOD_WORKSPACE_URL", "")  # https://<workspace id>.<cluster host>
    if workspace.startswith("https://"):
        return f"https://{port}-{workspace.removeprefix('https://').rstrip('/')}"
    return None


def web_urls(env: Mapping[str, str], api_port: int) -> tuple[str, str]:
    """(FRONTEND_URL, BACKEND_URL) for the API: the environment's own when set; else, in a Codespace or Gitpod
    workspace, the forwarded frontend origin (port 3000) beside localhost's and the forwarded API; else localhost."""
    frontend = env.get("FRONTEND_URL") or ",".join(o for o in (forwarded_origin(env, FRONTEND_PORT), FRONTEND_URL) if o)
    backend = env.get("BACKEND_URL") or forwarded_origin(env, api_port) or f"http://127.0.0.1:{api_port}"
    return frontend, backend


def api_env(base: dict[str, str], provisioned: Provisioned, endpoint: str, api_port: int) -> dict[str, str]:
    """The API's environment: Cruddur's names, the emulator, and tracing only when the env names a collector."""
    frontend, backend = web_urls(base, api_port)
    env = {
        **base,
        **emulator_env(endpoint),
        **provisioned.app_env(),
        "FRONTEND_URL": frontend,
        "BACKEND_URL": backend,
        "GUNICORN_BIND": f"127.0.0.1:{api_port}",
        "FLASK_DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.setdefault("GUNICORN_WORKERS", "2")
    if not base.get("AWS_XRAY_DAEMON_ADDRESS"):
        env["AWS_XRAY_SDK_ENABLED"] = "false"
    if not base.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        env["OTEL_SDK_DISABLED"] = "true"
    return env


def gunicorn_argv() -> list[str]:
    binary = Path(sys.executable).with_name("gunicorn")
    return [
        str(binary) if binary.exists() else "gunicorn",
        "-c",
        str(BACKEND / "gunicorn.conf.py"),
        "--chdir",
        str(BACKEND),
        "wsgi:app",
    ]


def _stopping(what: str, stop: Callable[[], None], log: Callable[[str], None]) -> Callable[[], None]:
    def run() -> None:
        log(f"stopping {what} ...")
        stop()

    return run


class Stop(Exception):
    """SIGINT or SIGTERM arrived while the stack was being set up."""


def run(
    ports: Ports,
    local_dir: Path,
    table: str,
    log: Callable[[str], None],
    banner: Callable[[Provisioned, str, Ports, dict], None],
    region: str | None = None,
) -> int:
    """Bring the stack up, serve the API in the foreground, and undo it all on a stop; the exit code.
    `region`: the emulator's (default: the environment's, else us-east-1)."""
    if not port_free(ports.api):
        raise KitError(f"port {ports.api} is taken (another `make up`?): stop that process or set API_PORT")
    local_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(local_dir, 0o755)  # the embedded PostgreSQL runs as an unprivileged user below it

    def interrupted(signum, frame):
        raise Stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as stack:
            try:
                database_url = ensure_database(
                    stack, os.environ.get("CONNECTION_URL"), local_dir / "postgres", ports.pg, log
                )
                endpoint = ensure_emulator(stack, ports.aws, local_dir / "moto.log", log)
                os.environ.update(emulator_env(endpoint, region))  # boto3 in this process: the emulator only
                provisioned = provision(database_url, table, log)
                # the non-secret settings for bin/cognito/token & co. (envfile.apply_local), gone when we stop
                settings = local_dir / "env"
                stack.callback(_forget, settings)
                envfile.write_local(settings, {**emulator_env(endpoint), **provisioned.app_env()})
                env = api_env(dict(os.environ), provisioned, endpoint, ports.api)
                # Its own session: the terminal's Ctrl-C reaches us, and we stop gunicorn gracefully.
                server = subprocess.Popen(gunicorn_argv(), env=env, start_new_session=True)
            except Stop as e:
                for sig in previous:  # a second Ctrl-C must not cut the clean-up short
                    signal.signal(sig, signal.SIG_IGN)
                log(f"{e}: stopping what was started")
                return 0
            stack.callback(_stopping("api", lambda: terminate(server), log))
            stopping = []

            def forward(signum, frame):
                stopping.append(signum)
                if server.poll() is None:
                    server.send_signal(signal.SIGTERM)  # graceful: in-flight requests finish

            for sig in previous:
                signal.signal(sig, forward)
            banner(provisioned, endpoint, ports, env)
            code = server.wait()
            if stopping:
                return 0
            log(f"gunicorn exited with {code}")
            return code or 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def terminate(proc: subprocess.Popen, timeout: float = 25) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
