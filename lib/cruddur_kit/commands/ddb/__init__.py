"""bin/ddb/*: the direct-messages table (DDB_MESSAGE_TABLE) wherever AWS_ENDPOINT_URL points.

The table's shape lives in cruddur_kit.ddb; reads and writes of conversations go through the API's own
store (cruddur.stores.messages), so the scripts and the API cannot disagree on the item layout.
"""

from __future__ import annotations

import json

import click
from boto3.dynamodb.types import TypeDeserializer

from ...ddb import DEFAULT_TABLE, describe
from ...errors import KitError
from ...kit import Kit

table_option = click.option(
    "--table",
    envvar="DDB_MESSAGE_TABLE",
    default=DEFAULT_TABLE,
    show_default=True,
    help="the messages table (env DDB_MESSAGE_TABLE)",
)
yes_option = click.option(
    "--yes", is_flag=True, help="required when AWS_ENDPOINT_URL is not a local emulator (i.e. real AWS)"
)


def refuse_real_aws(kit: Kit, yes: bool, what: str) -> None:
    """Destructive commands run against the local emulator, or against real AWS only with --yes."""
    if not kit.is_emulator and not yes:
        raise KitError(
            f"refusing to {what} in {kit.target()} (AWS_ENDPOINT_URL is not a loopback emulator): "
            "pass --yes to do it anyway"
        )


def require_table(kit: Kit, table: str):
    """The DynamoDB client, once the table is known to exist."""
    client = kit.client("dynamodb")
    if describe(client, table) is None:
        raise KitError(f"table {table} does not exist in {kit.target()}: run bin/ddb/schema-load first")
    return client


def plain(item: dict) -> dict:
    """A DynamoDB item as plain JSON values."""
    deserializer = TypeDeserializer()
    return {k: _jsonable(deserializer.deserialize(v)) for k, v in item.items()}


def _jsonable(value):
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return value


def emit(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=True), flush=True)


def user_by_handle(handle: str):
    """The demo/real user from PostgreSQL (CONNECTION_URL), as the store's User."""
    from ... import ddb
    from ..db import connection_url, reachable

    url = connection_url()
    with reachable(url):
        return ddb.user_by_handle(url, handle)


def decode_cursor(token: str | None):
    if not token:
        return None
    from cruddur.errors import ValidationFailed
    from cruddur.pagination import decode_cursor as decode

    try:
        return decode(token)
    except ValidationFailed:
        raise KitError("--cursor is not a cursor printed by this command") from None


def encode_cursor(position) -> str | None:
    from cruddur.pagination import encode_cursor as encode

    return encode(position) if position is not None else None
