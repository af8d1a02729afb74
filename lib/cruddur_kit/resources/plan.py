"""The whole account, in order: `setup` converges it, `teardown` empties it in dependency order,
`inventory` lists what is still there."""

from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ClientError

from .. import cognito as cognito_lib
from .. import spec as speclib
from ..config import ALB_NAME, DB_INSTANCE, DB_SG, load_balancer, target_group_arn
from ..errors import KitError
from ..kit import Kit
from . import alarms, alb, cluster, cognito, data, iam, network, registry, scaling, xray


def setup(kit: Kit, with_database: bool = False, lambda_zip: Path | None = None) -> None:
    services = speclib.services()
    retention = int(kit.vars["LOG_RETENTION_DAYS"])
    for repo in sorted({s.repository for s in services}):
        registry.ensure_repository(kit, repo)
    for group in sorted({g for s in services for g in s.log_groups}):
        registry.ensure_log_group(kit, group, retention)
    iam.ensure_roles(kit)
    namespace = cluster.ensure_namespace(kit)
    cluster.ensure_cluster(kit, namespace)
    network.ensure_groups(kit)
    alb_arn = alb.ensure_load_balancer(kit)
    tgs = {s.name: alb.ensure_target_group(kit, s) for s in services}
    # blue/green, canary and linear: a second target group, a test listener with rules, and ECS's role
    alternates = {s.name: alb.ensure_target_group(kit, s, alternate=True) for s in services if s.shifts_traffic}
    alb.ensure_listener(kit, alb_arn, tgs, alternates)
    if alternates:
        alb.ensure_listener(kit, alb_arn, tgs, alternates, test=True)
        iam.ensure_infrastructure_role(kit)
    alarms.ensure(kit, services)  # after the target groups: the alarms' dimensions name them
    data.ensure_table(kit)
    cognito.ensure_pool(kit)  # the task definition's AWS_COGNITO_USER_POOL_ID / _CLIENT_ID
    cognito.ensure_trigger(kit, lambda_zip or cognito_lib.LAMBDA_ZIP)  # after the security groups: its network
    if with_database:
        data.ensure_database(kit)
    iam.ensure_db_secret_policy(kit)  # after the database: its policy names the secret RDS created
    iam.ensure_kms_policy(kit)  # after it too: the database secret's key counts
    xray.ensure_sampling_rules(kit)
    live = _live_services(kit)
    for s in services:
        if s.name in live:
            scaling.ensure(kit, s)


def _live_services(kit: Kit) -> set[str]:
    name = kit.vars["CLUSTER_NAME"]
    if cluster.find_cluster(kit, name) is None:
        return set()
    ecs = kit.client("ecs")
    arns = [a for page in ecs.get_paginator("list_services").paginate(cluster=name) for a in page["serviceArns"]]
    if not arns:
        return set()
    found = ecs.describe_services(cluster=name, services=arns)["services"]
    return {s["serviceName"] for s in found if s["status"] == "ACTIVE"}


def teardown(kit: Kit, include_data: bool = False) -> list[str]:
    """Delete in dependency order; a step AWS refuses is reported and the rest continues.
    Returns the problems (empty when everything went)."""
    services = speclib.services()
    problems: list[str] = []

    def step(fn, *args):
        try:
            fn(*args)
        except (KitError, ClientError) as e:
            problems.append(str(e))
            kit.report("failed", fn.__module__.rsplit(".", 1)[-1], fn.__name__, str(e))

    for s in services:
        step(scaling.delete, kit, s)
    step(cluster.delete_services, kit)
    step(cluster.stop_tasks, kit)  # one-off tasks (run-task): ECS will not delete a cluster that runs any
    step(cluster.delete_cluster, kit)
    step(cluster.delete_namespace, kit)
    step(alarms.delete, kit, services)
    step(alb.delete_load_balancer, kit)
    step(alb.delete_target_groups, kit)
    step(data.teardown, kit, include_data)
    step(cognito.teardown, kit, include_data)
    step(cognito.teardown_trigger, kit, include_data)
    keep = set() if include_data or not data.database_exists(kit) else {DB_SG}
    step(network.delete_groups, kit, keep)
    step(cluster.delete_task_definitions, kit)
    for repo in sorted({s.repository for s in services}):
        step(registry.delete_repository, kit, repo)
    for group in sorted({g for s in services for g in s.log_groups}):
        step(registry.delete_log_group, kit, group)
    step(iam.delete_roles, kit)
    step(xray.delete_sampling_rules, kit)
    return problems


def inventory(kit: Kit) -> list[tuple[str, str]]:
    """Every kit resource still in the account (data stores included): [(kind, name)]."""
    services = speclib.services()
    found = []
    ecr = kit.client("ecr")
    for repo in sorted({s.repository for s in services}):
        try:
            ecr.describe_repositories(repositoryNames=[repo])
            found.append(("ecr-repository", repo))
        except ecr.exceptions.RepositoryNotFoundException:
            pass
    logs = kit.client("logs")
    for group in sorted({g for s in services for g in s.log_groups}):
        if registry.find_log_group(logs, group):
            found.append(("log-group", group))
    iam_client = kit.client("iam")
    for role in iam.role_names(kit):
        try:
            iam_client.get_role(RoleName=role)
            found.append(("iam-role", role))
        except iam_client.exceptions.NoSuchEntityException:
            pass
    if cluster.find_cluster(kit, kit.vars["CLUSTER_NAME"]):
        found.append(("ecs-cluster", kit.vars["CLUSTER_NAME"]))
    if cluster.find_namespace(kit, kit.vars["SERVICE_CONNECT_NAMESPACE"]):
        found.append(("service-connect-namespace", kit.vars["SERVICE_CONNECT_NAMESPACE"]))
    for s in services:
        if cluster.task_definition_arns(kit, s.name, "ACTIVE"):
            found.append(("task-definition", s.name))
    for g in network.groups_spec(kit):
        if network.find_group(kit, g["GroupName"]):
            found.append(("security-group", g["GroupName"]))
    elbv2 = kit.client("elbv2")
    if load_balancer(elbv2, ALB_NAME):
        found.append(("load-balancer", ALB_NAME))
    for s in services:
        for name in alb.target_group_names(s):
            if target_group_arn(elbv2, name):
                found.append(("target-group", name))
    for name in alarms.remaining(kit, services):
        found.append(("cloudwatch-alarm", name))
    if data.ddb.describe(kit.client("dynamodb"), kit.vars["DDB_MESSAGE_TABLE"]):
        found.append(("dynamodb-table", kit.vars["DDB_MESSAGE_TABLE"]))
    if data.database_exists(kit):
        found.append(("rds-instance", DB_INSTANCE))
    for name in cognito.remaining(kit):
        found.append(("cognito-user-pool", name))
    found += cognito.remaining_trigger(kit)
    for name in xray.remaining(kit):
        found.append(("xray-sampling-rule", name))
    for name in data.ssm.existing(kit.client("ssm"), data.SSM_PREFIX):
        found.append(("ssm-parameter", name))
    return found
