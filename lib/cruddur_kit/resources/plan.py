"""The whole account, in order: `setup` converges it, `teardown` empties it in dependency order,
`inventory` lists what is still there."""
from __future__ import annotations

from botocore.exceptions import ClientError

from .. import spec as speclib
from ..config import ALB_NAME, load_balancer, target_group_arn
from ..errors import KitError
from . import Ctx, alb, cluster, data, iam, network, registry, scaling, xray


def setup(ctx: Ctx, with_database: bool = False) -> None:
    services = speclib.services()
    retention = int(ctx.vars["LOG_RETENTION_DAYS"])
    for repo in sorted({s.repository for s in services}):
        registry.ensure_repository(ctx, repo)
    for group in sorted({g for s in services for g in s.log_groups}):
        registry.ensure_log_group(ctx, group, retention)
    iam.ensure_roles(ctx)
    namespace = cluster.ensure_namespace(ctx)
    cluster.ensure_cluster(ctx, namespace)
    network.ensure_groups(ctx)
    alb_arn = alb.ensure_load_balancer(ctx)
    tgs = {s.name: alb.ensure_target_group(ctx, s) for s in services}
    alb.ensure_listener(ctx, alb_arn, tgs)
    data.ensure_table(ctx)
    if with_database:
        data.ensure_database(ctx)
    iam.ensure_db_secret_policy(ctx)  # after the database: its policy names the secret RDS created
    iam.ensure_kms_policy(ctx)  # after it too: the database secret's key counts
    xray.ensure_sampling_rules(ctx)
    live = _live_services(ctx)
    for s in services:
        if s.name in live:
            scaling.ensure(ctx, s)


def _live_services(ctx: Ctx) -> set[str]:
    name = ctx.vars["CLUSTER_NAME"]
    if cluster.find_cluster(ctx, name) is None:
        return set()
    ecs = ctx.client("ecs")
    arns = [a for page in ecs.get_paginator("list_services").paginate(cluster=name) for a in page["serviceArns"]]
    if not arns:
        return set()
    found = ecs.describe_services(cluster=name, services=arns)["services"]
    return {s["serviceName"] for s in found if s["status"] == "ACTIVE"}


def teardown(ctx: Ctx, include_data: bool = False) -> list[str]:
    """Delete in dependency order; a step AWS refuses is reported and the rest continues.
    Returns the problems (empty when everything went)."""
    services = speclib.services()
    problems: list[str] = []

    def step(fn, *args):
        try:
            fn(*args)
        except (KitError, ClientError) as e:
            problems.append(str(e))
            ctx.report("failed", fn.__module__.rsplit(".", 1)[-1], fn.__name__, str(e))

    for s in services:
        step(scaling.delete, ctx, s)
    step(cluster.delete_services, ctx)
    step(cluster.delete_cluster, ctx)
    step(cluster.delete_namespace, ctx)
    step(alb.delete_load_balancer, ctx)
    step(alb.delete_target_groups, ctx)
    step(data.teardown, ctx, include_data)
    keep = set() if include_data or not data.database_exists(ctx) else {"cruddur-db-sg"}
    step(network.delete_groups, ctx, keep)
    step(cluster.delete_task_definitions, ctx)
    for repo in sorted({s.repository for s in services}):
        step(registry.delete_repository, ctx, repo)
    for group in sorted({g for s in services for g in s.log_groups}):
        step(registry.delete_log_group, ctx, group)
    step(iam.delete_roles, ctx)
    step(xray.delete_sampling_rules, ctx)
    return problems


def inventory(ctx: Ctx) -> list[tuple[str, str]]:
    """Every kit resource still in the account (data stores included): [(kind, name)]."""
    services = speclib.services()
    found = []
    ecr = ctx.client("ecr")
    for repo in sorted({s.repository for s in services}):
        try:
            ecr.describe_repositories(repositoryNames=[repo])
            found.append(("ecr-repository", repo))
        except ecr.exceptions.RepositoryNotFoundException:
            pass
    logs = ctx.client("logs")
    for group in sorted({g for s in services for g in s.log_groups}):
        if registry._log_group(logs, group):
            found.append(("log-group", group))
    iam_client = ctx.client("iam")
    for role in iam.role_names(ctx):
        try:
            iam_client.get_role(RoleName=role)
            found.append(("iam-role", role))
        except iam_client.exceptions.NoSuchEntityException:
            pass
    if cluster.find_cluster(ctx, ctx.vars["CLUSTER_NAME"]):
        found.append(("ecs-cluster", ctx.vars["CLUSTER_NAME"]))
    if cluster.find_namespace(ctx, ctx.vars["SERVICE_CONNECT_NAMESPACE"]):
        found.append(("service-connect-namespace", ctx.vars["SERVICE_CONNECT_NAMESPACE"]))
    for s in services:
        if cluster.task_definition_arns(ctx, s.name, "ACTIVE"):
            found.append(("task-definition", s.name))
    for g in network.groups_spec(ctx):
        if network.find_group(ctx, g["GroupName"]):
            found.append(("security-group", g["GroupName"]))
    elbv2 = ctx.client("elbv2")
    if load_balancer(elbv2, ALB_NAME):
        found.append(("load-balancer", ALB_NAME))
    for s in services:
        if target_group_arn(elbv2, s.target_group_name):
            found.append(("target-group", s.target_group_name))
    if data.ddb.describe(ctx.client("dynamodb"), ctx.vars["DDB_MESSAGE_TABLE"]):
        found.append(("dynamodb-table", ctx.vars["DDB_MESSAGE_TABLE"]))
    if data.database_exists(ctx):
        found.append(("rds-instance", "cruddur-db"))
    for name in xray.remaining(ctx):
        found.append(("xray-sampling-rule", name))
    for name in data.ssm.existing(ctx.client("ssm"), data.SSM_PREFIX):
        found.append(("ssm-parameter", name))
    return found
