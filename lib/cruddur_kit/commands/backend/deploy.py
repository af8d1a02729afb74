"""bin/backend/deploy: render and register the task definition, create or update the service, then wait."""

from __future__ import annotations

import click

from ...checks.lint import SKIP_LINT_FLAG, gate
from ...cli import kit_command
from ...ecs import deploy as deploylib
from ...ecs import rollout, watch
from ...kit import Kit
from ...output import log
from ...resources import scaling


@kit_command(
    cluster=True,
    service=True,
    tag=True,
    timeout=900.0,
    interval=True,
    dry_run="Show what would be registered, created or updated; change nothing.",
)
@click.option("--no-wait", is_flag=True, help="Return after the update is accepted, without waiting for the rollout.")
@click.option(
    SKIP_LINT_FLAG,
    "skip_lint",
    is_flag=True,
    help="register the task definition even when bin/ecs/lint finds an NG (deploy runs lint first)",
)
def command(kit: Kit, no_wait: bool, skip_lint: bool) -> None:
    """Deploy --service (any aws/json/services/NAME.json) at image --tag.

    Pins each image from this account's ECR by the digest its tag names now (REPO@sha256:...), so a
    re-pushed tag cannot change what runs; registers the rendered task definition unless an equal
    revision is live, creates the service
    (with its network configuration) when missing or updates it, then waits at most --timeout
    seconds on the ECS service deployment it started, showing its status and lifecycle stage, the
    traffic shifted, bake time left, alarm states, running/desired per revision, new service events
    and the reasons of stopped tasks. Exits 0 when the service deployment is SUCCESSFUL; 1 naming the
    reason (which alarm, the circuit breaker, a hook, a stop) when it rolls back or stops, or when
    time runs out.
    """
    deadline = kit.deadline()
    gate(kit.region, skip_lint, log)
    rendered = deploylib.render(kit.service, kit.vars)
    ecs = kit.client("ecs")
    rendered.task_definition = deploylib.pin_images(
        kit.client("ecr"), rendered.task_definition, kit.vars["AWS_ACCOUNT_ID"], kit.region, say=log
    )
    log(f"deploying {rendered.name} ({kit.tag}) to cluster {rendered.cluster}")
    change = deploylib.create_or_update(ecs, rendered, dry_run=kit.dry_run, report=kit.report)
    # autoscaling needs the service to exist, so the first deploy is where it can be applied
    scaling.ensure(kit, rendered.spec)
    if kit.dry_run:
        log(kit.report.closing())
        return
    if change.action == "unchanged":
        log(
            f"nothing to change: {rendered.name} already runs {watch.revision(change.task_definition)}; "
            "checking its rollout"
        )
    if no_wait:
        log(f"{change.action} {rendered.name}; not waiting (bin/ecs/status shows the rollout)")
        return
    if change.service_deployment is None:  # an ECS without service deployments: judge the PRIMARY deployment
        verdict = watch.wait(
            ecs,
            cluster=rendered.cluster,
            service=rendered.name,
            goal=change.goal,
            deadline=deadline,
            interval=kit.interval,
            say=log,
            seen_events=change.seen_events,
        )
        watch.conclude(verdict, f"deploy of {rendered.name}", say=log)
        return
    if not change.started:
        earlier = rollout.describe(ecs, change.service_deployment)
        if earlier.get("status") in rollout.FINISHED:
            # nothing started, and the service already runs what this command wanted
            log(
                f"deploy of {rendered.name}: no new service deployment; the last one, "
                f"{rollout.short(change.service_deployment)}, ended {earlier.get('status')}"
            )
            return
        log(f"waiting on service deployment {rollout.short(change.service_deployment)}, already in flight")
    verdict = rollout.wait(
        ecs,
        kit.client("cloudwatch"),
        cluster=rendered.cluster,
        service=rendered.name,
        arn=change.service_deployment,
        deadline=deadline,
        interval=kit.interval,
        say=log,
        seen_events=change.seen_events,
    )
    watch.conclude(verdict, f"deploy of {rendered.name}", say=log)
