"""Malformed input is a 4xx JSON answer, never a 5xx: cursors of the wrong shape or nested 1,200 deep on every
paged route, any search term (PostgreSQL's tsquery parser fails on some), JSON bodies nested thousands deep,
and bodies over the cap (413 from the declared length, before a byte is read). Through the real server
(gunicorn's own answers, slow clients, chunked bodies): reliability/test_hostile_clients.py."""

from __future__ import annotations

import base64
import json

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cruddur.stores.search_term import MAX_NEGATIONS, websearch_text

SEED_LONDO = "6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0003"


def cursor(position) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


NESTED = "[" * 1200 + "]" * 1200
BAD_CURSORS = {
    "int-uuid": cursor(["2026-01-01T00:00:00+00:00", 5]),
    "list-uuid": cursor(["2026-01-01T00:00:00+00:00", ["x"]]),
    "dict-uuid": cursor(["2026-01-01T00:00:00+00:00", {"a": 1}]),
    "int-time": cursor([5, "6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0003"]),
    "dict": cursor({"pk": 1, "sk": [2]}),
    "dict-of-lists": cursor({"pk": [], "sk": [], "last_sk": []}),
    "three-items": cursor(["a", "b", "c"]),
    "number": cursor(5),
    "null": cursor(None),
    "nested-1200-deep": base64.urlsafe_b64encode(NESTED.encode()).decode().rstrip("="),
    "too-long": "A" * 5000,
}


@pytest.fixture
def paged_routes(client, auth):
    """Every paged route, as (path, headers): a conversation exists for the messages route."""
    r = client.post("/api/messages", json={"message": "hi", "handle": "bayko"}, headers=auth("andrewbrown"))
    group = r.get_json()["message_group_uuid"]
    me = auth("andrewbrown")
    return [
        ("/api/activities/home", {}),
        ("/api/activities/notifications", me),
        ("/api/activities/search?term=seed&", {}),
        ("/api/activities/@londo", {}),
        (f"/api/activities/@londo/status/{SEED_LONDO}", {}),
        ("/api/message_groups", me),
        (f"/api/messages/{group}", me),
    ]


@pytest.mark.usefixtures("messages_table")
@pytest.mark.parametrize("name", BAD_CURSORS)
def test_a_cursor_of_the_wrong_shape_is_422_on_every_paged_route(client, paged_routes, name):
    for path, headers in paged_routes:
        sep = "" if path.endswith("&") else "?"
        r = client.get(f"{path}{sep}cursor={BAD_CURSORS[name]}", headers=headers)
        assert r.status_code == 422 and r.get_json() == ["cursor_invalid"], (path, r.status_code, r.get_data()[:200])


@pytest.mark.parametrize(
    "term",
    [
        "-" * 33 + "a",
        "-" * 256,
        "- " * 100 + "a",
        "-!" * 60 + "a",
        "-&-|-(-)-<" * 20,
        '"' + "-" * 100 + 'a"',
        "-\u2003" * 60 + "a",
        "-\t" * 60 + "a",
        "or " * 80,
        "a" * 256,
        '"' * 256,
        "--_" * 80,
        "!:*&|<->()" * 20,
    ],
)
def test_any_search_term_is_searched_never_a_500(client, term):
    r = client.get("/api/activities/search", query_string={"term": term})
    assert r.status_code == 200 and isinstance(r.get_json(), list), (r.status_code, r.get_data()[:200])


def test_a_re_spelled_term_finds_what_the_term_meant(client, auth):
    client.post(
        "/api/activities", json={"message": "fargate tasks on spot capacity", "ttl": "1-day"}, headers=auth("bayko")
    )

    def found(term):
        return [a["message"] for a in client.get("/api/activities/search", query_string={"term": term}).get_json()]

    assert found("fargate") == found('"fargate tasks"') == found("fargate -ec2") == ["fargate tasks on spot capacity"]
    assert found("fargate -spot") == found('fargate -"spot capacity"') == []
    assert found("nothing or fargate") == ["fargate tasks on spot capacity"]


@pytest.fixture(scope="module")
def pg(pg_server_url):
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        yield conn


@settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.sampled_from(list('-"!&|()<>:*_ \t\n\u2003\u00a0\u2010') + ["a", "é", "7", "-a", "x-y", "or", "OR"]),
        max_size=200,
    ).map(lambda pieces: "".join(pieces)[:256])
)
def test_postgresql_parses_every_re_spelled_term(pg, term):
    """Property: whatever the term, its re-spelling parses (websearch_to_tsquery raised for 33 dashes)."""
    pg.execute("SELECT websearch_to_tsquery('english', %s)", (websearch_text(term),))


def test_at_most_max_negations_survive():
    assert websearch_text("-a " * 100).count("-") == MAX_NEGATIONS
    assert websearch_text("-" * 300 + "a") == "-a"


# --- bodies ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_a_json_body_nested_thousands_deep_is_400(client, auth, depth):
    body = '{"message": ' + "[" * depth + "]" * depth + ', "ttl": "1-day"}'
    r = client.post("/api/activities", data=body, content_type="application/json", headers=auth("bayko"))
    assert r.status_code == 400 and r.get_json()["error"] == "body_invalid_json"


def test_a_body_over_the_cap_is_413_json_from_its_declared_length(app, client, auth):
    cap = app.config["SETTINGS"].max_body_bytes
    assert cap < 1_000_000  # well below 1 MB
    read = []

    class Unread:
        """A body that records reads: a 413 decided from Content-Length reads none of it."""

        def read(self, *args):
            read.append(args)
            return b""

        readline = read

    r = client.post(
        "/api/activities",
        headers={**auth("bayko"), "Content-Type": "application/json"},
        environ_overrides={"wsgi.input": Unread(), "CONTENT_LENGTH": str(100 * 1024 * 1024)},
    )
    assert r.status_code == 413 and r.get_json()["error"] == "body_too_large" and read == []
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_the_cap_is_a_setting_and_a_body_at_the_cap_is_read(settings, tokens):
    from cruddur import create_app

    app = create_app(settings.with_overrides(max_body_bytes=200))
    try:
        client, headers = app.test_client(), {"Authorization": f"Bearer {tokens['bayko']}"}
        small = json.dumps({"message": "x" * 150, "ttl": "1-day"})
        assert len(small) <= 200
        assert (
            client.post("/api/activities", data=small, content_type="application/json", headers=headers).status_code
            == 200
        )
        big = json.dumps({"message": "x" * 250, "ttl": "1-day"})
        r = client.post("/api/activities", data=big, content_type="application/json", headers=headers)
        assert r.status_code == 413 and "200 bytes" in r.get_json()["message"]
    finally:
        app.extensions["db_pool"].close()


@pytest.mark.parametrize("value, error", [("0", "at least 1"), ("-5", "at least 1"), ("64k", "integer")])
def test_a_bad_cap_setting_stops_start_up_naming_it(value, error):
    from cruddur.config import ConfigError, Settings

    env = {
        "CONNECTION_URL": "postgresql://x@127.0.0.1/db",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MAX_REQUEST_BODY_BYTES": value,
    }
    with pytest.raises(ConfigError, match=f"MAX_REQUEST_BODY_BYTES.*{error}"):
        Settings.from_env(env)
