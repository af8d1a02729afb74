"""bin/aws/setup: converge the account to what the services need; a second run changes nothing."""
from __future__ import annotations

import click

from ...cli import aws_options, context, dry_run_option
from ...output import log
from ...resources import plan


@click.command(help="Create or converge everything the services in aws/json/services need: ECR repositories, "
                    "log groups, IAM roles, the ECS cluster and its Service Connect namespace, security groups, "
                    "the load balancer, target groups, listener and rules, the DynamoDB table (and with "
                    "--with-database an RDS PostgreSQL). One line per resource: created / updated / unchanged.")
@aws_options
@dry_run_option
@click.option("--with-database", is_flag=True,
              help="also create the RDS PostgreSQL instance (aws/json/database/rds.json)")
def command(region, cluster, dry_run, with_database):
    ctx = context({"region": region, "cluster": cluster, "dry_run": dry_run})
    log(f"converging the account in {ctx.vars.region}{' (dry run)' if dry_run else ''} ...")
    plan.setup(ctx, with_database=with_database)
    log(f"done: {ctx.report.summary()}")
