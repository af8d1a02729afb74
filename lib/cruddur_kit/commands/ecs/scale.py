"""bin/ecs/scale: deploy's update with only a desired count (same wait, same verdict)."""
from __future__ import annotations

import click

from ...cli import dry_run_option
from ...ecs import deploy as deploylib
from ...ecs import watch
from ...ecs.clock import Deadline
from ...ecs.options import EcsOptions, ecs_options
from ...errors import KitError
from ...output import Reporter, log


def autoscaling_bounds(aas, cluster: str, service: str) -> tuple[int, int] | None:
    targets = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{service}"],
                                            ScalableDimension="ecs:service:DesiredCount")["ScalableTargets"]
    return (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else None


@click.command()
@ecs_options(timeout=600.0)
@click.option("--count", type=click.IntRange(min=0), required=True, help="Desired number of tasks.")
@dry_run_option(help="Say what would change; change nothing.")
@click.option("--no-wait", is_flag=True, help="Return once ECS accepted the new count.")
def command(opts: EcsOptions, count: int, dry_run: bool, no_wait: bool) -> None:
    """Set --service's desired count and wait (bounded) until that many tasks run."""
    deadline = Deadline(opts.timeout)
    ecs = opts.client("ecs")
    svc = watch.require_service(ecs, opts.cluster, opts.service)
    bounds = autoscaling_bounds(opts.client("application-autoscaling"), opts.cluster, opts.service)
    if bounds and not bounds[0] <= count <= bounds[1]:
        raise KitError(f"autoscaling keeps {opts.service} between {bounds[0]} and {bounds[1]} tasks and would undo "
                       f"--count {count}: change aws/json/scaling/{opts.service}.json and run bin/aws/setup")
    report = Reporter(dry_run=dry_run)
    before = svc.get("desiredCount", 0)
    if before == count:
        report("unchanged", "ecs-service", opts.service, f"desired {count}")
    elif dry_run:
        report("updated", "ecs-service", opts.service, f"desired {before} -> {count}")
        return
    else:
        deploylib.apply_update(ecs, opts.cluster, opts.service, desiredCount=count)
        report("updated", "ecs-service", opts.service, f"desired {before} -> {count}")
    if no_wait or dry_run:
        return
    prim = watch.primary(svc) or {}
    goal = watch.Goal(task_definition=prim.get("taskDefinition") or svc["taskDefinition"],
                      deployment_id=prim.get("id"), desired_count=count)
    verdict = watch.wait(ecs, cluster=opts.cluster, service=opts.service, goal=goal, deadline=deadline,
                         interval=opts.interval, say=log, seen_events=watch.event_ids(svc))
    watch.conclude(verdict, f"scale of {opts.service}", say=log)
