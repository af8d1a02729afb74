"""The figure: a conversation of 10,000 messages. Its newest page is ONE DynamoDB query, and paging
through all of it reads each message exactly once (counted on the app's own DynamoDB client)."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from testkit import aws_client

N = 10_000


def bulk_messages(table, group, sender, n):
    """n older messages written straight into the table with BatchWriteItem (fast), one second apart."""
    ddb = aws_client("dynamodb")
    base = datetime.now(UTC) - timedelta(days=30)
    items = []
    for i in range(n):
        created_at = (base + timedelta(seconds=i)).isoformat(timespec="microseconds")
        message_uuid = str(uuid.uuid4())
        items.append(
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"MSG#{group}"},
                        "sk": {"S": f"{created_at}#{message_uuid}"},
                        "message_group_uuid": {"S": group},
                        "message_uuid": {"S": message_uuid},
                        "message": {"S": f"bulk {i}"},
                        "user_uuid": {"S": sender["uuid"]},
                        "user_handle": {"S": sender["handle"]},
                        "user_display_name": {"S": sender["display_name"]},
                        "created_at": {"S": created_at},
                    }
                }
            }
        )
    for start in range(0, n, 25):
        pending = {table: items[start : start + 25]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None


@pytest.fixture
def app(settings):
    """The app with a read timeout that fits the emulator answering 1,000-item pages on a busy machine."""
    from cruddur import create_app

    app = create_app(settings.with_overrides(aws_read_timeout=20.0), TESTING=True)
    yield app
    app.extensions["db_pool"].close()


@pytest.fixture
def counted(app):
    """Counts the app's DynamoDB calls by operation, and the items each Query read (ScannedCount)."""
    calls, scanned = Counter(), []
    events = app.extensions["dynamodb"].meta.events
    events.register("before-call.dynamodb.*", lambda model, **kw: calls.update([model.name]))
    events.register("after-call.dynamodb.Query", lambda parsed, **kw: scanned.append(parsed.get("ScannedCount", 0)))
    return calls, scanned


@pytest.mark.usefixtures("messages_table")
def test_ten_thousand_messages_newest_page_is_one_query_and_each_is_read_once(app, client, auth, settings, counted):
    from cruddur.pagination import decode_cursor, encode_cursor
    from cruddur.stores.messages import store

    calls, scanned = counted
    r = client.post("/api/messages", json={"message": "the newest", "handle": "bayko"}, headers=auth("andrewbrown"))
    group = r.get_json()["message_group_uuid"]
    me = client.get("/api/users/@andrewbrown/short").get_json()
    bulk_messages(settings.ddb_message_table, group, me, N)
    calls.clear()
    scanned.clear()

    r = client.get(f"/api/messages/{group}?limit=50", headers=auth("bayko"))
    assert r.status_code == 200
    page = r.get_json()
    assert page[-1]["message"] == "the newest" and page[0]["message"] == f"bulk {N - 49}"
    assert calls == {"GetItem": 1, "Query": 1}  # the membership check, then one query
    assert scanned == [50] and 'rel="next"' in r.headers["Link"]

    # The whole walk goes through the store the view calls, in pages of 1,000: the emulator spends
    # ~0.3-0.5 s per query on a 10k partition whatever the page size, so 101 API pages of 100 would
    # cost a minute here; the API's own paging (Link, cursor, each item once) is covered in test_messages.
    calls.clear()
    scanned.clear()
    seen, cursor, pages = [], None, 0
    with app.app_context():
        messages = store()
        while True:
            items, cursor = messages.list_messages(group, 1000, cursor)
            seen = items + seen  # each page is older than the one before
            pages += 1
            if cursor is None:
                break
            cursor = decode_cursor(encode_cursor(cursor))  # through the opaque form, as a client sends it
    assert len(seen) == N + 1 and len({m["uuid"] for m in seen}) == N + 1
    assert [m["created_at"] for m in seen] == sorted(m["created_at"] for m in seen)
    assert sum(scanned) == N + 1  # each message read exactly once, nothing filtered and thrown away
    assert calls == {"Query": pages} and pages == 11
    print(f"\n10,001 messages: newest page 1 query; full walk {pages} queries, {sum(scanned)} items read")
