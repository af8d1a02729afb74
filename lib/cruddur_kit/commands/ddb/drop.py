"""bin/ddb/drop: delete the messages table and wait until it is gone."""
from __future__ import annotations

import click

from ...ddb import describe
from ...output import Reporter, log
from . import dynamodb, refuse_real_aws, table_option, target, yes_option


@click.command()
@table_option
@yes_option
@click.option("--timeout", default=60, show_default=True, help="seconds to wait for the deletion")
def command(table: str, yes: bool, timeout: int) -> None:
    """Delete the table and every message in it (absent already: nothing to do).

    Refuses to run against real AWS (AWS_ENDPOINT_URL unset or not loopback) unless --yes is given.
    """
    refuse_real_aws(yes, f"drop table {table}")
    client = dynamodb()
    report = Reporter()
    if describe(client, table) is None:
        report("absent", "dynamodb-table", table)
        return
    log(f"deleting table {table} in {target()}")
    try:
        client.delete_table(TableName=table)
    except client.exceptions.ResourceNotFoundException:
        report("absent", "dynamodb-table", table)
        return
    delay = 1
    client.get_waiter("table_not_exists").wait(
        TableName=table, WaiterConfig={"Delay": delay, "MaxAttempts": max(1, timeout // delay)})
    report("deleted", "dynamodb-table", table)
