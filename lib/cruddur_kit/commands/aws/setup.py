"""bin/aws/setup: converge the account to what the services need; a second run changes nothing."""
from __future__ import annotations

import click

from ...cli import kit_command
from ...kit import Kit
from ...output import log
from ...resources import plan


@kit_command(cluster=True, dry_run=True,
             help="Create or converge everything the services in aws/json/services need: ECR repositories, log "
                  "groups, IAM roles, the ECS cluster and its Service Connect namespace, security groups, the load "
                  "balancer, target groups, listener and rules (and, for blue/green, canary and linear services, "
                  "the alternate target group, the test listener and its rules, the CloudWatch alarms deployments "
                  "watch and the role ECS shifts traffic with), the DynamoDB table (and with --with-database an "
                  "RDS PostgreSQL). One line per resource: created / updated / unchanged.")
@click.option("--with-database", is_flag=True,
              help="also create the RDS PostgreSQL instance (aws/json/database/rds.json)")
def command(kit: Kit, with_database: bool) -> None:
    log(f"converging the account in {kit.region}{' (dry run)' if kit.dry_run else ''} ...")
    plan.setup(kit, with_database=with_database)
    log(f"done: {kit.report.summary()}")
