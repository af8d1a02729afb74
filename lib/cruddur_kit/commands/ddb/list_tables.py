"""bin/ddb/list-tables: the DynamoDB table names, one a line."""
from __future__ import annotations

import click

from ...output import log
from . import dynamodb, target


@click.command()
def command() -> None:
    """Print every table name (all pages), one per line."""
    log(f"tables in {target()}")
    for page in dynamodb().get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            print(name, flush=True)
