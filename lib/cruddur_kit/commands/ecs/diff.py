"""bin/ecs/diff: local task definition + service vs deployed, normalised; exit 0 equal, 1 different."""
from __future__ import annotations

import sys

import click

from ...cli import cluster_option, service_option, tag_option


@click.command(help=__doc__ + "\n\nAWS defaults are filled, lists sorted, '1 vCPU'/'2 GB' normalised and "
               "nulls dropped on both sides, so only real differences show. Read-only.")
@service_option
@tag_option(help="Image tag of the local side (env IMAGE_TAG).")
@cluster_option
@click.option("--only", type=click.Choice(["task-definition", "service"]), help="compare one part only")
def command(service, tag, cluster, only):
    from cruddur_kit.checks.diff import diff

    parts = (only,) if only else ("task-definition", "service")
    lines, calls = diff(service, flags={"IMAGE_TAG": tag, "CLUSTER_NAME": cluster}, parts=parts)
    for line in lines:
        print(line)
    print(f"{'different' if lines else 'equal'} ({calls} AWS calls, read-only)", file=sys.stderr)
    return 1 if lines else 0
