"""bin/backend/deploy: render and register the task definition, create or update the service, then wait."""
from __future__ import annotations

import click

from ...cli import kit_command
from ...ecs import deploy as deploylib
from ...ecs import watch
from ...kit import Kit
from ...output import log
from ...resources import scaling


@kit_command(cluster=True, service=True, tag=True, timeout=900.0, interval=True,
             dry_run="Show what would be registered, created or updated; change nothing.")
@click.option("--no-wait", is_flag=True, help="Return after the update is accepted, without waiting for the rollout.")
def command(kit: Kit, no_wait: bool) -> None:
    """Deploy --service (any aws/json/services/NAME.json) at image --tag.

    Pins each image from this account's ECR by the digest its tag names now (REPO@sha256:...), so a
    re-pushed tag cannot change what runs; registers the rendered task definition unless an equal
    revision is live, creates the service
    (with its network configuration) when missing or updates it, then waits at most --timeout
    seconds, showing the rollout state, running/pending/desired, new service events and the reasons
    of stopped tasks. Exits 1 naming the reason when the circuit breaker rolls back or time runs out.
    """
    deadline = kit.deadline()
    rendered = deploylib.render(kit.service, kit.vars)
    ecs = kit.client("ecs")
    rendered.task_definition = deploylib.pin_images(kit.client("ecr"), rendered.task_definition,
                                                    kit.vars["AWS_ACCOUNT_ID"], kit.region, say=log)
    log(f"deploying {rendered.name} ({kit.tag}) to cluster {rendered.cluster}")
    change = deploylib.create_or_update(ecs, rendered, dry_run=kit.dry_run, report=kit.report)
    # autoscaling needs the service to exist, so the first deploy is where it can be applied
    scaling.ensure(kit, rendered.spec)
    if kit.dry_run:
        return
    if change.action == "unchanged":
        log(f"nothing to change: {rendered.name} already runs {watch.revision(change.task_definition)}; "
            "checking its rollout")
    if no_wait:
        log(f"{change.action} {rendered.name}; not waiting (bin/ecs/status shows the rollout)")
        return
    verdict = watch.wait(ecs, cluster=rendered.cluster, service=rendered.name, goal=change.goal, deadline=deadline,
                         interval=kit.interval, say=log, seen_events=change.seen_events)
    watch.conclude(verdict, f"deploy of {rendered.name}", say=log)
