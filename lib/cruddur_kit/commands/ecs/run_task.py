"""bin/ecs/run-task: a one-off task (e.g. a migration) in the service's network; exits with its exit code."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...ecs import service_info, tasks
from ...ecs.watch import require_service, revision
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(
    cluster=True, service=True, timeout=1800.0, interval=True, context_settings={"ignore_unknown_options": True}
)
@click.option(
    "--container",
    default=None,
    help="Container whose command is replaced and whose exit code is returned (default: the first essential one).",
)
@click.option(
    "--task-definition", default=None, help="FAMILY[:REVISION] to run (default: the revision the service runs)."
)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def command(kit: Kit, container: str | None, task_definition: str | None, argv: tuple[str, ...]) -> int:
    """Run ARGV once as a task of --service, with the service's subnets, security groups and launch
    settings, e.g.:

        bin/ecs/run-task -- python -m cruddur.manage migrate

    Prints the task ARN on stdout and its states on stderr, waits (bounded by --timeout) until it
    stops, and exits with the container's exit code. A task that stops before its container ran
    exits 1 naming the reason (e.g. CannotPullContainerError).
    """
    ecs = kit.client("ecs")
    svc = require_service(ecs, kit.cluster, kit.service)
    td = service_info.task_definition(ecs, task_definition or svc["taskDefinition"])
    name = service_info.container(td, container)["name"]
    arn = tasks.run_task(
        ecs,
        cluster=kit.cluster,
        task_definition=td["taskDefinitionArn"],
        network=svc.get("networkConfiguration"),
        container=name,
        command=list(argv) or None,
        launch=service_info.launch(svc),
        started_by=f"run-task/{kit.service}",
    )
    click.echo(arn)
    log(f"started {revision(td['taskDefinitionArn'])} container {name}: {' '.join(argv) or '(its own command)'}")
    result = tasks.wait_task(
        ecs, cluster=kit.cluster, arn=arn, container=name, deadline=kit.deadline(), interval=kit.interval, say=log
    )
    if result.exit_code is None:
        raise KitError(f"task {tasks.short_id(arn)} gave no exit code: {result.reason}")
    log(
        f"task {tasks.short_id(arn)}: container {name} exited with {result.exit_code}"
        + (f" ({result.reason})" if result.reason else "")
    )
    return result.exit_code
