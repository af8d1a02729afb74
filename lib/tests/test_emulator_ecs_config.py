"""What the emulator's CreateService/UpdateService keep and what they refuse, over HTTP with boto3.

ECS keeps every deploymentConfiguration member (and fills its defaults), the service settings and the
load balancers' advancedConfiguration, and refuses what ECS refuses with InvalidParameterException. A
refused request leaves nothing behind. Every ECS answer is checked against botocore's output shape.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import emulator_world as ew


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = ew.start(tmp_path_factory.mktemp("emulator-ecs-config"))
    try:
        yield ew.build(server)
    finally:
        server.stop()


def test_a_service_keeps_its_whole_deployment_configuration_and_settings(world):
    hook = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": f"arn:aws:lambda:{ew.REGION}:{ew.ACCOUNT}:function:check",
        "roleArn": f"arn:aws:iam::{ew.ACCOUNT}:role/hooks",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 15, "action": "CONTINUE"},
    }
    config = {
        "strategy": "CANARY",
        "bakeTimeInMinutes": 3,
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 4},
        "deploymentCircuitBreaker": {
            "enable": True,
            "rollback": True,
            "thresholdConfiguration": {"type": "COUNT", "value": 4},
        },
        "alarms": {"alarmNames": [world.alarm], "enable": True, "rollback": True},
        "lifecycleHooks": [hook],
    }
    svc = world.create(
        name="kept",
        config=config,
        healthCheckGracePeriodSeconds=90,
        enableExecuteCommand=True,
        deploymentController={"type": "ECS"},
        enableECSManagedTags=True,
        propagateTags="SERVICE",
    )
    for got in (svc, world.service("kept")):
        assert got["deploymentConfiguration"] == config
        assert (
            got["healthCheckGracePeriodSeconds"],
            got["enableExecuteCommand"],
            got["deploymentController"],
            got["enableECSManagedTags"],
            got["propagateTags"],
        ) == (90, True, {"type": "ECS"}, True, "SERVICE")
        assert got["loadBalancers"] == world.lbs("kept")
        assert got["currentServiceDeployment"].startswith(
            f"arn:aws:ecs:{ew.REGION}:{ew.ACCOUNT}:service-deployment/cruddur/kept/"
        )
    r = world.rollout(svc["currentServiceDeployment"])
    assert r["deploymentConfiguration"] == config
    assert r["deploymentCircuitBreaker"] == {"status": "MONITORING", "failureCount": 0, "threshold": 4}
    [rev] = world.ecs.describe_service_revisions(serviceRevisionArns=[r["targetServiceRevision"]["arn"]])[
        "serviceRevisions"
    ]
    assert rev["loadBalancers"] == world.lbs("kept")
    assert rev["resolvedConfiguration"]["loadBalancers"] == [
        {"targetGroupArn": world.pair("kept").blue, "productionListenerRule": world.pair("kept").prod_rule}
    ]

    # UpdateService changes the members it names and keeps the rest; settings alone start no deployment
    up = world.ecs.update_service(
        cluster="cruddur",
        service="kept",
        healthCheckGracePeriodSeconds=30,
        deploymentConfiguration={"bakeTimeInMinutes": 10},
    )["service"]
    assert up["deploymentConfiguration"] == {**config, "bakeTimeInMinutes": 10}
    assert up["healthCheckGracePeriodSeconds"] == 30 and up["enableExecuteCommand"] is True
    assert up["currentServiceDeployment"] == svc["currentServiceDeployment"]


def test_defaults_are_what_ecs_reports(world):
    svc = world.create(name="plain", lbs=[], config=None)
    assert svc["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "alarms": {"alarmNames": [], "rollback": False, "enable": False},
        "strategy": "ROLLING",
    }
    assert (svc["healthCheckGracePeriodSeconds"], svc["enableExecuteCommand"]) == (0, False)
    linear = world.ecs.update_service(
        cluster="cruddur",
        service="plain",
        deploymentConfiguration={"strategy": "LINEAR", "bakeTimeInMinutes": 0},
        loadBalancers=world.lbs("plain"),
    )["service"]
    assert linear["deploymentConfiguration"]["linearConfiguration"] == {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}
    canary = world.ecs.update_service(
        cluster="cruddur", service="plain", deploymentConfiguration={"strategy": "CANARY"}
    )["service"]
    assert canary["deploymentConfiguration"]["canaryConfiguration"] == {
        "canaryPercent": 5.0,
        "canaryBakeTimeInMinutes": 10,
    }
    assert "linearConfiguration" not in canary["deploymentConfiguration"]


def _lambda_hook(**over) -> dict:
    """A valid AWS_LAMBDA hook with `over` applied (a None removes the member)."""
    hook = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": f"arn:aws:lambda:{ew.REGION}:{ew.ACCOUNT}:function:f",
        "roleArn": f"arn:aws:iam::{ew.ACCOUNT}:role/r",
        "lifecycleStages": ["POST_SCALE_UP"],
        **over,
    }
    return {k: v for k, v in hook.items() if v is not None}


BAD = [
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.05}}, "canaryPercent must be a multiple of 0.1"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 100.5}}, "canaryPercent must be a multiple"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 5.05}}, "canaryPercent must be a multiple"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryBakeTimeInMinutes": 1441}}, "canaryBakeTimeInMinutes"),
    (
        {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0}},
        "stepPercent must be a multiple of 0.1 from 3.0 to 100.0",
    ),
    ({"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes": 1441}}, "stepBakeTimeInMinutes"),
    ({"strategy": "BLUE_GREEN"}, "bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}, "bakeTimeInMinutes must be between 0 and 1440"),
    (
        {"strategy": "CANARY", "linearConfiguration": {"stepPercent": 10.0}},
        "linearConfiguration is only valid when the deployment strategy is LINEAR",
    ),
    ({"strategy": "SIDEWAYS"}, "Invalid deployment strategy 'SIDEWAYS'"),
    ({"minimumHealthyPercent": 150}, "minimumHealthyPercent must be between 0 and 100"),
    ({"alarms": {"alarmNames": [], "enable": True, "rollback": True}}, "alarmNames must name at least one"),
    (
        {"lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"]}]},
        "PAUSE hooks cannot be configured at the PRODUCTION_TRAFFIC_SHIFT stage",
    ),
    ({"lifecycleHooks": [_lambda_hook(hookTargetArn=None)]}, "hookTargetArn is required"),
    ({"lifecycleHooks": [_lambda_hook(lifecycleStages=["BAKE_TIME"])]}, "Invalid lifecycle stage 'BAKE_TIME'"),
    ({"lifecycleHooks": [_lambda_hook(roleArn=None)]}, "roleArn is required for an AWS_LAMBDA lifecycle hook"),
    (
        {
            "earlySuccessCriteria": {"enable": True, "healthyPercent": 50, "sourceServiceRevisionCleanup": "BLOCKING"},
            "strategy": "CANARY",
        },
        "earlySuccessCriteria can only be used with the ROLLING deployment strategy",
    ),
    (
        {
            "deploymentCircuitBreaker": {
                "enable": True,
                "rollback": True,
                "thresholdConfiguration": {"type": "BOUNDED_PERCENT", "value": 150},
            }
        },
        "thresholdConfiguration value 150 is out of range",
    ),
]


@pytest.mark.parametrize("config, message", BAD, ids=[m[:40] for _, m in BAD])
def test_a_bad_deployment_configuration_is_refused_and_creates_nothing(world, config, message):
    with pytest.raises(ClientError) as refused:
        world.create(name="refused", config=dict(config), lbs=world.lbs("refused"))
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterException" and message in error["Message"], error
    assert world.ecs.describe_services(cluster="cruddur", services=["refused"])["failures"][0]["reason"] == "MISSING"


def _bg_lbs(world, **over) -> list:
    """The bg service's load balancer with advancedConfiguration members replaced (None removes one)."""
    [lb] = world.lbs("bg")
    adv = {k: v for k, v in {**lb["advancedConfiguration"], **over}.items() if v is not None}
    return [{**lb, "advancedConfiguration": adv}]


def test_traffic_shifting_needs_what_ecs_needs_of_the_load_balancer(world):
    pair = world.pair("bg")
    cases = [
        (world.lbs("bg", advanced=False), "advancedConfiguration is required for the BLUE_GREEN deployment"),
        (_bg_lbs(world, alternateTargetGroupArn=None), "advancedConfiguration.alternateTargetGroupArn is required"),
        (_bg_lbs(world, roleArn=None), "advancedConfiguration.roleArn is required"),
        (_bg_lbs(world, alternateTargetGroupArn=pair.blue), "alternateTargetGroupArn must differ from targetGroupArn"),
        (_bg_lbs(world, alternateTargetGroupArn=pair.green[:-4] + "0000"), "does not exist"),
        (_bg_lbs(world, productionListenerRule=pair.prod_rule + "9"), "(productionListenerRule) does not exist"),
        (_bg_lbs(world, testListenerRule=pair.test_rule + "9"), "(testListenerRule) does not exist"),
        ([], "needs a load balancer"),
    ]
    for lbs, message in cases:
        with pytest.raises(ClientError) as refused:
            world.create(name="bg", config={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}, lbs=lbs)
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidParameterException" and message in error["Message"], (message, error)
    # and on update: a rolling service cannot switch to canary without the alternate target group
    world.create(name="switch", lbs=world.lbs("switch", advanced=False))
    with pytest.raises(ClientError) as refused:
        world.ecs.update_service(cluster="cruddur", service="switch", deploymentConfiguration={"strategy": "CANARY"})
    assert (
        "advancedConfiguration is required for the CANARY deployment strategy"
        in refused.value.response["Error"]["Message"]
    )
    assert world.service("switch")["deploymentConfiguration"]["strategy"] == "ROLLING"


def test_creating_a_service_twice_is_refused_as_ecs_refuses_it(world):
    world.create(name="twice", lbs=[])
    with pytest.raises(ClientError) as again:
        world.create(name="twice", lbs=[])
    assert again.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "Creation of service was not idempotent.",
    }


def test_updating_a_deleted_service_is_refused(world):
    world.create(name="gone", lbs=[], desired=0)
    world.ecs.delete_service(cluster="cruddur", service="gone")
    assert world.service("gone")["status"] == "INACTIVE"  # no tasks: nothing to drain
    with pytest.raises(ClientError) as refused:
        world.ecs.update_service(cluster="cruddur", service="gone", desiredCount=1)
    assert refused.value.response["Error"]["Code"] == "ServiceNotActiveException"
    arns = world.ecs.list_services(cluster="cruddur")["serviceArns"]
    assert not [a for a in arns if a.endswith("/gone")]
