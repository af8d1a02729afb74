"""The bounded wait after a deploy: verdicts, progress, rollback detection, and the deadline.

The rollback and update cases drive cruddur_kit.ecs.watch in-process against describe_services /
list_tasks / describe_tasks answers stubbed with botocore's Stubber, shaped as the ECS API documents
them (the emulator rolls deployments back too since journal/2026-11-29-emulator-ecs-deployments.md; these
stay as the verdict's unit tests). The deadline is tested as a process against an emulator whose clock
stands still, so the service's tasks never get past PENDING.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import ANY

import ecs_world as w
from cruddur_kit.ecs import watch
from cruddur_kit.ecs.clock import Deadline
from cruddur_kit.errors import KitError
from testkit import stubbed_client

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/backend-flask:{}"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _dep(id_, status, rev, state, running=0, desired=2, pending=0, reason=None, failed=0):
    d = {
        "id": id_,
        "status": status,
        "taskDefinition": TD.format(rev),
        "rolloutState": state,
        "runningCount": running,
        "desiredCount": desired,
        "pendingCount": pending,
        "failedTasks": failed,
        "createdAt": T0,
    }
    if reason:
        d["rolloutStateReason"] = reason
    return d


def _svc(deployments, events):
    return {
        "services": [
            {
                "serviceName": "backend-flask",
                "status": "ACTIVE",
                "desiredCount": 2,
                "runningCount": sum(d["runningCount"] for d in deployments),
                "pendingCount": 0,
                "taskDefinition": deployments[0]["taskDefinition"],
                "deployments": deployments,
                "events": [
                    {"id": i, "createdAt": T0 + timedelta(seconds=n), "message": m} for n, (i, m) in enumerate(events)
                ],
            }
        ],
        "failures": [],
    }


def _stopped(arn, reason, exit_code):
    return {
        "taskArn": arn,
        "group": "service:backend-flask",
        "lastStatus": "STOPPED",
        "stoppedReason": reason,
        "taskDefinitionArn": TD.format(2),
        "containers": [{"name": "backend-flask", "exitCode": exit_code, "lastStatus": "STOPPED"}],
    }


@pytest.fixture
def ecs():
    with stubbed_client("ecs") as client:
        yield client


def _poll(ecs, svc, stopped_arns=(), described=None):
    ecs.stub.add_response("describe_services", svc, {"cluster": "cruddur", "services": ["backend-flask"]})
    ecs.stub.add_response(
        "list_tasks",
        {"taskArns": list(stopped_arns)},
        {"cluster": "cruddur", "serviceName": "backend-flask", "desiredStatus": "STOPPED"},
    )
    if described is not None:
        ecs.stub.add_response(
            "describe_tasks", {"tasks": described, "failures": []}, {"cluster": "cruddur", "tasks": ANY}
        )


def _wait(ecs, goal, seen=("old",)):
    said: list[str] = []
    verdict = watch.wait(
        ecs,
        cluster="cruddur",
        service="backend-flask",
        goal=goal,
        deadline=Deadline(60),
        interval=0,
        say=said.append,
        seen_events=set(seen),
    )
    return verdict, said


def test_a_circuit_breaker_rollback_is_a_failure_naming_the_reason(ecs):
    ecs.stub.add_response(
        "list_tasks",
        {"taskArns": ["arn:old-stopped"]},
        {"cluster": "cruddur", "serviceName": "backend-flask", "desiredStatus": "STOPPED"},
    )
    crashed = [_stopped(f"arn:t{i}", "Essential container in task exited", 1) for i in (1, 2)]
    _poll(
        ecs,
        _svc(
            [
                _dep("ecs-svc/2", "PRIMARY", 2, "IN_PROGRESS", failed=2),
                _dep("ecs-svc/1", "ACTIVE", 1, "COMPLETED", running=2),
            ],
            [("old", "steady state"), ("e1", "(service backend-flask) has started 2 tasks")],
        ),
        ["arn:old-stopped", "arn:t1", "arn:t2"],
        crashed,
    )
    _poll(
        ecs,
        _svc(
            [
                _dep("ecs-svc/3", "PRIMARY", 1, "IN_PROGRESS", running=2),
                _dep(
                    "ecs-svc/2", "ACTIVE", 2, "FAILED", reason="ECS deployment circuit breaker: tasks failed to start."
                ),
            ],
            [
                ("old", "steady state"),
                ("e1", "(service backend-flask) has started 2 tasks"),
                ("e2", "(service backend-flask) (deployment ecs-svc/2) deployment failed: tasks failed to start."),
            ],
        ),
        ["arn:old-stopped", "arn:t1", "arn:t2"],
    )
    verdict, said = _wait(ecs, watch.Goal(task_definition=TD.format(2), deployment_id="ecs-svc/2"))
    assert verdict.ok is False
    assert verdict.message == (
        "deployment ecs-svc/2 FAILED: ECS deployment circuit breaker: tasks failed to start.; "
        "the service runs backend-flask:1"
    )
    assert said == [
        "  event: (service backend-flask) has started 2 tasks",
        "rollout IN_PROGRESS: backend-flask:2 running 0/2, pending 0, 2 failed; 1 older deployment(s) with 2 running",
        "  stopped x2: Essential container in task exited — backend-flask: exit code 1",
        "  event: (service backend-flask) (deployment ecs-svc/2) deployment failed: tasks failed to start.",
        "rollout IN_PROGRESS: backend-flask:1 running 2/2, pending 0; 1 older deployment(s) with 0 running",
    ]
    assert "steady state" not in "\n".join(said)  # events from before the deploy are not news
    with pytest.raises(KitError, match=r"^deploy of backend-flask failed: deployment ecs-svc/2 FAILED: ECS deployment"):
        watch.conclude(verdict, "deploy of backend-flask", say=said.append)


def test_success_only_when_the_started_deployment_completes(ecs):
    ecs.stub.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": "cruddur", "serviceName": "backend-flask", "desiredStatus": "STOPPED"},
    )
    _poll(
        ecs,
        _svc(
            [
                _dep("ecs-svc/2", "PRIMARY", 2, "IN_PROGRESS", running=1, pending=1),
                _dep("ecs-svc/1", "ACTIVE", 1, "COMPLETED", running=2),
            ],
            [("old", "x")],
        ),
    )
    _poll(ecs, _svc([_dep("ecs-svc/2", "PRIMARY", 2, "COMPLETED", running=2)], [("old", "x")]))
    verdict, said = _wait(ecs, watch.Goal(task_definition=TD.format(2), deployment_id="ecs-svc/2"))
    assert verdict.ok is True
    assert verdict.message == "deployment ecs-svc/2 COMPLETED: backend-flask:2 runs 2/2"
    assert said[-1] == "rollout COMPLETED: backend-flask:2 running 2/2, pending 0"


@pytest.mark.parametrize(
    "deployments, expected",
    [
        # ECS rolled back and finished: a COMPLETED primary on the old revision is still a failure
        (
            [_dep("ecs-svc/3", "PRIMARY", 1, "COMPLETED", running=2)],
            "rolled back: the PRIMARY deployment runs backend-flask:1, not backend-flask:2 which this command deployed",
        ),
        # our deployment is still listed as FAILED
        (
            [
                _dep("ecs-svc/3", "PRIMARY", 1, "COMPLETED", running=2),
                _dep("ecs-svc/2", "ACTIVE", 2, "FAILED", reason="tasks failed to start."),
            ],
            "deployment ecs-svc/2 FAILED: tasks failed to start.; the service runs backend-flask:1",
        ),
        # our deployment is PRIMARY but FAILED (rollback disabled)
        (
            [_dep("ecs-svc/2", "PRIMARY", 2, "FAILED", reason="tasks failed to start.")],
            "deployment ecs-svc/2 FAILED: tasks failed to start.; the service runs backend-flask:2",
        ),
        # same revision, but a later deployment superseded ours
        (
            [_dep("ecs-svc/9", "PRIMARY", 2, "COMPLETED", running=2)],
            "superseded: deployment ecs-svc/9 replaced ecs-svc/2",
        ),
    ],
)
def test_judge_never_calls_a_rolled_back_deployment_a_success(deployments, expected):
    verdict = watch.judge(
        _svc(deployments, [("e", "last event")])["services"][0],
        watch.Goal(task_definition=TD.format(2), deployment_id="ecs-svc/2"),
    )
    assert verdict.ok is False
    assert verdict.message.startswith(expected)


def test_judge_waits_while_in_progress():
    svc = _svc([_dep("ecs-svc/2", "PRIMARY", 2, "IN_PROGRESS", running=1)], [])["services"][0]
    assert watch.judge(svc, watch.Goal(task_definition=TD.format(2), deployment_id="ecs-svc/2")).ok is None


@pytest.fixture(scope="module")
def stuck_world(tmp_path_factory):
    """An emulator whose clock stands still: a service's tasks stay PENDING and a deploy can only time out."""
    server = w.start(tmp_path_factory.mktemp("ecs-stuck"), CRUDDUR_EMULATOR_CLOCK="manual")
    w.prepare(server)
    yield server, w.environment(server)
    server.stop()


def test_the_wait_is_bounded_by_timeout_and_names_the_state(stuck_world):
    _, env = stuck_world
    proc = w.run("backend/deploy", "--tag", "aaa111", "--timeout", "3", "--interval", "0.5", env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: deploy of backend-flask failed: timed out after 3s: IN_PROGRESS · CANARY · stage SCALE_UP · "
        "traffic 0% to backend-flask:1 · alarms MONITORING (cruddur-backend-flask-5xx OK, "
        "cruddur-backend-flask-unhealthy-hosts OK) · backend-flask:1 (new) running 0/2, pending 2"
    )
    assert any(line.startswith("IN_PROGRESS · CANARY") for line in proc.stderr.splitlines()[1:-1])  # shown meanwhile
    assert 3 <= proc.elapsed < 3 + 12  # the bound holds: start-up and set-up calls are the slack

    # re-running with nothing to change is not a success while that rollout has not completed
    again = w.run("backend/deploy", "--tag", "aaa111", "--timeout", "1", "--interval", "0.5", env=env)
    assert again.returncode == 1
    assert "unchanged    ecs-service" in again.stdout
    assert again.stderr.strip().splitlines()[-1].startswith("error: deploy of backend-flask failed: timed out after 1s")
