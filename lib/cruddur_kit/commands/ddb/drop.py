"""bin/ddb/drop: delete the messages table and wait until it is gone."""

from __future__ import annotations

from ...cli import kit_command
from ...ddb import describe
from ...kit import Kit
from ...output import log
from . import refuse_real_aws, table_option, yes_option


@kit_command(timeout=60.0, timeout_help="seconds to wait for the deletion")
@table_option
@yes_option
def command(kit: Kit, table: str, yes: bool) -> None:
    """Delete the table and every message in it (absent already: nothing to do).

    Refuses to run against real AWS (AWS_ENDPOINT_URL unset or not loopback) unless --yes is given.
    """
    refuse_real_aws(kit, yes, f"drop table {table}")
    client = kit.client("dynamodb")
    if describe(client, table) is None:
        kit.report("absent", "dynamodb-table", table)
        return
    log(f"deleting table {table} in {kit.target()}")
    try:
        client.delete_table(TableName=table)
    except client.exceptions.ResourceNotFoundException:
        kit.report("absent", "dynamodb-table", table)
        return
    delay = 1
    client.get_waiter("table_not_exists").wait(
        TableName=table, WaiterConfig={"Delay": delay, "MaxAttempts": max(1, int(kit.timeout // delay))}
    )
    kit.report("deleted", "dynamodb-table", table)
