"""bin/ecs/diff: local task definition + service vs deployed, normalised; exit 0 equal, 1 different."""

from __future__ import annotations

import sys

import click

from ...cli import TAG_DEFAULT, kit_command
from ...kit import Kit


@kit_command(
    service=True,
    cluster=True,
    tag="Image tag of the local side" + TAG_DEFAULT + ".",
    read_only=True,
    help=__doc__ + "\n\nAWS defaults are filled, lists sorted, '1 vCPU'/'2 GB' normalised and "
    "nulls dropped on both sides, so only real differences show. Read-only.",
)
@click.option("--only", type=click.Choice(["task-definition", "service"]), help="compare one part only")
def command(kit: Kit, only: str | None) -> int:
    from cruddur_kit.checks.diff import diff, live_revision

    parts = (only,) if only else ("task-definition", "service")
    print(f"deployed: {live_revision(kit)}; local: aws/json at image tag {kit.tag}", file=sys.stderr)
    lines = diff(kit, parts=parts)
    for line in lines:
        print(line)
    print(f"{'different' if lines else 'equal'} ({kit.clients.total} AWS calls, read-only)", file=sys.stderr)
    return 1 if lines else 0
