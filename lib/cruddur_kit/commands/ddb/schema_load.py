"""bin/ddb/schema-load: create the messages table (and its inbox index) unless it exists; wait until ACTIVE."""
from __future__ import annotations

import click

from ...ddb import describe, ensure_table
from ...output import Reporter, log
from . import dynamodb, table_option, target


@click.command()
@table_option
@click.option("--timeout", default=60.0, show_default=True, help="seconds to wait for ACTIVE")
def command(table: str, timeout: float) -> None:
    """Create the direct-messages table: pk/sk, GSI inbox-index (pk + last_sk), on-demand billing.

    Idempotent: an existing table with the right keys is left as it is; one with other keys is an error.
    """
    client = dynamodb()
    log(f"table {table} in {target()}")
    existed = describe(client, table) is not None
    created = ensure_table(client, table, timeout=timeout, progress=log)
    Reporter()("created" if created else "unchanged", "dynamodb-table", table,
               "" if created or not existed else "already ACTIVE")
