"""bin/ecs/run-local: the service's task definition under the local Docker engine, as Fargate would run it."""

from __future__ import annotations

from pathlib import Path

import click

from ...cli import kit_command
from ...ecs import local_task
from ...kit import Kit


@kit_command(
    cluster=True,
    service=True,
    tag=True,
    timeout=None,
    timeout_help="With --smoke: give up after this many seconds (default: from the health checks' start "
    "period, interval and retries).",
)
@click.option(
    "--smoke",
    is_flag=True,
    help="Start, wait until every essential container is healthy, GET the load "
    "balancer's health-check path through the published port, stop; exit 0 only if all of that held.",
)
@click.option(
    "--image",
    "images",
    multiple=True,
    metavar="NAME=IMAGE",
    help="Run container NAME from IMAGE instead (repeatable), e.g. for images no registry serves here.",
)
@click.option(
    "--port-override",
    "port_overrides",
    multiple=True,
    metavar="HOST:CONTAINER[/udp]",
    help="Publish CONTAINER port on 127.0.0.1:HOST (repeatable). Default: the container port (--smoke: a free one).",
)
@click.option(
    "--task-definition",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Run this task definition file instead of the service's (rendered the same way).",
)
def command(
    kit: Kit, smoke: bool, images: tuple[str, ...], port_overrides: tuple[str, ...], task_definition: Path | None
) -> int:
    """Run --service's task definition (rendered as bin/backend/deploy registers it) on the local Docker
    engine as Fargate would: one network namespace for the task, secrets from SSM / Secrets Manager
    through AWS_ENDPOINT_URL, dependsOn, essential, healthCheck, stopTimeout, user, readonlyRootFilesystem,
    ports on 127.0.0.1, logs on the terminal and in CloudWatch Logs. Ctrl-C stops the task as ECS does.
    With `make up` running and nothing exported, it uses the local stack's settings (.local/env)."""
    return local_task.run(
        local_task.Options(
            service=kit.service,
            region=kit.region,
            cluster=kit.cluster,
            tag=kit.tag,
            images=images,
            port_overrides=port_overrides,
            smoke=smoke,
            timeout=kit.timeout,
            task_definition=task_definition,
            clients=kit.clients,
        )
    )
