"""bin/dev/provision: migrate, seed and provision an existing stack (docker-compose's one-shot `setup`)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ...cli import kit_command
from ...ddb import DEFAULT_TABLE
from ...errors import KitError
from ...kit import Kit
from ...local import stack
from ...output import log
from ..db import reachable


@kit_command()
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="also write the API's settings (pool and client ids, table) to this file, KEY=value lines",
)
@click.option(
    "--table",
    envvar="DDB_MESSAGE_TABLE",
    default=DEFAULT_TABLE,
    show_default=True,
    help="DynamoDB table for direct messages (env DDB_MESSAGE_TABLE)",
)
def command(kit: Kit, env_file, table):
    """Migrate and seed the database CONNECTION_URL names, then create the DynamoDB table, the Cognito pool
    with the demo users (linked to their rows) and the SSM parameters in the AWS emulator AWS_ENDPOINT_URL
    names. Idempotent. Prints the API's settings (no secrets) as KEY=value lines on stdout."""
    url = os.environ.get("CONNECTION_URL")
    if not url:
        raise KitError("CONNECTION_URL is not set: export the database URL to provision")
    if not kit.endpoint:
        raise KitError(
            "AWS_ENDPOINT_URL is not set: demo users belong in a local emulator only; for real AWS use bin/aws/setup"
        )
    with reachable(url):  # a database that does not answer: one line naming it, never the password
        provisioned = stack.provision(url, table, log, kit.clients)
    settings = {k: v for k, v in provisioned.app_env().items() if k != "CONNECTION_URL"}
    text = "".join(f"{k}={v}\n" for k, v in settings.items())
    if env_file:
        Path(env_file).write_text(text)
        log(f"settings written to {env_file}")
    click.echo(text, nl=False)
