"""bin/db/connect: psql on CONNECTION_URL's database."""

from __future__ import annotations

import os
import shutil

import click
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from . import connection_url


@kit_command(endpoint=False, context_settings={"ignore_unknown_options": True})  # no AWS calls
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
def command(kit: Kit, psql_args: tuple[str, ...]) -> None:
    """Open psql on the database (extra arguments go to psql, e.g. -c 'select 1').

    The password, if the URL has one, goes to psql through PGPASSWORD, not the command line.
    """
    url = connection_url()
    psql = shutil.which("psql")
    if psql is None:
        raise KitError("psql not found: install the PostgreSQL client (apt-get install postgresql-client)")
    info = conninfo_to_dict(url)
    env = dict(os.environ)
    password = info.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    os.execve(psql, [psql, make_conninfo(**info), *psql_args], env)
