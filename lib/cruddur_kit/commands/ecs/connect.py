"""bin/ecs/connect: an interactive shell in a running task's container (ECS Exec)."""

from __future__ import annotations

import json
import os

import click

from ...cli import kit_command
from ...ecs import execute, service_info
from ...ecs.watch import require_service
from ...kit import Kit


@kit_command(cluster=True, service=True, dry_run="Print the ExecuteCommand request as JSON; start no session.")
@click.option("--task", "task_id", default=None, help="Task id (default: the service's first RUNNING task).")
@click.option("--container", default=None, help="Container (default: the service's first essential one).")
@click.option("--command", "shell", default="/bin/sh", show_default=True, help="What to run in the container.")
def command(kit: Kit, task_id: str | None, container: str | None, shell: str) -> None:
    """Open --command in a task of --service via ECS Exec (needs the Session Manager plugin)."""
    ecs = kit.client("ecs")
    svc = require_service(ecs, kit.cluster, kit.service)
    name = service_info.container(service_info.task_definition(ecs, svc["taskDefinition"]), container)["name"]
    task = execute.pick_task(ecs, kit.cluster, kit.service, task_id)
    args = execute.execute_args(kit.cluster, task, name, shell)
    if kit.dry_run:
        click.echo(json.dumps(args, indent=2))
        return
    session = execute.start(ecs, args)
    plugin = execute.plugin_path()
    ssm_endpoint = kit.client("ssm").meta.endpoint_url
    argv = execute.plugin_argv(plugin, session, kit.region, execute.target(kit.cluster, task, name), ssm_endpoint)
    os.execv(plugin, argv)
