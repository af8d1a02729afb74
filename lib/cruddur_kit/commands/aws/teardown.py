"""bin/aws/teardown: delete everything bin/aws/setup and deploys created, in dependency order."""
from __future__ import annotations

import click

from ...cli import aws_options, context, dry_run_option
from ...errors import KitError
from ...output import log
from ...resources import plan


@click.command(help="Delete the services (scaled to 0 first), cluster, load balancer, target groups, security "
                    "groups, task definitions, ECR repositories, log groups and IAM roles, in dependency order. "
                    "The DynamoDB table, an RDS instance and the SSM parameters are kept unless --include-data. "
                    "Safe to re-run; ends by listing whatever remains.")
@aws_options
@dry_run_option
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--include-data", is_flag=True,
              help="also delete the DynamoDB table, the RDS instance and SSM parameters")
def command(region, cluster, dry_run, yes, include_data):
    ctx = context({"region": region, "cluster": cluster, "dry_run": dry_run})
    if not (yes or dry_run):
        what = "everything, DATA INCLUDED" if include_data else "everything but the data stores"
        click.confirm(f"delete {what} in {ctx.vars.region} (cluster {ctx.vars['CLUSTER_NAME']})?",
                      abort=True, err=True)
    problems = plan.teardown(ctx, include_data=include_data)
    if dry_run:
        log(f"dry run: {ctx.report.summary()}")
        return
    remains = [(kind, name) for kind, name in plan.inventory(ctx) if not _is_kept(ctx, kind, name)]
    for kind, name in remains:
        ctx.report("remains", kind, name)
    log(f"done: {ctx.report.summary()}")
    if problems or remains:
        raise KitError(f"{len(remains)} resource(s) remain: fix the reasons above and run bin/aws/teardown again")


def _is_kept(ctx, kind: str, name: str) -> bool:
    return any(status == "kept" and k == kind and n == name for status, k, n in ctx.report.lines)
