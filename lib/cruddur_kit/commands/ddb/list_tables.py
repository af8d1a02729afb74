"""bin/ddb/list-tables: the DynamoDB table names, one a line."""

from __future__ import annotations

from ...cli import kit_command
from ...kit import Kit
from ...output import log


@kit_command(read_only=True)
def command(kit: Kit) -> None:
    """Print every table name (all pages), one per line."""
    log(f"tables in {kit.target()}")
    for page in kit.client("dynamodb").get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            print(name, flush=True)
