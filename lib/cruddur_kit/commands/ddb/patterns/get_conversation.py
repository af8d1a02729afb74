"""bin/ddb/patterns/get-conversation: one conversation's messages, a page at a time, as the API reads them."""

from __future__ import annotations

import uuid

import click

from ....cli import kit_command
from ....errors import KitError
from ....kit import Kit
from ....output import log
from .. import decode_cursor, emit, encode_cursor, require_table
from . import page, paging_options


@kit_command()
@click.argument("message_group_uuid")
@paging_options("messages")
def command(kit: Kit, message_group_uuid: str, table: str, limit: int, cursor: str | None) -> None:
    """Print the newest page of a conversation (oldest first), one JSON message a line.

    The pattern: Query pk=MSG#<group>, newest first, Limit; the next page starts at LastEvaluatedKey.
    The cursor for the next (older) page goes to stderr.
    """
    from cruddur.stores.messages import MessageStore

    try:
        group = str(uuid.UUID(message_group_uuid))
    except ValueError:
        raise KitError(f"{message_group_uuid!r} is not a uuid: pass a message_group_uuid") from None
    client = require_table(kit, table)
    log(f"conversation {group} in {table} ({kit.target()})")
    store = MessageStore(client, table)
    items, next_position = page(store.list_messages, group, limit, decode_cursor(cursor))
    for item in items:
        emit(item)
    log(f"{len(items)} message(s)" + (f"; older: --cursor {encode_cursor(next_position)}" if next_position else ""))
