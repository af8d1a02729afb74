"""The home feed's first-page cache (cruddur/feed_cache.py): hits, expiry, invalidation on a write in
this process, cursor pages never cached, off at 0, one builder per key. Real PostgreSQL behind the API;
rows written straight to the database stand for another worker's writes (which the cache cannot see)."""

from __future__ import annotations

import sys
import threading

import psycopg
import pytest

from cruddur import create_app
from cruddur.config import ConfigError, Settings
from cruddur.feed_cache import TTLCache
from testkit import Clock

HOME = "/api/activities/home"


def all_waiting(threads, deadline: float = 5.0) -> None:
    """Block until every thread is parked in threading's wait() (the builder on its event, the others on
    the build in flight), so none of them arrives late."""
    for _ in range(int(deadline / 0.001)):
        frames = sys._current_frames()
        if all(t.ident in frames and frames[t.ident].f_code.co_name == "wait" for t in threads):
            return
        threading.Event().wait(0.001)
    raise AssertionError("the threads never all waited")


def insert_from_elsewhere(database_url: str, message: str, age: str = "0 seconds") -> None:
    """A crud written by another process: this worker's cache is not told."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO activities (user_uuid, message, expires_at, created_at) "
            "SELECT uuid, %s, now() + interval '1 day', now() - %s::interval FROM users "
            "WHERE handle = 'bayko'",
            (message, age),
        )


def messages(response) -> list[str]:
    assert response.status_code == 200
    return [a["message"] for a in response.get_json()]


@pytest.fixture
def clock(app):
    clock = Clock()
    app.extensions["home_feed_cache"].clock = clock
    app.extensions["search_cache"].clock = clock
    return clock


def test_first_page_is_served_from_the_cache_within_the_ttl(client, database_url, clock):
    first = client.get(HOME)
    insert_from_elsewhere(database_url, "written by another worker")
    clock.now += 0.9
    second = client.get(HOME)
    assert second.get_data() == first.get_data()
    assert "written by another worker" not in messages(second)


def test_the_cache_expires_after_the_ttl(client, database_url, clock):
    client.get(HOME)
    insert_from_elsewhere(database_url, "written by another worker")
    clock.now += 1.0
    assert messages(client.get(HOME))[0] == "written by another worker"


def test_each_limit_is_its_own_entry_and_a_hit_keeps_its_link_header(client, database_url, clock):
    small = client.get(HOME, query_string={"limit": 1})
    insert_from_elsewhere(database_url, "written by another worker")
    assert messages(client.get(HOME, query_string={"limit": 2}))[0] == "written by another worker"
    again = client.get(HOME, query_string={"limit": 1})
    assert messages(again) == messages(small) != ["written by another worker"]
    assert again.headers["Link"] == small.headers["Link"]
    assert again.headers["Link"].startswith("<http://localhost:4567/api/activities/home?limit=1&cursor=")


def test_posting_or_replying_here_empties_the_cache_at_once(client, auth, clock):
    client.get(HOME)
    posted = client.post(
        "/api/activities", json={"message": "my own crud", "ttl": "1-day"}, headers=auth("andrewbrown")
    ).get_json()
    assert messages(client.get(HOME))[0] == "my own crud"
    reply = client.post(f"/api/activities/{posted['uuid']}/reply", json={"message": "a reply"}, headers=auth("bayko"))
    assert reply.status_code == 200
    assert client.get(HOME).get_json()[0]["replies_count"] == 1


def test_cursor_pages_are_never_cached(client, database_url, clock):
    first = client.get(HOME, query_string={"limit": 1})
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    before = messages(client.get(next_url))
    # Older than the first page's crud (1 hour), newer than the second's (90 minutes): top of page two.
    insert_from_elsewhere(database_url, "between the pages", age="75 minutes")
    after = messages(client.get(next_url))
    assert after != before and after[0] == "between the pages"


def test_a_ttl_of_zero_turns_the_cache_off(settings, database_url):
    app = create_app(settings.with_overrides(home_feed_cache_seconds=0), TESTING=True)
    try:
        assert app.extensions["home_feed_cache"] is None
        client = app.test_client()
        client.get(HOME)
        insert_from_elsewhere(database_url, "written by another worker")
        assert messages(client.get(HOME))[0] == "written by another worker"
    finally:
        app.extensions["db_pool"].close()


@pytest.mark.parametrize("raw, expected", [("", 1.0), ("0", 0.0), ("0.25", 0.25), ("5", 5.0)])
def test_the_ttl_setting(raw, expected):
    env = {
        "CONNECTION_URL": "postgresql://x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        "HOME_FEED_CACHE_SECONDS": raw,
    }
    assert Settings.from_env(env).home_feed_cache_seconds == expected


@pytest.mark.parametrize("raw", ["-1", "soon", "nan", "inf"])
def test_a_bad_ttl_stops_start_up_naming_the_setting(raw):
    env = {
        "CONNECTION_URL": "postgresql://x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        "HOME_FEED_CACHE_SECONDS": raw,
    }
    with pytest.raises(ConfigError, match="HOME_FEED_CACHE_SECONDS"):
        Settings.from_env(env)


def test_one_builder_per_key_while_the_others_wait_for_its_value():
    cache = TTLCache(1.0, clock=Clock())
    release = threading.Event()
    builds = []

    def build():
        builds.append(1)
        release.wait(5)
        return "page"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(20, build))) for _ in range(8)]
    for t in threads:
        t.start()
    all_waiting(threads)  # the builder inside build(), the other seven queued behind it
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["page"] * 8
    assert len(builds) == 1


def test_a_build_that_began_before_an_invalidation_is_not_stored():
    cache = TTLCache(1.0, clock=Clock())

    def build_racing_a_write():
        cache.invalidate()  # a crud was posted here while this page was being read
        return "stale"

    assert cache.get(20, build_racing_a_write) == "stale"  # its own caller still gets it
    assert cache.get(20, lambda: "fresh") == "fresh"


def test_a_cached_page_links_to_the_arguments_it_was_asked_with_on_backend_url_whatever_the_host(client, clock):
    client.get(HOME, query_string={"limit": 1})
    other = client.get(HOME, query_string={"limit": 1, "x": "y"}, headers={"Host": "evil.example.com"})
    assert other.headers["Link"].startswith("<http://localhost:4567/api/activities/home?limit=1&x=y&cursor=")
    again = client.get(HOME, query_string={"limit": 1}, headers={"Host": "evil.example.com"})
    assert again.headers["Link"].startswith("<http://localhost:4567/api/activities/home?limit=1&cursor=")


def test_waiters_share_a_failed_build_instead_of_each_retrying_in_turn():
    """A database outage: the waiters get the leader's error at once (each would otherwise wait out the
    pool's timeout one after another); the next caller afterwards tries again."""
    cache = TTLCache(1.0, clock=Clock())
    release = threading.Event()
    builds = []

    def failing_build():
        builds.append(1)
        release.wait(5)
        raise RuntimeError("database_unavailable")

    errors = []

    def call():
        try:
            cache.get(20, failing_build)
        except RuntimeError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    all_waiting(threads)
    release.set()
    for t in threads:
        t.join(5)
    assert errors == ["database_unavailable"] * 8
    assert len(builds) == 1
    assert cache.get(20, lambda: "back") == "back"  # a failure is never stored


# --- search's first pages (SEARCH_CACHE_SECONDS): the same cache, keyed by the term as searched -------------

SEARCH = "/api/activities/search"


def test_a_search_page_is_served_from_the_cache_within_the_ttl_per_term(client, database_url, clock):
    insert_from_elsewhere(database_url, "zebra one")
    first = client.get(SEARCH, query_string={"term": "zebra"})
    insert_from_elsewhere(database_url, "zebra two")
    assert client.get(SEARCH, query_string={"term": "zebra"}).get_data() == first.get_data()
    assert client.get(SEARCH, query_string={"term": "Zebra  "}).get_data() == first.get_data()  # searched alike
    assert messages(client.get(SEARCH, query_string={"term": "two"})) == ["zebra two"]  # another term: its own
    clock.now += 1.0
    assert messages(client.get(SEARCH, query_string={"term": "zebra"})) == ["zebra two", "zebra one"]


def test_posting_or_replying_here_empties_the_search_cache_at_once(client, auth, clock):
    assert messages(client.get(SEARCH, query_string={"term": "quokka"})) == []
    posted = client.post("/api/activities", json={"message": "a quokka", "ttl": "1-day"}, headers=auth("bayko"))
    assert messages(client.get(SEARCH, query_string={"term": "quokka"})) == ["a quokka"]
    reply = {"message": "another quokka"}
    assert (
        client.post(f"/api/activities/{posted.get_json()['uuid']}/reply", json=reply, headers=auth("londo")).status_code
        == 200
    )
    assert messages(client.get(SEARCH, query_string={"term": "quokka"})) == ["another quokka", "a quokka"]


def test_search_cursor_pages_are_never_cached(client, database_url, clock):
    for age in ("1 hour", "2 hours", "3 hours"):
        insert_from_elsewhere(database_url, f"walrus {age}", age=age)
    first = client.get(SEARCH, query_string={"term": "walrus", "limit": 1})
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    assert messages(client.get(next_url)) == ["walrus 2 hours"]
    insert_from_elsewhere(database_url, "walrus between", age="90 minutes")
    assert messages(client.get(next_url)) == ["walrus between"]


def test_the_search_cache_holds_at_most_its_bound():
    clock = Clock()
    cache = TTLCache(ttl=10, clock=clock, max_entries=3)
    cache.get("old", lambda: 0)
    clock.now += 11  # expired: the first to go
    for key in ("a", "b", "c"):
        cache.get(key, lambda key=key: key)
    assert len(cache) == 3 and cache.get("a", lambda: "rebuilt") == "a"
    cache.get("d", lambda: "d")  # full, nothing expired: the oldest (a) goes
    assert len(cache) == 3 and cache.get("a", lambda: "rebuilt") == "rebuilt"


def test_a_search_ttl_of_zero_turns_the_search_cache_off(settings, database_url):
    app = create_app(settings.with_overrides(search_cache_seconds=0), TESTING=True)
    try:
        assert app.extensions["search_cache"] is None and app.extensions["home_feed_cache"] is not None
        client = app.test_client()
        client.get(SEARCH, query_string={"term": "narwhal"})
        insert_from_elsewhere(database_url, "a narwhal")
        assert messages(client.get(SEARCH, query_string={"term": "narwhal"})) == ["a narwhal"]
    finally:
        app.extensions["db_pool"].close()


@pytest.mark.parametrize("raw, expected", [("", 1.0), ("0", 0.0), ("3", 3.0)])
def test_the_search_ttl_setting(raw, expected):
    env = {
        "CONNECTION_URL": "postgresql://x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        "SEARCH_CACHE_SECONDS": raw,
    }
    assert Settings.from_env(env).search_cache_seconds == expected
    if raw == "":
        with pytest.raises(ConfigError, match="SEARCH_CACHE_SECONDS"):
            Settings.from_env({**env, "SEARCH_CACHE_SECONDS": "-1"})
