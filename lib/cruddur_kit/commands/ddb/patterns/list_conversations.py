"""bin/ddb/patterns/list-conversations: a user's conversations, most recently active first."""

from __future__ import annotations

import click

from ....cli import kit_command
from ....kit import Kit
from ....output import log
from .. import decode_cursor, emit, encode_cursor, require_table, user_by_handle
from . import page, paging_options


@kit_command()
@click.argument("handle")
@paging_options("conversations")
def command(kit: Kit, handle: str, table: str, limit: int, cursor: str | None) -> None:
    """Print @HANDLE's conversations (the other participant and the last message), one JSON object a line.

    The pattern: Query the inbox-index on pk=GRP#<user uuid>, newest last_sk first. The user's uuid
    comes from PostgreSQL (CONNECTION_URL). The cursor for the next page goes to stderr.
    """
    from cruddur.stores.messages import MessageStore

    user = user_by_handle(handle.lstrip("@"))
    client = require_table(kit, table)
    log(f"conversations of @{user.handle} in {table} ({kit.target()})")
    items, next_position = page(MessageStore(client, table).list_conversations, user.uuid, limit, decode_cursor(cursor))
    for item in items:
        emit(item)
    log(f"{len(items)} conversation(s)" + (f"; more: --cursor {encode_cursor(next_position)}" if next_position else ""))
