"""Deploy one service from its aws/json specs: render, register (unless unchanged), create or update.

The wait afterwards is watch.wait; the commands (deploy, rollback, scale) are presets over
`apply_update` and `create_or_update` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import images
from .. import spec as speclib
from ..errors import KitError
from . import taskdef
from .watch import Goal, describe_service, event_ids, primary, revision

# update_service takes these from a create_service spec; desiredCount is left to autoscaling
# (bin/ecs/scale sets it), launchType cannot change on update.
UPDATE_KEYS = (
    "capacityProviderStrategy",
    "deploymentConfiguration",
    "networkConfiguration",
    "placementConstraints",
    "placementStrategy",
    "platformVersion",
    "healthCheckGracePeriodSeconds",
    "enableExecuteCommand",
    "enableECSManagedTags",
    "loadBalancers",
    "propagateTags",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfigurations",
)


@dataclass
class Rendered:
    spec: speclib.ServiceSpec
    task_definition: dict
    service: dict

    @property
    def cluster(self) -> str:
        return self.service["cluster"]

    @property
    def name(self) -> str:
        return self.service["serviceName"]


def render(name: str, variables) -> Rendered:
    s = speclib.get(name)
    return Rendered(s, speclib.task_definition(s, variables), speclib.service_definition(s, variables))


def pin_images(ecr, td: dict, account: str, region: str, say: Callable | None = None) -> dict:
    """The task definition with each of this account's ECR images pinned by digest (`REPO@sha256:...`), so a
    re-pushed tag can never change what ECS runs; fails before registering when an image is not in ECR (ECS
    would stop the tasks with CannotPullContainerError)."""
    td = {**td, "containerDefinitions": [dict(c) for c in td.get("containerDefinitions", [])]}
    for c in td["containerDefinitions"]:
        ref = images.ecr_image(c.get("image", ""), account, region)
        if ref is None:
            continue
        digest = images.digest_of(ecr, ref)
        if digest is None:
            raise KitError(
                f"image {ref} is not in ECR: run bin/backend/build and bin/backend/push "
                f"for that commit, or pass --tag with a pushed tag"
            )
        c["image"] = images.EcrImage(ref.host, ref.repository, None, digest).pinned
        if say and not ref.digest:
            say(f"image {ref} is {digest}: the task definition pins the digest")
    return td


def _network(nc: dict | None) -> dict:
    c = (nc or {}).get("awsvpcConfiguration", {})
    return {
        "subnets": sorted(c.get("subnets", [])),
        "securityGroups": sorted(c.get("securityGroups", [])),
        "assignPublicIp": c.get("assignPublicIp", "DISABLED"),
    }


def _lbs(lbs: list | None) -> list:
    return sorted((lb.get("targetGroupArn"), lb.get("containerName"), lb.get("containerPort")) for lb in lbs or [])


def settings_match(live: dict, wanted: dict) -> bool:
    """Network and load balancers as AWS reports them. (Other settings are applied with every new
    revision; the emulator does not report them, so they cannot take part in the no-op check.)"""
    return _network(live.get("networkConfiguration")) == _network(wanted.get("networkConfiguration")) and _lbs(
        live.get("loadBalancers")
    ) == _lbs(wanted.get("loadBalancers"))


@dataclass
class Change:
    action: str  # created | updated | unchanged
    task_definition: str
    registered: bool
    goal: Goal | None = None
    seen_events: set | None = None
    service_deployment: str | None = None  # ECS's record of the rollout to wait on (rollout.py)
    started: bool = False  # whether this command started that service deployment


def create_or_update(ecs, r: Rendered, *, dry_run: bool, report: Callable) -> Change:
    """Register the task definition unless an equal revision is live, then create or update the service."""
    live = describe_service(ecs, r.cluster, r.name)
    family = r.task_definition["family"]
    candidates = [live["taskDefinition"]] if live else []
    candidates.append(taskdef.latest_arn(ecs, family))
    if dry_run:
        wanted = taskdef.normalise(r.task_definition)
        same = next(
            (found[1] for a in candidates if a and (found := taskdef.live(ecs, a)) and found[0] == wanted), None
        )
        report("unchanged" if same else "created", "task-definition", revision(same) if same else f"{family}:new")
        if live is None:
            report("created", "ecs-service", r.name)
        elif same == live["taskDefinition"] and settings_match(live, r.service):
            report("unchanged", "ecs-service", r.name)
        else:
            report("updated", "ecs-service", r.name)
        return Change("dry-run", same or "", registered=not same)
    arn, registered = taskdef.register(ecs, r.task_definition, [a for a in candidates if a])
    report("created" if registered else "unchanged", "task-definition", revision(arn))
    if live is None:
        try:
            svc = ecs.create_service(**{**r.service, "taskDefinition": arn})["service"]
        except ecs.exceptions.ClientError as e:
            raise KitError(f"ECS refused to create service {r.name}: {e.response['Error'].get('Message', e)}") from e
        report("created", "ecs-service", r.name, f"{revision(arn)}, desired {svc.get('desiredCount')}")
        return Change(
            "created", arn, registered, goal_for(svc, arn), set(), svc.get("currentServiceDeployment"), started=True
        )
    if live["taskDefinition"] == arn and settings_match(live, r.service):
        report("unchanged", "ecs-service", r.name, f"already runs {revision(arn)}")
        # nothing to change, but not necessarily done: an earlier rollout of this revision may still run
        return Change(
            "unchanged", arn, registered, goal_for(live, arn), event_ids(live), live.get("currentServiceDeployment")
        )
    svc = apply_update(
        ecs, r.cluster, r.name, taskDefinition=arn, **{k: r.service[k] for k in UPDATE_KEYS if k in r.service}
    )
    report("updated", "ecs-service", r.name, f"{revision(live['taskDefinition'])} -> {revision(arn)}")
    current = svc.get("currentServiceDeployment")
    return Change(
        "updated",
        arn,
        registered,
        goal_for(svc, arn),
        event_ids(live),
        current,
        started=current != live.get("currentServiceDeployment"),
    )


def apply_update(ecs, cluster: str, service: str, **changes) -> dict:
    try:
        return ecs.update_service(cluster=cluster, service=service, **changes)["service"]
    except ecs.exceptions.ClientError as e:
        raise KitError(f"ECS refused to update service {service}: {e.response['Error'].get('Message', e)}") from e


def goal_for(svc: dict, arn: str) -> Goal:
    """The deployment this command started: the PRIMARY one in the create/update answer, when it runs `arn`."""
    prim = primary(svc) or {}
    return Goal(task_definition=arn, deployment_id=prim.get("id") if prim.get("taskDefinition") == arn else None)
