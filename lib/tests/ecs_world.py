"""A small ECS world in a fresh emulator for the bin/ecs and bin/backend/deploy tests.

It creates by hand only what bin/aws/setup would (cluster, service security group, target group, ECR
repository with one image), so these tests exercise the ECS scripts alone; the end-to-end test
(test_ecs_end_to_end.py) uses the real bin/aws/setup instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import boto3
from botocore.config import Config

from cruddur_kit import REPO_ROOT
from cruddur_kit.local import moto as motolib

REGION = "us-east-1"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7,
            "digest": "sha256:" + "a" * 64,
        },
        "layers": [],
    }
)


def start(tmp_path: Path, **env) -> motolib.MotoServer:
    return motolib.MotoServer(
        port=motolib.free_port(), env={k: str(v) for k, v in env.items()}, log_path=tmp_path / "moto.log"
    ).start()


def environment(server: motolib.MotoServer) -> dict:
    """What a developer's shell would hold: the emulator endpoint, dummy credentials, app settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(motolib.DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_COGNITO_USER_POOL_ID": f"{REGION}_test",
            "AWS_COGNITO_USER_POOL_CLIENT_ID": "testclient",
            "FRONTEND_URL": "http://localhost:3000",
            "BACKEND_URL": "http://localhost:4567",
        }
    )
    return env


def client(server: motolib.MotoServer, name: str):
    return boto3.client(
        name,
        region_name=REGION,
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def manifest(build: str) -> str:
    """An image manifest for one build: each build's config blob differs, so each has its own digest."""
    doc = json.loads(MANIFEST)
    doc["config"]["digest"] = "sha256:" + hashlib.sha256(build.encode()).hexdigest()
    return json.dumps(doc)


def push_image(server, repository: str, tag: str, build: str | None = None) -> None:
    """What `docker push` of the build leaves in ECR (the build defaults to one per tag)."""
    client(server, "ecr").put_image(repositoryName=repository, imageManifest=manifest(build or tag), imageTag=tag)


def prepare(server, services=("backend-flask",), tags=("aaa111",)) -> None:
    """The cluster, the service security group, one target group and ECR repository per service; for
    backend-flask (a CANARY service) also its alternate target group, the load balancer's production and
    test listener rules naming both, and the alarms its deployments watch."""
    ecs, ec2, elbv2, ecr = (client(server, n) for n in ("ecs", "ec2", "elbv2", "ecr"))
    ecs.create_cluster(clusterName="cruddur")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName="cruddur-srv-sg", Description="services", VpcId=vpc)["GroupId"]
    ports = {"backend-flask": 4567, "frontend-react-js": 3000}
    for name in services:
        tg = elbv2.create_target_group(
            Name=f"cruddur-{name}", Protocol="HTTP", Port=ports[name], VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        ecr.create_repository(repositoryName=name)
        for tag in tags:
            push_image(server, name, tag)
        if name == "backend-flask":
            _traffic_shifting(server, vpc, sg, tg, name, ports[name])


def _traffic_shifting(server, vpc: str, sg: str, tg: str, name: str, port: int) -> None:
    """What bin/aws/setup makes for a CANARY service: the second target group, rules on the production (80)
    and test (8080) listeners forwarding to both, and the CloudWatch alarms (aws/json/alarms)."""
    ec2, elbv2, cw = (client(server, n) for n in ("ec2", "elbv2", "cloudwatch"))
    alt = elbv2.create_target_group(Name=f"cruddur-{name}-alt", Protocol="HTTP", Port=port, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    alb = elbv2.create_load_balancer(Name="cruddur-alb", Subnets=subnets[:2], SecurityGroups=[sg])
    forward = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": tg, "Weight": 1}, {"TargetGroupArn": alt, "Weight": 0}]
            },
        }
    ]
    for listener_port in (80, 8080):
        listener = elbv2.create_listener(
            LoadBalancerArn=alb["LoadBalancers"][0]["LoadBalancerArn"],
            Protocol="HTTP",
            Port=listener_port,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )
        elbv2.create_rule(
            ListenerArn=listener["Listeners"][0]["ListenerArn"],
            Priority=10,
            Actions=forward,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
        )
    for alarm in (f"cruddur-{name}-5xx", f"cruddur-{name}-unhealthy-hosts"):
        cw.put_metric_alarm(
            AlarmName=alarm,
            MetricName="HTTPCode_Target_5XX_Count",
            Namespace="AWS/ApplicationELB",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=2,
            Threshold=5,
            ComparisonOperator="GreaterThanThreshold",
        )


def run(script: str, *args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a bin/ script as a process; .elapsed holds its wall-clock seconds."""
    started = time.monotonic()
    proc = subprocess.run(
        [str(REPO_ROOT / "bin" / script), *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    proc.elapsed = time.monotonic() - started
    return proc


def set_task_transitions(server, progression: str, times: int | None = None) -> None:
    """moto's task lifecycle: 'manual' (advance one state every `times` describes) or 'immediate'."""
    import urllib.request

    transition = {"progression": progression}
    if times is not None:
        transition["times"] = times
    body = json.dumps({"model_name": "ecs::task", "transition": transition}).encode()
    req = urllib.request.Request(
        f"{server.endpoint}/moto-api/state-manager/set-transition",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=10).close()
