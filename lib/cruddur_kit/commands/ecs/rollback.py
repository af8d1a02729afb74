"""bin/ecs/rollback: put the service back on the previous task definition revision, then wait."""
from __future__ import annotations

import click

from ...cli import dry_run_option
from ...ecs import deploy as deploylib
from ...ecs import taskdef, watch
from ...ecs.clock import Deadline
from ...ecs.options import EcsOptions, ecs_options
from ...errors import KitError
from ...output import Reporter, log


@click.command()
@ecs_options(timeout=900.0)
@click.option("--to", "to", default=None, help="FAMILY:REVISION to go back to (default: the ACTIVE revision "
              "just below the one the service runs).")
@dry_run_option(help="Name the revision it would go back to; change nothing.")
@click.option("--no-wait", is_flag=True, help="Return once ECS accepted the update.")
def command(opts: EcsOptions, to: str | None, dry_run: bool, no_wait: bool) -> None:
    """Update --service to the previous revision of its task definition and wait like bin/backend/deploy
    (bounded, with progress; exit 1 naming the reason if that deployment fails too)."""
    deadline = Deadline(opts.timeout)
    ecs = opts.client("ecs")
    svc = watch.require_service(ecs, opts.cluster, opts.service)
    current = svc["taskDefinition"]
    if to:
        target = ecs.describe_task_definition(taskDefinition=to)["taskDefinition"]["taskDefinitionArn"]
    else:
        target = taskdef.previous_arn(ecs, current)
        if target is None:
            raise KitError(f"{watch.revision(current)} has no earlier ACTIVE revision to roll back to: "
                           "deploy an older image with bin/backend/deploy --tag SHA")
    report = Reporter(dry_run=dry_run)
    if target == current:
        report("unchanged", "ecs-service", opts.service, f"already runs {watch.revision(current)}")
        return
    if dry_run:
        report("updated", "ecs-service", opts.service, f"{watch.revision(current)} -> {watch.revision(target)}")
        return
    updated = deploylib.apply_update(ecs, opts.cluster, opts.service, taskDefinition=target)
    report("updated", "ecs-service", opts.service, f"{watch.revision(current)} -> {watch.revision(target)}")
    if no_wait:
        return
    verdict = watch.wait(ecs, cluster=opts.cluster, service=opts.service, goal=deploylib.goal_for(updated, target),
                         deadline=deadline, interval=opts.interval, say=log, seen_events=watch.event_ids(svc))
    watch.conclude(verdict, f"rollback of {opts.service} to {watch.revision(target)}", say=log)
