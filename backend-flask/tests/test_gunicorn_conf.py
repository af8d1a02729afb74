"""gunicorn.conf.py: sized from the CPU the cgroup grants, stops inside ECS's 30 s, JSON access log.

The sizing is read through gunicorn itself (`--print-config`), so the test fails if gunicorn stops
accepting the file, and a real gunicorn serves a request and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cruddur_kit.local.stack import terminate

BACKEND = Path(__file__).resolve().parents[1]
CONF = BACKEND / "gunicorn.conf.py"
GUNICORN = Path(sys.executable).with_name("gunicorn")
ECS_STOP_TIMEOUT = 30
APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"success": true}']
"""


def start_gunicorn(tmp_path: Path, source: str = APP, workers: int = 1, **popen) -> tuple[int, subprocess.Popen]:
    """A real gunicorn on the shipped conf serving `source` (a module defining `app`) on a free loopback port,
    sized by GUNICORN_WORKERS alone (no cgroup quota). `env` in `popen` adds to the environment."""
    from cruddur_kit.local.moto import free_port

    (tmp_path / "standin.py").write_text(source)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    env.update(
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_CPU_MAX_PATH=str(tmp_path / "none"),
        GUNICORN_WORKERS=str(workers),
        **popen.pop("env", {}),
    )
    argv = [str(GUNICORN), "-c", str(CONF), "--chdir", str(tmp_path), "standin:app"]
    return port, subprocess.Popen(argv, env=env, **popen)


def resolved_config(tmp_path: Path, cpu_max: str | None, **env) -> dict[str, str]:
    """gunicorn's own resolution of the conf file, with a fake cgroup cpu.max (and a stand-in app:
    --print-config loads the app, and the sizing must not depend on the API's settings)."""
    (tmp_path / "tinyapp.py").write_text(APP)
    fake = tmp_path / "cpu.max"
    if cpu_max is not None:
        fake.write_text(cpu_max + "\n")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    full_env.update({"GUNICORN_CPU_MAX_PATH": str(fake), **env})
    result = subprocess.run(
        [str(GUNICORN), "-c", str(CONF), "--print-config", "--chdir", str(tmp_path), "tinyapp:app"],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    settings = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.strip()] = value.strip()
    return settings


@pytest.mark.parametrize(
    "cpu_max, workers",
    [
        ("25000 100000", 1),  # 0.25 vCPU (256 cpu units): one process, threads overlap the I/O waits
        ("50000 100000", 1),  # 0.5 vCPU
        ("100000 100000", 1),  # 1 vCPU
        ("200000 100000", 2),  # 2 vCPU
        ("400000 100000", 4),  # 4 vCPU
        ("1600000 100000", 8),  # capped: more processes only add connections to PostgreSQL
    ],
)
def test_workers_follow_the_cgroup_cpu_quota(tmp_path, cpu_max, workers):
    assert resolved_config(tmp_path, cpu_max)["workers"] == str(workers)


@pytest.mark.parametrize("cpu_max", ["max 100000", None, "not a number"])
def test_without_a_quota_workers_follow_the_host_cpu_count(tmp_path, cpu_max):
    expected = max(1, min(round(os.cpu_count() or 1), 8))
    assert resolved_config(tmp_path, cpu_max)["workers"] == str(expected)


def test_environment_overrides_the_sizing(tmp_path):
    settings = resolved_config(tmp_path, "25000 100000", GUNICORN_WORKERS="3", GUNICORN_THREADS="2")
    assert settings["workers"] == "3" and settings["threads"] == "2"


def test_threads_and_shutdown_fit_inside_ecs_stop_timeout(tmp_path):
    settings = resolved_config(tmp_path, "25000 100000")
    assert "BufferingThreadWorker" in settings["worker_class"] and int(settings["threads"]) >= 2
    # SIGTERM -> in-flight requests finish -> exit, all before ECS's SIGKILL at 30 s.
    assert int(settings["graceful_timeout"]) < ECS_STOP_TIMEOUT
    # The ALB's idle timeout is 60 s: gunicorn must keep connections open longer than the ALB does.
    assert int(settings["keepalive"]) > 60
    assert settings["bind"] == "['0.0.0.0:4567']"  # the container's port, every interface in the task
    assert settings["control_socket_disable"] == "True"


def test_bind_follows_the_environment(tmp_path):
    assert resolved_config(tmp_path, None, GUNICORN_BIND="127.0.0.1:4999")["bind"] == "['127.0.0.1:4999']"


def test_access_log_format_is_one_json_object_without_the_query_string(tmp_path):
    fmt = resolved_config(tmp_path, None)["access_log_format"]
    fields = json.loads(fmt)
    assert {"method", "path", "status", "duration_ms"} <= set(fields)
    assert "%(q)s" not in fmt and "%(r)s" not in fmt and "%(U)s" in fmt  # search terms are user data


def test_a_real_gunicorn_serves_logs_json_and_stops_on_sigterm(tmp_path):
    port, proc = start_gunicorn(
        tmp_path, env={"GUNICORN_ACCESSLOG": "-"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_200(proc, port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health-check?term=secret", timeout=2) as r:
            assert json.load(r) == {"success": True}
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=ECS_STOP_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(entry["path"] == "/api/health-check" and entry["status"] == "200" for entry in lines), out
    assert "secret" not in out


def test_a_missing_setting_stops_gunicorn_once_in_one_line_before_it_listens():
    """Checked in the master: a worker failing to boot with exit 1 is restarted by gunicorn forever (a container
    that never exits and never answers)."""
    from cruddur_kit.local.moto import free_port

    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "CONNECTION_URL", "AWS_COGNITO", "PG"))
    }
    env.update(GUNICORN_BIND=f"127.0.0.1:{free_port()}", GUNICORN_WORKERS="1")
    result = subprocess.run(
        [str(GUNICORN), "-c", str(CONF), "--chdir", str(BACKEND), "wsgi:app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if "[INFO] Starting gunicorn" not in line] == [
        "backend-flask: missing required setting CONNECTION_URL: set it in the environment"
    ]


def test_sigterm_answers_connections_still_in_the_accept_queue(tmp_path):
    """Connections the kernel has completed but no worker has accepted yet are answered, not reset.

    The worker is frozen (SIGSTOP) so the clients' connections can only wait in the accept queue; then the
    master gets SIGTERM (as from ECS) and the worker is thawed. Stock gthread resets every one of them.
    """
    port, proc = start_gunicorn(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    clients = []
    try:
        wait_for_200(proc, port)
        worker = int(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])
        os.kill(worker, signal.SIGSTOP)
        for _ in range(20):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            client.sendall(b"GET /api/health-check HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            clients.append(client)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)  # the master closes its copy of the listener and signals the (frozen) worker
        os.kill(worker, signal.SIGCONT)
        # Independent clients, each closing once answered: gunicorn lingers (up to 2 s, on its event loop)
        # for a client's FIN after a `Connection: close` answer, so reading them one by one would stall.
        with ThreadPoolExecutor(len(clients)) as readers:
            answers = list(readers.map(read_all, clients))
        proc.wait(timeout=ECS_STOP_TIMEOUT)
    finally:
        for client in clients:
            client.close()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 20
    assert proc.returncode == 0


PID_APP = """
import os

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [('{"pid": %d}' % os.getpid()).encode()]
"""


@pytest.fixture
def two_workers(tmp_path):
    """A real gunicorn with 2 workers whose app answers with the worker's pid: (port, master process)."""
    port, proc = start_gunicorn(tmp_path, PID_APP, workers=2, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_200(proc, port)
        deadline, seen = time.monotonic() + 20, set()
        while len(seen) < 2:  # both workers booted and answering (each takes new connections in turn)
            assert time.monotonic() < deadline, "the second worker did not answer"
            conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(2)]
            seen |= {served_by(c) for c in conns}
            for c in conns:
                c.close()
        yield port, proc
    finally:
        terminate(proc, timeout=ECS_STOP_TIMEOUT)


def served_by(conn: http.client.HTTPConnection) -> int:
    """The pid of the worker that answers a request on this (kept-alive) connection."""
    conn.request("GET", "/")
    return json.loads(conn.getresponse().read())["pid"]


def open_sockets(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:
            pass  # closed since the listing
    return count


def test_connections_opened_at_once_are_split_evenly_across_the_workers(two_workers):
    """32 keep-alive clients connecting at once (wrk, an ALB after a deploy) get 16 connections per worker.
    Stock gthread leaves the split to whichever worker the kernel wakes first: 19/13 here when idle, 24/8
    and 32/0 under load, a split that then lasts as long as the connections (the journal has the figures)."""
    port, _ = two_workers
    for _ in range(5):
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(32)]
        barrier = threading.Barrier(len(conns))
        try:
            with ThreadPoolExecutor(len(conns)) as pool:
                pids = list(pool.map(lambda conn, ready=barrier: ready.wait() and 0 or served_by(conn), conns))
        finally:
            for conn in conns:
                conn.close()
        split = sorted(collections.Counter(pids).values())
        assert len(split) == 2 and split[1] <= 17, split
        time.sleep(0.2)  # the workers see the 32 closes before the next burst


def test_a_new_connection_is_still_served_when_the_worker_holding_fewer_is_stuck(two_workers):
    """The busier worker lets a new connection wait for the idler one only briefly, then takes it: a stuck
    worker (here frozen with SIGSTOP) costs new clients milliseconds, not an answer."""
    port, proc = two_workers
    first, second = (http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(2))
    try:
        idle, busy = served_by(first), served_by(second)
        assert idle != busy  # one connection each
        held = open_sockets(idle)
        first.close()  # the idle worker now holds none, the busy one still holds `second`
        deadline = time.monotonic() + 10
        while open_sockets(idle) >= held:
            assert time.monotonic() < deadline, "the worker never closed its end"
            time.sleep(0.01)
        os.kill(idle, signal.SIGSTOP)
        try:
            for _ in range(5):
                started = time.monotonic()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    assert json.load(r)["pid"] == busy
                assert time.monotonic() - started < 1.0
        finally:
            os.kill(idle, signal.SIGCONT)
    finally:
        first.close()
        second.close()


def wait_for_200(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health-check", timeout=2) as r:
                assert r.status == 200
            return
        except OSError:
            assert proc.poll() is None, "gunicorn exited before answering"
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.1)


def read_all(client: socket.socket) -> bytes:
    """The whole response, or b"reset" when the server reset the connection; then closes the socket."""
    chunks = []
    try:
        while chunk := client.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        return b"reset"
    finally:
        client.close()
    return b"".join(chunks)
