"""backend-flask/bin/health-check, run as the container runs it: a process, exit 0 healthy / 1 not.

Real servers on loopback: a stdlib HTTP server answering the health JSON (up), a closed port (down),
and a socket that accepts but never answers (hung).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import serve

SCRIPT = Path(__file__).resolve().parents[1] / "bin" / "health-check"
ECS_HEALTH_CHECK_TIMEOUT = 5


def run(env: dict, timeout: float = ECS_HEALTH_CHECK_TIMEOUT + 5, isolated: bool = False):
    base = {k: v for k, v in os.environ.items() if k not in ("HEALTH_CHECK_URL", "HEALTH_CHECK_TIMEOUT", "PORT")}
    # -I -S: no site-packages, no user env: proves the script needs the standard library only.
    argv = [sys.executable, "-I", "-S", str(SCRIPT)] if isolated else [str(SCRIPT)]
    return subprocess.run(argv, env={**base, **env}, capture_output=True, text=True, timeout=timeout)


def answering(status: int, body: bytes):
    return serve(lambda request: (status, body))


@pytest.fixture
def healthy():
    with answering(200, json.dumps({"success": True, "ver": 1}).encode()) as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture
def hung():
    """Accepts connections (the kernel completes the handshake) but never answers a byte."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_script_is_executable():
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")


def test_server_up_is_ok_exit_0(healthy):
    result = run({"PORT": str(healthy)})  # the default URL: 127.0.0.1:$PORT/api/health-check
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("[OK] ")


def test_server_up_with_the_standard_library_only(healthy):
    result = run({"HEALTH_CHECK_URL": f"http://127.0.0.1:{healthy}/api/health-check"}, isolated=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_server_down_is_bad_exit_1():
    port = closed_port()
    result = run({"PORT": str(port)})
    assert result.returncode == 1
    assert result.stdout.startswith("[BAD] ") and str(port) in result.stdout
    assert result.stderr == ""  # a reason on one line, never a traceback


def test_server_hung_is_bad_within_its_own_timeout(hung):
    result = run({"PORT": str(hung), "HEALTH_CHECK_TIMEOUT": "0.5"}, timeout=4)
    assert result.returncode == 1
    assert result.stdout.startswith("[BAD] ") and "0.5s" in result.stdout


def test_default_timeout_is_below_the_ecs_health_check_timeout(hung):
    # ECS kills a check at 5 s and counts it as a failure without a reason; ours must speak first.
    result = run({"PORT": str(hung)}, timeout=ECS_HEALTH_CHECK_TIMEOUT)
    assert result.returncode == 1 and result.stdout.startswith("[BAD] ")


@pytest.mark.parametrize(
    "status, body",
    [
        (500, b'{"error": "internal_error"}'),
        (503, b'{"ready": false}'),
        (200, b'{"success": false}'),
        (200, b"<html>not json</html>"),
        (200, b"[1, 2]"),
    ],
)
def test_anything_but_200_success_true_is_bad(status, body):
    with answering(status, body) as url:
        result = run({"HEALTH_CHECK_URL": f"{url}/api/health-check"})
    assert result.returncode == 1, result.stdout
    assert result.stdout.startswith("[BAD] ") and result.stderr == ""
