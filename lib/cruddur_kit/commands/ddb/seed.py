"""bin/ddb/seed: a real conversation between the demo users andrewbrown and bayko."""

from __future__ import annotations

from ...cli import kit_command
from ...ddb import DEMO_CONVERSATION, seed_conversation
from ...kit import Kit
from ...output import log
from ..db import connection_url, reachable
from . import refuse_real_aws, require_table, table_option, yes_option


@kit_command()
@table_option
@yes_option
def command(kit: Kit, table: str, yes: bool) -> None:
    """Write a conversation between @andrewbrown and @bayko through the API's own store code.

    Users come from PostgreSQL (CONNECTION_URL; run bin/db/seed first). Idempotent: when the two
    already have a conversation nothing is written. Refuses real AWS unless --yes is given.
    """
    refuse_real_aws(kit, yes, f"seed table {table}")
    client = require_table(kit, table)
    url = connection_url()
    log(f"seeding {table} in {kit.target()}")
    with reachable(url):
        status, group = seed_conversation(client, table, url)
    detail = "already has messages" if status == "unchanged" else f", {len(DEMO_CONVERSATION)} messages"
    kit.report(status, "conversation", group, f"andrewbrown <-> bayko{' ' if status == 'unchanged' else ''}{detail}")
