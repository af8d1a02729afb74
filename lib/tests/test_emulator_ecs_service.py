"""The emulator around the deployments: a service's tasks (scale, StopTask, DeleteService), listing and
describing service deployments, a superseded deployment, the real-time clock, the control API, and the
default VPC's route to the internet. Over HTTP with boto3; ECS answers shape-checked (shape_check.py).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

import emulator_world as ew
from cruddur_kit.errors import KitError


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = ew.start(tmp_path_factory.mktemp("emulator-ecs-service"))
    try:
        yield ew.build(server)
    finally:
        server.stop()


def _settle(world, name: str) -> None:
    for _ in range(200):
        svc = world.service(name)
        if (
            len(svc["deployments"]) == 1
            and svc["deployments"][0]["rolloutState"] == "COMPLETED"
            and svc["runningCount"] == svc["desiredCount"]
            and svc["pendingCount"] == 0
            and svc["events"][0]["message"].endswith("has reached a steady state.")
        ):
            return
        ew.advance(world.server, seconds=5)
    raise AssertionError(f"{name} never reached a steady state: {world.service(name)['deployments']}")


def _running(world, name: str) -> list[dict]:
    arns = world.ecs.list_tasks(cluster="cruddur", serviceName=name, desiredStatus="RUNNING")["taskArns"]
    return world.ecs.describe_tasks(cluster="cruddur", tasks=arns)["tasks"] if arns else []


def test_scaling_starts_and_stops_tasks_without_a_new_deployment(world):
    world.create(name="scaled", lbs=world.lbs("scaled", advanced=False))
    _settle(world, "scaled")
    ecs = world.ecs
    world.ecs.update_service(cluster="cruddur", service="scaled", desiredCount=3)
    _settle(world, "scaled")
    assert len(_running(world, "scaled")) == 3 and len(world.healthy_targets(world.pair("scaled").blue)) == 3
    ecs.update_service(cluster="cruddur", service="scaled", desiredCount=1)
    assert world.service("scaled")["deployments"][0]["desiredCount"] == 1
    _settle(world, "scaled")
    assert len(_running(world, "scaled")) == 1 and len(world.healthy_targets(world.pair("scaled").blue)) == 1
    assert len(ecs.list_service_deployments(cluster="cruddur", service="scaled")["serviceDeployments"]) == 1


def test_a_stopped_service_task_is_replaced(world):
    world.create(name="replaced", lbs=[])
    _settle(world, "replaced")
    victim = _running(world, "replaced")[0]
    world.ecs.stop_task(cluster="cruddur", task=victim["taskArn"], reason="poked by a test")
    _settle(world, "replaced")
    [stopped] = world.ecs.describe_tasks(cluster="cruddur", tasks=[victim["taskArn"]])["tasks"]
    assert (stopped["lastStatus"], stopped["desiredStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "STOPPED",
        "UserInitiated",
        "poked by a test",
    )
    assert stopped["containers"][0]["exitCode"] == 0 and "stoppedAt" in stopped
    running = _running(world, "replaced")
    assert len(running) == 2 and victim["taskArn"] not in {t["taskArn"] for t in running}
    assert any(
        e["message"].startswith("(service replaced) has started 1 tasks") for e in world.service("replaced")["events"]
    )


def test_a_task_walks_the_fargate_lifecycle(world):
    world.create(name="lifecycle", lbs=[], desired=1)
    [arn] = world.ecs.list_tasks(cluster="cruddur", serviceName="lifecycle")["taskArns"]
    statuses = []
    for _ in range(20):
        task = world.ecs.describe_tasks(cluster="cruddur", tasks=[arn])["tasks"][0]
        if not statuses or statuses[-1] != task["lastStatus"]:
            statuses.append(task["lastStatus"])
        ew.advance(world.server, seconds=5)
    assert statuses == ["PROVISIONING", "PENDING", "RUNNING"]
    task = world.ecs.describe_tasks(cluster="cruddur", tasks=[arn])["tasks"][0]
    assert task["createdAt"] < task["pullStartedAt"] < task["pullStoppedAt"] < task["startedAt"]
    assert (task["launchType"], task["platformVersion"], task["connectivity"]) == ("FARGATE", "1.4.0", "CONNECTED")
    assert task["availabilityZone"].startswith(ew.REGION)


def test_deleting_a_service_drains_it_then_it_is_inactive_and_its_network_interfaces_are_gone(world):
    world.create(name="deleted", lbs=world.lbs("deleted", advanced=False))
    _settle(world, "deleted")
    enis = {
        d["value"]
        for t in _running(world, "deleted")
        for a in t["attachments"]
        for d in a["details"]
        if d["name"] == "networkInterfaceId"
    }
    assert len(enis) == 2
    ecs = world.ecs
    with pytest.raises(ClientError) as scaled:
        ecs.delete_service(cluster="cruddur", service="deleted")
    assert scaled.value.response["Error"]["Message"] == "The service cannot be stopped while it is scaled above 0."
    assert ecs.delete_service(cluster="cruddur", service="deleted", force=True)["service"]["status"] == "DRAINING"
    assert any(a.endswith("/deleted") for a in ecs.list_services(cluster="cruddur")["serviceArns"])
    for _ in range(100):
        if world.service("deleted")["status"] == "INACTIVE":
            break
        ew.advance(world.server, seconds=5)
    svc = world.service("deleted")
    assert (svc["status"], svc["runningCount"], svc["deployments"]) == ("INACTIVE", 0, [])
    assert not world.healthy_targets(world.pair("deleted").blue)
    left = {e["NetworkInterfaceId"] for e in world.c("ec2").describe_network_interfaces()["NetworkInterfaces"]}
    assert not enis & left
    assert not any(a.endswith("/deleted") for a in ecs.list_services(cluster="cruddur")["serviceArns"])
    with pytest.raises(ClientError) as gone:
        ecs.list_service_deployments(cluster="cruddur", service="deleted")
    assert gone.value.response["Error"]["Code"] == "ServiceNotFoundException"


def test_list_tasks_by_service_name_lists_that_service_only(world):
    world.create(name="listed", lbs=[], desired=1)
    one_off = world.ecs.run_task(
        cluster="cruddur",
        taskDefinition="web:1",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": world.subnets, "securityGroups": [world.sg]}},
    )
    listed = world.ecs.list_tasks(cluster="cruddur", serviceName="listed")["taskArns"]
    assert len(listed) == 1 and one_off["tasks"][0]["taskArn"] not in listed
    everything = world.ecs.list_tasks(cluster="cruddur")["taskArns"]
    assert set(listed) < set(everything) and one_off["tasks"][0]["taskArn"] in everything


def test_a_newer_update_supersedes_the_deployment_in_flight(world):
    world.create(name="superseded", lbs=world.lbs("superseded", advanced=False))
    _settle(world, "superseded")
    ecs = world.ecs
    first = ecs.update_service(cluster="cruddur", service="superseded", taskDefinition="web:2")["service"][
        "currentServiceDeployment"
    ]
    ew.advance(world.server, seconds=40)  # web:2's tasks run, web:1's still serve
    second = ecs.update_service(cluster="cruddur", service="superseded", taskDefinition="web:3")["service"]
    r1 = world.rollout(first)
    assert (r1["status"], "stoppedAt" in r1) == ("STOPPED", True) and "newer service deployment" in r1["statusReason"]
    r2 = world.rollout(second["currentServiceDeployment"])
    assert len(r2["sourceServiceRevisions"]) == 2  # both web:1 and web:2 still run tasks
    assert [d["taskDefinition"].rsplit("/", 1)[-1] for d in second["deployments"]] == ["web:3", "web:2", "web:1"]
    assert ew.walk(world, second["currentServiceDeployment"])[-1] == ("SUCCESSFUL", None)
    _settle(world, "superseded")
    assert {t["taskDefinitionArn"].rsplit("/", 1)[-1] for t in _running(world, "superseded")} == {"web:3"}


def test_service_deployments_are_listed_newest_first_filtered_and_paged(world):
    world.create(name="history", lbs=[], desired=1)
    ecs = world.ecs
    _settle(world, "history")
    for td in ("web:2", "web:3", "web:1"):
        ecs.update_service(cluster="cruddur", service="history", taskDefinition=td)
        _settle(world, "history")
    listed = ecs.list_service_deployments(cluster="cruddur", service="history")["serviceDeployments"]
    assert len(listed) == 4 and [d["status"] for d in listed] == ["SUCCESSFUL"] * 4
    assert [d["createdAt"] for d in listed] == sorted((d["createdAt"] for d in listed), reverse=True)
    revisions = ecs.describe_service_revisions(serviceRevisionArns=[d["targetServiceRevisionArn"] for d in listed])
    assert [r["taskDefinition"].rsplit("/", 1)[-1] for r in revisions["serviceRevisions"]] == [
        "web:1",
        "web:3",
        "web:2",
        "web:1",
    ]
    page = ecs.list_service_deployments(cluster="cruddur", service="history", maxResults=3)
    rest = ecs.list_service_deployments(cluster="cruddur", service="history", maxResults=3, nextToken=page["nextToken"])
    assert [d["serviceDeploymentArn"] for d in page["serviceDeployments"] + rest["serviceDeployments"]] == [
        d["serviceDeploymentArn"] for d in listed
    ] and "nextToken" not in rest
    window = ecs.list_service_deployments(
        cluster="cruddur", service="history", createdAt={"after": listed[2]["createdAt"] - timedelta(microseconds=1)}
    )["serviceDeployments"]
    assert len(window) == 3
    assert (
        ecs.list_service_deployments(cluster="cruddur", service="history", status=["ROLLBACK_SUCCESSFUL"])[
            "serviceDeployments"
        ]
        == []
    )
    missing = listed[0]["serviceDeploymentArn"][:-4] + "zzzz"
    found = ecs.describe_service_deployments(serviceDeploymentArns=[listed[0]["serviceDeploymentArn"], missing])
    assert len(found["serviceDeployments"]) == 1 and found["failures"] == [{"arn": missing, "reason": "MISSING"}]
    with pytest.raises(ClientError) as many:
        ecs.describe_service_deployments(serviceDeploymentArns=[missing] * 21)
    assert many.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as nothing:
        ecs.list_service_deployments(cluster="cruddur", service="nosuch")
    assert nothing.value.response["Error"]["Code"] == "ServiceNotFoundException"


def test_the_control_api_answers_json_and_refuses_bad_input(world):
    status, doc = ew.control(world.server, "clock")
    assert status == 200 and doc["mode"] == "manual" and doc["minuteSeconds"] == 60
    for route, body, method, code, part in [
        ("clock", {"mode": "sideways"}, "POST", 400, "mode must be"),
        ("clock", {"advanceMinutes": -1}, "POST", 400, "only moves forward"),
        ("clock", {"minuteSeconds": "fast"}, "POST", 400, "minuteSeconds must be a number"),
        ("ecs/task-behaviours", {"behaviour": "explode", "image": "*"}, "POST", 400, "behaviour must be one of"),
        ("ecs/task-behaviours", {"behaviour": "crash"}, "POST", 400, "name the tasks it applies to"),
        ("ecs/lambda-hook-outcomes", {"function": "f", "hookStatus": "MAYBE"}, "POST", 400, "hookStatus must be"),
        ("ecs/lambda-hook-invocations", {}, "POST", 405, "takes GET"),
        ("nosuch", None, "GET", 404, "no such control"),
    ]:
        got, answer = ew.control(world.server, route, body, method)
        assert (got, part in answer["error"]) == (code, True), (route, got, answer)


def test_the_default_vpc_routes_to_an_internet_gateway_in_every_region_and_after_a_reset(world):

    for region in ("us-east-1", "eu-west-1"):
        ec2 = ew.boto3.client(
            "ec2",
            region_name=region,
            endpoint_url=world.server.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        [igw] = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])[
            "InternetGateways"
        ]
        [main] = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
        )["RouteTables"]
        default = [r for r in main["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        assert default == [
            {
                "DestinationCidrBlock": "0.0.0.0/0",
                "GatewayId": igw["InternetGatewayId"],
                "Origin": "CreateRoute",
                "State": "active",
            }
        ]
        assert all(
            s["MapPublicIpOnLaunch"]
            for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        )


def test_a_reset_brings_back_a_fresh_emulator_with_its_clock(tmp_path):
    import urllib.request

    server = ew.start(tmp_path, CRUDDUR_EMULATOR_CLOCK="real")
    try:
        ew.control(server, "clock", {"mode": "manual"})
        ew.control(server, "ecs/task-behaviours", {"behaviour": "hang", "image": "*"})
        urllib.request.urlopen(
            urllib.request.Request(f"{server.endpoint}/moto-api/reset", method="POST"), timeout=10
        ).close()
        assert ew.control(server, "clock")[1]["mode"] == "real"
        assert ew.control(server, "ecs/task-behaviours")[1] == []
        ec2 = ew.client(server, "ec2")
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        assert ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])[
            "InternetGateways"
        ]
    finally:
        server.stop()


def test_on_the_real_clock_a_rolling_update_completes_in_scaled_time(tmp_path):
    """No manual clock: one emulated minute lasts 0.6 s, and a client polling with a deadline (as bin/ scripts
    do) sees the update through. A Fargate start, ELB health checks and a 60 s drain take about 2 s here."""
    server = ew.start(tmp_path, CRUDDUR_EMULATOR_CLOCK="real", CRUDDUR_EMULATOR_MINUTE_SECONDS="0.6")
    try:
        world = ew.build(server)
        world.create(name="live", lbs=world.lbs("live", advanced=False))
        arn = world.ecs.update_service(cluster="cruddur", service="live", taskDefinition="web:2")["service"][
            "currentServiceDeployment"
        ]
        deadline, r = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            r = world.rollout(arn)
            if r["status"] in ew.FINISHED:
                break
            time.sleep(0.2)
        assert r["status"] == "SUCCESSFUL", r
        assert r["createdAt"] <= r["startedAt"] < r["finishedAt"]
        assert world.service("live")["deployments"][0]["rolloutState"] == "COMPLETED"
    finally:
        server.stop()


def test_a_bad_time_scale_stops_the_emulator_with_one_line(tmp_path):
    with pytest.raises(KitError, match="exited with 1"):
        ew.start(tmp_path, CRUDDUR_EMULATOR_MINUTE_SECONDS="fast")
    assert "CRUDDUR_EMULATOR_MINUTE_SECONDS='fast' is not a number" in (tmp_path / "moto.log").read_text()
