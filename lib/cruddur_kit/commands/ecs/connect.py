"""bin/ecs/connect: an interactive shell in a running task's container (ECS Exec)."""
from __future__ import annotations

import json
import os

import click

from ...cli import dry_run_option
from ...ecs import execute, service_info
from ...ecs.options import EcsOptions, ecs_options
from ...ecs.watch import require_service


@click.command()
@ecs_options(waits=False)
@click.option("--task", "task_id", default=None, help="Task id (default: the service's first RUNNING task).")
@click.option("--container", default=None, help="Container (default: the service's first essential one).")
@click.option("--command", "shell", default="/bin/sh", show_default=True, help="What to run in the container.")
@dry_run_option(help="Print the ExecuteCommand request as JSON; start no session.")
def command(opts: EcsOptions, task_id: str | None, container: str | None, shell: str, dry_run: bool) -> None:
    """Open --command in a task of --service via ECS Exec (needs the Session Manager plugin)."""
    ecs = opts.client("ecs")
    svc = require_service(ecs, opts.cluster, opts.service)
    name = service_info.container(service_info.task_definition(ecs, svc["taskDefinition"]), container)["name"]
    task = execute.pick_task(ecs, opts.cluster, opts.service, task_id)
    args = execute.execute_args(opts.cluster, task, name, shell)
    if dry_run:
        click.echo(json.dumps(args, indent=2))
        return
    session = execute.start(ecs, args)
    plugin = execute.plugin_path()
    ssm_endpoint = opts.client("ssm").meta.endpoint_url
    argv = execute.plugin_argv(plugin, session, opts.region, execute.target(opts.cluster, task, name), ssm_endpoint)
    os.execv(plugin, argv)
