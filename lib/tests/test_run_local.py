"""bin/ecs/run-local, run as a process under a real Docker engine against a real local stack (PostgreSQL, the
AWS emulator, provisioned as make up does): the real task definition (aws/json/task-definitions/
backend-flask.json) for the smoke check, the sidecar and the logs; small fixture task definitions
(lib/tests/fixtures/task-definitions) for the lifecycle rules, where the real one would be slow.

Every test ends with no container of run-local's left on the engine."""

from __future__ import annotations

import json
import re
import signal
import socket
import uuid

import boto3
import pytest
from botocore.config import Config

from cruddur_kit import REPO_ROOT
from cruddur_kit.ecs.local_task import network
from processes import Process, run_local, task_containers

pytestmark = [pytest.mark.container, pytest.mark.usefixtures("docker_engine")]
FIXTURES = REPO_ROOT / "lib" / "tests" / "fixtures" / "task-definitions"
REAL = REPO_ROOT / "aws" / "json" / "task-definitions" / "backend-flask.json"


def owned_by(client, pids: set[int]) -> list:
    """The containers of run-local processes with these pids (never another test run's, on a shared engine)."""
    return [
        c
        for c in task_containers(client)
        if c.labels.get("cruddur.run-local.owner", "").rpartition(":")[2] in {str(p) for p in pids}
    ]


@pytest.fixture(autouse=True)
def nothing_left(docker_engine):
    before = len(Process.started)
    yield
    ours = Process.started[before:]
    del Process.started[before:]
    for process in ours:
        process.kill()  # a test that failed half-way
    left = owned_by(docker_engine, {p.proc.pid for p in ours})
    for container in left:
        container.remove(force=True)
    assert not left, f"run-local left containers behind: {[c.name for c in left]}"


def aws(stack, service):
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=stack["server"].endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def error_line(process) -> str:
    errors = [line for line in process.err if line.startswith("error:")]
    assert len(errors) == 1 and process.err[-1] == errors[0], process.text()
    return errors[0]


# -- the real task definition --------------------------------------------------------------------------------


def test_smoke_passes_with_make_up_running(built, tmp_path):
    """The issue's check as a developer runs it: `make up` in one terminal, `bin/ecs/run-local --smoke` in
    another with nothing exported (the settings come from make up's .local/env)."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from test_make_up import Up

    from cruddur_kit.local.moto import free_port
    from cruddur_kit.local.stack import LOCAL_OTLP_HEADERS

    local_dir = Path(tempfile.mkdtemp(prefix="cruddur-up-"))  # not under tmp_path: PostgreSQL runs unprivileged
    up = Up(local_dir, {"API_PORT": free_port(), "CRUDDUR_AWS_PORT": free_port(), "CRUDDUR_PG_PORT": free_port()})
    try:
        up.wait_healthy()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL", "OTEL_"))}
        run = run_local("--smoke", env={**env, "CRUDDUR_LOCAL_DIR": str(local_dir)})
        code = run.finish(timeout=300)
    finally:
        up.interrupt()
        shutil.rmtree(local_dir, ignore_errors=True)
    assert code == 0, run.text()
    assert run.out[-1] == "smoke: passed"
    assert f"settings   the local stack's (make up): AWS_ENDPOINT_URL={up.endpoint}" in run.stderr
    assert re.search(
        r"^OK +otel-collector: cruddur-local/adot-collector:\w+ \(stand-in: public\.ecr\.aws/"
        r"aws-observability/aws-otel-collector:v[\d.]+ cannot be pulled here\)$",
        run.stdout,
        re.M,
    ), run.stdout
    assert re.search(
        r"^OK +container backend-flask HEALTHY after [\d.]+s \(CMD python -I -S "
        r"/backend-flask/bin/health-check\)$",
        run.stdout,
        re.M,
    ), run.stdout
    assert "GET /api/health-check via 127.0.0.1:" in run.stdout
    for secret in (up.pg_url, LOCAL_OTLP_HEADERS, LOCAL_OTLP_HEADERS.split("=", 1)[1]):
        assert secret not in run.stdout + run.stderr


def test_smoke_names_a_health_check_whose_script_is_missing(local_stack, built, tmp_path):
    broken = tmp_path / "backend-flask.json"
    text = REAL.read_text()
    assert "/backend-flask/bin/health-check" in text
    broken.write_text(text.replace("/backend-flask/bin/health-check", "/backend-flask/bin/no-such-check"))
    run = run_local("--smoke", "--task-definition", str(broken), env=local_stack["env"])
    code = run.finish(timeout=300)
    assert code == 1, run.text()
    assert run.out[-1] == "smoke: FAILED: Task failed container health checks (backend-flask)"
    ng = next(line for line in run.out if line.startswith("NG"))
    assert "backend-flask's health check" in ng and "CMD python -I -S /backend-flask/bin/no-such-check" in ng
    assert "can't open file '/backend-flask/bin/no-such-check'" in ng
    assert "last log lines of backend-flask:" in run.stdout and "Booting worker" in run.stdout


@pytest.fixture
def otlp_receiver():
    from testkit import serve

    received = []

    def respond(request):
        received.append(request)
        return 200, b"", "application/x-protobuf"

    with serve(respond) as url:
        yield url, received


def test_a_request_in_the_task_reaches_the_sidecar_the_emulator_and_the_logs(
    local_stack, built, otlp_receiver, docker_engine
):
    """One plain run of the real task definition with TRACING_SIDECAR=xray-daemon (the X-Ray daemon stays
    selectable until its end of support): the app's segment reaches the X-Ray stand-in over the task's
    localhost with the trace id of the app's log line; the OTLP exporter reaches a collector on the host's
    loopback through the relays; the logs land in CloudWatch where bin/ecs/logs reads them; secrets are in no
    container's argv and credentials in no container's environment; Ctrl-C stops it as ECS does."""
    otlp_url, spans = otlp_receiver
    port = network.free_port()
    env = {**local_stack["env"], "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url, "TRACING_SIDECAR": "xray-daemon"}
    run = run_local("--port-override", f"{port}:4567", env=env)
    try:
        task_id = run.wait_for(r"^task +backend-flask (\w{32}) from aws/json/task-definitions/backend-flask.json")[1]
        run.wait_for(r"^healthy +backend-flask", timeout=180)
        root = f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"
        import urllib.request

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/activities/home", headers={"X-Amzn-Trace-Id": f"Root={root};Sampled=1"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200 and json.load(response)
        run.wait_for(rf"^xray +\| xray-daemon stand-in: segment trace_id={root} id=\w+ name=backend-flask$")
        logged = run.wait_for(r'^backend-flask \| (\{.*"route": "/api/activities/home".*\})$')
        assert json.loads(logged[1])["xray_trace_id"] == root
        # The stand-in answers what it received, asked from inside the task (its localhost is the app's).
        app = next(
            c
            for c in task_containers(docker_engine, task=task_id)
            if c.labels["cruddur.run-local.container"] == "backend-flask"
        )
        asked = app.exec_run(
            [
                "python",
                "-c",
                "import urllib.request; print(urllib.request.urlopen("
                "'http://127.0.0.1:2000/segments', timeout=5).read().decode())",
            ]
        )
        assert asked.exit_code == 0 and root in asked.output.decode()
        # What `docker inspect` shows: no secret in any argv, no AWS keys in any environment.
        for container in task_containers(docker_engine, task=task_id):
            config = container.attrs["Config"]
            argv = " ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or []) + container.attrs["Args"])
            assert not any(secret in argv for secret in local_stack["secrets"])
            assert not any(
                e.startswith(("AWS_SECRET_ACCESS_KEY=", "AWS_ACCESS_KEY_ID=", "AWS_SESSION_TOKEN="))
                for e in config.get("Env") or []
            ), container.name
        run.signal(signal.SIGINT)
        code = run.finish(timeout=120)
    finally:
        run.kill()
    assert code == 0, run.text()
    assert "task       stopped: Task stopped by user (SIGINT); exit codes: backend-flask 0, xray 0" in run.stderr
    # dependsOn reversed: the app (which depends on xray) is stopped before the sidecar.
    assert run.stderr.index("stopping   backend-flask") < run.stderr.index("stopping   xray")
    # The app's spans reached the collector on the host's loopback, through the task's relay.
    assert any(r.path == "/v1/traces" for r in spans), "no OTLP export reached the host"
    # CloudWatch Logs: the stream the awslogs options name, and bin/ecs/logs reading it.
    stream = f"backend-flask/backend-flask/{task_id}"
    events = aws(local_stack, "logs").get_log_events(logGroupName="/cruddur/backend-flask", logStreamName=stream)
    assert any(root in e["message"] for e in events["events"]), "the app's line is not in CloudWatch Logs"
    assert_bin_ecs_logs_reads(local_stack, task_id, root)
    for secret in local_stack["secrets"]:
        assert secret not in run.stdout + run.stderr


def test_the_adot_sidecar_takes_the_apps_segment_and_spans_and_alone_holds_the_honeycomb_key(
    local_stack, built, docker_engine
):
    """The real task definition as written (TRACING_SIDECAR=adot, the default): the app's X-Ray segment (2000/udp)
    and its OTLP spans (4318) reach the ADOT collector's stand-in over the task's localhost, the collector turns
    HEALTHY by the image's /healthcheck, and the Honeycomb key is in the collector's environment only."""
    ports = {name: network.free_port() for name in ("app", "otlp-grpc", "otlp-http")}
    xray_port = network.free_port("udp")
    run = run_local(
        "--port-override",
        f"{ports['app']}:4567",
        "--port-override",
        f"{xray_port}:2000/udp",
        "--port-override",
        f"{ports['otlp-grpc']}:4317",
        "--port-override",
        f"{ports['otlp-http']}:4318",
        env=local_stack["env"],
    )
    try:
        task_id = run.wait_for(r"^task +backend-flask (\w{32}) from aws/json/task-definitions/backend-flask.json")[1]
        run.wait_for(
            r"^otel-collector +\| adot-collector stand-in: \$\{env:HONEYCOMB_API_KEY\} is set "
            r"\(value not printed\)$"
        )
        healthy = set()  # in either order: the collector's first check (15 s) usually comes before the app's (30 s)
        while healthy != {"backend-flask", "otel-collector"}:
            healthy.add(run.wait_for(r"^healthy +(backend-flask|otel-collector) ", timeout=180)[1])
        root = f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"
        import urllib.request

        request = urllib.request.Request(
            f"http://127.0.0.1:{ports['app']}/api/activities/home",
            headers={"X-Amzn-Trace-Id": f"Root={root};Sampled=1"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        run.wait_for(
            rf"^otel-collector +\| adot-collector stand-in: segment trace_id={root} id=\w+ "
            r"name=backend-flask$"
        )
        run.wait_for(r"^otel-collector +\| adot-collector stand-in: otlp /v1/traces \d+ bytes", timeout=60)
        key = local_stack["secrets"][2]
        for container in task_containers(docker_engine, task=task_id):
            name = container.labels["cruddur.run-local.container"]
            env = container.attrs["Config"].get("Env") or []
            holds_key = any(key in e or e.startswith("HONEYCOMB_API_KEY=") for e in env)
            assert holds_key == (name == "otel-collector"), name
        run.signal(signal.SIGINT)
        code = run.finish(timeout=120)
    finally:
        run.kill()
    assert code == 0, run.text()
    assert "exit codes: backend-flask 0, otel-collector 0" in run.stderr
    for secret in local_stack["secrets"]:
        assert secret not in run.stdout + run.stderr


def assert_bin_ecs_logs_reads(stack, task_id: str, root: str) -> None:
    """bin/ecs/logs finds the service's task definition through the service: register the rendered one and
    create the service in the emulator (as bin/backend/deploy would), then read."""
    from cruddur_kit import config
    from cruddur_kit import spec as speclib
    from processes import Process

    env = stack["env"]
    variables = config.Variables(
        {"IMAGE_TAG": "local"},
        env={**env, "FRONTEND_URL": "x", "BACKEND_URL": "x"},
        client_factory=lambda name: aws(stack, name),
    )
    ecs = aws(stack, "ecs")
    ecs.create_cluster(clusterName="cruddur")
    td = speclib.task_definition(speclib.get("backend-flask"), variables)
    arn = ecs.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"]
    subnet = aws(stack, "ec2").describe_subnets()["Subnets"][0]["SubnetId"]  # the emulator's default VPC
    ecs.create_service(
        cluster="cruddur",
        serviceName="backend-flask",
        taskDefinition=arn,
        desiredCount=0,
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}},
    )
    logs = Process([str(REPO_ROOT / "bin" / "ecs" / "logs"), "--since", "1h"], env)
    assert logs.finish(timeout=60) == 0, logs.text()
    assert any(line.split()[1] == task_id[:8] and root in line for line in logs.out if len(line.split()) > 2), (
        logs.text()
    )


# -- the lifecycle rules, on small task definitions --------------------------------------------------------------


def fixture_env(stack, built, **extra) -> dict:
    return {**stack["env"], "LOCAL_TEST_IMAGE": built["base"], **{k: str(v) for k, v in extra.items()}}


def test_depends_on_conditions_order_the_starts(local_stack, built):
    run = run_local(
        "--task-definition", str(FIXTURES / "depends-on.json"), env=fixture_env(local_stack, built, INIT_EXIT=0)
    )
    try:
        run.wait_for(r"^app +\| app started$", timeout=120)
        run.signal(signal.SIGTERM)
        code = run.finish(timeout=120)
    finally:
        run.kill()
    assert code == 0, run.text()
    err = run.stderr
    started_app = err.index("starting   app (dependsOn init SUCCESS, db HEALTHY, side START: met)")
    assert err.index("exited     init with 0 (not essential)") < started_app
    assert err.index("healthy    db (CMD test -e /tmp/ready)") < started_app
    assert err.index("starting   side") < started_app
    assert "task       stopped: Task stopped by user (SIGTERM)" in err
    assert err.index("stopping   app") < err.index("stopping   db")  # dependents stop first


def test_a_dependency_that_fails_its_condition_stops_the_task(local_stack, built):
    run = run_local(
        "--task-definition", str(FIXTURES / "depends-on.json"), env=fixture_env(local_stack, built, INIT_EXIT=4)
    )
    code = run.finish(timeout=120)
    assert code == 1, run.text()
    assert (
        "blocked    app cannot start: its dependency init exited with 4 before it was SUCCESS "
        "(dependsOn init SUCCESS)" in run.stderr
    )
    assert "task       stopped: Essential container app cannot start" in run.stderr
    assert "app | app started" not in run.stdout


def test_an_essential_container_exiting_stops_the_task_with_its_exit_code(local_stack, built):
    run = run_local(
        "--task-definition", str(FIXTURES / "lifecycle.json"), env=fixture_env(local_stack, built, APP_EXIT=3)
    )
    code = run.finish(timeout=120)
    assert code == 3, run.text()
    assert "task       stopping: Essential container in task exited (app exited with 3)" in run.stderr
    assert re.search(
        r"^task +stopped: Essential container in task exited; exit codes: app 3, stubborn 137$", run.stderr, re.M
    ), run.stderr


def test_stop_timeout_user_and_read_only_root(local_stack, built):
    run = run_local(
        "--task-definition", str(FIXTURES / "lifecycle.json"), env=fixture_env(local_stack, built, APP_EXIT=-1)
    )
    try:
        # user 4321:4321 and a read-only root (EROFS, errno 30), as the task definition says
        run.wait_for(r"^app +\| uid=4321 gid=4321 write=errno 30$", timeout=120)
        run.wait_for(r"^stubborn +\| stubborn up$")
        run.signal(signal.SIGINT)
        code = run.finish(timeout=120)
    finally:
        run.kill()
    assert code == 0, run.text()
    # SIGTERM first, SIGKILL after its stopTimeout
    assert "stubborn | got SIGTERM, staying" in run.stdout
    assert "killed     stubborn: exit 137, still running after its stopTimeout of 2s (SIGKILL)" in run.stderr
    assert re.search(r"^stopped +app: exit 0 ", run.stderr, re.M)


def test_the_containers_of_a_killed_run_local_are_removed_by_the_next_one(local_stack, built, docker_engine):
    first = run_local(
        "--task-definition", str(FIXTURES / "lifecycle.json"), env=fixture_env(local_stack, built, APP_EXIT=-1)
    )
    first.wait_for(r"^app +\| uid=4321", timeout=120)
    first.proc.kill()  # SIGKILL: no chance to clean up
    first.finish(timeout=30)
    assert owned_by(docker_engine, {first.proc.pid}), "the killed run-local left nothing to clean up"
    second = run_local(
        "--task-definition",
        str(FIXTURES / "lifecycle.json"),
        "--image",
        "app=127.0.0.1:9/nothing:1",
        env=fixture_env(local_stack, built, APP_EXIT=-1),
    )
    assert second.finish(timeout=60) == 1
    assert (
        f"cleanup    removed the containers left by run-local process(es) {first.proc.pid} that died" in second.stderr
    )
    assert not owned_by(docker_engine, {first.proc.pid})


# -- bad input: one line naming the problem and the fix, nothing left running ---------------------------------------


def test_no_engine_is_one_line(local_stack):
    run = run_local("--smoke", env={**local_stack["env"], "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert run.finish(timeout=60) == 1
    assert error_line(run) == (
        "error: no Docker engine answers at unix:///nonexistent/docker.sock: start one (as "
        "root: bin/dev/provision-docker; or Docker Desktop, or `systemctl start docker`)"
    )


def test_an_unknown_service_is_one_line(local_stack):
    run = run_local("--service", "nope", env=local_stack["env"])
    assert run.finish(timeout=60) == 1
    assert error_line(run).startswith("error: no service 'nope' in aws/json/services (known: backend-flask")


def test_an_image_neither_local_nor_pullable_is_one_line(local_stack, built):
    run = run_local("--smoke", "--image", "otel-collector=127.0.0.1:9/nothing:1", env=local_stack["env"])
    assert run.finish(timeout=60) == 1
    assert error_line(run) == (
        "error: container otel-collector: --image 127.0.0.1:9/nothing:1 is neither local nor "
        "pullable: build or load it first (make image builds the local ones)"
    )


def test_a_missing_ssm_parameter_is_one_line(local_stack, built):
    ssm = aws(local_stack, "ssm")
    name = "/cruddur/backend-flask/HONEYCOMB_API_KEY"  # the collector sidecar's secret
    ssm.delete_parameter(Name=name)
    try:
        run = run_local("--smoke", env=local_stack["env"])
        assert run.finish(timeout=60) == 1
    finally:
        ssm.put_parameter(Name=name, Value=local_stack["secrets"][2], Type="SecureString")
    assert error_line(run) == (
        f"error: container otel-collector: secret HONEYCOMB_API_KEY: SSM parameter "
        f"{name} does not exist (ECS would stop the task: ResourceInitializationError: unable "
        "to pull secrets): run bin/ssm/put-params (for the local stack, make up writes them)"
    )


def test_a_port_already_taken_is_one_line(local_stack, built):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = run_local("--port-override", f"{port}:4567", env=local_stack["env"])
        assert run.finish(timeout=60) == 1
    assert error_line(run) == (
        f"error: port {port}/tcp on 127.0.0.1 is taken (for backend-flask:4567): stop what "
        "listens there, or pass --port-override OTHER:4567"
    )
