"""bin/ecs/rollback: stop the service deployment in flight with a rollback, or (nothing in flight) put the
service back on the previous task definition revision; then wait."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...ecs import deploy as deploylib
from ...ecs import rollout, taskdef, watch
from ...errors import KitError
from ...kit import Kit
from ...output import log

IN_FLIGHT = ("PENDING", "IN_PROGRESS")
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")


@kit_command(
    cluster=True,
    service=True,
    timeout=900.0,
    interval=True,
    dry_run="Name the deployment it would stop or the revision it would go back to; change nothing.",
)
@click.option(
    "--to",
    "to",
    default=None,
    help="FAMILY:REVISION to go back to (default: the ACTIVE revision "
    "just below the one the service runs). With --to, a deployment in flight is replaced, not stopped.",
)
@click.option("--no-wait", is_flag=True, help="Return once ECS accepted the stop or the update.")
def command(kit: Kit, to: str | None, no_wait: bool) -> None:
    """Roll --service back and wait like bin/backend/deploy (bounded, with progress; exit 1 naming the
    reason if the rollback fails too).

    With a service deployment in flight, stops it with StopServiceDeployment (ROLLBACK): ECS returns
    traffic and tasks to the last revision that deployed successfully; success is ROLLBACK_SUCCESSFUL.
    With none in flight, updates the service to the previous revision of its task definition.
    """
    deadline = kit.deadline()
    ecs = kit.client("ecs")
    svc = watch.require_service(ecs, kit.cluster, kit.service)
    arn = svc.get("currentServiceDeployment")
    sd = rollout.describe(ecs, arn) if arn and not to else None
    if sd is not None and sd.get("status") in IN_FLIGHT + ROLLING_BACK:
        _stop(kit, ecs, sd, svc, deadline, no_wait)
        return
    current = svc["taskDefinition"]
    if to:
        target = ecs.describe_task_definition(taskDefinition=to)["taskDefinition"]["taskDefinitionArn"]
    else:
        target = taskdef.previous_arn(ecs, current)
        if target is None:
            raise KitError(
                f"{watch.revision(current)} has no earlier ACTIVE revision to roll back to: "
                "deploy an older image with bin/backend/deploy --tag SHA"
            )
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
    what = f"rollback of {kit.service} to {watch.revision(target)}"
    started = updated.get("currentServiceDeployment")
    if started and started != arn:
        verdict = rollout.wait(
            ecs,
            kit.client("cloudwatch"),
            cluster=kit.cluster,
            service=kit.service,
            arn=started,
            deadline=deadline,
            interval=kit.interval,
            say=log,
            seen_events=watch.event_ids(svc),
        )
    else:
        verdict = watch.wait(
            ecs,
            cluster=kit.cluster,
            service=kit.service,
            goal=deploylib.goal_for(updated, target),
            deadline=deadline,
            interval=kit.interval,
            say=log,
            seen_events=watch.event_ids(svc),
        )
    watch.conclude(verdict, what, say=log)


def _stop(kit: Kit, ecs, sd: dict, svc: dict, deadline, no_wait: bool) -> None:
    arn, sid = sd["serviceDeploymentArn"], rollout.short(sd["serviceDeploymentArn"])
    if sd["status"] in IN_FLIGHT:
        if kit.dry_run:
            kit.report("updated", "service-deployment", sid, f"stop {sd['status']} with ROLLBACK")
            return
        try:
            ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
        except ecs.exceptions.ConflictException as e:
            raise KitError(
                f"service deployment {sid} finished before it could be stopped "
                f"({e.response['Error'].get('Message', e)}): run bin/ecs/rollback again to go back "
                "a revision"
            ) from e
        kit.report("updated", "service-deployment", sid, "stopped: ROLLBACK (StopServiceDeployment)")
    else:
        log(f"service deployment {sid} is already {sd['status']}; waiting on it")
    if no_wait:
        return
    verdict = rollout.wait(
        ecs,
        kit.client("cloudwatch"),
        cluster=kit.cluster,
        service=kit.service,
        arn=arn,
        deadline=deadline,
        interval=kit.interval,
        say=log,
        seen_events=watch.event_ids(svc),
        success=("ROLLBACK_SUCCESSFUL",),
    )
    watch.conclude(verdict, f"rollback of {kit.service} (service deployment {sid})", say=log)
