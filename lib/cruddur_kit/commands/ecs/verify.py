"""bin/ecs/verify: check the live account against aws/json, read-only (no writes, no secret values)."""

from __future__ import annotations

import sys

import click

from ...cli import TAG_DEFAULT, kit_command
from ...kit import Kit


@kit_command(
    services=True,
    cluster=True,
    tag="Image tag to look for in ECR" + TAG_DEFAULT + ".",
    read_only=True,
    help=__doc__ + "\n\nRoles and their trust, ECR image tags, SSM parameter names, log groups, "
    "cluster, subnets, security groups and target groups; what each deployed service runs (images "
    "pinned by the digest the tag names now, its tracing sidecar). Exit 1 on any NG.",
)
@click.option("--json", "as_json", is_flag=True, help="print the findings as JSON")
def command(kit: Kit, as_json: bool) -> int:
    from cruddur_kit.checks.verify import verify

    report = verify(kit)
    if as_json:
        print(report.to_json())
    else:
        report.write_tree(sys.stdout)
        print(f"{report.stats['aws_calls']} AWS calls, all read-only", file=sys.stderr)
    return report.exit_code
