"""bin/ddb/seed: a real conversation between the demo users andrewbrown and bayko."""
from __future__ import annotations

import click

from ...ddb import DEMO_CONVERSATION, seed_conversation
from ...output import Reporter, log
from ..db import connection_url, reachable
from . import dynamodb, refuse_real_aws, require_table, table_option, target, yes_option


@click.command()
@table_option
@yes_option
def command(table: str, yes: bool) -> None:
    """Write a conversation between @andrewbrown and @bayko through the API's own store code.

    Users come from PostgreSQL (CONNECTION_URL; run bin/db/seed first). Idempotent: when the two
    already have a conversation nothing is written. Refuses real AWS unless --yes is given.
    """
    refuse_real_aws(yes, f"seed table {table}")
    client = dynamodb()
    require_table(client, table)
    url = connection_url()
    log(f"seeding {table} in {target()}")
    with reachable(url):
        status, group = seed_conversation(client, table, url)
    detail = "already has messages" if status == "unchanged" else f", {len(DEMO_CONVERSATION)} messages"
    Reporter()(status, "conversation", group, f"andrewbrown <-> bayko{' ' if status == 'unchanged' else ''}{detail}")
