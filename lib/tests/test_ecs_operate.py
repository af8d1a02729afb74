"""bin/ecs/{status,run-task,logs,connect,rollback,scale} as processes against a fresh emulator.

The emulator runs the service's own tasks; where a command needs tasks in a particular state (a stop
reason the emulator would not produce) this module seeds them: run_task with group "service:backend-flask"
(what ECS sets on service tasks) and stop_task with a reason. Container exit codes other than 0 cannot be
produced by moto: that case drives
cruddur_kit.ecs.tasks.wait_task against one stubbed describe_tasks answer (botocore Stubber).
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

import ecs_world as w
from cruddur_kit import REPO_ROOT
from cruddur_kit.ecs import execute, tasks
from cruddur_kit.ecs.clock import Deadline
from testkit import stubbed_client

GROUP = "/cruddur/backend-flask"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = w.start(tmp_path_factory.mktemp("ecs-operate"))
    w.prepare(server, tags=("aaa111", "bbb222"))
    env = w.environment(server)
    proc = w.run("backend/deploy", "--tag", "aaa111", "--interval", "0.2", env=env)
    assert proc.returncode == 0, proc.stderr
    yield server, env
    server.stop()


def _ecs(server):
    return w.client(server, "ecs")


def _service(server):
    return _ecs(server).describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]


def _seed_task(server, stop_reason=None):
    """A task as ECS would start it for the service, in the state the test needs."""
    ecs = _ecs(server)
    svc = _service(server)
    arn = ecs.run_task(
        cluster="cruddur",
        taskDefinition=svc["taskDefinition"],
        group="service:backend-flask",
        launchType="FARGATE",
        networkConfiguration=svc["networkConfiguration"],
    )["tasks"][0]["taskArn"]
    if stop_reason:
        ecs.stop_task(cluster="cruddur", task=arn, reason=stop_reason)
    return arn


def test_status_shows_service_deployments_tasks_and_targets(world):
    server, env = world
    w.set_task_transitions(server, "manual", 1000)  # seeded tasks stay RUNNING
    running = _seed_task(server)
    stopped = _seed_task(server, stop_reason="Task failed ELB health checks in (target-group cruddur-backend-flask)")
    tg = w.client(server, "elbv2").describe_target_groups(Names=["cruddur-backend-flask"])["TargetGroups"][0]
    w.client(server, "elbv2").register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "10.0.0.9", "Port": 4567}]
    )

    proc = w.run("ecs/status", env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.splitlines()[0] == "service      backend-flask  (ACTIVE, cluster cruddur)"
    assert "tasks        desired 2, running 2, pending 0" in out
    assert "  PRIMARY  COMPLETED    backend-flask:1" in out
    assert f"  {tasks.short_id(running)} RUNNING" in out
    assert f"  {tasks.short_id(stopped)} STOPPED" in out
    assert "stopped: Task failed ELB health checks in (target-group cruddur-backend-flask)" in out
    assert "targets      cruddur-backend-flask" in out and "10.0.0.9:4567" in out

    doc = json.loads(w.run("ecs/status", "--json", env=env).stdout)
    assert doc["service"] == "backend-flask" and doc["deployments"][0]["rolloutState"] == "COMPLETED"
    assert {t["lastStatus"] for t in doc["tasks"]} >= {"RUNNING", "STOPPED"}


def test_stopped_reasons_are_grouped_with_counts_and_reported_once(world):
    server, _ = world
    watcher = tasks.StoppedWatcher(_ecs(server), "cruddur", "backend-flask")
    watcher.prime()
    for reason in ("CannotPullContainerError: pull image manifest has been retried 5 time(s)",) * 2 + (
        "ResourceInitializationError: unable to pull secrets or registry auth",
    ):
        _seed_task(server, stop_reason=reason)
    _ecs(server).run_task(
        cluster="cruddur",
        taskDefinition="backend-flask:1",
        launchType="FARGATE",
        networkConfiguration=_service(server)["networkConfiguration"],
    )  # a one-off, not the service's
    assert dict(watcher.poll()) == {
        "CannotPullContainerError: pull image manifest has been retried 5 time(s)": 2,
        "ResourceInitializationError: unable to pull secrets or registry auth": 1,
    }
    assert dict(watcher.poll()) == {}  # already reported


def test_run_task_waits_and_exits_with_the_container_exit_code(world):
    server, env = world
    w.set_task_transitions(server, "manual", 2)  # the task is seen RUNNING before it stops
    proc = w.run("ecs/run-task", "--interval", "0.1", "--", "python", "-m", "cruddur.manage", "migrate", env=env)
    assert proc.returncode == 0, proc.stderr
    arn = proc.stdout.strip()
    assert arn.startswith("arn:aws:ecs:us-east-1:123456789012:task/cruddur/")
    states = [line.split(": ")[-1] for line in proc.stderr.splitlines() if line.startswith("task ") and ": " in line]
    assert states[0] == "RUNNING" and "STOPPED" in states
    assert proc.stderr.strip().endswith("container backend-flask exited with 0")
    task = _ecs(server).describe_tasks(cluster="cruddur", tasks=[arn])["tasks"][0]
    assert task["overrides"]["containerOverrides"][0]["command"] == ["python", "-m", "cruddur.manage", "migrate"]
    svc_net = _service(server)["networkConfiguration"]["awsvpcConfiguration"]
    subnet = next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "subnetId")
    assert subnet in svc_net["subnets"]  # the service's network


def test_run_task_tolerates_a_task_that_is_already_stopped_when_first_seen(world):
    server, env = world
    w.set_task_transitions(server, "immediate")
    proc = w.run("ecs/run-task", "--interval", "0.1", "--", "true", env=env)
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("task ") and line.endswith("STOPPED")]
    assert "RUNNING" not in proc.stderr


def test_run_task_timeout_is_bounded_and_named(world):
    server, env = world
    w.set_task_transitions(server, "manual", 1000)
    proc = w.run("ecs/run-task", "--timeout", "2", "--interval", "0.2", "--", "sleep", "600", env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("timed out after 2s with the task still RUNNING")


@pytest.fixture
def stubbed_ecs():
    with stubbed_client("ecs") as client:
        yield client


def test_wait_task_returns_a_non_zero_exit_code(stubbed_ecs):
    # moto always reports exit code 0, so this answer is stubbed (shape from the DescribeTasks reference).
    stubbed_ecs.stub.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": "arn:t/1",
                    "lastStatus": "STOPPED",
                    "stoppedReason": "Essential container in task exited",
                    "containers": [{"name": "backend-flask", "exitCode": 3}, {"name": "xray", "exitCode": 0}],
                }
            ],
            "failures": [],
        },
    )
    said = []
    result = tasks.wait_task(
        stubbed_ecs,
        cluster="cruddur",
        arn="arn:t/1",
        container="backend-flask",
        deadline=Deadline(10),
        interval=0,
        say=said.append,
    )
    assert (result.exit_code, result.reason) == (3, "Essential container in task exited — backend-flask: exit code 3")
    assert said == ["task 1: STOPPED"]


def test_wait_task_names_why_a_task_never_ran(stubbed_ecs):
    stubbed_ecs.stub.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": "arn:t/2",
                    "lastStatus": "STOPPED",
                    "stopCode": "TaskFailedToStart",
                    "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
                    "containers": [{"name": "backend-flask"}],
                }
            ],
            "failures": [],
        },
    )
    result = tasks.wait_task(
        stubbed_ecs,
        cluster="cruddur",
        arn="arn:t/2",
        container="backend-flask",
        deadline=Deadline(10),
        interval=0,
        say=lambda _: None,
    )
    assert result.exit_code is None
    assert result.reason == "CannotPullContainerError: pull image manifest has been retried 5 time(s)"


def _put_logs(server, stream, *messages, at=None):
    logs = w.client(server, "logs")
    try:
        logs.create_log_group(logGroupName=GROUP)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    try:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = int((at or time.time()) * 1000)
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    )


def test_logs_by_container_task_and_since(world):
    server, env = world
    _put_logs(server, "backend-flask/backend-flask/aaaa1111", "GET /api/health-check 200", "booted")
    _put_logs(server, "backend-flask/backend-flask/bbbb2222", "other task")
    _put_logs(server, "backend-flask/backend-flask/cccc3333", "an hour ago", at=time.time() - 3600)
    _put_logs(
        server,
        "otel-collector/otel-collector/aaaa1111",
        "Everything is ready. Begin running and processing data. segments",
    )

    app = w.run("ecs/logs", env=env)
    assert app.returncode == 0, app.stderr
    messages = [line.split(" ", 2)[2] for line in app.stdout.splitlines()]
    assert messages[:2] == ["GET /api/health-check 200", "booted"] and "other task" in messages
    assert "an hour ago" not in messages and not any("segments" in m for m in messages)
    assert app.stdout.splitlines()[0].split(" ")[1] == "aaaa1111"

    assert "segments" in w.run("ecs/logs", "--container", "otel-collector", env=env).stdout
    only = w.run("ecs/logs", "--task", "bbbb2222", "--since", "2h", env=env).stdout
    assert [line.split(" ", 2)[2] for line in only.splitlines()] == ["other task"]
    assert "an hour ago" in w.run("ecs/logs", "--since", "2h", env=env).stdout

    bad = w.run("ecs/logs", "--since", "yesterday", env=env)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: --since 'yesterday' is not a duration (30s, 10m, 2h, 1d) or an ISO time"


def test_logs_follow_prints_lines_that_arrive_later(world):
    server, env = world
    _put_logs(server, "backend-flask/backend-flask/dddd4444", "before follow")
    proc = subprocess.Popen(
        [str(REPO_ROOT / "bin/ecs/logs"), "--task", "dddd4444", "--follow", "--timeout", "20", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().rstrip().endswith("before follow")
        _put_logs(server, "backend-flask/backend-flask/dddd4444", "after follow started")
        assert proc.stdout.readline().rstrip().endswith("after follow started")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_connect_builds_the_execute_command_call_and_explains_a_refusal(world):
    server, env = world
    w.set_task_transitions(server, "manual", 1000)
    arn = _seed_task(server)
    dry = w.run("ecs/connect", "--task", tasks.short_id(arn), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {
        "cluster": "cruddur",
        "task": arn,
        "container": "backend-flask",
        "interactive": True,
        "command": "/bin/sh",
    }
    # moto does not implement ExecuteCommand: the refusal must come back as one line with the usual causes
    real = w.run("ecs/connect", "--task", tasks.short_id(arn), "--command", "/bin/bash", env=env)
    assert real.returncode == 1
    [line] = real.stderr.strip().splitlines()
    assert line.startswith(f"error: ECS Exec refused for task {tasks.short_id(arn)} container backend-flask: ")
    assert line.endswith(
        "check that the service has enableExecuteCommand, the task role allows ssmmessages:*, "
        "and the task's ExecuteCommandAgent is RUNNING"
    )


def test_exec_arguments_follow_the_aws_cli():
    task = {
        "taskArn": "arn:aws:ecs:us-east-1:1:task/cruddur/abc",
        "lastStatus": "RUNNING",
        "enableExecuteCommand": True,
        "containers": [{"name": "backend-flask", "runtimeId": "abc-123"}],
    }
    args = execute.execute_args("cruddur", task, "backend-flask", "/bin/sh")
    assert args == {
        "cluster": "cruddur",
        "task": task["taskArn"],
        "container": "backend-flask",
        "interactive": True,
        "command": "/bin/sh",
    }
    assert execute.target("cruddur", task, "backend-flask") == "ecs:cruddur_abc_abc-123"
    session = {"sessionId": "s", "streamUrl": "wss://x", "tokenValue": "t"}
    assert execute.plugin_argv("smp", session, "us-east-1", "ecs:cruddur_abc_abc-123", "https://ssm") == [
        "smp",
        json.dumps(session),
        "us-east-1",
        "StartSession",
        "",
        '{"Target": "ecs:cruddur_abc_abc-123"}',
        "https://ssm",
    ]
    with pytest.raises(Exception, match="ECS Exec is off for task abc"):
        execute.execute_args("cruddur", {**task, "enableExecuteCommand": False}, "backend-flask", "/bin/sh")
    with pytest.raises(Exception, match="has no container 'web'"):
        execute.execute_args("cruddur", task, "web", "/bin/sh")


def test_rollback_goes_to_the_previous_revision(world):
    server, env = world
    up = w.run("backend/deploy", "--tag", "bbb222", "--no-wait", env=env)
    assert up.returncode == 0, up.stderr
    current = _service(server)["taskDefinition"].rsplit("/", 1)[-1]
    family, rev = current.split(":")
    in_flight = _service(server)["currentServiceDeployment"].rsplit("/", 1)[-1]
    dry = w.run("ecs/rollback", "--dry-run", env=env)  # a deployment in flight: rollback would stop it
    assert (
        dry.stdout.strip() == f"would update service-deployment         {in_flight}  (stop IN_PROGRESS with ROLLBACK)"
    )
    finished = w.run("backend/deploy", "--tag", "bbb222", "--interval", "0.2", env=env)  # waits for it to end
    assert finished.returncode == 0, finished.stderr
    dry = w.run("ecs/rollback", "--dry-run", env=env)  # nothing in flight: the previous revision
    assert (
        dry.stdout.strip()
        == f"would update ecs-service                backend-flask  ({current} -> {family}:{int(rev) - 1})"
    )
    assert _service(server)["taskDefinition"].endswith(current)
    back = w.run("ecs/rollback", "--interval", "0.2", env=env)
    assert back.returncode == 0, back.stderr
    assert _service(server)["taskDefinition"].endswith(f"{family}:{int(rev) - 1}")

    first = w.run("ecs/rollback", "--to", "backend-flask:1", "--interval", "0.2", env=env)
    assert first.returncode == 0, first.stderr
    nothing = w.run("ecs/rollback", "--dry-run", env=env)
    assert nothing.returncode == 1
    assert nothing.stderr.strip() == (
        "error: backend-flask:1 has no earlier ACTIVE revision to roll back to: "
        "deploy an older image with bin/backend/deploy --tag SHA"
    )


def test_scale_sets_the_desired_count_and_waits(world):
    server, env = world
    up = w.run("ecs/scale", "--count", "3", "--interval", "0.2", env=env)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == "updated      ecs-service                backend-flask  (desired 2 -> 3)"
    assert up.stderr.strip().splitlines()[-1] == "scale of backend-flask: 3 task(s) running"
    again = w.run("ecs/scale", "--count", "3", "--interval", "0.2", env=env)
    assert again.stdout.strip() == "unchanged    ecs-service                backend-flask  (desired 3)"

    w.client(server, "application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/cruddur/backend-flask",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    over = w.run("ecs/scale", "--count", "6", env=env)
    assert over.returncode == 1
    assert over.stderr.strip() == (
        "error: autoscaling keeps backend-flask between 1 and 4 tasks and would undo "
        "--count 6: change aws/json/scaling/backend-flask.json and run bin/aws/setup"
    )
    assert _service(server)["desiredCount"] == 3
