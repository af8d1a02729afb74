"""bin/ddb/schema-load: create the messages table (and its inbox index) unless it exists; wait until ACTIVE."""

from __future__ import annotations

from ...cli import kit_command
from ...ddb import describe, ensure_table
from ...kit import Kit
from ...output import log
from . import table_option


@kit_command(timeout=60.0, timeout_help="seconds to wait for ACTIVE")
@table_option
def command(kit: Kit, table: str) -> None:
    """Create the direct-messages table: pk/sk, GSI inbox-index (pk + last_sk), on-demand billing.

    Idempotent: an existing table with the right keys is left as it is; one with other keys is an error.
    """
    client = kit.client("dynamodb")
    log(f"table {table} in {kit.target()}")
    existed = describe(client, table) is not None
    created = ensure_table(client, table, timeout=kit.timeout, progress=log)
    kit.report(
        "created" if created else "unchanged",
        "dynamodb-table",
        table,
        "" if created or not existed else "already ACTIVE",
    )
