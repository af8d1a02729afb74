"""A rehearsal against the emulator as a user runs it: bin/backend/deploy as a process, create then update,
each waited for to its real outcome; then an image whose tasks crash, which the circuit breaker rolls back
and the deploy reports as a failure with ECS's reason.

Before the emulator ran deployments (issue 13), every waited update read "rolled back" here. The clock
runs at 0.25 s per emulated minute so a Fargate start, ELB health checks and the 300 s default drain take
about two seconds.
"""

from __future__ import annotations

import pytest

import ecs_world as w
from emulator_world import control


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = w.start(tmp_path_factory.mktemp("rehearsal"), CRUDDUR_EMULATOR_MINUTE_SECONDS="0.25")
    w.prepare(server, tags=("aaa111", "bbb222", "ccc333"))
    yield server, w.environment(server)
    server.stop()


def _deploy(env, tag: str):
    return w.run("backend/deploy", "--tag", tag, "--interval", "0.2", "--timeout", "90", env=env, timeout=120)


def test_a_rehearsed_update_completes_and_a_crashing_image_is_rolled_back_by_the_circuit_breaker(world):
    server, env = world
    first = _deploy(env, "aaa111")
    assert first.returncode == 0, first.stderr
    second = _deploy(env, "bbb222")
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip().splitlines()[-1].endswith("SUCCESSFUL: backend-flask:2 runs 2/2")
    assert "has begun draining connections on 2 tasks." in second.stderr  # the old revision drained

    status, _ = control(
        server, "ecs/task-behaviours", {"behaviour": "crash", "image": "*/backend-flask:ccc333", "exitCode": 1}
    )
    assert status == 200
    bad = _deploy(env, "ccc333")
    assert bad.returncode == 1
    last = bad.stderr.strip().splitlines()[-1]
    # the wait reads the service deployment, which keeps the whole story whenever it looks
    assert last.startswith("error: deploy of backend-flask failed: service deployment ")
    assert " ROLLBACK_SUCCESSFUL: the deployment circuit breaker tripped (" in last
    assert "the service runs backend-flask:2" in last
    assert "stopped x" in bad.stderr and "Essential container in task exited" in bad.stderr  # reasons, as they came

    ecs = w.client(server, "ecs")
    svc = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    rollout = ecs.describe_service_deployments(serviceDeploymentArns=[svc["currentServiceDeployment"]])[
        "serviceDeployments"
    ][0]
    assert rollout["status"] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    assert rollout["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert svc["taskDefinition"].endswith("backend-flask:2")  # ECS put the service back on the last good one
    stopped = ecs.list_tasks(cluster="cruddur", serviceName="backend-flask", desiredStatus="STOPPED")["taskArns"]
    crashed = [
        t
        for t in ecs.describe_tasks(cluster="cruddur", tasks=stopped)["tasks"]
        if t["taskDefinitionArn"].endswith("backend-flask:3") and t["lastStatus"] == "STOPPED"
    ]
    assert crashed and {t["stoppedReason"] for t in crashed} == {"Essential container in task exited"}
    status = w.run("ecs/status", env=env)
    assert "PRIMARY  COMPLETED    backend-flask:2" in status.stdout or "PRIMARY  IN_PROGRESS" in status.stdout
    assert "deployment failed: tasks failed to start." in status.stdout  # the service's events say why
