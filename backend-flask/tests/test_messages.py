"""Direct messages on DynamoDB (the emulator over HTTP) with emulator-issued Cognito tokens:
start, reply, list, paginate, every forbidden access, validation codes, 503 when DynamoDB is away."""

import uuid
from datetime import UTC

import pytest

from cruddur.pagination import encode_cursor
from testkit import next_url, serve

pytestmark = pytest.mark.usefixtures("messages_table")


def start(client, auth, sender, handle, message="hello"):
    r = client.post("/api/messages", json={"message": message, "handle": handle}, headers=auth(sender))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["message_group_uuid"]


def send(client, auth, sender, group, message):
    r = client.post("/api/messages", json={"message": message, "message_group_uuid": group}, headers=auth(sender))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_start_reply_and_list_between_two_users(client, auth):
    group = start(client, auth, "andrewbrown", "bayko", "Hi Bayko!")
    uuid.UUID(group)
    reply = send(client, auth, "bayko", group, "Hello Andrew.")
    assert set(reply) == {"uuid", "display_name", "handle", "message", "created_at"}
    assert reply["handle"] == "bayko" and reply["message"] == "Hello Andrew." and reply["uuid"] != group
    assert reply["created_at"].endswith("+00:00")

    for reader in ("andrewbrown", "bayko"):
        r = client.get(f"/api/messages/{group}", headers=auth(reader))
        assert r.status_code == 200
        assert [(m["handle"], m["message"]) for m in r.get_json()] == [
            ("andrewbrown", "Hi Bayko!"),
            ("bayko", "Hello Andrew."),
        ]  # oldest first
        assert r.get_json()[-1]["uuid"] == reply["uuid"]

    mine = client.get("/api/message_groups", headers=auth("andrewbrown")).get_json()
    assert len(mine) == 1 and set(mine[0]) == {"uuid", "display_name", "handle", "message", "created_at"}
    assert (mine[0]["uuid"], mine[0]["handle"], mine[0]["message"], mine[0]["created_at"]) == (
        group,
        "bayko",
        "Hello Andrew.",
        reply["created_at"],
    )
    theirs = client.get("/api/message_groups", headers=auth("bayko")).get_json()
    assert [(g["uuid"], g["handle"], g["message"]) for g in theirs] == [(group, "andrewbrown", "Hello Andrew.")]


def test_three_users_inbox_is_most_recent_first_and_names_are_current(client, auth, database_url):
    import psycopg

    with_bayko = start(client, auth, "andrewbrown", "bayko", "one")
    with_londo = start(client, auth, "londo", "andrewbrown", "two")
    assert with_bayko != with_londo
    handles = [g["handle"] for g in client.get("/api/message_groups", headers=auth("andrewbrown")).get_json()]
    assert handles == ["londo", "bayko"]
    send(client, auth, "bayko", with_bayko, "three")
    inbox = client.get("/api/message_groups", headers=auth("andrewbrown")).get_json()
    assert [(g["handle"], g["message"]) for g in inbox] == [("bayko", "three"), ("londo", "two")]
    assert [g["handle"] for g in client.get("/api/message_groups", headers=auth("londo")).get_json()] == ["andrewbrown"]

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE users SET display_name = 'Bayko the Renamed' WHERE handle = 'bayko'")
    inbox = client.get("/api/message_groups", headers=auth("andrewbrown")).get_json()
    assert inbox[0]["display_name"] == "Bayko the Renamed"
    msgs = client.get(f"/api/messages/{with_bayko}", headers=auth("andrewbrown")).get_json()
    assert msgs[-1]["display_name"] == "Bayko the Renamed"


def test_second_start_with_the_same_person_reuses_the_conversation(client, auth):
    first = start(client, auth, "andrewbrown", "bayko", "first")
    assert start(client, auth, "andrewbrown", "BAYKO", "second") == first
    assert start(client, auth, "bayko", "andrewbrown", "third") == first
    msgs = client.get(f"/api/messages/{first}", headers=auth("bayko")).get_json()
    assert [m["message"] for m in msgs] == ["first", "second", "third"]
    assert len(client.get("/api/message_groups", headers=auth("andrewbrown")).get_json()) == 1


def test_a_third_user_cannot_read_or_append_and_learns_nothing(client, auth):
    group = start(client, auth, "andrewbrown", "bayko", "private")
    unknown = str(uuid.uuid4())
    for target in (group, unknown):
        r = client.get(f"/api/messages/{target}", headers=auth("londo"))
        assert r.status_code == 404 and r.get_json() == {"error": "message_group_not_found"}
        r = client.post(
            "/api/messages", json={"message": "let me in", "message_group_uuid": target}, headers=auth("londo")
        )
        assert r.status_code == 404 and r.get_json() == {"error": "message_group_not_found"}
    assert client.get("/api/message_groups", headers=auth("londo")).get_json() == []
    msgs = client.get(f"/api/messages/{group}", headers=auth("andrewbrown")).get_json()
    assert [m["message"] for m in msgs] == ["private"]


def test_every_endpoint_requires_a_token(client):
    group = str(uuid.uuid4())
    assert client.get("/api/message_groups").status_code == 401
    assert client.get(f"/api/messages/{group}").status_code == 401
    r = client.post("/api/messages", json={"message": "x", "handle": "bayko"})
    assert r.status_code == 401 and r.get_json() == {"error": "authorization_required"}


@pytest.mark.parametrize(
    "body, codes",
    [
        ({}, ["message_blank"]),
        ({"message": "hi"}, ["handle_blank"]),
        ({"message": "   ", "handle": "bayko"}, ["message_blank"]),
        ({"message": "x" * 1025, "handle": "bayko"}, ["message_exceed_max_chars_1024"]),
        ({"message": "hi", "handle": "ghost"}, ["handle_not_found"]),
        ({"message": "hi", "handle": "andrewbrown"}, ["handle_is_self"]),
        ({"message": "hi", "message_group_uuid": "not-a-uuid"}, ["message_group_uuid_invalid"]),
        (
            {"message": "hi", "handle": "bayko", "message_group_uuid": str(uuid.uuid4())},
            ["handle_and_message_group_uuid_both_given"],
        ),
        (
            {"message": "", "handle": "", "message_group_uuid": "x"},
            ["message_blank", "handle_blank", "message_group_uuid_invalid"],
        ),
    ],
)
def test_send_validation(client, auth, body, codes):
    r = client.post("/api/messages", json=body, headers=auth("andrewbrown"))
    assert r.status_code == 422 and r.get_json() == codes
    assert client.get("/api/message_groups", headers=auth("andrewbrown")).get_json() == []  # nothing written


def test_message_of_1024_characters_is_accepted(client, auth):
    group = start(client, auth, "andrewbrown", "bayko", "x" * 1024)
    assert client.get(f"/api/messages/{group}", headers=auth("bayko")).get_json()[0]["message"] == "x" * 1024


def test_malformed_group_uuid_in_path_is_422(client, auth):
    r = client.get("/api/messages/not-a-uuid", headers=auth("andrewbrown"))
    assert r.status_code == 422 and r.get_json() == ["message_group_uuid_invalid"]


def test_conversation_pages_go_back_in_time_each_oldest_first(client, auth):
    group = start(client, auth, "andrewbrown", "bayko", "m0")
    for i in range(1, 7):
        send(client, auth, "bayko" if i % 2 else "andrewbrown", group, f"m{i}")
    url, pages = f"/api/messages/{group}?limit=3", []
    while url:
        r = client.get(url, headers=auth("andrewbrown"))
        assert r.status_code == 200
        pages.append([m["message"] for m in r.get_json()])
        url = next_url(r)
    assert pages == [["m4", "m5", "m6"], ["m1", "m2", "m3"], ["m0"]]


def test_inbox_pages_cover_every_conversation_once(client, auth):
    for other in ("bayko", "londo", "altbrown"):
        start(client, auth, "andrewbrown", other, f"to {other}")
    url, seen = "/api/message_groups?limit=2", []
    while url:
        r = client.get(url, headers=auth("andrewbrown"))
        assert r.status_code == 200 and len(r.get_json()) <= 2
        seen += [g["handle"] for g in r.get_json()]
        url = next_url(r)
    assert seen == ["altbrown", "londo", "bayko"]


def test_cursor_from_another_query_or_user_is_rejected(client, auth):
    one = start(client, auth, "andrewbrown", "bayko", "a")
    send(client, auth, "bayko", one, "b")
    two = start(client, auth, "andrewbrown", "londo", "c")
    send(client, auth, "londo", two, "d")
    first = client.get(f"/api/messages/{one}?limit=1", headers=auth("andrewbrown"))
    cursor = next_url(first).split("cursor=")[1]
    r = client.get(f"/api/messages/{two}?limit=1&cursor={cursor}", headers=auth("andrewbrown"))
    assert r.status_code == 422 and r.get_json() == ["cursor_invalid"]

    inbox = client.get("/api/message_groups?limit=1", headers=auth("andrewbrown"))
    inbox_cursor = next_url(inbox).split("cursor=")[1]
    r = client.get(f"/api/message_groups?limit=1&cursor={inbox_cursor}", headers=auth("bayko"))
    assert r.status_code == 422 and r.get_json() == ["cursor_invalid"]
    r = client.get(f"/api/messages/{one}?cursor={inbox_cursor}", headers=auth("andrewbrown"))
    assert r.status_code == 422


@pytest.mark.parametrize(
    "position",
    [
        ["2026-01-01T00:00:00+00:00", "x"],
        {"pk": "MSG#x", "sk": "nope"},
        {"pk": "MSG#{group}", "sk": "2026-01-01T00:00:00#" + str(uuid.UUID(int=1))},  # naive timestamp
        {"pk": "MSG#{group}", "sk": "2026-01-01T00:00:00+00:00#" + str(uuid.UUID(int=1)), "extra": "x"},
        {"pk": "MSG#{group}", "sk": 5},
    ],
)
def test_forged_message_cursors_are_422(client, auth, position):
    group = start(client, auth, "andrewbrown", "bayko", "a")
    if isinstance(position, dict):
        position = {k: (v.format(group=group) if isinstance(v, str) else v) for k, v in position.items()}
    r = client.get(f"/api/messages/{group}?cursor={encode_cursor(position)}", headers=auth("andrewbrown"))
    assert r.status_code == 422 and r.get_json() == ["cursor_invalid"]


def test_a_well_formed_cursor_of_my_conversation_is_honoured(client, auth):
    group = start(client, auth, "andrewbrown", "bayko", "old")
    later = send(client, auth, "bayko", group, "new")
    position = {"pk": f"MSG#{group}", "sk": f"{later['created_at']}#{later['uuid']}"}
    r = client.get(f"/api/messages/{group}?cursor={encode_cursor(position)}", headers=auth("andrewbrown"))
    assert r.status_code == 200 and [m["message"] for m in r.get_json()] == ["old"]


# The emulator's transactions are not isolated (moto restores a deep copy of the table when one is
# cancelled, erasing writes that committed meanwhile), so races are built here as exact interleavings.


def test_a_start_that_loses_the_race_joins_the_winners_conversation(app, auth):
    from cruddur.stores.messages import MessageStore, User, store

    group = start(app.test_client(), auth, "bayko", "andrewbrown", "winner")
    with app.app_context():
        real = store()

        class LateStore(MessageStore):  # saw no conversation just before the other side created it
            first = True

            def pair_group(self, a, b):
                if LateStore.first:
                    LateStore.first = False
                    return None
                return super().pair_group(a, b)

        late = LateStore(real.client, real.table)
        ids = {row["handle"]: row for row in _users(app)}
        got, message, created = late.start(User.of(ids["andrewbrown"]), User.of(ids["bayko"]), "loser")
    assert (got, created) == (group, False)
    msgs = app.test_client().get(f"/api/messages/{group}", headers=auth("andrewbrown")).get_json()
    assert [m["message"] for m in msgs] == ["winner", "loser"] and msgs[-1]["uuid"] == message["uuid"]
    assert len(app.test_client().get("/api/message_groups", headers=auth("andrewbrown")).get_json()) == 1


def test_an_append_racing_a_newer_message_retries_after_it(app, auth):
    """Another server (clock ahead) committed a newer message after we read the conversation row."""
    from datetime import datetime, timedelta

    from cruddur.stores import messages as messages_store
    from cruddur.stores.messages import User, store

    c = app.test_client()
    group = start(c, auth, "andrewbrown", "bayko", "first")
    ids = {row["handle"]: row for row in _users(app)}
    me, other = User.of(ids["andrewbrown"]), User.of(ids["bayko"])
    with app.app_context():
        s = store()
        stale = s.conversation(me.uuid, group)
        ahead = datetime.now(UTC) + timedelta(seconds=30)
        real_now = messages_store._now
        messages_store._now = lambda: ahead
        try:
            newer = s.append(group, other, me.uuid, "from the future")
        finally:
            messages_store._now = real_now
        mine = s.append(group, me, other.uuid, "mine", mine=stale)
    assert mine["created_at"] > newer["created_at"]  # ordered after the newer message, not lost
    msgs = c.get(f"/api/messages/{group}", headers=auth("bayko")).get_json()
    assert [m["message"] for m in msgs] == ["first", "from the future", "mine"]
    for reader in ("andrewbrown", "bayko"):
        assert c.get("/api/message_groups", headers=auth(reader)).get_json()[0]["message"] == "mine"


def test_append_to_a_conversation_row_that_vanished_is_409(app, auth, settings):
    from cruddur.stores.messages import User, grp_key, store
    from testkit import aws_client

    c = app.test_client()
    group = start(c, auth, "andrewbrown", "bayko", "first")
    ids = {row["handle"]: row for row in _users(app)}
    with app.app_context():
        s = store()
        stale = s.conversation(ids["andrewbrown"]["uuid"].__str__(), group)
        aws_client("dynamodb").delete_item(
            TableName=settings.ddb_message_table, Key=grp_key(str(ids["bayko"]["uuid"]), group)
        )
        from cruddur.errors import Conflict

        with pytest.raises(Conflict):
            s.append(group, User.of(ids["andrewbrown"]), str(ids["bayko"]["uuid"]), "x", mine=stale)
    msgs = c.get(f"/api/messages/{group}", headers=auth("andrewbrown")).get_json()
    assert [m["message"] for m in msgs] == ["first"]  # the cancelled transaction wrote nothing


def _users(app):
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(app.config["SETTINGS"].connection_url, row_factory=dict_row) as conn:
        return conn.execute("SELECT uuid, handle, display_name FROM users").fetchall()


def test_unreachable_dynamodb_is_503_json_quickly(settings, auth, moto_server):
    from cruddur import create_app
    from cruddur_kit.local.moto import free_port

    broken = settings.with_overrides(
        cognito_jwks_url=settings.jwks_url,  # auth still works
        aws_endpoint_url=f"http://127.0.0.1:{free_port()}",
    )  # nothing listens
    app = create_app(broken, TESTING=True)
    try:
        c = app.test_client()
        for r in (
            c.get("/api/message_groups", headers=auth("andrewbrown")),
            c.get(f"/api/messages/{uuid.uuid4()}", headers=auth("andrewbrown")),
            c.post("/api/messages", json={"message": "hi", "handle": "bayko"}, headers=auth("andrewbrown")),
        ):
            assert r.status_code == 503 and r.get_json() == {"error": "dynamodb_unavailable"}
            assert r.headers["Retry-After"] == "2"
    finally:
        app.extensions["db_pool"].close()


def test_missing_table_is_503_not_500(settings, auth):
    from cruddur import create_app

    app = create_app(settings.with_overrides(ddb_message_table="cruddur-no-such-table"), TESTING=True)
    try:
        r = app.test_client().get("/api/message_groups", headers=auth("andrewbrown"))
        assert r.status_code == 503 and r.get_json() == {"error": "dynamodb_unavailable"}
    finally:
        app.extensions["db_pool"].close()


THROTTLED = (
    400,
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
        "message": "Rate of requests exceeds the allowed throughput.",
    },
)


class FakeDynamo:
    """A loopback HTTP server answering like DynamoDB with `answer(operation, call_number)`. The emulator
    never throttles, so this is the one place DynamoDB responses are made up (shapes from the API docs)."""

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def _answer(self, request):
        import json

        self.calls.append(request.headers.get("X-Amz-Target", "").split(".")[-1])
        status, payload = self.answer(self.calls[-1], len(self.calls))
        return status, json.dumps(payload).encode(), "application/x-amz-json-1.0"

    def __enter__(self):
        self.server = serve(self._answer)
        return self.server.url

    def __exit__(self, *exc):
        self.server.close()


def against(fake, settings, auth, method, url, **kw):
    from cruddur import create_app

    with fake as endpoint:
        app = create_app(
            settings.with_overrides(cognito_jwks_url=settings.jwks_url, aws_endpoint_url=endpoint, aws_max_attempts=3),
            TESTING=True,
        )
        try:
            return getattr(app.test_client(), method)(url, headers=auth("andrewbrown"), **kw)
        finally:
            app.extensions["db_pool"].close()


@pytest.mark.parametrize("throttles, status, calls", [(2, 200, 3), (5, 503, 3)])
def test_throttling_is_retried_with_backoff_then_503(settings, auth, throttles, status, calls):
    fake = FakeDynamo(
        lambda op, n: THROTTLED if n <= throttles else (200, {"Items": [], "Count": 0, "ScannedCount": 0})
    )
    r = against(fake, settings, auth, "get", "/api/message_groups")
    assert r.status_code == status
    assert r.get_json() == ([] if status == 200 else {"error": "dynamodb_unavailable"})
    assert fake.calls == ["Query"] * calls  # aws_max_attempts counts every try


def test_a_transaction_cancelled_for_throttling_is_503_not_409(settings, auth):
    cancelled = (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[None, ThrottlingError, None, None]",
            "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError"}, {"Code": "None"}, {"Code": "None"}],
        },
    )
    fake = FakeDynamo(lambda op, n: (200, {}) if op == "GetItem" else cancelled)
    r = against(fake, settings, auth, "post", "/api/messages", json={"message": "hi", "handle": "bayko"})
    assert r.status_code == 503 and r.get_json() == {"error": "dynamodb_unavailable"}
    assert fake.calls == ["GetItem", "TransactWriteItems"]


def test_openapi_documents_the_message_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/message_groups", "/api/messages/{message_group_uuid}", "/api/messages"} <= set(paths)
    schema = paths["/api/messages"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert len(schema["oneOf"]) == 2


def test_store_and_kit_agree_on_the_index_name():
    from cruddur.stores import messages
    from cruddur_kit import ddb

    assert messages.INBOX_INDEX == ddb.INBOX_INDEX
    assert ddb.INBOX_INDEX in [i["IndexName"] for i in ddb.table_definition("t")["GlobalSecondaryIndexes"]]
