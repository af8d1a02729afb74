"""The emulator's ECS deployments over HTTP with boto3: each strategy's walk through its lifecycle stages,
the rollbacks (alarm, circuit breaker, StopServiceDeployment, lifecycle hook) and the task side of it.

Each test builds its own service in a module-wide emulator whose clock moves only when the test says
(emulator_world.py), so the sequences asserted here are exact; every answer is checked against botocore's
output shape on the raw JSON (shape_check.py).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import emulator_world as ew


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = ew.start(tmp_path_factory.mktemp("emulator-ecs"))
    try:
        yield ew.build(server)
    finally:
        server.stop()


def _entries(svc: dict) -> list[tuple]:
    return [(d["status"], d["taskDefinition"].rsplit("/", 1)[-1], d["rolloutState"]) for d in svc["deployments"]]


def _ready(world, name: str, config: dict, td: str = "web:1", **kw) -> dict:
    """A service whose first deployment has finished, so the next update is the one under test."""
    world.create(name=name, td=td, config=config, **kw)
    first = world.service(name)["currentServiceDeployment"]
    ew.walk(world, first)
    assert world.rollout(first)["status"] == "SUCCESSFUL"
    return world.service(name)


def test_rolling_update_replaces_the_tasks_and_completes(world):
    svc = _ready(
        world,
        "rolling",
        {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        lbs=world.lbs("rolling", advanced=False),
    )
    pair = world.pair("rolling")
    ecs = world.ecs
    old_tasks = ecs.list_tasks(cluster="cruddur", serviceName="rolling")["taskArns"]
    assert len(old_tasks) == 2
    old_ips = world.healthy_targets(pair.blue)
    assert len(old_ips) == 2

    updated = ecs.update_service(cluster="cruddur", service="rolling", taskDefinition="web:2")["service"]
    assert _entries(updated) == [("PRIMARY", "web:2", "IN_PROGRESS"), ("ACTIVE", "web:1", "COMPLETED")]
    primary = updated["deployments"][0]
    assert primary["rolloutStateReason"] == f"ECS deployment {primary['id']} in progress."
    assert (primary["desiredCount"], primary["pendingCount"], primary["runningCount"]) == (2, 2, 0)
    arn = updated["currentServiceDeployment"]
    assert arn != svc["currentServiceDeployment"]
    seen = ew.walk(world, arn)
    assert seen == [
        ("IN_PROGRESS", "SCALE_UP"),
        ("IN_PROGRESS", "BAKE_TIME"),
        ("IN_PROGRESS", "CLEAN_UP"),
        ("SUCCESSFUL", None),
    ] or seen == [("IN_PROGRESS", "SCALE_UP"), ("IN_PROGRESS", "CLEAN_UP"), ("SUCCESSFUL", None)]

    done = world.service("rolling")
    assert _entries(done) == [("PRIMARY", "web:2", "COMPLETED")]
    assert done["deployments"][0]["rolloutStateReason"] == f"ECS deployment {primary['id']} completed."
    assert (done["runningCount"], done["pendingCount"], done["taskDefinition"].endswith("web:2")) == (2, 0, True)
    messages = [e["message"] for e in done["events"]]
    assert messages[0] == "(service rolling) has reached a steady state."
    assert f"(service rolling) (deployment {primary['id']}) deployment completed." in messages
    assert any(m.startswith("(service rolling) has started 2 tasks: (task ") for m in messages)
    assert any(m.startswith("(service rolling) has stopped 2 running tasks: (task ") for m in messages)
    assert "(service rolling) has begun draining connections on 2 tasks." in messages
    assert any(m.startswith("(service rolling) registered 2 targets in (target-group ") for m in messages)

    r = world.rollout(arn)
    assert r["status"] == "SUCCESSFUL" and "finishedAt" in r and "lifecycleStage" not in r
    assert [s["runningTaskCount"] for s in r["sourceServiceRevisions"]] == [0]
    assert (r["targetServiceRevision"]["requestedTaskCount"], r["targetServiceRevision"]["runningTaskCount"]) == (2, 2)
    assert r["deploymentCircuitBreaker"] == {"status": "MONITORING_COMPLETE", "failureCount": 0, "threshold": 3}
    [revision] = ecs.describe_service_revisions(serviceRevisionArns=[r["targetServiceRevision"]["arn"]])[
        "serviceRevisions"
    ]
    assert revision["taskDefinition"].endswith("web:2")
    [image] = world.c("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "v2"}])["imageDetails"]
    assert revision["containerImages"] == [
        {"containerName": "web", "image": f"{ew.REGISTRY}/web:v2", "imageDigest": image["imageDigest"]}
    ]  # resolved as ECS resolves it

    stopped = ecs.describe_tasks(cluster="cruddur", tasks=old_tasks)["tasks"]
    assert {t["lastStatus"] for t in stopped} == {"STOPPED"}
    assert {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    old_id = svc["deployments"][0]["id"]
    assert {t["stoppedReason"] for t in stopped} == {f"Scaling activity initiated by (deployment {old_id})"}
    running = ecs.list_tasks(cluster="cruddur", serviceName="rolling", desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster="cruddur", tasks=running)["tasks"]
    assert {(t["lastStatus"], t["group"], t["startedBy"], t["healthStatus"]) for t in tasks} == {
        ("RUNNING", "service:rolling", primary["id"], "UNKNOWN")
    }
    new_ips = world.healthy_targets(pair.blue)
    assert len(new_ips) == 2 and not new_ips & old_ips  # the old tasks' targets are gone, the new ones serve
    enis = world.c("ec2").describe_network_interfaces()["NetworkInterfaces"]
    stopped_enis = {
        d["value"] for t in stopped for a in t["attachments"] for d in a["details"] if d["name"] == "networkInterfaceId"
    }
    assert not stopped_enis & {e["NetworkInterfaceId"] for e in enis}  # released when the tasks stopped


def test_canary_walks_its_stages_shifting_traffic_then_succeeds(world):
    config = {
        "strategy": "CANARY",
        "bakeTimeInMinutes": 3,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
    }
    _ready(world, "canary", config)
    pair = world.pair("canary")
    svc = world.ecs.update_service(cluster="cruddur", service="canary", taskDefinition="web:2")["service"]
    arn = svc["currentServiceDeployment"]

    def canary_phase(r):
        return (
            r.get("lifecycleStage") == "PRODUCTION_TRAFFIC_SHIFT"
            and r["targetServiceRevision"]["requestedProductionTrafficWeight"] == 10.0
        )

    seen = ew.walk(world, arn, until=canary_phase)
    r = world.rollout(arn)
    target, [source] = r["targetServiceRevision"], r["sourceServiceRevisions"]
    assert (target["requestedProductionTrafficWeight"], source["requestedProductionTrafficWeight"]) == (10.0, 90.0)
    blue, green = source_tg, target_tg = _resolved(world, source["arn"]), _resolved(world, target["arn"])
    assert blue != green and {blue, green} == {pair.blue, pair.green}
    assert world.weights(pair.prod_rule) == {source_tg: 900, target_tg: 100}
    assert world.weights(pair.test_rule) == {source_tg: 0, target_tg: 1}
    assert (target["runningTaskCount"], source["runningTaskCount"]) == (2, 2)  # both colours run
    seen += ew.walk(world, arn)[1:]
    assert _stages(seen) == ["SCALE_UP", "TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    assert seen[-1] == ("SUCCESSFUL", None)
    r = world.rollout(arn)
    assert r["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    assert r["sourceServiceRevisions"][0]["runningTaskCount"] == 0
    assert world.weights(pair.prod_rule) == {source_tg: 0, target_tg: 1}
    assert _entries(world.service("canary")) == [("PRIMARY", "web:2", "COMPLETED")]
    assert len(world.healthy_targets(target_tg)) == 2 and not world.healthy_targets(source_tg)
    assert r["deploymentConfiguration"]["canaryConfiguration"] == {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}


def _resolved(world, revision_arn: str) -> str:
    [rev] = world.ecs.describe_service_revisions(serviceRevisionArns=[revision_arn])["serviceRevisions"]
    return rev["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"]


def _stages(seen: list[tuple]) -> list[str]:
    out = []
    for _, stage in seen:
        if stage and (not out or out[-1] != stage):
            out.append(stage)
    return out


def test_canary_bake_times_are_honoured(world):
    config = {
        "strategy": "CANARY",
        "bakeTimeInMinutes": 4,
        "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 7},
    }
    _ready(world, "timed", config)
    arn = world.ecs.update_service(cluster="cruddur", service="timed", taskDefinition="web:2")["service"][
        "currentServiceDeployment"
    ]
    ew.walk(world, arn, until=lambda r: r["targetServiceRevision"]["requestedProductionTrafficWeight"] == 5.0)
    ew.advance(world.server, minutes=6.5)
    assert world.rollout(arn)["targetServiceRevision"]["requestedProductionTrafficWeight"] == 5.0
    ew.walk(world, arn, until=lambda r: r.get("lifecycleStage") == "BAKE_TIME")
    ew.advance(world.server, minutes=3.5)
    r = world.rollout(arn)
    assert (r["status"], r["lifecycleStage"]) == ("IN_PROGRESS", "BAKE_TIME")
    ew.advance(world.server, minutes=1)
    assert world.rollout(arn)["lifecycleStage"] == "CLEAN_UP"


def test_linear_shifts_production_traffic_in_equal_steps(world):
    config = {
        "strategy": "LINEAR",
        "bakeTimeInMinutes": 1,
        "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
    }
    _ready(world, "linear", config)
    arn = world.ecs.update_service(cluster="cruddur", service="linear", taskDefinition="web:2")["service"][
        "currentServiceDeployment"
    ]
    weights = []
    for _ in range(500):
        r = world.rollout(arn)
        w = r["targetServiceRevision"]["requestedProductionTrafficWeight"]
        if not weights or weights[-1] != w:
            weights.append(w)
        if r["status"] in ew.FINISHED:
            break
        ew.advance(world.server, seconds=5)
    assert weights == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert world.rollout(arn)["status"] == "SUCCESSFUL"


def test_blue_green_shifts_test_traffic_then_all_production_at_once(world):
    config = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2}
    _ready(world, "bluegreen", config)
    arn = world.ecs.update_service(cluster="cruddur", service="bluegreen", taskDefinition="web:2")["service"][
        "currentServiceDeployment"
    ]
    seen = ew.walk(world, arn, until=lambda r: r["targetServiceRevision"]["requestedTestTrafficWeight"] == 100.0)
    r = world.rollout(arn)
    target, [source] = r["targetServiceRevision"], r["sourceServiceRevisions"]
    assert (target["requestedTestTrafficWeight"], target["requestedProductionTrafficWeight"]) == (100.0, 0.0)
    green, blue = _resolved(world, target["arn"]), _resolved(world, source["arn"])
    pair = world.pair("bluegreen")
    assert world.weights(pair.test_rule) == {blue: 0, green: 1}
    assert world.weights(pair.prod_rule) == {blue: 1, green: 0}
    productions = set()
    for _ in range(500):
        r = world.rollout(arn)
        productions.add(r["targetServiceRevision"]["requestedProductionTrafficWeight"])
        seen.append((r["status"], r.get("lifecycleStage")))
        if r["status"] in ew.FINISHED:
            break
        ew.advance(world.server, seconds=5)
    assert productions == {0.0, 100.0}  # all at once
    assert _stages(seen) == ["SCALE_UP", "TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    assert world.rollout(arn)["status"] == "SUCCESSFUL"
    assert world.weights(pair.prod_rule) == {blue: 0, green: 1}


def _update(world, name: str, td: str) -> str:
    return world.ecs.update_service(cluster="cruddur", service=name, taskDefinition=td)["service"][
        "currentServiceDeployment"
    ]


def test_an_alarm_in_alarm_during_bake_rolls_the_canary_back_naming_the_alarm(world):
    config = {
        "strategy": "CANARY",
        "bakeTimeInMinutes": 5,
        "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 1},
        "alarms": {"alarmNames": [world.alarm], "enable": True, "rollback": True},
    }
    _ready(world, "alarmed", config)
    pair = world.pair("alarmed")
    arn = _update(world, "alarmed", "web:2")
    ew.walk(world, arn, until=lambda r: r.get("lifecycleStage") == "BAKE_TIME")
    r = world.rollout(arn)
    assert r["alarms"] == {"status": "MONITORING", "alarmNames": [world.alarm]}
    assert world.weights(pair.prod_rule)[_resolved(world, r["targetServiceRevision"]["arn"])] == 1
    try:
        ew.set_alarm(world, "ALARM")
        seen = ew.walk(world, arn)
    finally:
        ew.set_alarm(world, "OK")
    # traffic back to blue (test, then production), green drained; blue never stopped, so no scale-up to wait for
    assert seen == [
        ("ROLLBACK_IN_PROGRESS", "TEST_TRAFFIC_SHIFT"),
        ("ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT"),
        ("ROLLBACK_IN_PROGRESS", "CLEAN_UP"),
        ("ROLLBACK_SUCCESSFUL", None),
    ]
    r = world.rollout(arn)
    assert r["alarms"] == {"status": "TRIGGERED", "alarmNames": [world.alarm], "triggeredAlarmNames": [world.alarm]}
    assert world.alarm in r["statusReason"] and world.alarm in r["rollback"]["reason"]
    source = r["sourceServiceRevisions"][0]["arn"]
    assert r["rollback"]["serviceRevisionArn"] == source
    assert world.weights(pair.prod_rule)[_resolved(world, source)] == 1  # production is back on blue
    svc = world.service("alarmed")
    assert svc["taskDefinition"].endswith("web:1")
    assert _entries(svc) == [("PRIMARY", "web:1", "COMPLETED")]
    failed = next(e["message"] for e in svc["events"] if "deployment failed" in e["message"])
    assert world.alarm in failed
    assert any("rolling back to deployment ecs-svc/" in e["message"] for e in svc["events"])


def test_the_failed_deployment_reads_failed_naming_the_alarm_while_it_rolls_back(world):
    config = {"alarms": {"alarmNames": [world.alarm], "enable": True, "rollback": True}}
    _ready(world, "rollingalarm", config, lbs=world.lbs("rollingalarm", advanced=False))
    arn = _update(world, "rollingalarm", "web:2")
    try:
        ew.set_alarm(world, "ALARM")
        ew.walk(world, arn, until=lambda r: r["status"].startswith("ROLLBACK"))
    finally:
        ew.set_alarm(world, "OK")
    svc = world.service("rollingalarm")
    primary, failed = svc["deployments"]
    assert (primary["status"], primary["taskDefinition"].rsplit("/", 1)[-1], primary["rolloutState"]) == (
        "PRIMARY",
        "web:1",
        "IN_PROGRESS",
    )
    assert primary["rolloutStateReason"].startswith("ECS deployment rollback: rolling back to deploymentId ecs-svc/")
    assert (failed["status"], failed["rolloutState"]) == ("ACTIVE", "FAILED")
    assert world.alarm in failed["rolloutStateReason"]
    assert ew.walk(world, arn)[-1] == ("ROLLBACK_SUCCESSFUL", None)


def test_stop_service_deployment_rolls_back_an_update_in_flight(world):
    _ready(
        world,
        "stopped",
        {
            "strategy": "LINEAR",
            "bakeTimeInMinutes": 1,
            "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 10},
        },
    )
    arn = _update(world, "stopped", "web:2")
    ew.walk(world, arn, until=lambda r: r["targetServiceRevision"]["requestedProductionTrafficWeight"] == 50.0)
    ecs = world.ecs
    assert ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")["serviceDeploymentArn"] == arn
    r = world.rollout(arn)
    assert (
        r["status"] == "ROLLBACK_REQUESTED"
        and r["rollback"]["serviceRevisionArn"] == r["sourceServiceRevisions"][0]["arn"]
    )
    assert ecs.stop_service_deployment(serviceDeploymentArn=arn)["serviceDeploymentArn"] == arn  # continues
    seen = ew.walk(world, arn)
    assert seen[0] == ("ROLLBACK_REQUESTED", "PRODUCTION_TRAFFIC_SHIFT") and seen[1][0] == "ROLLBACK_IN_PROGRESS"
    assert seen[-1] == ("ROLLBACK_SUCCESSFUL", None)
    assert "StopServiceDeployment" in world.rollout(arn)["statusReason"]
    assert _entries(world.service("stopped")) == [("PRIMARY", "web:1", "COMPLETED")]
    with pytest.raises(ClientError) as finished:
        ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert finished.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as unknown:
        ecs.stop_service_deployment(serviceDeploymentArn=arn[:-3] + "xyz")
    assert unknown.value.response["Error"]["Code"] == "ServiceDeploymentNotFoundException"


def test_stop_service_deployment_abort_stops_it_where_it_is(world):
    _ready(world, "aborted", {}, lbs=world.lbs("aborted", advanced=False))
    arn = _update(world, "aborted", "web:2")
    world.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ABORT")
    assert world.rollout(arn)["status"] == "STOP_REQUESTED"
    seen = ew.walk(world, arn)
    assert seen[-1] == ("STOPPED", None)
    r = world.rollout(arn)
    assert "stoppedAt" in r and "finishedAt" not in r and "ABORT" in r["statusReason"]
    primary = world.service("aborted")["deployments"][0]
    assert (primary["taskDefinition"].rsplit("/", 1)[-1], primary["rolloutState"]) == ("web:2", "FAILED")


def test_the_circuit_breaker_rolls_back_tasks_that_crash(world):
    _ready(
        world,
        "breaker",
        {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        lbs=world.lbs("breaker", advanced=False),
    )
    status, rules = ew.control(
        world.server, "ecs/task-behaviours", {"behaviour": "crash", "image": "*/web:bad", "exitCode": 3}
    )
    assert status == 200 and rules[-1]["behaviour"] == "crash"
    try:
        arn = _update(world, "breaker", "web:4")  # the image tagged bad
        seen = ew.walk(world, arn)
    finally:
        ew.control(world.server, "ecs/task-behaviours", method="DELETE")
    assert seen == [("IN_PROGRESS", "SCALE_UP"), ("ROLLBACK_IN_PROGRESS", "CLEAN_UP"), ("ROLLBACK_SUCCESSFUL", None)]
    r = world.rollout(arn)
    assert r["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert r["deploymentCircuitBreaker"]["failureCount"] >= r["deploymentCircuitBreaker"]["threshold"] == 3
    assert "circuit breaker" in r["statusReason"] and "circuit breaker" in r["rollback"]["reason"]
    svc = world.service("breaker")
    assert _entries(svc) == [("PRIMARY", "web:1", "COMPLETED")]
    ecs = world.ecs
    stopped = ecs.list_tasks(cluster="cruddur", serviceName="breaker", desiredStatus="STOPPED")["taskArns"]
    crashed = [
        t
        for t in ecs.describe_tasks(cluster="cruddur", tasks=stopped)["tasks"]
        if t["taskDefinitionArn"].endswith("web:4")
    ]
    assert len(crashed) >= 3
    assert {(t["stopCode"], t["stoppedReason"], t["containers"][0]["exitCode"]) for t in crashed} == {
        ("EssentialContainerExited", "Essential container in task exited", 3)
    }
    assert any("deployment failed: tasks failed to start." in e["message"] for e in svc["events"])


def test_tasks_that_fail_their_elb_health_checks_are_replaced_until_the_circuit_breaker_trips(world):
    _ready(
        world,
        "unhealthy",
        {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        lbs=world.lbs("unhealthy", advanced=False),
    )
    ew.control(world.server, "ecs/task-behaviours", {"behaviour": "unhealthy", "taskDefinition": "web:3"})
    try:
        arn = _update(world, "unhealthy", "web:3")
        seen = ew.walk(world, arn)
    finally:
        ew.control(world.server, "ecs/task-behaviours", method="DELETE")
    assert seen[-1] == ("ROLLBACK_SUCCESSFUL", None)
    stopped = world.ecs.list_tasks(cluster="cruddur", serviceName="unhealthy", desiredStatus="STOPPED")["taskArns"]
    failed = [
        t
        for t in world.ecs.describe_tasks(cluster="cruddur", tasks=stopped)["tasks"]
        if t["taskDefinitionArn"].endswith("web:3")
    ]
    blue = world.pair("unhealthy").blue
    assert failed and {(t["stopCode"], t["stoppedReason"]) for t in failed} == {
        ("ServiceSchedulerInitiated", f"Task failed ELB health checks in (target-group {blue})")
    }


def test_an_image_missing_from_ecr_fails_to_pull_and_without_rollback_the_deployment_stops(world):
    _ready(
        world,
        "nopull",
        {"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
        lbs=world.lbs("nopull", advanced=False),
    )
    arn = _update(world, "nopull", "web:5")  # web:gone was never pushed
    seen = ew.walk(world, arn)
    assert seen[-1] == ("STOPPED", None)
    r = world.rollout(arn)
    assert r["deploymentCircuitBreaker"]["status"] == "TRIGGERED" and "stoppedAt" in r
    primary, old = world.service("nopull")["deployments"]
    assert (primary["taskDefinition"].rsplit("/", 1)[-1], primary["rolloutState"]) == ("web:5", "FAILED")
    assert primary["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert primary["failedTasks"] >= 3 and old["runningCount"] == 2  # the old revision keeps serving
    stopped = world.ecs.list_tasks(cluster="cruddur", serviceName="nopull", desiredStatus="STOPPED")["taskArns"]
    task = world.ecs.describe_tasks(cluster="cruddur", tasks=stopped[:1])["tasks"][0]
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError: pull image manifest has been retried")
    assert f"{ew.REGISTRY}/web:gone: not found" in task["stoppedReason"]


def _hooked(world, name: str, config: dict, hooks: list) -> None:
    """A service deployed without hooks, then given them (a configuration change starts no deployment)."""
    _ready(world, name, config)
    svc = world.ecs.update_service(cluster="cruddur", service=name, deploymentConfiguration={"lifecycleHooks": hooks})[
        "service"
    ]
    assert svc["deploymentConfiguration"]["lifecycleHooks"][0]["lifecycleStages"] == hooks[0]["lifecycleStages"]
    assert len(world.ecs.list_service_deployments(cluster="cruddur", service=name)["serviceDeployments"]) == 1


def _pause(stage: str, minutes: int = 30, action: str = "ROLLBACK") -> list:
    return [
        {
            "targetType": "PAUSE",
            "lifecycleStages": [stage],
            "timeoutConfiguration": {"timeoutInMinutes": minutes, "action": action},
        }
    ]


BLUE_GREEN = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}


def test_a_pause_hook_holds_the_deployment_until_continue_service_deployment(world):
    _hooked(world, "paused", BLUE_GREEN, _pause("POST_TEST_TRAFFIC_SHIFT"))
    ecs = world.ecs
    arn = _update(world, "paused", "web:2")
    ew.walk(world, arn, until=lambda r: r.get("lifecycleStage") == "POST_TEST_TRAFFIC_SHIFT")
    ew.advance(world.server, minutes=20)
    r = world.rollout(arn)
    [hook] = r["lifecycleHookDetails"]
    assert (r["lifecycleStage"], hook["targetType"], hook["status"], hook["timeoutAction"]) == (
        "POST_TEST_TRAFFIC_SHIFT",
        "PAUSE",
        "AWAITING_ACTION",
        "ROLLBACK",
    )
    assert "targetArn" not in hook and hook["expiresAt"]
    with pytest.raises(ClientError) as wrong:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="hook-nosuch")
    assert wrong.value.response["Error"]["Code"] == "InvalidParameterException"
    assert (
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")[
            "serviceDeploymentArn"
        ]
        == arn
    )
    assert ew.walk(world, arn)[-1] == ("SUCCESSFUL", None)

    again = _update(world, "paused", "web:3")
    ew.walk(world, again, until=lambda r: r.get("lifecycleStage") == "POST_TEST_TRAFFIC_SHIFT")
    hook_id = world.rollout(again)["lifecycleHookDetails"][0]["hookId"]
    ecs.continue_service_deployment(serviceDeploymentArn=again, hookId=hook_id, action="ROLLBACK")
    assert ew.walk(world, again)[-1] == ("ROLLBACK_SUCCESSFUL", None)
    assert "ContinueServiceDeployment" in world.rollout(again)["statusReason"]
    assert world.service("paused")["taskDefinition"].endswith("web:2")


def test_a_pause_hook_that_times_out_takes_its_timeout_action(world):
    _hooked(world, "timeout", BLUE_GREEN, _pause("PRE_SCALE_UP", minutes=10, action="CONTINUE"))
    arn = _update(world, "timeout", "web:2")
    r = world.rollout(arn)
    assert (r["lifecycleStage"], r["lifecycleHookDetails"][0]["status"]) == ("PRE_SCALE_UP", "AWAITING_ACTION")
    ew.advance(world.server, minutes=9)
    assert world.rollout(arn)["lifecycleStage"] == "PRE_SCALE_UP"
    ew.advance(world.server, minutes=1)
    assert world.rollout(arn)["lifecycleStage"] == "SCALE_UP"  # timed out: CONTINUE
    assert ew.walk(world, arn)[-1] == ("SUCCESSFUL", None)


def _function(world, name: str) -> str:
    import io
    import zipfile

    iam = world.c("iam")
    try:
        role = iam.create_role(
            RoleName="hook-role", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
        )["Role"]["Arn"]
    except ClientError:
        role = iam.get_role(RoleName="hook-role")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hook.py", "def handler(event, context):\n    return {'hookStatus': 'SUCCEEDED'}\n")
    return world.c("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="hook.handler", Code={"ZipFile": buf.getvalue()}
    )["FunctionArn"]


CANARY = {
    "strategy": "CANARY",
    "bakeTimeInMinutes": 1,
    "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 2},
}


def _lambda(arn: str, *stages: str) -> list:
    return [
        {
            "targetType": "AWS_LAMBDA",
            "hookTargetArn": arn,
            "lifecycleStages": list(stages),
            "roleArn": f"arn:aws:iam::{ew.ACCOUNT}:role/ecs-hooks",
            "hookDetails": {"check": "smoke"},
        }
    ]


def test_lambda_hooks_are_invoked_at_their_stages_and_their_answer_is_honoured(world):
    fn = _function(world, "web-hook")
    ew.control(world.server, "ecs/lambda-hook-outcomes", method="DELETE")
    _hooked(world, "hooked", CANARY, _lambda(fn, "PRE_SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT"))
    arn = _update(world, "hooked", "web:2")
    assert ew.walk(world, arn)[-1] == ("SUCCESSFUL", None)
    _, calls = ew.control(world.server, "ecs/lambda-hook-invocations")
    mine = [
        c
        for c in calls
        if c["payload"]["targetServiceRevisionArn"] == world.rollout(arn)["targetServiceRevision"]["arn"]
    ]
    assert [c["lifecycleStage"] for c in mine] == [
        "PRE_SCALE_UP",
        "PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
    ]
    assert [c["payload"]["productionTrafficWeights"][c["payload"]["targetServiceRevisionArn"]] for c in mine] == [
        0.0,
        20.0,
        100.0,
    ]
    assert {c["answer"]["hookStatus"] for c in mine} == {"SUCCEEDED"} and {c["functionArn"] for c in mine} == {fn}
    assert mine[0]["payload"]["hookDetails"] == {"check": "smoke"}  # passed through on every invocation

    # IN_PROGRESS: asked again after callBackDelay until it answers; then FAILED rolls back
    status, _ = ew.control(
        world.server,
        "ecs/lambda-hook-outcomes",
        {"function": "web-hook", "hookStatus": "IN_PROGRESS", "callBackDelay": 60},
    )
    assert status == 200
    held = _update(world, "hooked", "web:3")
    ew.advance(world.server, minutes=10)
    r = world.rollout(held)
    assert (r["lifecycleStage"], r["lifecycleHookDetails"][0]["status"], r["lifecycleHookDetails"][0]["targetArn"]) == (
        "PRE_SCALE_UP",
        "IN_PROGRESS",
        fn,
    )
    ew.control(world.server, "ecs/lambda-hook-outcomes", {"function": fn, "hookStatus": "FAILED"})
    ew.advance(world.server, minutes=1)
    assert ew.walk(world, held)[-1] == ("ROLLBACK_SUCCESSFUL", None)
    assert "PRE_SCALE_UP" in world.rollout(held)["statusReason"]
    ew.control(world.server, "ecs/lambda-hook-outcomes", method="DELETE")


def test_a_lambda_hook_whose_function_does_not_exist_rolls_back(world):
    missing = f"arn:aws:lambda:{ew.REGION}:{ew.ACCOUNT}:function:no-such-hook"
    _hooked(
        world,
        "nofunction",
        BLUE_GREEN,
        [
            {
                "hookTargetArn": missing,
                "lifecycleStages": ["POST_SCALE_UP"],
                "roleArn": f"arn:aws:iam::{ew.ACCOUNT}:role/x",
            }
        ],
    )
    arn = _update(world, "nofunction", "web:2")
    assert ew.walk(world, arn)[-1] == ("ROLLBACK_SUCCESSFUL", None)
    assert "ResourceNotFoundException" in world.rollout(arn)["statusReason"]
