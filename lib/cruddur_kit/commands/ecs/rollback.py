"""bin/ecs/rollback: put the service back on the previous task definition revision, then wait."""
from __future__ import annotations

import click

from ...cli import kit_command
from ...ecs import deploy as deploylib
from ...ecs import taskdef, watch
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(cluster=True, service=True, timeout=900.0, interval=True,
             dry_run="Name the revision it would go back to; change nothing.")
@click.option("--to", "to", default=None, help="FAMILY:REVISION to go back to (default: the ACTIVE revision "
              "just below the one the service runs).")
@click.option("--no-wait", is_flag=True, help="Return once ECS accepted the update.")
def command(kit: Kit, to: str | None, no_wait: bool) -> None:
    """Update --service to the previous revision of its task definition and wait like bin/backend/deploy
    (bounded, with progress; exit 1 naming the reason if that deployment fails too)."""
    deadline = kit.deadline()
    ecs = kit.client("ecs")
    svc = watch.require_service(ecs, kit.cluster, kit.service)
    current = svc["taskDefinition"]
    if to:
        target = ecs.describe_task_definition(taskDefinition=to)["taskDefinition"]["taskDefinitionArn"]
    else:
        target = taskdef.previous_arn(ecs, current)
        if target is None:
            raise KitError(f"{watch.revision(current)} has no earlier ACTIVE revision to roll back to: "
                           "deploy an older image with bin/backend/deploy --tag SHA")
    if target == current:
        kit.report("unchanged", "ecs-service", kit.service, f"already runs {watch.revision(current)}")
        return
    if kit.dry_run:
        kit.report("updated", "ecs-service", kit.service, f"{watch.revision(current)} -> {watch.revision(target)}")
        log(kit.report.closing())
        return
    updated = deploylib.apply_update(ecs, kit.cluster, kit.service, taskDefinition=target)
    kit.report("updated", "ecs-service", kit.service, f"{watch.revision(current)} -> {watch.revision(target)}")
    if no_wait:
        return
    verdict = watch.wait(ecs, cluster=kit.cluster, service=kit.service, goal=deploylib.goal_for(updated, target),
                         deadline=deadline, interval=kit.interval, say=log, seen_events=watch.event_ids(svc))
    watch.conclude(verdict, f"rollback of {kit.service} to {watch.revision(target)}", say=log)
