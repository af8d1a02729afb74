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
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                                  "digest": "sha256:" + "a" * 64},
                       "layers": []})


def start(tmp_path: Path, **env) -> motolib.MotoServer:
    return motolib.MotoServer(port=motolib.free_port(), env={k: str(v) for k, v in env.items()},
                              log_path=tmp_path / "moto.log").start()


def environment(server: motolib.MotoServer) -> dict:
    """What a developer's shell would hold: the emulator endpoint, dummy credentials, app settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(motolib.DUMMY_CREDENTIALS)
    env.update({"AWS_ENDPOINT_URL": server.endpoint, "AWS_DEFAULT_REGION": REGION,
                "AWS_COGNITO_USER_POOL_ID": f"{REGION}_test", "AWS_COGNITO_USER_POOL_CLIENT_ID": "testclient",
                "FRONTEND_URL": "http://localhost:3000", "BACKEND_URL": "http://localhost:4567"})
    return env


def client(server: motolib.MotoServer, name: str):
    return boto3.client(name, region_name=REGION, endpoint_url=server.endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


def manifest(build: str) -> str:
    """An image manifest for one build: each build's config blob differs, so each has its own digest."""
    doc = json.loads(MANIFEST)
    doc["config"]["digest"] = "sha256:" + hashlib.sha256(build.encode()).hexdigest()
    return json.dumps(doc)


def push_image(server, repository: str, tag: str, build: str | None = None) -> None:
    """What `docker push` of the build leaves in ECR (the build defaults to one per tag)."""
    client(server, "ecr").put_image(repositoryName=repository, imageManifest=manifest(build or tag), imageTag=tag)


def prepare(server, services=("backend-flask",), tags=("aaa111",)) -> None:
    """The cluster, the service security group, one target group and ECR repository per service."""
    ecs, ec2, elbv2, ecr = (client(server, n) for n in ("ecs", "ec2", "elbv2", "ecr"))
    ecs.create_cluster(clusterName="cruddur")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    ec2.create_security_group(GroupName="cruddur-srv-sg", Description="services", VpcId=vpc)
    ports = {"backend-flask": 4567, "frontend-react-js": 3000}
    for name in services:
        elbv2.create_target_group(Name=f"cruddur-{name}", Protocol="HTTP", Port=ports[name], VpcId=vpc,
                                  TargetType="ip")
        ecr.create_repository(repositoryName=name)
        for tag in tags:
            push_image(server, name, tag)


def run(script: str, *args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a bin/ script as a process; .elapsed holds its wall-clock seconds."""
    started = time.monotonic()
    proc = subprocess.run([str(REPO_ROOT / "bin" / script), *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)
    proc.elapsed = time.monotonic() - started
    return proc


def set_task_transitions(server, progression: str, times: int | None = None) -> None:
    """moto's task lifecycle: 'manual' (advance one state every `times` describes) or 'immediate'."""
    import urllib.request

    transition = {"progression": progression}
    if times is not None:
        transition["times"] = times
    body = json.dumps({"model_name": "ecs::task", "transition": transition}).encode()
    req = urllib.request.Request(f"{server.endpoint}/moto-api/state-manager/set-transition", data=body,
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).close()
