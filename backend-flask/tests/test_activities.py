"""The activity endpoints: success, auth failures, every validation error."""

import json
import uuid

import psycopg
import pytest

SEED_LONDO = "6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0003"
SEED_ALT = "6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0002"
ACTIVITY_KEYS = {
    "uuid",
    "handle",
    "display_name",
    "message",
    "replies_count",
    "reposts_count",
    "likes_count",
    "reply_to_activity_uuid",
    "expires_at",
    "created_at",
}


def post(client, auth, handle, message="hello", ttl="1-day"):
    r = client.post("/api/activities", json={"message": message, "ttl": ttl}, headers=auth(handle))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# --- home -------------------------------------------------------------------------------------------


def test_home_lists_top_level_unexpired_activities_newest_first(client):
    r = client.get("/api/activities/home")
    assert r.status_code == 200
    body = r.get_json()
    assert [a["handle"] for a in body] == ["londo", "altbrown", "andrewbrown"]
    assert set(body[0]) == ACTIVITY_KEYS
    assert all(a["reply_to_activity_uuid"] is None for a in body)  # the seeded reply is not in the feed


def test_home_hides_expired_activities(client, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE activities SET expires_at = now() - interval '1 second' WHERE uuid = %s", (SEED_LONDO,))
    handles = [a["handle"] for a in client.get("/api/activities/home").get_json()]
    assert "londo" not in handles


def test_home_accepts_an_optional_token(client, auth):
    assert client.get("/api/activities/home", headers=auth("bayko")).status_code == 200


def test_home_rejects_a_bad_token_instead_of_ignoring_it(client):
    r = client.get("/api/activities/home", headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401
    assert r.get_json() == {"error": "token_invalid"}


# --- create -----------------------------------------------------------------------------------------


def test_create_returns_the_activity_and_it_leads_the_feed(client, auth):
    created = post(client, auth, "bayko", "  first crud  ", "3-hours")
    assert set(created) == ACTIVITY_KEYS
    assert created["handle"] == "bayko" and created["display_name"] == "Andrew Bayko"
    assert created["message"] == "first crud"  # surrounding whitespace trimmed
    assert created["replies_count"] == 0
    home = client.get("/api/activities/home").get_json()
    assert home[0]["uuid"] == created["uuid"]


def test_create_sets_expiry_from_ttl(client, auth):
    from datetime import datetime, timedelta

    created = post(client, auth, "bayko", "short lived", "1-hour")
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(created["created_at"])
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1, seconds=1)


def test_create_requires_a_token(client):
    r = client.post("/api/activities", json={"message": "x", "ttl": "1-day"})
    assert r.status_code == 401
    assert r.get_json() == {"error": "authorization_required"}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "body, codes",
    [
        ({}, ["message_blank", "ttl_blank"]),
        ({"message": "", "ttl": ""}, ["message_blank", "ttl_invalid"]),
        ({"message": "   ", "ttl": "7-days"}, ["message_blank"]),
        ({"message": "x" * 281, "ttl": "7-days"}, ["message_exceed_max_chars"]),
        ({"message": "ok", "ttl": "2-days"}, ["ttl_invalid"]),
        ({"message": 42, "ttl": "7-days"}, ["message_invalid"]),
        ({"message": "x" * 281, "ttl": None}, ["message_exceed_max_chars", "ttl_invalid"]),
    ],
)
def test_create_lists_every_failing_field(client, auth, body, codes):
    r = client.post("/api/activities", json=body, headers=auth("bayko"))
    assert r.status_code == 422
    assert r.get_json() == codes


def test_create_accepts_exactly_280_characters(client, auth):
    assert len(post(client, auth, "bayko", "x" * 280)["message"]) == 280


@pytest.mark.parametrize(
    "data, content_type, code",
    [
        ("{not json", "application/json", "body_invalid_json"),
        ("message=hi", "application/x-www-form-urlencoded", "body_invalid_json"),
        ('["a list"]', "application/json", "body_not_an_object"),
    ],
)
def test_create_rejects_malformed_bodies_with_json(client, auth, data, content_type, code):
    r = client.post("/api/activities", data=data, content_type=content_type, headers=auth("bayko"))
    assert r.status_code == 400
    assert r.get_json()["error"] == code


# --- reply ------------------------------------------------------------------------------------------


def test_reply_increments_the_parent_and_appears_in_the_thread(client, auth):
    reply = client.post(f"/api/activities/{SEED_LONDO}/reply", json={"message": "Indeed."}, headers=auth("bayko"))
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["reply_to_activity_uuid"] == SEED_LONDO
    thread = client.get(f"/api/activities/@londo/status/{SEED_LONDO}").get_json()
    assert thread["activity"]["replies_count"] == 1
    assert [r["uuid"] for r in thread["replies"]] == [body["uuid"]]


def test_concurrent_replies_are_all_counted(app, auth, tokens):
    from concurrent.futures import ThreadPoolExecutor

    headers = auth("bayko")

    def reply(i):
        with app.test_client() as c:
            return c.post(f"/api/activities/{SEED_LONDO}/reply", json={"message": f"r{i}"}, headers=headers).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(reply, range(12)))
    assert statuses == [200] * 12
    with app.test_client() as c:
        assert c.get(f"/api/activities/@londo/status/{SEED_LONDO}").get_json()["activity"]["replies_count"] == 12


def test_reply_to_a_missing_or_expired_activity_is_404(client, auth, database_url):
    r = client.post(f"/api/activities/{uuid.uuid4()}/reply", json={"message": "hi"}, headers=auth("bayko"))
    assert r.status_code == 404 and r.get_json()["error"] == "activity_not_found"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE activities SET expires_at = now() - interval '1 second' WHERE uuid = %s", (SEED_LONDO,))
    r = client.post(f"/api/activities/{SEED_LONDO}/reply", json={"message": "hi"}, headers=auth("bayko"))
    assert r.status_code == 404


def test_reply_requires_a_token(client):
    assert client.post(f"/api/activities/{SEED_LONDO}/reply", json={"message": "hi"}).status_code == 401


@pytest.mark.parametrize(
    "body, codes",
    [
        ({}, ["message_blank"]),
        ({"message": ""}, ["message_blank"]),
        ({"message": "x" * 1025}, ["message_exceed_max_chars_1024"]),
        ({"message": ["x"]}, ["message_invalid"]),
    ],
)
def test_reply_validation(client, auth, body, codes):
    r = client.post(f"/api/activities/{SEED_LONDO}/reply", json=body, headers=auth("bayko"))
    assert r.status_code == 422 and r.get_json() == codes


def test_reply_with_a_malformed_uuid_is_422(client, auth):
    r = client.post("/api/activities/not-a-uuid/reply", json={"message": "hi"}, headers=auth("bayko"))
    assert r.status_code == 422 and r.get_json() == ["activity_uuid_invalid"]


# --- notifications ----------------------------------------------------------------------------------


def test_notifications_are_replies_to_me_and_mentions_of_me(client, auth):
    mention = post(client, auth, "bayko", "hey @AndrewBrown look")
    reply = client.post(f"/api/activities/{SEED_LONDO}/reply", json={"message": "re"}, headers=auth("andrewbrown"))
    assert reply.status_code == 200
    mine = client.get("/api/activities/notifications", headers=auth("andrewbrown")).get_json()
    # newest first: bayko's mention, then the seeded mention by londo; my own reply to londo is not mine to see
    assert [(n["uuid"], n["notification_kind"]) for n in mine][:1] == [(mention["uuid"], "mention")]
    assert [n["handle"] for n in mine] == ["bayko", "londo"]
    londos = client.get("/api/activities/notifications", headers=auth("londo")).get_json()
    assert [(n["handle"], n["notification_kind"]) for n in londos] == [("andrewbrown", "reply")]


def test_notifications_do_not_include_my_own_mentions_of_myself(client, auth):
    post(client, auth, "bayko", "talking to myself @bayko")
    assert client.get("/api/activities/notifications", headers=auth("bayko")).get_json() == []


def test_a_reply_mentioning_the_parent_s_author_and_others_notifies_each_once(client, auth):
    # One statement writes the reply and its notifications (stores/activities.py): the parent's author is
    # told once, as a reply; everyone else mentioned, as a mention; the replier, never.
    reply = client.post(
        f"/api/activities/{SEED_LONDO}/reply",
        headers=auth("bayko"),
        json={"message": "@londo @AndrewBrown @bayko see this"},
    )
    assert reply.status_code == 200
    uuid_ = reply.get_json()["uuid"]
    for handle, kind in (("londo", "reply"), ("andrewbrown", "mention")):
        mine = client.get("/api/activities/notifications", headers=auth(handle)).get_json()
        assert [n["notification_kind"] for n in mine if n["uuid"] == uuid_] == [kind], handle
    assert client.get("/api/activities/notifications", headers=auth("bayko")).get_json() == []


def test_notifications_require_a_token(client):
    assert client.get("/api/activities/notifications").status_code == 401


# --- search -----------------------------------------------------------------------------------------


def test_search_finds_unexpired_messages_by_words(client, auth):
    hit = post(client, auth, "bayko", "Deploying containers to Fargate today")
    post(client, auth, "bayko", "nothing to see")
    results = client.get("/api/activities/search?term=fargate").get_json()
    assert [a["uuid"] for a in results] == [hit["uuid"]]
    assert client.get("/api/activities/search?term=container").get_json()[0]["uuid"] == hit["uuid"]  # stemmed


@pytest.mark.parametrize("query", ["", "?term=", "?term=%20%20"])
def test_search_blank_term_is_422(client, query):
    r = client.get(f"/api/activities/search{query}")
    assert r.status_code == 422 and r.get_json() == ["search_term_blank"]


@pytest.mark.parametrize("term, code", [("a%00b", "search_term_invalid"), ("x" * 257, "search_term_exceed_max_chars")])
def test_search_term_that_cannot_be_searched_is_422(client, term, code):
    r = client.get(f"/api/activities/search?term={term}")
    assert r.status_code == 422 and r.get_json() == [code]


@pytest.mark.parametrize(
    "path", ["/api/activities/@a%00b", "/api/users/@a%00b/short", "/api/activities/@no-such-handle"]
)
def test_a_handle_no_user_can_have_is_404(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.get_json() == {"error": "user_not_found"}


@pytest.mark.parametrize(
    "path, body, code",
    [
        ("/api/activities", {"message": "a\u0000b", "ttl": "1-day"}, "message_invalid"),
        ("/api/profile/update", {"display_name": "x\u0000", "bio": ""}, "display_name_invalid"),
        ("/api/messages", {"message": "hi", "handle": "bay\u0000ko"}, "handle_invalid"),
    ],
)
def test_a_nul_character_in_a_body_is_422_naming_the_field(client, auth, path, body, code):
    r = client.post(path, data=json.dumps(body), content_type="application/json", headers=auth("andrewbrown"))
    assert r.status_code == 422 and r.get_json() == [code]


def test_search_handles_operator_characters_safely(client):
    assert client.get("/api/activities/search?term=%27%29%20OR%20%26%20!%3A*").status_code == 200


# --- profile and thread -----------------------------------------------------------------------------


def test_profile_has_no_cognito_sub_and_counts_cruds(client):
    r = client.get("/api/activities/@andrewbrown")
    assert r.status_code == 200
    body = r.get_json()
    assert set(body["profile"]) == {"uuid", "handle", "display_name", "bio", "cruds_count"}
    assert [a["message"] for a in body["activities"]] == ["This was imported as seed data!"]
    assert body["profile"]["cruds_count"] == 1  # what the profile lists: the seed also has a reply of his


def test_cruds_count_counts_what_the_profile_lists(client, auth, database_url):
    """Replies and expired cruds are not on the profile, so not in its count (it counted both)."""
    for message in ("one", "two"):
        assert (
            client.post("/api/activities", json={"message": message, "ttl": "1-day"}, headers=auth("bayko")).status_code
            == 200
        )
    assert (
        client.post(
            f"/api/activities/{SEED_LONDO}/reply", json={"message": "a reply"}, headers=auth("bayko")
        ).status_code
        == 200
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE activities SET expires_at = now() - interval '1 second' WHERE message = 'one'")
    body = client.get("/api/activities/@bayko?limit=100").get_json()
    assert body["profile"]["cruds_count"] == len(body["activities"]) > 0
    updated = client.put("/api/profile/update", json={"display_name": "Bayko", "bio": ""}, headers=auth("bayko"))
    assert updated.get_json()["cruds_count"] == len(body["activities"])


def test_profile_handle_is_case_insensitive_and_unknown_is_404(client):
    assert client.get("/api/activities/@AndrewBrown").status_code == 200
    r = client.get("/api/activities/@nobody")
    assert r.status_code == 404 and r.get_json() == {"error": "user_not_found"}


def test_show_returns_the_activity_with_replies_oldest_first(client, auth):
    first = client.post(
        f"/api/activities/{SEED_ALT}/reply", json={"message": "second"}, headers=auth("bayko")
    ).get_json()
    body = client.get(f"/api/activities/@altbrown/status/{SEED_ALT}").get_json()
    assert body["activity"]["uuid"] == SEED_ALT
    assert [r["message"] for r in body["replies"]] == ["Welcome aboard, Alt!", "second"]
    assert body["replies"][1]["uuid"] == first["uuid"]


def test_show_under_the_wrong_handle_or_unknown_uuid_is_404(client):
    assert client.get(f"/api/activities/@londo/status/{SEED_ALT}").status_code == 404
    assert client.get(f"/api/activities/@altbrown/status/{uuid.uuid4()}").status_code == 404
    r = client.get("/api/activities/@altbrown/status/123")
    assert r.status_code == 422 and r.get_json() == ["activity_uuid_invalid"]


def test_the_pool_reads_binary_results_with_the_same_values_as_text(app, database_url):
    """db.AppCursor asks for binary results: the same rows (timestamps, uuids, NULLs, counts) as text gives."""
    from psycopg import pq

    from cruddur.stores import activities, users

    with app.app_context(), app.extensions["db_pool"].connection() as conn:
        for sql, params in (activities.home_query(20), users.profile_query("andrewbrown", 20)):
            binary = conn.cursor()
            assert binary.format == pq.Format.BINARY
            text = conn.cursor()
            text.format = pq.Format.TEXT
            rows = binary.execute(sql, params).fetchall()
            assert rows and rows == text.execute(sql, params).fetchall()
