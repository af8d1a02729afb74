"""The direct-messages DynamoDB table, defined in one place: the API, `make up`, bin/ddb/* and bin/aws/setup use it.

Single-table design (see journal/2026-11-24-direct-messages.md):
  conversation row  pk=GRP#<my user uuid>       sk=GRP#<group uuid>           last_sk=<iso ts>#<msg uuid>
  message row       pk=MSG#<group uuid>         sk=<iso ts>#<msg uuid>
  pair row          pk=PAIR#<uuid a>#<uuid b>   sk=PAIR                       (a < b; finds a conversation in O(1))
  GSI inbox-index   pk + last_sk (sparse: only conversation rows carry last_sk) -> my conversations, newest first
"""

from __future__ import annotations

import time

from .errors import KitError

DEFAULT_TABLE = "cruddur-messages"
INBOX_INDEX = "inbox-index"
ACTIVE_TIMEOUT = 60.0


def table_definition(name: str) -> dict:
    """The CreateTable arguments for the messages table called `name`."""
    return {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "last_sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": INBOX_INDEX,
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "last_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def describe(client, name: str) -> dict | None:
    """The table's description, or None when it does not exist."""
    try:
        return client.describe_table(TableName=name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        return None


def _check_shape(table: dict, name: str) -> None:
    want = table_definition(name)
    keys = sorted((k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", []))
    if keys != sorted((k["AttributeName"], k["KeyType"]) for k in want["KeySchema"]):
        raise KitError(
            f"table {name} exists with keys {keys}, not pk/sk: drop it (bin/ddb/drop) or pick another DDB_MESSAGE_TABLE"
        )
    indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
    if INBOX_INDEX not in indexes:
        raise KitError(
            f"table {name} has no {INBOX_INDEX} index (an older design?): drop it (bin/ddb/drop) "
            "and run bin/ddb/schema-load again"
        )


def _is_active(table: dict) -> bool:
    return table.get("TableStatus") == "ACTIVE" and all(
        i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in table.get("GlobalSecondaryIndexes", [])
    )


def wait_active(client, name: str, timeout: float = ACTIVE_TIMEOUT, progress=None) -> dict:
    """Wait (bounded) until the table and its indexes are ACTIVE; returns the description."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        table = describe(client, name)
        if table and _is_active(table):
            return table
        status = table.get("TableStatus") if table else "MISSING"
        if time.monotonic() >= deadline:
            raise KitError(
                f"table {name} is still {status} after {timeout:.0f}s: check it in the DynamoDB "
                "console (or bin/ddb/list-tables) and run again"
            )
        if progress:
            progress(f"table {name}: {status}, waiting")
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def ensure_table(client, name: str = DEFAULT_TABLE, timeout: float = ACTIVE_TIMEOUT, progress=None) -> bool:
    """Create the table when missing and wait until it is ACTIVE; True if this call created it."""
    table = describe(client, name)
    created = False
    if table is None:
        try:
            client.create_table(**table_definition(name))
            created = True
        except client.exceptions.ResourceInUseException:
            pass  # someone else created it a moment ago: fine, wait for it like ours
    else:
        _check_shape(table, name)
    wait_active(client, name, timeout, progress)
    return created


# The demo conversation bin/ddb/seed and `make up` write, through the API's own store.
DEMO_CONVERSATION = (
    ("andrewbrown", "Have you watched the latest Babylon 5 episode?"),
    ("bayko", "Yes! The one where Londo and G'Kar finally work together?"),
    ("andrewbrown", "That one. The writing holds up after all these years."),
    ("bayko", "Londo's arc is the best in the show. Tragic and funny at once."),
    ("andrewbrown", "Agreed. Rewatch from season one this weekend?"),
    ("bayko", "I'm in. I'll bring the snacks."),
)


def user_by_handle(database_url: str, handle: str):
    """The user @handle from PostgreSQL as the message store's User; KitError when there is none."""
    import psycopg
    from psycopg.rows import dict_row

    from cruddur.stores.messages import User

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT uuid, handle, display_name FROM users WHERE lower(handle) = lower(%s)", (handle,)
        ).fetchone()
    if row is None:
        raise KitError(f"no user @{handle} in the database: run bin/db/seed (demo users) or check the handle")
    return User.of(row)


def seed_conversation(client, table: str, database_url: str) -> tuple[str, str]:
    """Write DEMO_CONVERSATION unless its two users already have a conversation: (created|unchanged, group)."""
    from cruddur.errors import ApiError
    from cruddur.stores.messages import MessageStore

    handles = list(dict.fromkeys(h for h, _ in DEMO_CONVERSATION))
    users = {h: user_by_handle(database_url, h) for h in handles}
    a, b = handles
    store = MessageStore(client, table)
    existing = store.pair_group(users[a].uuid, users[b].uuid)
    if existing:
        return "unchanged", existing
    try:
        (first, text), rest = DEMO_CONVERSATION[0], DEMO_CONVERSATION[1:]
        group, _, _ = store.start(users[first], users[b if first == a else a], text)
        for handle, text in rest:
            store.append(group, users[handle], users[b if handle == a else a].uuid, text)
    except ApiError as e:
        raise KitError(f"could not write the demo conversation ({e.code}): run bin/ddb/seed again") from None
    return "created", group
