"""The ECS cluster (FARGATE + FARGATE_SPOT, Service Connect namespace) and, for teardown, services and
task definitions."""

from __future__ import annotations

import time

from .. import spec as speclib
from ..errors import KitError
from ..kit import Kit

CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"]
DRAIN_TIMEOUT = 300.0


def find_namespace(kit: Kit, name: str) -> dict | None:
    sd = kit.client("servicediscovery")
    for page in sd.get_paginator("list_namespaces").paginate():
        for ns in page["Namespaces"]:
            if ns["Name"] == name and ns.get("Type") == "HTTP":
                return ns
    return None


def ensure_namespace(kit: Kit) -> str:
    name = kit.vars["SERVICE_CONNECT_NAMESPACE"]
    ns = find_namespace(kit, name)
    if ns:
        kit.report("unchanged", "service-connect-namespace", name)
        return ns["Arn"]
    if not kit.dry_run:
        kit.client("servicediscovery").create_http_namespace(
            Name=name, Description="Cruddur Service Connect", Tags=[{"Key": "project", "Value": "cruddur"}]
        )
        ns = _wait_namespace(kit, name)
    kit.report("created", "service-connect-namespace", name)
    return ns["Arn"] if ns else name


def _wait_namespace(kit: Kit, name: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ns = find_namespace(kit, name)
        if ns:
            return ns
        time.sleep(1)
    raise KitError(
        f"Cloud Map namespace {name} was not ready after {timeout:g}s: check `aws servicediscovery list-operations`"
    )


def find_cluster(kit: Kit, name: str) -> dict | None:
    clusters = kit.client("ecs").describe_clusters(clusters=[name])["clusters"]
    return next((c for c in clusters if c.get("status") == "ACTIVE"), None)


def ensure_cluster(kit: Kit, namespace_arn: str) -> None:
    ecs = kit.client("ecs")
    name = kit.vars["CLUSTER_NAME"]
    cluster = find_cluster(kit, name)
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    if cluster is None:
        if not kit.dry_run:
            ecs.create_cluster(
                clusterName=name,
                capacityProviders=CAPACITY_PROVIDERS,
                defaultCapacityProviderStrategy=strategy,
                serviceConnectDefaults={"namespace": namespace_arn},
                settings=[{"name": "containerInsights", "value": "enabled"}],
                tags=[{"key": "project", "value": "cruddur"}],
            )
        kit.report("created", "ecs-cluster", name, "FARGATE + FARGATE_SPOT, Service Connect")
    elif sorted(cluster.get("capacityProviders", [])) != sorted(CAPACITY_PROVIDERS):
        if not kit.dry_run:
            ecs.put_cluster_capacity_providers(
                cluster=name, capacityProviders=CAPACITY_PROVIDERS, defaultCapacityProviderStrategy=strategy
            )
        kit.report("updated", "ecs-cluster", name, "capacity providers")
    else:
        kit.report("unchanged", "ecs-cluster", name)


def delete_services(kit: Kit) -> None:
    """Scale each service to 0, delete it and wait (bounded) until it is gone."""
    ecs = kit.client("ecs")
    cluster = kit.vars["CLUSTER_NAME"]
    if find_cluster(kit, cluster) is None:
        for s in speclib.services():
            kit.report("absent", "ecs-service", s.name)
        return
    arns = []
    for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
        arns.extend(page["serviceArns"])
    live = {a.rsplit("/", 1)[-1] for a in arns}
    for s in speclib.services():
        if s.name not in live:
            kit.report("absent", "ecs-service", s.name)
    for name in sorted(live):
        if not kit.dry_run:
            ecs.update_service(cluster=cluster, service=name, desiredCount=0)
            ecs.delete_service(cluster=cluster, service=name, force=True)
        kit.report("deleted", "ecs-service", name, "scaled to 0 first")
    if live and not kit.dry_run:
        _wait_services_gone(ecs, cluster, sorted(live))


def _wait_services_gone(ecs, cluster: str, names: list[str], timeout: float = DRAIN_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = ecs.describe_services(cluster=cluster, services=names)["services"]
        left = [s["serviceName"] for s in found if s["status"] != "INACTIVE"]
        if not left:
            return
        if time.monotonic() > deadline:
            raise KitError(f"services {', '.join(left)} still draining after {timeout:g}s: run bin/aws/teardown again")
        time.sleep(5)


def stop_tasks(kit: Kit, timeout: float = DRAIN_TIMEOUT) -> None:
    """Stop every task still running in the cluster (one-off tasks: the services are gone by now), then wait
    until each is STOPPED and its network interface deleted: ECS refuses to delete a cluster with running
    tasks, and a task's ENI keeps its security group from being deleted."""
    ecs = kit.client("ecs")
    cluster = kit.vars["CLUSTER_NAME"]
    if find_cluster(kit, cluster) is None:
        return
    arns = [
        a
        for status in ("RUNNING", "PENDING")  # PENDING: a task still starting counts as active too
        for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, desiredStatus=status)
        for a in page["taskArns"]
    ]
    if not arns:
        return
    found = [
        t
        for i in range(0, len(arns), 100)
        for t in ecs.describe_tasks(cluster=cluster, tasks=arns[i : i + 100])["tasks"]
    ]
    found = [t for t in found if t["lastStatus"] != "STOPPED"]
    if kit.dry_run:  # the services were not really deleted: their tasks would have gone with them
        found = [t for t in found if not t.get("group", "").startswith("service:")]
    enis = []
    for task in found:
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        eni = [
            d["value"]
            for a in task.get("attachments", [])
            for d in a.get("details", [])
            if d["name"] == "networkInterfaceId"
        ]
        enis += eni
        if not kit.dry_run:
            ecs.stop_task(cluster=cluster, task=task["taskArn"], reason="bin/aws/teardown")
        what = f"{task.get('group', '')} {task['taskDefinitionArn'].rsplit('/', 1)[-1]}".strip()
        kit.report("stopped", "ecs-task", task_id, what + (f", ENI {', '.join(eni)}" if eni else ""))
    if not kit.dry_run:
        _wait_tasks_gone(kit, cluster, [t["taskArn"] for t in found], enis, timeout)


def _wait_tasks_gone(kit: Kit, cluster: str, arns: list[str], enis: list[str], timeout: float) -> None:
    ecs, ec2 = kit.client("ecs"), kit.client("ec2")
    deadline = time.monotonic() + timeout
    while True:
        running = [
            t["taskArn"].rsplit("/", 1)[-1]
            for i in range(0, len(arns), 100)
            for t in ecs.describe_tasks(cluster=cluster, tasks=arns[i : i + 100])["tasks"]
            if t["lastStatus"] != "STOPPED"
        ]
        attached = _existing_enis(ec2, enis)
        if not running and not attached:
            return
        if time.monotonic() > deadline:
            left = [f"task {t}" for t in running] + [f"network interface {e}" for e in attached]
            raise KitError(f"{', '.join(left)} still there after {timeout:g}s: run bin/aws/teardown again")
        time.sleep(2)


def _existing_enis(ec2, ids: list[str]) -> list[str]:
    if not ids:
        return []
    found = ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id", "Values": ids}])
    return [n["NetworkInterfaceId"] for n in found["NetworkInterfaces"]]


def delete_cluster(kit: Kit) -> None:
    name = kit.vars["CLUSTER_NAME"]
    if find_cluster(kit, name) is None:
        kit.report("absent", "ecs-cluster", name)
        return
    if not kit.dry_run:
        kit.client("ecs").delete_cluster(cluster=name)
    kit.report("deleted", "ecs-cluster", name)


def delete_namespace(kit: Kit) -> None:
    name = kit.vars["SERVICE_CONNECT_NAMESPACE"]
    ns = find_namespace(kit, name)
    if ns is None:
        kit.report("absent", "service-connect-namespace", name)
        return
    if not kit.dry_run:
        kit.client("servicediscovery").delete_namespace(Id=ns["Id"])
    kit.report("deleted", "service-connect-namespace", name)


def task_definition_arns(kit: Kit, family: str, status: str) -> list[str]:
    arns = []
    for page in kit.client("ecs").get_paginator("list_task_definitions").paginate(familyPrefix=family, status=status):
        arns.extend(a for a in page["taskDefinitionArns"] if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family)
    return arns


def delete_task_definitions(kit: Kit) -> None:
    """Deregister every revision of each service's family, then delete the INACTIVE ones."""
    ecs = kit.client("ecs")
    for s in speclib.services():
        active = task_definition_arns(kit, s.name, "ACTIVE")
        if not kit.dry_run:
            for arn in active:
                ecs.deregister_task_definition(taskDefinition=arn)
            inactive = task_definition_arns(kit, s.name, "INACTIVE")
            for i in range(0, len(inactive), 10):
                ecs.delete_task_definitions(taskDefinitions=inactive[i : i + 10])
        if active:
            kit.report("deleted", "task-definition", s.name, f"{len(active)} revision(s) deregistered")
        else:
            kit.report("absent", "task-definition", s.name)
