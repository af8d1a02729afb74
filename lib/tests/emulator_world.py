"""An account for the emulator's ECS deployment tests: a cluster, an ALB with production and test listener
rules, blue and green target groups, an alarm, images in ECR and three task definitions, in a fresh emulator.

The emulator starts with its clock in manual mode and one emulated minute per 60 clock seconds, so a test
moves time itself (`advance`) and every intermediate state of a rollout is reproducible: no sleeps, no
timing luck. Every ECS answer's raw JSON is checked against botocore's output shape (shape_check.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

from cruddur_kit.local import moto as motolib
from shape_check import checked

REGION = "us-east-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
FINISHED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 7,
        "digest": "sha256:" + "c" * 64,
    },
    "layers": [],
}


def start(tmp_path: Path, **env) -> motolib.MotoServer:
    settings = {"CRUDDUR_EMULATOR_CLOCK": "manual", "CRUDDUR_EMULATOR_MINUTE_SECONDS": "60", **env}
    return motolib.MotoServer(
        port=motolib.free_port(), env={k: str(v) for k, v in settings.items()}, log_path=tmp_path / "moto.log"
    ).start()


def control(server, route: str, body: dict | None = None, method: str | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{server.endpoint}/moto-api/cruddur/{route}",
        data=data,
        method=method or ("POST" if body is not None else "GET"),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def advance(server, seconds: float = 0, minutes: float = 0) -> dict:
    status, doc = control(server, "clock", {"advanceSeconds": seconds, "advanceMinutes": minutes})
    assert status == 200, doc
    return doc


def client(server, name: str):
    """A boto3 client for the emulator; ECS's answers (the ones this emulator builds) are shape-checked."""
    made = boto3.client(
        name,
        region_name=REGION,
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    return checked(made) if name == "ecs" else made


@dataclass
class Pair:
    """A service's load-balancer side: blue and green target groups, production and test listener rules."""

    blue: str
    green: str
    prod_rule: str
    test_rule: str


@dataclass
class World:
    server: motolib.MotoServer
    subnets: list
    sg: str
    vpc: str
    listeners: tuple
    role: str
    alarm: str = "web-5xx"
    cluster: str = "cruddur"
    pairs: dict = field(default_factory=dict)

    def c(self, name: str):
        return client(self.server, name)

    @property
    def ecs(self):
        return self.c("ecs")

    def service(self, name: str = "web") -> dict:
        return self.ecs.describe_services(cluster=self.cluster, services=[name])["services"][0]

    def rollout(self, arn: str) -> dict:
        return self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]

    def current(self, name: str = "web") -> dict:
        return self.rollout(self.service(name)["currentServiceDeployment"])

    def pair(self, name: str) -> Pair:
        """The service's own target groups and listener rules (made on first use)."""
        if name not in self.pairs:
            elbv2 = self.c("elbv2")
            tgs = []
            for colour in ("blue", "green"):
                tg = elbv2.create_target_group(
                    Name=f"{name}-{colour}"[:32],
                    Protocol="HTTP",
                    Port=8080,
                    VpcId=self.vpc,
                    TargetType="ip",
                    HealthCheckPath="/health",
                    HealthCheckIntervalSeconds=15,
                    HealthyThresholdCount=2,
                    UnhealthyThresholdCount=3,
                )["TargetGroups"][0]["TargetGroupArn"]
                elbv2.modify_target_group_attributes(
                    TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "60"}]
                )
                tgs.append(tg)
            forward = [
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": tgs[0], "Weight": 1},
                            {"TargetGroupArn": tgs[1], "Weight": 0},
                        ]
                    },
                }
            ]
            priority = 10 + len(self.pairs)
            rules = [
                elbv2.create_rule(
                    ListenerArn=listener,
                    Priority=priority,
                    Actions=forward,
                    Conditions=[{"Field": "path-pattern", "Values": [f"/{name}/*"]}],
                )["Rules"][0]["RuleArn"]
                for listener in self.listeners
            ]
            self.pairs[name] = Pair(tgs[0], tgs[1], rules[0], rules[1])
        return self.pairs[name]

    def lbs(self, name: str, advanced: bool = True, test: bool = True) -> list:
        p = self.pair(name)
        lb = {"targetGroupArn": p.blue, "containerName": "web", "containerPort": 8080}
        if advanced:
            lb["advancedConfiguration"] = {
                "alternateTargetGroupArn": p.green,
                "productionListenerRule": p.prod_rule,
                "roleArn": self.role,
            }
            if test:
                lb["advancedConfiguration"]["testListenerRule"] = p.test_rule
        return [lb]

    def create(
        self,
        name: str = "web",
        td: str = "web:1",
        desired: int = 2,
        config: dict | None = None,
        lbs: list | None = None,
        **extra,
    ) -> dict:
        return self.ecs.create_service(
            cluster=self.cluster,
            serviceName=name,
            taskDefinition=td,
            desiredCount=desired,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": self.subnets,
                    "securityGroups": [self.sg],
                    "assignPublicIp": "ENABLED",
                }
            },
            loadBalancers=self.lbs(name) if lbs is None else lbs,
            deploymentConfiguration=config or {},
            **extra,
        )["service"]

    def weights(self, rule_arn: str) -> dict:
        [rule] = self.c("elbv2").describe_rules(RuleArns=[rule_arn])["Rules"]
        forward = next(a for a in rule["Actions"] if a["Type"] == "forward")
        return {g["TargetGroupArn"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]}

    def healthy_targets(self, tg: str) -> set:
        found = self.c("elbv2").describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return {h["Target"]["Id"] for h in found if h["TargetHealth"]["State"] == "healthy"}


def build(server) -> World:
    ec2, elbv2, ecs, ecr = (client(server, n) for n in ("ec2", "elbv2", "ecs", "ecr"))
    ecs.create_cluster(clusterName="cruddur")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    )[:2]
    sg = ec2.create_security_group(GroupName="web-sg", Description="web", VpcId=vpc)["GroupId"]
    alb = elbv2.create_load_balancer(Name="web-alb", Subnets=subnets, SecurityGroups=[sg])["LoadBalancers"][0]
    listeners = tuple(
        elbv2.create_listener(
            LoadBalancerArn=alb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )["Listeners"][0]["ListenerArn"]
        for port in (80, 8080)
    )
    ecr.create_repository(repositoryName="web")
    for tag in ("v1", "v2", "v3", "bad"):
        ecr.put_image(
            repositoryName="web",
            imageTag=tag,
            imageManifest=json.dumps({**MANIFEST, "config": {**MANIFEST["config"], "digest": "sha256:" + tag[0] * 64}}),
        )
    for tag in ("v1", "v2", "v3", "bad", "gone"):
        ecs.register_task_definition(
            family="web",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": "web",
                    "image": f"{REGISTRY}/web:{tag}",
                    "essential": True,
                    "memory": 512,
                    "portMappings": [{"containerPort": 8080}],
                }
            ],
        )
    client(server, "cloudwatch").put_metric_alarm(
        AlarmName="web-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=2,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
    )
    return World(
        server, subnets, sg, vpc, listeners, f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
    )


def walk(world: World, arn: str, step_seconds: float = 5, limit: int = 400, until=None) -> list[tuple]:
    """Advance the clock in steps, recording each new (status, lifecycleStage) of the deployment until it
    finishes (or `until(rollout)` holds); returns the ordered list of distinct observations."""
    seen: list[tuple] = []
    for _ in range(limit):
        r = world.rollout(arn)
        mark = (r["status"], r.get("lifecycleStage"))
        if not seen or seen[-1] != mark:
            seen.append(mark)
        if (until and until(r)) or (until is None and r["status"] in FINISHED):
            return seen
        advance(world.server, seconds=step_seconds)
    raise AssertionError(f"deployment {arn} did not get there in {limit} steps: {seen}")


def set_alarm(world: World, state: str, name: str = "web-5xx") -> None:
    world.c("cloudwatch").set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
