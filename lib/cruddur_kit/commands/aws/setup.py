"""bin/aws/setup: converge the account to what the services need; a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import click

from ... import cognito
from ...checks.lint import SKIP_LINT_FLAG, gate
from ...cli import kit_command
from ...kit import Kit
from ...output import log
from ...resources import plan


@kit_command(
    cluster=True,
    dry_run=True,
    help="Create or converge everything the services in aws/json/services need: ECR repositories, log "
    "groups, IAM roles, the ECS cluster and its Service Connect namespace, security groups, the load "
    "balancer, target groups, listener and rules (and, for blue/green, canary and linear services, "
    "the alternate target group, the test listener and its rules, the CloudWatch alarms deployments "
    "watch and the role ECS shifts traffic with), the DynamoDB table, the Cognito user pool and app "
    "client (with the post-confirmation Lambda once built), and with --with-database an RDS "
    "PostgreSQL. Runs bin/ecs/lint first and stops on an NG. One line per resource: created / "
    "updated / unchanged.",
)
@click.option(
    "--with-database", is_flag=True, help="also create the RDS PostgreSQL instance (aws/json/database/rds.json)"
)
@click.option(
    SKIP_LINT_FLAG,
    "skip_lint",
    is_flag=True,
    help="apply aws/json even when bin/ecs/lint finds an NG (setup runs lint first and stops on one)",
)
@click.option(
    "--lambda-zip",
    type=click.Path(dir_okay=False, path_type=Path),
    default=cognito.LAMBDA_ZIP,
    show_default=True,
    help="the post-confirmation Lambda zip bin/cognito/build-lambda built; when it "
    "is there, setup attaches it to the user pool as its sign-up trigger",
)
def command(kit: Kit, with_database: bool, skip_lint: bool, lambda_zip: Path) -> None:
    gate(kit.region, skip_lint, log)
    log(f"converging the account in {kit.region}{' (dry run)' if kit.dry_run else ''} ...")
    plan.setup(kit, with_database=with_database, lambda_zip=lambda_zip)
    log(kit.report.closing())
