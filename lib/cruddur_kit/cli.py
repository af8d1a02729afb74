"""The flags the deploy-kit commands share, each defined once here, with one precedence rule:
flag > environment (CLUSTER_NAME, SERVICE_NAME, AWS_DEFAULT_REGION/AWS_REGION, IMAGE_TAG) > default.

Commands stack the ones they need (`@cluster_option`, `@timeout_option(900.0)` …); `aws_options` and
cruddur_kit.ecs.options.ecs_options are presets of them.
"""
from __future__ import annotations

import click

from . import aws
from .config import CLUSTER, Variables
from .output import Reporter
from .resources import Ctx

DEFAULT_SERVICE = "backend-flask"
DEFAULT_INTERVAL = 5.0

cluster_option = click.option("--cluster", envvar="CLUSTER_NAME", default=CLUSTER, show_default=True,
                              help="ECS cluster (env CLUSTER_NAME).")
service_option = click.option("--service", envvar="SERVICE_NAME", default=DEFAULT_SERVICE, show_default=True,
                              help="Service name: a file aws/json/services/NAME.json (env SERVICE_NAME).")
region_option = click.option("--region", envvar=["AWS_DEFAULT_REGION", "AWS_REGION"], default=aws.DEFAULT_REGION,
                             show_default=True, help="AWS region (env AWS_DEFAULT_REGION, then AWS_REGION).")
interval_option = click.option("--interval", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_INTERVAL,
                               show_default=True, help="Seconds between polls while waiting.")


def timeout_option(default: float | None = 600.0, help: str | None = None):
    """--timeout in seconds (more than 0); None as the default means no deadline."""
    return click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=default,
                        show_default=default is not None,
                        help=help or "Give up waiting after this many seconds (exit 1, naming why).")


def tag_option(fn=None, *, help: str = "Image tag (env IMAGE_TAG; default: the git sha of HEAD, as "
                                        "bin/backend/build tags it)."):
    """--tag (flag > IMAGE_TAG); bare or with the command's own wording, like dry_run_option."""
    option = click.option("--tag", envvar="IMAGE_TAG", default=None, help=help)
    return option(fn) if fn is not None else option


def dry_run_option(fn=None, *, help: str = "Show what would change; change nothing."):
    """--dry-run; use bare (`@dry_run_option`) or with the command's own wording (`@dry_run_option(help=…)`)."""
    option = click.option("--dry-run", is_flag=True, help=help)
    return option(fn) if fn is not None else option


def aws_options(fn):
    """--region and --cluster."""
    return region_option(cluster_option(fn))


def context(params: dict) -> Ctx:
    """The resources layer's context from the shared flags (region, cluster, tag, dry_run)."""
    dry = bool(params.get("dry_run"))
    variables = Variables({"AWS_DEFAULT_REGION": params.get("region"), "CLUSTER_NAME": params.get("cluster"),
                           "IMAGE_TAG": params.get("tag")})
    return Ctx(vars=variables, report=Reporter(dry_run=dry), dry_run=dry)
