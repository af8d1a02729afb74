"""bin/ddb/scan: print the table's items as JSON lines (bounded)."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...kit import Kit
from ...output import log
from . import emit, plain, require_table, table_option


@kit_command()
@table_option
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 100_000), help="stop after this many items"
)
def command(kit: Kit, table: str, limit: int) -> None:
    """Print up to --limit items, one JSON object a line (a debugging view: reads the whole table)."""
    client = require_table(kit, table)
    log(f"scanning {table} in {kit.target()} (at most {limit} items)")
    printed = 0
    pages = client.get_paginator("scan").paginate(TableName=table, PaginationConfig={"PageSize": min(limit, 1000)})
    for page in pages:
        for item in page["Items"]:
            emit(plain(item))
            printed += 1
            if printed >= limit:
                log(f"stopped at --limit {limit}")
                return
    log(f"{printed} item(s)")
