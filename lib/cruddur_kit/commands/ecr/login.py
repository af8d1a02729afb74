"""bin/ecr/login: docker login to the account's ECR registry (token valid 12 h)."""

from __future__ import annotations

import subprocess

import click

from ... import images
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(
    help="Log the Docker engine in to this account's ECR registry with a fresh token (valid 12 hours). "
    "The password goes to docker on stdin and is never printed."
)
def command(kit: Kit) -> None:
    docker = images.require_docker()
    endpoint, password = images.login_password(kit.client("ecr"))
    result = subprocess.run(
        [docker, "login", "--username", "AWS", "--password-stdin", endpoint],
        input=password,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise KitError(f"docker login to {endpoint} failed: {result.stderr.strip().splitlines()[-1:] or ['?'][0]}")
    log(f"logged in to {endpoint} (token valid 12 hours)")
    click.echo(endpoint)
