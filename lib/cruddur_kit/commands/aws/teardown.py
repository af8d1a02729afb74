"""bin/aws/teardown: delete everything bin/aws/setup and deploys created, in dependency order."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log
from ...resources import plan


@kit_command(
    cluster=True,
    dry_run=True,
    help="Delete the services (scaled to 0 first), stop the cluster's other running tasks (waiting for their "
    "network interfaces to go), then the cluster, load balancer, target groups, security "
    "groups, task definitions, ECR repositories, log groups and IAM roles, in dependency order. The "
    "DynamoDB table, an RDS instance and the SSM parameters are kept unless --include-data. Safe to "
    "re-run; ends by listing whatever remains.",
)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option(
    "--include-data", is_flag=True, help="also delete the DynamoDB table, the RDS instance and SSM parameters"
)
def command(kit: Kit, yes: bool, include_data: bool) -> None:
    if not (yes or kit.dry_run):
        what = "everything, DATA INCLUDED" if include_data else "everything but the data stores"
        click.confirm(f"delete {what} in {kit.region} (cluster {kit.cluster})?", abort=True, err=True)
    problems = plan.teardown(kit, include_data=include_data)
    if kit.dry_run:
        log(kit.report.closing())
        return
    remains = [(kind, name) for kind, name in plan.inventory(kit) if not _is_kept(kit, kind, name)]
    for kind, name in remains:
        kit.report("remains", kind, name)
    log(kit.report.closing())
    if problems or remains:
        raise KitError(f"{len(remains)} resource(s) remain: fix the reasons above and run bin/aws/teardown again")


def _is_kept(kit: Kit, kind: str, name: str) -> bool:
    return any(status == "kept" and k == kind and n == name for status, k, n in kit.report.lines)
