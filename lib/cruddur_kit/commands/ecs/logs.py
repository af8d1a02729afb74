"""bin/ecs/logs: a service container's CloudWatch logs, recent or followed."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...ecs import logs as logslib
from ...ecs import service_info
from ...ecs.watch import require_service
from ...kit import Kit


@kit_command(
    cluster=True,
    service=True,
    timeout=None,
    interval=True,
    read_only=True,
    timeout_help="With --follow: stop after this many seconds (default: until Ctrl-C).",
)
@click.option(
    "--container",
    default=None,
    help="Container (default: the service's first essential one; e.g. otel-collector for the tracing sidecar).",
)
@click.option("--task", "task_id", default=None, help="Only this task's lines (its id).")
@click.option("--since", default="10m", show_default=True, help="Start from: 30s, 10m, 2h, 1d or an ISO time.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines as they arrive.")
def command(kit: Kit, container: str | None, task_id: str | None, since: str, follow: bool) -> None:
    """Print --service's container log lines (stdout: time, task id, message), oldest first."""
    since_ms = logslib.parse_since(since)
    ecs = kit.client("ecs")
    svc = require_service(ecs, kit.cluster, kit.service)
    c = service_info.container(service_info.task_definition(ecs, svc["taskDefinition"]), container)
    group, prefix = logslib.source(c)
    if task_id:
        prefix += task_id
    logslib.tail(
        kit.client("logs"),
        group,
        prefix,
        since_ms,
        follow=follow,
        deadline=kit.deadline(),
        interval=kit.interval,
        emit=click.echo,
    )
