"""bin/ecs/status: the service, its deployments, its tasks and its targets' health, on stdout."""
from __future__ import annotations

import json

import click

from ...ecs import status as statuslib
from ...ecs.options import EcsOptions, ecs_options


@click.command()
@ecs_options(waits=False)
@click.option("--events", "n_events", type=int, default=5, show_default=True, help="How many recent events to show.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
def command(opts: EcsOptions, n_events: int, as_json: bool) -> None:
    """Show --service: desired/running/pending, each deployment (rollout state), each task
    (status, health, revision, address, why it stopped) and the health of its load balancer targets."""
    doc = statuslib.collect(opts.client("ecs"), opts.client("elbv2"), opts.cluster, opts.service, n_events)
    if as_json:
        click.echo(json.dumps(doc, indent=2, default=str))
    else:
        click.echo(statuslib.text(doc))
