"""bin/ecs/scale: deploy's update with only a desired count (same wait, same verdict)."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...ecs import deploy as deploylib
from ...ecs import watch
from ...errors import KitError
from ...kit import Kit
from ...output import log


def autoscaling_bounds(aas, cluster: str, service: str) -> tuple[int, int] | None:
    targets = aas.describe_scalable_targets(
        ServiceNamespace="ecs",
        ResourceIds=[f"service/{cluster}/{service}"],
        ScalableDimension="ecs:service:DesiredCount",
    )["ScalableTargets"]
    return (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else None


@kit_command(cluster=True, service=True, timeout=600.0, interval=True, dry_run="Say what would change; change nothing.")
@click.option("--count", type=click.IntRange(min=0), required=True, help="Desired number of tasks.")
@click.option("--no-wait", is_flag=True, help="Return once ECS accepted the new count.")
def command(kit: Kit, count: int, no_wait: bool) -> None:
    """Set --service's desired count and wait (bounded) until that many tasks run."""
    deadline = kit.deadline()
    ecs = kit.client("ecs")
    svc = watch.require_service(ecs, kit.cluster, kit.service)
    bounds = autoscaling_bounds(kit.client("application-autoscaling"), kit.cluster, kit.service)
    if bounds and not bounds[0] <= count <= bounds[1]:
        raise KitError(
            f"autoscaling keeps {kit.service} between {bounds[0]} and {bounds[1]} tasks and would undo "
            f"--count {count}: change aws/json/scaling/{kit.service}.json and run bin/aws/setup"
        )
    before = svc.get("desiredCount", 0)
    if before == count:
        kit.report("unchanged", "ecs-service", kit.service, f"desired {count}")
    elif kit.dry_run:
        kit.report("updated", "ecs-service", kit.service, f"desired {before} -> {count}")
        log(kit.report.closing())
        return
    else:
        deploylib.apply_update(ecs, kit.cluster, kit.service, desiredCount=count)
        kit.report("updated", "ecs-service", kit.service, f"desired {before} -> {count}")
    if no_wait or kit.dry_run:
        return
    prim = watch.primary(svc) or {}
    goal = watch.Goal(
        task_definition=prim.get("taskDefinition") or svc["taskDefinition"],
        deployment_id=prim.get("id"),
        desired_count=count,
    )
    verdict = watch.wait(
        ecs,
        cluster=kit.cluster,
        service=kit.service,
        goal=goal,
        deadline=deadline,
        interval=kit.interval,
        say=log,
        seen_events=watch.event_ids(svc),
    )
    watch.conclude(verdict, f"scale of {kit.service}", say=log)
