"""bin/ecr/login: docker login to the account's ECR registry (token valid 12 h)."""
from __future__ import annotations

import subprocess

import click

from ... import aws, images
from ...config import Variables
from ...errors import KitError
from ...output import log


@click.command(help="Log the Docker engine in to this account's ECR registry with a fresh token (valid 12 hours). "
                    "The password goes to docker on stdin and is never printed.")
@click.option("--region", help="AWS region [env AWS_DEFAULT_REGION]")
def command(region):
    docker = images.require_docker()
    ecr = aws.client("ecr", region=region or Variables().region)
    endpoint, password = images.login_password(ecr)
    result = subprocess.run([docker, "login", "--username", "AWS", "--password-stdin", endpoint],
                            input=password, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise KitError(f"docker login to {endpoint} failed: {result.stderr.strip().splitlines()[-1:] or ['?'][0]}")
    log(f"logged in to {endpoint} (token valid 12 hours)")
    click.echo(endpoint)
