"""bin/backend/deploy: render and register the task definition, create or update the service, then wait."""
from __future__ import annotations

import click

from ... import config, images
from ...cli import dry_run_option, tag_option
from ...ecs import deploy as deploylib
from ...ecs import watch
from ...ecs.clock import Deadline
from ...ecs.options import EcsOptions, ecs_options
from ...output import Reporter, log
from ...resources import Ctx, scaling


@click.command()
@ecs_options(timeout=900.0)
@tag_option
@dry_run_option(help="Show what would be registered, created or updated; change nothing.")
@click.option("--no-wait", is_flag=True, help="Return after the update is accepted, without waiting for the rollout.")
def command(opts: EcsOptions, tag: str | None, dry_run: bool, no_wait: bool) -> None:
    """Deploy --service (any aws/json/services/NAME.json) at image --tag.

    Registers the rendered task definition unless an equal revision is live, creates the service
    (with its network configuration) when missing or updates it, then waits at most --timeout
    seconds, showing the rollout state, running/pending/desired, new service events and the reasons
    of stopped tasks. Exits 1 naming the reason when the circuit breaker rolls back or time runs out.
    """
    deadline = Deadline(opts.timeout)
    tag = tag or images.git_sha()
    variables = config.variables({"IMAGE_TAG": tag, "CLUSTER_NAME": opts.cluster,
                                  "AWS_DEFAULT_REGION": opts.region}, client_factory=opts.client)
    rendered = deploylib.render(opts.service, variables)
    ecs = opts.client("ecs")
    deploylib.check_images(opts.client("ecr"), rendered.task_definition, variables["AWS_ACCOUNT_ID"], opts.region)
    log(f"deploying {rendered.name} ({tag}) to cluster {rendered.cluster}")
    report = Reporter(dry_run=dry_run)
    change = deploylib.create_or_update(ecs, rendered, dry_run=dry_run, report=report)
    # autoscaling needs the service to exist, so the first deploy is where it can be applied
    scaling.ensure(Ctx(vars=variables, report=report, dry_run=dry_run), rendered.spec)
    if dry_run:
        return
    if change.action == "unchanged":
        log(f"nothing to change: {rendered.name} already runs {watch.revision(change.task_definition)}; "
            "checking its rollout")
    if no_wait:
        log(f"{change.action} {rendered.name}; not waiting (bin/ecs/status shows the rollout)")
        return
    verdict = watch.wait(ecs, cluster=rendered.cluster, service=rendered.name, goal=change.goal, deadline=deadline,
                         interval=opts.interval, say=log, seen_events=change.seen_events)
    watch.conclude(verdict, f"deploy of {rendered.name}", say=log)
