"""bin/ecs/run-local's rules without an engine: the checks ECS applies to what run-local honours, the
dependsOn / stop-order rules, which host-loopback addresses a task's settings name, the relays, and secrets
read from the emulator in every valueFrom form ECS accepts."""

from __future__ import annotations

import json
import socket
import threading
import uuid

import pytest

from cruddur_kit import REPO_ROOT, templates
from cruddur_kit.ecs.local_task import lifecycle, network, secrets
from cruddur_kit.ecs.local_task import plan as planlib
from cruddur_kit.ecs.local_task.lifecycle import RUNNING, STOPPED, State
from cruddur_kit.ecs.local_task.relay import Relay
from cruddur_kit.errors import KitError
from testkit import aws_client

REAL = REPO_ROOT / "aws" / "json" / "task-definitions" / "backend-flask.json"


def real_plan() -> planlib.TaskPlan:
    names = templates.placeholders(templates.load(REAL))
    return planlib.load(templates.render(REAL, dict.fromkeys(names, "x")), "backend-flask.json")


def td(*containers) -> dict:
    return {"family": "t", "cpu": "256", "memory": "512", "containerDefinitions": list(containers)}


def c(name, essential=True, **kw) -> dict:
    return {"name": name, "image": "i", "essential": essential, **kw}


def test_the_real_task_definition_reads_as_ecs_runs_it():
    plan = real_plan()
    app, collector = plan.container("backend-flask"), plan.container("otel-collector")
    assert app.essential and not collector.essential
    assert app.depends_on == [("otel-collector", "START")] and app.stop_timeout == 30
    assert app.health.command == ["CMD", "python", "-I", "-S", "/backend-flask/bin/health-check"]
    assert app.health.docker()["start_period"] == 60 * 10**9 and app.health.unhealthy_after == 60 + 30 * 4 + 5
    assert app.logs.stream("backend-flask", "abc") == "backend-flask/backend-flask/abc"
    assert [(p.container_port, p.protocol) for p in collector.ports] == [(2000, "udp"), (4317, "tcp"), (4318, "tcp")]
    assert collector.health.command == ["CMD", "/healthcheck"]
    assert plan.task_cpu == 256 and plan.task_memory == 1024


@pytest.mark.parametrize(
    "doc, complaint",
    [
        (
            td(c("a", dependsOn=[{"containerName": "b", "condition": "SUCCESS"}]), c("b")),
            "ECS allows COMPLETE and SUCCESS only on a non-essential container",
        ),
        (
            td(c("a", dependsOn=[{"containerName": "b", "condition": "HEALTHY"}]), c("b", essential=False)),
            "b has no healthCheck, so it can never be HEALTHY",
        ),
        (
            td(
                c("a", dependsOn=[{"containerName": "b", "condition": "START"}]),
                c("b", dependsOn=[{"containerName": "a", "condition": "START"}]),
            ),
            "dependsOn forms a cycle",
        ),
        (td(c("a", dependsOn=[{"containerName": "nope", "condition": "START"}])), "no such other container"),
        (td(c("a", dependsOn=[{"containerName": "b", "condition": "READY"}]), c("b")), "must be one of START"),
        (td(c("a", healthCheck={"command": ["CMD", "true"], "interval": 1})), "healthCheck.interval 1 is outside"),
        (td(c("a", healthCheck={"command": ["true"]})), "must start with CMD or CMD-SHELL"),
        (td(c("a", stopTimeout=300)), "stopTimeout 300 is outside Fargate's 0-120"),
        (td(c("a", essential=False)), "at least one essential container"),
    ],
)
def test_what_ecs_would_refuse_or_fail_on_is_one_line(doc, complaint):
    with pytest.raises(KitError, match=complaint):
        planlib.load(doc, "t.json")


def test_depends_on_conditions_and_stop_order():
    doc = td(
        c(
            "app",
            dependsOn=[
                {"containerName": "init", "condition": "SUCCESS"},
                {"containerName": "db", "condition": "HEALTHY"},
            ],
        ),
        c("init", essential=False, startTimeout=10),
        c("db", essential=False, healthCheck={"command": ["CMD", "true"]}),
    )
    plan = planlib.load(doc, "t.json")
    states = {n: State() for n in plan.names}
    assert lifecycle.startable(plan, states) == ["init", "db"]
    states["init"] = State(status=RUNNING, started_at=0.0)
    states["db"] = State(status=RUNNING, health="starting", started_at=0.0)
    assert lifecycle.startable(plan, states) == [] and lifecycle.never_starting(plan, states, 0.0, now=5.0) == []
    assert lifecycle.next_start_deadline(plan, states, 0.0) == 10.0
    assert lifecycle.never_starting(plan, states, 0.0, now=11.0) == [
        ("app", "its dependency init did not reach SUCCESS within its startTimeout of 10s")
    ]
    states["init"] = State(status=STOPPED, exit_code=0)
    states["db"].health = "healthy"
    assert lifecycle.startable(plan, states) == ["app"]
    states["init"].exit_code = 2
    assert lifecycle.never_starting(plan, states, 0.0, now=1.0) == [
        ("app", "its dependency init exited with 2 before it was SUCCESS (dependsOn init SUCCESS)")
    ]
    # shutdown reverses the dependencies: app first, then what it depends on
    assert lifecycle.stop_waves(plan, {"app", "init", "db"}) == [["app"], ["init", "db"]]
    assert lifecycle.stop_waves(real_plan(), {"backend-flask", "otel-collector"}) == [
        ["backend-flask"],
        ["otel-collector"],
    ]


def test_the_host_loopback_ports_a_tasks_settings_name():
    envs = {
        "app": {
            "CONNECTION_URL": "postgresql://u:p%40ss@127.0.0.1:5433/cruddur",
            "AWS_ENDPOINT_URL": "http://localhost:4566",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io",
            "PLAIN": "http://127.0.0.1/x",
            "REDIS": "redis://[::1]:6380/0",
            "NOT": "10.0.0.1:5432 and 127.0.0.10:1",
        },
        "side": {"UPSTREAM": "127.0.0.1:5433"},
    }
    assert network.loopback_ports(envs, task_ports={2000}) == {
        80: ["PLAIN of app"],
        4566: ["AWS_ENDPOINT_URL of app"],
        5433: ["CONNECTION_URL of app", "UPSTREAM of side"],
        6380: ["REDIS of app"],
    }


def test_a_relay_forwards_both_ways_and_refuses_who_it_must():
    with socket.create_server(("127.0.0.1", 0)) as upstream:

        def echo():
            conn, _ = upstream.accept()
            with conn:
                conn.sendall(b"echo:" + conn.recv(100))

        threading.Thread(target=echo, daemon=True).start()
        open_relay = Relay(("127.0.0.1", 0), upstream.getsockname()).start()
        closed_relay = Relay(("127.0.0.1", 0), upstream.getsockname(), allow=lambda ip: False).start()
        try:
            with socket.create_connection(open_relay.address, timeout=5) as client:
                client.sendall(b"hi")
                client.shutdown(socket.SHUT_WR)
                assert client.recv(100) == b"echo:hi"
            with socket.create_connection(closed_relay.address, timeout=5) as client:
                assert client.recv(100) == b""  # closed at once: not the task's address
        finally:
            open_relay.close()
            closed_relay.close()


def test_secrets_are_read_in_every_form_ecs_accepts(aws_env):
    ssm, sm = aws_client("ssm"), aws_client("secretsmanager")
    path, plain = f"/run-local-test/{uuid.uuid4().hex[:8]}/URL", f"run-local-plain-{uuid.uuid4().hex[:8]}"
    ssm.put_parameter(Name=path, Value="by-path", Type="SecureString")
    ssm.put_parameter(Name=plain, Value="by-name", Type="SecureString")
    arn = sm.create_secret(
        Name=f"run-local-{uuid.uuid4().hex[:8]}", SecretString=json.dumps({"username": "u", "password": "p@ss"})
    )["ARN"]
    account = "123456789012"
    doc = td(
        c(
            "app",
            secrets=[
                {"name": "A", "valueFrom": path},
                {"name": "B", "valueFrom": f"arn:aws:ssm:us-east-1:{account}:parameter{path}"},
                {"name": "C", "valueFrom": f"arn:aws:ssm:us-east-1:{account}:parameter/{plain}"},
                {"name": "D", "valueFrom": arn},
                {"name": "E", "valueFrom": f"{arn}:password::"},
            ],
        )
    )
    values = secrets.resolve(planlib.load(doc, "t.json"), lambda service, region: aws_client(service))
    assert values["app"] == {
        "A": "by-path",
        "B": "by-path",
        "C": "by-name",
        "D": json.dumps({"username": "u", "password": "p@ss"}),
        "E": "p@ss",
    }
    missing = td(c("app", secrets=[{"name": "X", "valueFrom": "/run-local-test/none"}]))
    with pytest.raises(
        KitError,
        match=r"^container app: secret X: SSM parameter /run-local-test/none does not exist "
        r"\(ECS would stop the task",
    ):
        secrets.resolve(planlib.load(missing, "t.json"), lambda service, region: aws_client(service))
