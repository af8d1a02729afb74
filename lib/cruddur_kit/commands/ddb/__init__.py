"""bin/ddb/*: the direct-messages table (DDB_MESSAGE_TABLE) wherever AWS_ENDPOINT_URL points.

The table's shape lives in cruddur_kit.ddb; reads and writes of conversations go through the API's own
store (cruddur.stores.messages), so the scripts and the API cannot disagree on the item layout.
"""
from __future__ import annotations

import json
import os

import click
from boto3.dynamodb.types import TypeDeserializer

from ... import aws
from ...ddb import DEFAULT_TABLE, describe
from ...errors import KitError

table_option = click.option("--table", envvar="DDB_MESSAGE_TABLE", default=DEFAULT_TABLE, show_default=True,
                            help="the messages table (env DDB_MESSAGE_TABLE)")
yes_option = click.option("--yes", is_flag=True,
                          help="required when AWS_ENDPOINT_URL is not a local emulator (i.e. real AWS)")


def dynamodb():
    return aws.client("dynamodb")


def target() -> str:
    """Where the calls go, safe to print: the emulator's URL or the real AWS region."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    return f"emulator {endpoint}" if endpoint else f"AWS region {aws.session().region_name}"


def refuse_real_aws(yes: bool, what: str) -> None:
    """Destructive commands run against the local emulator, or against real AWS only with --yes."""
    if not aws.is_emulator() and not yes:
        raise KitError(f"refusing to {what} in {target()} (AWS_ENDPOINT_URL is not a loopback emulator): "
                       "pass --yes to do it anyway")


def require_table(client, table: str) -> None:
    if describe(client, table) is None:
        raise KitError(f"table {table} does not exist in {target()}: run bin/ddb/schema-load first")


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
