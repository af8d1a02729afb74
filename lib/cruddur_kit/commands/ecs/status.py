"""bin/ecs/status: the service, its deployments, its tasks and its targets' health, on stdout."""

from __future__ import annotations

import json

import click

from ...cli import kit_command
from ...ecs import status as statuslib
from ...kit import Kit


@kit_command(cluster=True, service=True, read_only=True)
@click.option("--events", "n_events", type=int, default=5, show_default=True, help="How many recent events to show.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
def command(kit: Kit, n_events: int, as_json: bool) -> None:
    """Show --service: desired/running/pending, each deployment (rollout state), the current and last
    ECS service deployments (status, lifecycle stage, traffic shifted, bake time left, alarm states,
    running/desired per revision, why one rolled back), each task (status, health, revision, address,
    why it stopped) and the health of its load balancer targets."""
    doc = statuslib.collect(
        kit.client("ecs"), kit.client("elbv2"), kit.cluster, kit.service, n_events, cloudwatch=kit.client("cloudwatch")
    )
    if as_json:
        click.echo(json.dumps(doc, indent=2, default=str))
    else:
        click.echo(statuslib.text(doc))
