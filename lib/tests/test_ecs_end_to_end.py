"""The issue's end-to-end test, every step a bin/ script run as a process against a fresh emulator:
put-params, setup (twice: the second only "unchanged"), an image in ECR, deploy, status, teardown
--yes — then nothing of the kit's left but the data stores it keeps, and with --include-data nothing
at all. Once with one service, once with both services behind the one ALB.

The emulator runs the service's tasks on its clock (journal/2026-11-29-emulator-ecs-deployments.md), so a
created service's deployment completes and teardown sees the service drain. The image is put into the
emulator's ECR with put_image, as `docker push` would leave it (no Docker engine here).
"""

from __future__ import annotations

import json
import os

import pytest

import ecs_world as w
from cruddur_kit.config import forwarded_groups

SECRETS = {
    "CONNECTION_URL": "postgresql://cruddurroot:e2e-Secr3t@db.example:5432/cruddur",
    "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=e2e-s3cret",
}
TAG = "e2e0000000aa"


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory) -> str:
    """The post-confirmation Lambda as bin/cognito/build-lambda builds it (psycopg left out: nothing invokes it)."""
    out = tmp_path_factory.mktemp("lambda") / "cruddur-post-confirmation.zip"
    built = w.run("cognito/build-lambda", "--no-deps", "--output", str(out), env=dict(os.environ), timeout=120)
    assert built.returncode == 0, built.stderr
    return str(out)


@pytest.fixture
def fresh(tmp_path):
    server = w.start(tmp_path)
    env = w.environment(server)
    # from the ALB and the user pool that setup creates, as for a real user: nothing exported by hand
    for key in ("FRONTEND_URL", "BACKEND_URL", "AWS_COGNITO_USER_POOL_ID", "AWS_COGNITO_USER_POOL_CLIENT_ID"):
        env.pop(key)
    yield server, env
    server.stop()


def left(server) -> dict:
    """Everything in the account, read with each service's own list calls."""
    c = lambda name: w.client(server, name)  # noqa: E731
    ecs = c("ecs")
    clusters = [
        a
        for a in ecs.list_clusters()["clusterArns"]
        if ecs.describe_clusters(clusters=[a])["clusters"][0]["status"] == "ACTIVE"
    ]
    services = [s for a in clusters for s in ecs.list_services(cluster=a)["serviceArns"]]
    found = {
        "ecs-clusters": clusters,
        "ecs-services": services,
        "task-definitions": ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"],
        "ecr": [r["repositoryName"] for r in c("ecr").describe_repositories()["repositories"]],
        "logs": [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
        "iam-roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"] if not r["Path"].startswith("/aws-")],
        "namespaces": [n["Name"] for n in c("servicediscovery").list_namespaces()["Namespaces"]],
        "load-balancers": [lb["LoadBalancerName"] for lb in c("elbv2").describe_load_balancers()["LoadBalancers"]],
        "target-groups": [t["TargetGroupName"] for t in c("elbv2").describe_target_groups()["TargetGroups"]],
        "security-groups": [
            g["GroupName"] for g in c("ec2").describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"
        ],
        "autoscaling": [
            t["ResourceId"]
            for t in c("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        ],
        "dynamodb": c("dynamodb").list_tables()["TableNames"],
        "ssm": [p["Name"] for p in c("ssm").describe_parameters()["Parameters"]],
        "cloudwatch-alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
        "cognito": [p["Name"] for p in c("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]],
        "lambda": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]],
    }
    return {k: sorted(v) for k, v in found.items() if v}


def _ok(proc):
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _ship(server, env, services, lambda_zip):
    put = _ok(w.run("ssm/put-params", env={**env, **SECRETS}))
    for secret in SECRETS.values():
        assert secret not in put.stdout + put.stderr
    first = _ok(w.run("aws/setup", "--lambda-zip", lambda_zip, env=env, timeout=120))
    assert first.stderr.splitlines()[0].startswith("lint: aws/json passes (")  # lint ran first
    for line in (
        "created      cognito-user-pool          cruddur-user-pool",
        "created      cognito-app-client         cruddur-web",
        "created      iam-role                   cruddur-post-confirmation",
        "created      lambda-function            cruddur-post-confirmation",
        "created      cognito-trigger            PostConfirmation  (cruddur-post-confirmation)",
    ):
        assert line in first.stdout, first.stdout
    assert not any(secret in first.stdout + first.stderr for secret in SECRETS.values())
    second = _ok(w.run("aws/setup", "--lambda-zip", lambda_zip, env=env, timeout=120))
    assert {line.split()[0] for line in second.stdout.splitlines() if line.strip()} == {"unchanged"}
    for name in services:
        w.push_image(server, name, TAG)  # what bin/backend/push leaves in ECR
        deploy = _ok(
            w.run("backend/deploy", "--service", name, "--tag", TAG, "--interval", "0.2", env=env, timeout=120)
        )
        assert f"created      ecs-service                {name}" in deploy.stdout
        assert "created      autoscaling" in deploy.stdout
        assert deploy.stderr.strip().splitlines()[-1].startswith(f"deploy of {name}: service deployment ")
        assert deploy.stderr.strip().endswith(
            f"SUCCESSFUL: {name}:1 runs 1/1" if name == "frontend-react-js" else f"SUCCESSFUL: {name}:1 runs 2/2"
        )
        status = _ok(w.run("ecs/status", "--service", name, env=env))
        assert status.stdout.splitlines()[0] == f"service      {name}  (ACTIVE, cluster cruddur)"
        assert f"PRIMARY  COMPLETED    {name}:1" in status.stdout
        assert f"targets      cruddur-{name}" in status.stdout


def _teardown_to_empty(server, env):
    gone = _ok(w.run("aws/teardown", "--yes", env=env, timeout=120))
    assert "remains" not in gone.stdout
    assert left(server) == {
        "dynamodb": ["cruddur-messages"],
        "cognito": ["cruddur-user-pool"],
        "ssm": sorted(f"/cruddur/backend-flask/{k}" for k in (*SECRETS, "HONEYCOMB_API_KEY")),
    }
    idp = w.client(server, "cognito-idp")
    [pool] = idp.list_user_pools(MaxResults=60)["UserPools"]
    assert "PostConfirmation" not in (
        idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"].get("LambdaConfig") or {}
    )  # the kept pool does not call a deleted function
    _ok(w.run("aws/teardown", "--yes", "--include-data", env=env, timeout=120))
    assert left(server) == {}


def test_empty_account_to_a_deployed_service_and_back_to_empty(fresh, lambda_zip):
    server, env = fresh
    assert left(server) == {}
    _ship(server, env, ["backend-flask"], lambda_zip)
    ecs = w.client(server, "ecs")
    [svc] = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"]
    sg = w.client(server, "ec2").describe_security_groups(GroupNames=["cruddur-srv-sg"])["SecurityGroups"][0]
    assert svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [sg["GroupId"]]
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    env_vars = {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"]}
    assert env_vars["BACKEND_URL"].startswith("http://cruddur-alb")  # found from the ALB setup made
    idp = w.client(server, "cognito-idp")
    [pool] = idp.list_user_pools(MaxResults=60)["UserPools"]  # the one setup made, found by deploy by name
    [app] = idp.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
    assert (pool["Name"], app["ClientName"]) == ("cruddur-user-pool", "cruddur-web")
    assert env_vars["AWS_COGNITO_USER_POOL_ID"] == pool["Id"]
    assert env_vars["AWS_COGNITO_USER_POOL_CLIENT_ID"] == app["ClientId"]
    # the sign-up trigger: the pool calls the function, Cognito may invoke it, it reaches the database
    lam = w.client(server, "lambda")
    fn = lam.get_function_configuration(FunctionName="cruddur-post-confirmation")
    pool_config = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert pool_config["LambdaConfig"]["PostConfirmation"] == fn["FunctionArn"]
    assert pool_config["AutoVerifiedAttributes"] == ["email"]  # UpdateUserPool kept the spec's settings
    assert fn["Environment"]["Variables"]["CONNECTION_URL"] == SECRETS["CONNECTION_URL"]
    assert fn["VpcConfig"]["SecurityGroupIds"] == [sg["GroupId"]]
    [grant] = json.loads(lam.get_policy(FunctionName="cruddur-post-confirmation")["Policy"])["Statement"]
    assert grant["Principal"] == {"Service": "cognito-idp.amazonaws.com"} and pool["Id"] in json.dumps(grant)
    _teardown_to_empty(server, env)


def test_two_services_behind_one_load_balancer(fresh, lambda_zip):
    server, env = fresh
    _ship(server, env, ["backend-flask", "frontend-react-js"], lambda_zip)
    ecs, elbv2 = w.client(server, "ecs"), w.client(server, "elbv2")
    services = ecs.describe_services(cluster="cruddur", services=["backend-flask", "frontend-react-js"])["services"]
    tg_of = {s["serviceName"]: s["loadBalancers"][0]["targetGroupArn"] for s in services}
    [alb] = elbv2.describe_load_balancers()["LoadBalancers"]
    listeners = {li["Port"]: li for li in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert sorted(listeners) == [80, 8080]  # production, and the test listener of backend-flask's canary
    routed = forwarded_groups(
        [a for r in elbv2.describe_rules(ListenerArn=listeners[80]["ListenerArn"])["Rules"] for a in r["Actions"]]
    )
    [backend] = [s for s in services if s["serviceName"] == "backend-flask"]
    alternate = backend["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"]
    # each service its own group (the canary's two colours), one ALB
    assert routed == set(tg_of.values()) | {alternate} and len(routed) == 3
    _teardown_to_empty(server, env)


def test_setup_adopts_the_user_pool_and_client_that_exist_by_name(fresh):
    server, env = fresh
    idp = w.client(server, "cognito-idp")
    pool_id = idp.create_user_pool(PoolName="cruddur-user-pool")["UserPool"]["Id"]  # made by hand, earlier
    idp.create_user_pool(PoolName="someone-elses-pool")
    no_zip = "/nonexistent/cruddur-post-confirmation.zip"
    first = _ok(w.run("aws/setup", "--dry-run", "--lambda-zip", no_zip, env=env, timeout=120))
    assert (
        "cognito: no post-confirmation trigger yet: /nonexistent/cruddur-post-confirmation.zip is not built "
        "(run bin/cognito/build-lambda, then bin/aws/setup)"
    ) in first.stderr
    assert f"unchanged    cognito-user-pool          cruddur-user-pool  ({pool_id})" not in first.stdout  # no client
    assert "would create cognito-app-client         cruddur-web" in first.stdout
    assert first.stderr.strip().splitlines()[-1].startswith("dry run, nothing changed: ")
    assert "would create" in first.stderr.strip().splitlines()[-1]
    assert idp.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"] == []  # the dry run changed nothing
    setup = _ok(w.run("aws/setup", "--lambda-zip", no_zip, env=env, timeout=120))
    assert f"unchanged    cognito-user-pool          cruddur-user-pool  ({pool_id})" in setup.stdout
    [app] = idp.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"]
    assert f"created      cognito-app-client         cruddur-web  ({app['ClientId']})" in setup.stdout
    assert len(idp.list_user_pools(MaxResults=60)["UserPools"]) == 2  # adopted, not duplicated
    _ok(w.run("aws/teardown", "--yes", "--include-data", env=env, timeout=120))
    assert [p["Name"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]] == ["someone-elses-pool"]


def test_teardown_stops_a_running_one_off_task_and_waits_for_its_network_interface(fresh, lambda_zip):
    """Before issue 13, teardown deleted the cluster under a running one-off task and left it and its network
    interface behind (the emulator, like ECS, now refuses DeleteCluster while tasks run)."""
    server, env = fresh
    _ship(server, env, ["backend-flask"], lambda_zip)
    ecs, ec2 = w.client(server, "ecs"), w.client(server, "ec2")
    [svc] = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"]
    task = ecs.run_task(
        cluster="cruddur",
        taskDefinition=svc["taskDefinition"],
        launchType="FARGATE",
        networkConfiguration=svc["networkConfiguration"],
        startedBy="by-hand",
    )["tasks"][0]
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    [eni] = [d["value"] for a in task["attachments"] for d in a["details"] if d["name"] == "networkInterfaceId"]

    # a one-off task that ran to its end (a migration) leaves no network interface behind, as on ECS
    migration = _ok(w.run("ecs/run-task", "--interval", "0.2", "--", "true", env=env))
    [done] = ecs.describe_tasks(cluster="cruddur", tasks=[migration.stdout.strip()])["tasks"]
    [done_eni] = [d["value"] for a in done["attachments"] for d in a["details"] if d["name"] == "networkInterfaceId"]
    assert (
        done["lastStatus"] == "STOPPED"
        and ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id", "Values": [done_eni]}])[
            "NetworkInterfaces"
        ]
        == []
    )

    dry = _ok(w.run("aws/teardown", "--dry-run", env=env, timeout=120))
    assert f"would stop   ecs-task                   {task_id}" in dry.stdout
    closing = dry.stderr.strip().splitlines()[-1]
    assert closing.startswith("dry run, nothing changed: ") and "1 would stop" in closing, closing
    assert " deleted" not in closing and " stopped" not in closing
    assert ecs.list_tasks(cluster="cruddur", desiredStatus="RUNNING", startedBy="by-hand")["taskArns"]

    gone = _ok(w.run("aws/teardown", "--yes", env=env, timeout=120))
    assert f"stopped      ecs-task                   {task_id}" in gone.stdout
    assert f"ENI {eni}" in gone.stdout
    assert "deleted      ecs-cluster                cruddur" in gone.stdout
    assert "remains" not in gone.stdout and "failed" not in gone.stdout
    assert (
        ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id", "Values": [eni]}])[
            "NetworkInterfaces"
        ]
        == []
    )
    [stopped] = ecs.describe_tasks(cluster="cruddur", tasks=[task["taskArn"]])["tasks"]
    assert (stopped["lastStatus"], stopped["stoppedReason"]) == ("STOPPED", "bin/aws/teardown")


def test_the_emulator_refuses_to_delete_a_cluster_with_a_running_task(fresh, lambda_zip):
    import botocore.exceptions

    server, env = fresh
    _ship(server, env, ["backend-flask"], lambda_zip)
    ecs = w.client(server, "ecs")
    with pytest.raises(botocore.exceptions.ClientError, match="ClusterContainsServicesException"):
        ecs.delete_cluster(cluster="cruddur")
    [svc] = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"]
    ecs.create_cluster(clusterName="scratch")  # a cluster with no service, one one-off task
    task = ecs.run_task(
        cluster="scratch",
        taskDefinition=svc["taskDefinition"],
        launchType="FARGATE",
        networkConfiguration=svc["networkConfiguration"],
    )["tasks"][0]
    with pytest.raises(botocore.exceptions.ClientError, match="ClusterContainsTasksException"):
        ecs.delete_cluster(cluster="scratch")
    ecs.stop_task(cluster="scratch", task=task["taskArn"])
    assert ecs.delete_cluster(cluster="scratch")["cluster"]["status"] == "INACTIVE"
