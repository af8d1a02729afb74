"""The deploy kit's account-level scripts, run as processes against a fresh local AWS emulator (moto
server over HTTP): bin/ssm/put-params, bin/aws/setup, bin/aws/teardown, bin/backend/build and push."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from cruddur_kit import REPO_ROOT, templates
from cruddur_kit.errors import KitError
from cruddur_kit.local import moto as motolib
from testkit import own_moto

REGION = "us-east-1"
SECRET = "postgresql://cruddurroot:Sup3r-s3cret-Pw@db.example:5432/cruddur"
HONEYCOMB = "x-honeycomb-team=hc-s3cret-key"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """Our own moto server: these tests reset it, so they never disturb the session's shared one."""
    with own_moto(tmp_path_factory.mktemp("moto-deploy")) as server:
        yield server


@pytest.fixture
def env(emulator):
    emulator.reset()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL", "OTEL_"))}
    return {**base, **motolib.DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": emulator.endpoint, "AWS_DEFAULT_REGION": REGION}


def client(env, service):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def run(env, script, *args, input=None, extra=None):
    return subprocess.run(
        [str(REPO_ROOT / "bin" / script), *args],
        env={**env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=120,
        input=input,
        cwd=REPO_ROOT,
    )


def statuses(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines() if line.strip()]


# -- templates --------------------------------------------------------------------------------


def test_missing_variable_names_it_and_the_file():
    doc = REPO_ROOT / "aws/json/task-definitions/backend-flask.json"
    names = templates.placeholders(templates.load(doc))
    values = {n: "x" for n in names if n != "IMAGE_TAG"}
    with pytest.raises(KitError) as e:
        templates.render(doc, values)
    assert str(e.value) == (
        "aws/json/task-definitions/backend-flask.json needs ${IMAGE_TAG}: set it in the environment or pass --tag"
    )


def test_whole_placeholder_keeps_the_value_type_and_comments_are_dropped():
    rendered = templates.render(
        {"_comment": "doc", "subnets": "${SUBNET_IDS}", "arn": "a:${ACCOUNT}:b"},
        {"SUBNET_IDS": ["subnet-1", "subnet-2"], "ACCOUNT": "123"},
    )
    assert rendered == {"subnets": ["subnet-1", "subnet-2"], "arn": "a:123:b"}


# -- put-params -------------------------------------------------------------------------------


def test_put_params_never_prints_a_value_and_reports_unchanged(env, tmp_path):
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f"# prod secrets\nexport CONNECTION_URL='{SECRET}'\nOTEL_EXPORTER_OTLP_HEADERS={HONEYCOMB}\n")
    first = run(env, "ssm/put-params", "--env-file", str(env_file))
    assert first.returncode == 0, first.stderr
    assert statuses(first.stdout) == ["created", "created", "created"]
    assert "/cruddur/backend-flask/CONNECTION_URL" in first.stdout

    again = run(env, "ssm/put-params", extra={"CONNECTION_URL": SECRET, "OTEL_EXPORTER_OTLP_HEADERS": HONEYCOMB})
    assert again.returncode == 0, again.stderr
    assert statuses(again.stdout) == ["unchanged", "unchanged", "unchanged"]

    changed = run(
        env, "ssm/put-params", extra={"CONNECTION_URL": SECRET + "x", "OTEL_EXPORTER_OTLP_HEADERS": HONEYCOMB}
    )
    assert statuses(changed.stdout) == ["updated", "unchanged", "unchanged"]

    for result in (first, again, changed):
        for secret in ("Sup3r-s3cret-Pw", "hc-s3cret-key"):
            assert secret not in result.stdout + result.stderr
    stored = client(env, "ssm").get_parameter(
        Name="/cruddur/backend-flask/OTEL_EXPORTER_OTLP_HEADERS", WithDecryption=True
    )["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", HONEYCOMB)
    # the ADOT sidecar's form of the same key, derived from the header (either form gives both)
    key = client(env, "ssm").get_parameter(Name="/cruddur/backend-flask/HONEYCOMB_API_KEY", WithDecryption=True)[
        "Parameter"
    ]
    assert (key["Type"], key["Value"]) == ("SecureString", "hc-s3cret-key")


def test_put_params_names_the_missing_variable(env):
    result = run(env, "ssm/put-params", extra={"CONNECTION_URL": SECRET})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: HONEYCOMB_API_KEY (or OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY) not set in the environment: "
        "set it (or pass --env-file FILE)"
    ]


# -- setup and teardown ---------------------------------------------------------------------------


def remaining(env) -> dict[str, list]:
    """What the account holds, read with each service's own list/describe calls."""
    ecs, elbv2, ec2 = client(env, "ecs"), client(env, "elbv2"), client(env, "ec2")
    return {
        "ecr": [r["repositoryName"] for r in client(env, "ecr").describe_repositories()["repositories"]],
        "logs": [g["logGroupName"] for g in client(env, "logs").describe_log_groups()["logGroups"]],
        "iam": [r["RoleName"] for r in client(env, "iam").list_roles()["Roles"] if r["RoleName"].startswith("Cruddur")],
        "ecs-clusters": [
            c
            for c in ecs.list_clusters()["clusterArns"]
            if ecs.describe_clusters(clusters=[c])["clusters"][0]["status"] == "ACTIVE"
        ],
        "task-definitions": ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"],
        "namespaces": [n["Name"] for n in client(env, "servicediscovery").list_namespaces()["Namespaces"]],
        "albs": [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target-groups": [t["TargetGroupName"] for t in elbv2.describe_target_groups()["TargetGroups"]],
        "security-groups": [
            g["GroupName"]
            for g in ec2.describe_security_groups()["SecurityGroups"]
            if g["GroupName"].startswith("cruddur")
        ],
        "dynamodb": client(env, "dynamodb").list_tables()["TableNames"],
        "ssm": [p["Name"] for p in client(env, "ssm").describe_parameters()["Parameters"]],
        "autoscaling": client(env, "application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
            "ScalableTargets"
        ],
        "alarms": [a["AlarmName"] for a in client(env, "cloudwatch").describe_alarms()["MetricAlarms"]],
    }


def test_setup_converges_then_teardown_empties_the_account(env):
    first = run(env, "aws/setup")
    assert first.returncode == 0, first.stderr
    assert set(statuses(first.stdout)) == {"created"}
    have = remaining(env)
    assert sorted(have["ecr"]) == ["backend-flask", "frontend-react-js"]
    # the backend deploys CANARY: a second target group for the new revision beside the old
    assert sorted(have["target-groups"]) == [
        "cruddur-backend-flask",
        "cruddur-backend-flask-alt",
        "cruddur-frontend-react-js",
    ]
    assert have["dynamodb"] == ["cruddur-messages"]

    # the wiring users troubleshoot for hours: ALB open to the world, services only from the ALB,
    # the database only from the services; the API at /api/*, the frontend as the default route
    ec2, elbv2 = client(env, "ec2"), client(env, "elbv2")
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
    alb_sg, srv_sg = groups["cruddur-alb-sg"]["GroupId"], groups["cruddur-srv-sg"]["GroupId"]
    assert {(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in groups["cruddur-alb-sg"]["IpPermissions"]} == {
        (80, "0.0.0.0/0"),
        (443, "0.0.0.0/0"),
    }
    srv_rules = groups["cruddur-srv-sg"]["IpPermissions"]
    assert {(p["FromPort"], p["UserIdGroupPairs"][0]["GroupId"]) for p in srv_rules} == {(4567, alb_sg), (3000, alb_sg)}
    assert [(p["FromPort"], p["UserIdGroupPairs"][0]["GroupId"]) for p in groups["cruddur-db-sg"]["IpPermissions"]] == [
        (5432, srv_sg)
    ]
    alb = elbv2.describe_load_balancers(Names=["cruddur-alb"])["LoadBalancers"][0]
    listener = next(
        li for li in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"] if li["Port"] == 80
    )
    tgs = {t["TargetGroupName"]: t for t in elbv2.describe_target_groups()["TargetGroups"]}
    assert listener["DefaultActions"][0]["TargetGroupArn"] == tgs["cruddur-frontend-react-js"]["TargetGroupArn"]
    rule = next(r for r in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"])
    assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api/*"]
    assert rule["Actions"][0]["ForwardConfig"]["TargetGroups"] == [  # both colours; ECS moves the weights
        {"TargetGroupArn": tgs["cruddur-backend-flask"]["TargetGroupArn"], "Weight": 1},
        {"TargetGroupArn": tgs["cruddur-backend-flask-alt"]["TargetGroupArn"], "Weight": 0},
    ]
    assert tgs["cruddur-backend-flask"]["HealthCheckPath"] == "/api/health-check"
    assert tgs["cruddur-backend-flask"]["TargetType"] == "ip"
    policy = client(env, "iam").get_role_policy(
        RoleName="CruddurServiceExecutionRole", PolicyName="execution-role-policy"
    )["PolicyDocument"]
    ssm_stmt = next(s for s in policy["Statement"] if s["Action"] == "ssm:GetParameters")
    # exactly the parameters the task definitions read (the ADOT sidecar's key; no wildcard)
    prefix = "arn:aws:ssm:us-east-1:123456789012:parameter/cruddur/backend-flask/"
    assert ssm_stmt["Resource"] == [prefix + "CONNECTION_URL", prefix + "HONEYCOMB_API_KEY"]

    second = run(env, "aws/setup")
    assert second.returncode == 0, second.stderr
    assert set(statuses(second.stdout)) == {"unchanged"}
    assert len(statuses(second.stdout)) == len(statuses(first.stdout))

    # drift is repaired and reported as such
    client(env, "logs").put_retention_policy(logGroupName="/cruddur/backend-flask", retentionInDays=1)
    ec2.authorize_security_group_ingress(
        GroupId=srv_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 4567, "ToPort": 4567, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    third = run(env, "aws/setup")
    updated = sorted(line.split()[2] for line in third.stdout.splitlines() if line.startswith("updated"))
    assert updated == ["/cruddur/backend-flask", "cruddur-srv-sg"]

    secrets = {"CONNECTION_URL": SECRET, "OTEL_EXPORTER_OTLP_HEADERS": HONEYCOMB}
    assert run(env, "ssm/put-params", extra=secrets).returncode == 0
    gone = run(env, "aws/teardown", "--yes")
    assert gone.returncode == 0, gone.stderr
    kept = sorted(line.split()[2] for line in gone.stdout.splitlines() if line.startswith("kept"))
    assert kept == [
        "/cruddur/backend-flask/CONNECTION_URL",
        "/cruddur/backend-flask/HONEYCOMB_API_KEY",
        "/cruddur/backend-flask/OTEL_EXPORTER_OTLP_HEADERS",
        "cruddur-messages",
        "cruddur-user-pool",
    ]  # the pool holds the users: data
    assert "remains" not in statuses(gone.stdout)
    left = {k: v for k, v in remaining(env).items() if v}
    assert left == {
        "dynamodb": ["cruddur-messages"],
        "ssm": [
            "/cruddur/backend-flask/CONNECTION_URL",
            "/cruddur/backend-flask/HONEYCOMB_API_KEY",
            "/cruddur/backend-flask/OTEL_EXPORTER_OTLP_HEADERS",
        ],
    }

    everything = run(env, "aws/teardown", "--yes", "--include-data")
    assert everything.returncode == 0, everything.stderr
    assert {k: v for k, v in remaining(env).items() if v} == {}
    again = run(env, "aws/teardown", "--yes", "--include-data")
    assert again.returncode == 0 and set(statuses(again.stdout)) == {"absent"}


def test_dry_run_changes_nothing_and_teardown_asks_first(env):
    dry = run(env, "aws/setup", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert all(line.startswith("would create") for line in dry.stdout.splitlines())
    assert {k: v for k, v in remaining(env).items() if v} == {}

    assert run(env, "aws/setup").returncode == 0
    refused = run(env, "aws/teardown", input="n\n")
    assert refused.returncode != 0
    assert "delete everything but the data stores" in refused.stderr
    assert remaining(env)["albs"] == ["cruddur-alb"]
    planned = run(env, "aws/teardown", "--dry-run")
    assert planned.returncode == 0 and "would delete" in planned.stdout
    assert remaining(env)["albs"] == ["cruddur-alb"]


# -- images ---------------------------------------------------------------------------------------


@pytest.fixture
def fake_docker(tmp_path):
    """A docker CLI whose engine is down, as on a machine without Docker running (`docker info` fails)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    docker = bindir / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    return str(bindir)


def test_build_without_a_docker_engine_fails_in_one_line(env, fake_docker, tmp_path):
    result = run(env, "backend/build", extra={"PATH": f"{fake_docker}:{env['PATH']}"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: no Docker engine answers (`docker info` failed): start Docker Desktop or the docker service"
    ]
    no_cli = run(env, "backend/build", extra={"PATH": path_without_docker(fake_docker)})
    assert no_cli.returncode == 1 and "docker is not installed" in no_cli.stderr


def path_without_docker(tmp: str) -> str:
    """A PATH holding what the doors need (bash, env, dirname, git) and no docker: a machine without Docker,
    even where one is installed."""
    bindir = Path(tmp).parent / "no-docker-bin"
    bindir.mkdir(exist_ok=True)
    for tool in ("bash", "env", "dirname", "git", "make"):
        found = shutil.which(tool)
        if found and not (bindir / tool).exists():
            (bindir / tool).symlink_to(found)
    return str(bindir)


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7,
            "digest": "sha256:" + "b" * 64,
        },
        "layers": [],
    }
)


def test_push_moves_latest_to_the_sha_already_in_ecr(env, fake_docker):
    assert run(env, "aws/setup").returncode == 0
    path = {"PATH": f"{fake_docker}:{env['PATH']}"}
    missing = run(env, "backend/push", "--tag", "0123abcd", extra=path)
    assert missing.returncode == 1 and "no Docker engine answers" in missing.stderr
    # No Docker engine here: the image `docker push` would upload is put into the emulator's ECR directly.
    client(env, "ecr").put_image(repositoryName="backend-flask", imageTag="0123abcd", imageManifest=MANIFEST)
    pushed = run(env, "backend/push", "--tag", "0123abcd", extra=path)
    assert pushed.returncode == 0, pushed.stderr
    assert statuses(pushed.stdout) == ["unchanged", "created"]
    # it pushed nothing, and says only that (it used to end "pushed URI" after "unchanged ... already in ECR")
    assert pushed.stderr.strip().splitlines()[-1].startswith("nothing pushed: ")
    assert "\npushed " not in "\n" + pushed.stderr
    images = client(env, "ecr").describe_images(repositoryName="backend-flask")["imageDetails"]
    assert [sorted(i["imageTags"]) for i in images] == [["0123abcd", "latest"]]
    again = run(env, "backend/push", "--tag", "0123abcd", extra=path)
    assert statuses(again.stdout) == ["unchanged", "unchanged"]


def test_the_names_config_spells_are_the_specs_names():
    """cruddur_kit.config names the security groups, the load balancer and the database once; the specs agree."""
    from cruddur_kit import AWS_JSON, config

    groups = [g["GroupName"] for g in json.loads((AWS_JSON / "network/security-groups.json").read_text())["groups"]]
    assert groups == [config.ALB_SG, config.SERVICE_SG, config.DB_SG]
    rds = json.loads((AWS_JSON / "database/rds.json").read_text())
    assert rds["instance"]["DBInstanceIdentifier"] == config.DB_INSTANCE
    alb = json.loads((AWS_JSON / "load-balancer/alb.json").read_text())
    assert alb["loadBalancer"]["Name"] == config.ALB_NAME
    from cruddur_kit import cognito

    pool = json.loads((AWS_JSON / "cognito/user-pool.json").read_text())
    assert (pool["userPool"]["PoolName"], pool["userPoolClient"]["ClientName"]) == (
        cognito.POOL_NAME,
        cognito.CLIENT_NAME,
    )
