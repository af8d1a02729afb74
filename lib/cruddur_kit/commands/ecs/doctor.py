"""bin/ecs/doctor: walk the troubleshooting tree for a deployed service and name each cause and its fix."""

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
    help=__doc__ + "\n\nALB SG inbound, service SG from the ALB SG, target health reasons, stopped "
    "tasks' reasons and exit codes (137 OOM, 125/127 image or command, CannotPullContainerError, "
    "ResourceInitializationError), execution role, subnets' route to ECR/SSM, recent error log "
    "lines. Read-only. Exit 1 when a cause is found.",
)
@click.option("--since", "minutes", default=60, show_default=True, help="minutes of logs to scan for errors")
@click.option("--json", "as_json", is_flag=True, help="print the findings as JSON")
def command(kit: Kit, minutes: int, as_json: bool) -> int:
    from cruddur_kit.checks.doctor import doctor

    report = doctor(kit, log_minutes=minutes)
    if as_json:
        print(report.to_json())
    else:
        report.write_tree(sys.stdout)
        causes = report.stats.get("causes") or []
        print("diagnosis: " + (", ".join(causes) if causes else "no known cause found"), file=sys.stdout)
        print(f"{report.stats['aws_calls']} AWS calls, all read-only", file=sys.stderr)
    return report.exit_code
