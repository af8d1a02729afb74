"""bin/dev/up (`make up`): the whole local stack, and the API on 127.0.0.1:4567 in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from ... import LOCAL_DIR
from ...cli import kit_command
from ...ddb import DEFAULT_TABLE
from ...kit import Kit
from ...local import stack
from ...local.postgres import DEFAULT_PORT as PG_PORT
from ...output import log


def banner(provisioned: stack.Provisioned, endpoint: str, ports: stack.Ports, env: dict) -> None:
    """What runs where, and who may call the API from a browser: a frontend on any other origin fails CORS,
    and that is the first thing to check when it does."""
    api = f"http://127.0.0.1:{ports.api}"
    database = provisioned.database_url.rsplit("/", 1)[-1]
    log(f"""
Cruddur is up (Ctrl-C stops everything this command started):
  API             {api}   (gunicorn, OpenAPI at {api}/api/openapi.json)
  AWS emulator    {endpoint}   (DynamoDB table {provisioned.table}, Cognito pool {provisioned.pool.pool_id}, SSM)
  PostgreSQL      database {database}, demo users: {", ".join(sorted(provisioned.linked))}
  Browsers        may call it from {env["FRONTEND_URL"].replace(",", ", ")} (FRONTEND_URL);
                  pagination links start with {env["BACKEND_URL"]} (BACKEND_URL)

Try:
  curl -s {api}/api/activities/home
  TOKEN=$(bin/cognito/token andrewbrown)   # settings from .local/env while this runs
  curl -s -H "Authorization: Bearer $TOKEN" {api}/api/activities/notifications
""")


@kit_command(
    region="AWS region of the local emulator (env AWS_DEFAULT_REGION, then AWS_REGION).", endpoint=False
)  # it runs (or reuses) its own emulator: --aws-port
@click.option(
    "--api-port",
    envvar="API_PORT",
    type=int,
    default=stack.DEFAULT_API_PORT,
    show_default=True,
    help="port of the API on 127.0.0.1 (env API_PORT)",
)
@click.option(
    "--aws-port",
    envvar="CRUDDUR_AWS_PORT",
    type=int,
    default=stack.DEFAULT_AWS_PORT,
    show_default=True,
    help="port of the local AWS emulator; one already answering there is reused (env CRUDDUR_AWS_PORT)",
)
@click.option(
    "--pg-port",
    envvar="CRUDDUR_PG_PORT",
    type=int,
    default=PG_PORT,
    show_default=True,
    help="port of the embedded PostgreSQL, used when CONNECTION_URL does not answer (env CRUDDUR_PG_PORT)",
)
@click.option(
    "--local-dir",
    envvar="CRUDDUR_LOCAL_DIR",
    type=click.Path(file_okay=False),
    default=None,
    help="where local data lives (env CRUDDUR_LOCAL_DIR; default .local/ in the repository)",
)
@click.option(
    "--table",
    envvar="DDB_MESSAGE_TABLE",
    default=DEFAULT_TABLE,
    show_default=True,
    help="DynamoDB table for direct messages (env DDB_MESSAGE_TABLE)",
)
def command(kit: Kit, api_port, aws_port, pg_port, local_dir, table):
    """Run PostgreSQL (CONNECTION_URL when it answers, else an embedded server keeping its data under
    .local/), the local AWS emulator, migrate + seed + provision them, then serve the API with gunicorn
    in the foreground. Ctrl-C or SIGTERM stops everything this command started, and nothing else.
    Re-running keeps the database."""
    ports = stack.Ports(api=api_port, aws=aws_port, pg=pg_port)
    directory = Path(local_dir).resolve() if local_dir else LOCAL_DIR
    return stack.run(ports, directory, table, log, banner, region=kit.region)
