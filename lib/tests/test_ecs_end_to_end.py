"""The issue's end-to-end test, every step a bin/ script run as a process against a fresh emulator:
put-params, setup (twice: the second only "unchanged"), an image in ECR, deploy, status, teardown
--yes — then nothing of the kit's left but the data stores it keeps, and with --include-data nothing
at all. Once with one service, once with both services behind the one ALB.

The emulator runs the service's tasks on its clock (journal/2026-11-29-emulator-ecs-deployments.md), so a
created service's deployment completes and teardown sees the service drain. The image is put into the
emulator's ECR with put_image, as `docker push` would leave it (no Docker engine here).
"""
from __future__ import annotations

import pytest

import ecs_world as w

SECRETS = {"CONNECTION_URL": "postgresql://cruddurroot:e2e-Secr3t@db.example:5432/cruddur",
           "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=e2e-s3cret"}
TAG = "e2e0000000aa"


@pytest.fixture
def fresh(tmp_path):
    server = w.start(tmp_path)
    env = w.environment(server)
    for key in ("FRONTEND_URL", "BACKEND_URL"):  # from the ALB that setup creates, as for a real user
        env.pop(key)
    yield server, env
    server.stop()


def left(server) -> dict:
    """Everything in the account, read with each service's own list calls."""
    c = lambda name: w.client(server, name)  # noqa: E731
    ecs = c("ecs")
    clusters = [a for a in ecs.list_clusters()["clusterArns"]
                if ecs.describe_clusters(clusters=[a])["clusters"][0]["status"] == "ACTIVE"]
    services = [s for a in clusters for s in ecs.list_services(cluster=a)["serviceArns"]]
    found = {
        "ecs-clusters": clusters, "ecs-services": services,
        "task-definitions": ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"],
        "ecr": [r["repositoryName"] for r in c("ecr").describe_repositories()["repositories"]],
        "logs": [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
        "iam-roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"] if not r["Path"].startswith("/aws-")],
        "namespaces": [n["Name"] for n in c("servicediscovery").list_namespaces()["Namespaces"]],
        "load-balancers": [lb["LoadBalancerName"] for lb in c("elbv2").describe_load_balancers()["LoadBalancers"]],
        "target-groups": [t["TargetGroupName"] for t in c("elbv2").describe_target_groups()["TargetGroups"]],
        "security-groups": [g["GroupName"] for g in c("ec2").describe_security_groups()["SecurityGroups"]
                            if g["GroupName"] != "default"],
        "autoscaling": [t["ResourceId"] for t in c("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs")["ScalableTargets"]],
        "dynamodb": c("dynamodb").list_tables()["TableNames"],
        "ssm": [p["Name"] for p in c("ssm").describe_parameters()["Parameters"]],
    }
    return {k: sorted(v) for k, v in found.items() if v}


def _ok(proc):
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _ship(server, env, services):
    put = _ok(w.run("ssm/put-params", env={**env, **SECRETS}))
    for secret in SECRETS.values():
        assert secret not in put.stdout + put.stderr
    first = _ok(w.run("aws/setup", env=env, timeout=120))
    assert "created" in first.stdout
    second = _ok(w.run("aws/setup", env=env, timeout=120))
    assert {line.split()[0] for line in second.stdout.splitlines() if line.strip()} == {"unchanged"}
    for name in services:
        w.push_image(server, name, TAG)  # what bin/backend/push leaves in ECR
        deploy = _ok(w.run("backend/deploy", "--service", name, "--tag", TAG, "--interval", "0.2",
                           env=env, timeout=120))
        assert f"created      ecs-service                {name}" in deploy.stdout
        assert "created      autoscaling" in deploy.stdout
        assert deploy.stderr.strip().splitlines()[-1].startswith(f"deploy of {name}: deployment ecs-svc/")
        status = _ok(w.run("ecs/status", "--service", name, env=env))
        assert status.stdout.splitlines()[0] == f"service      {name}  (ACTIVE, cluster cruddur)"
        assert f"PRIMARY  COMPLETED    {name}:1" in status.stdout
        assert f"targets      cruddur-{name}" in status.stdout


def _teardown_to_empty(server, env):
    gone = _ok(w.run("aws/teardown", "--yes", env=env, timeout=120))
    assert "remains" not in gone.stdout
    assert left(server) == {"dynamodb": ["cruddur-messages"],
                            "ssm": sorted(f"/cruddur/backend-flask/{k}" for k in (*SECRETS, "HONEYCOMB_API_KEY"))}
    _ok(w.run("aws/teardown", "--yes", "--include-data", env=env, timeout=120))
    assert left(server) == {}


def test_empty_account_to_a_deployed_service_and_back_to_empty(fresh):
    server, env = fresh
    assert left(server) == {}
    _ship(server, env, ["backend-flask"])
    ecs = w.client(server, "ecs")
    [svc] = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"]
    sg = w.client(server, "ec2").describe_security_groups(GroupNames=["cruddur-srv-sg"])["SecurityGroups"][0]
    assert svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [sg["GroupId"]]
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    env_vars = {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"]}
    assert env_vars["BACKEND_URL"].startswith("http://cruddur-alb")  # found from the ALB setup made
    _teardown_to_empty(server, env)


def test_two_services_behind_one_load_balancer(fresh):
    server, env = fresh
    _ship(server, env, ["backend-flask", "frontend-react-js"])
    ecs, elbv2 = w.client(server, "ecs"), w.client(server, "elbv2")
    services = ecs.describe_services(cluster="cruddur", services=["backend-flask", "frontend-react-js"])["services"]
    tg_of = {s["serviceName"]: s["loadBalancers"][0]["targetGroupArn"] for s in services}
    [alb] = elbv2.describe_load_balancers()["LoadBalancers"]
    [listener] = elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    routed = {a["TargetGroupArn"] for r in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
              for a in r["Actions"]}
    assert set(tg_of.values()) == routed and len(routed) == 2  # each service its own group, one ALB
    _teardown_to_empty(server, env)
