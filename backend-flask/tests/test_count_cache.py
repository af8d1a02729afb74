"""The profile count cache: a profile's cruds_count remembered per process for PROFILE_COUNT_CACHE_SECONDS,
bounded, safe under threads, forgotten at once when the user posts here, and off with 0."""

from __future__ import annotations

import threading

import psycopg
import pytest

from cruddur import create_app
from cruddur.config import ConfigError, Settings
from cruddur.count_cache import CountCache
from testkit import Clock

PROFILE = "/api/activities/@bayko"


def count_of(client) -> int:
    r = client.get(PROFILE)
    assert r.status_code == 200
    return r.get_json()["profile"]["cruds_count"]


def post_from_elsewhere(database_url: str, message: str) -> None:
    """A crud written by another process: this worker's cache is not told."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO activities (user_uuid, message, expires_at) "
            "SELECT uuid, %s, now() + interval '1 day' FROM users WHERE handle = 'bayko'",
            (message,),
        )


@pytest.fixture
def clock(app):
    clock = Clock()
    app.extensions["profile_count_cache"].clock = clock
    return clock


def test_a_count_is_remembered_for_its_ttl_then_read_again(client, clock, database_url):
    before = count_of(client)
    post_from_elsewhere(database_url, "from another worker")
    assert count_of(client) == before  # within the TTL: the remembered count (the page itself is fresh)
    body = client.get(PROFILE).get_json()
    assert "from another worker" in [a["message"] for a in body["activities"]]
    clock.now += 1.01
    assert count_of(client) == before + 1


def test_posting_here_forgets_the_posters_count_at_once(client, clock, auth):
    before = count_of(client)
    assert (
        client.post("/api/activities", json={"message": "mine", "ttl": "1-day"}, headers=auth("bayko")).status_code
        == 200
    )
    assert count_of(client) == before + 1  # no clock moved: forgotten, not expired


def test_a_count_read_before_a_forget_is_not_stored():
    cache = CountCache(ttl=10, clock=Clock())
    generation = cache.generation  # a miss starts its query ...
    cache.forget("bayko")  # ... a post here forgets bayko meanwhile ...
    cache.put("bayko", 3, generation)  # ... so the count it read may be stale: not stored
    assert cache.get("bayko") is None
    cache.put("bayko", 4, cache.generation)
    assert cache.get("bayko") == 4


def test_the_cache_is_bounded_dropping_expired_entries_then_the_oldest():
    clock = Clock()
    cache = CountCache(ttl=10, max_entries=3, clock=clock)
    cache.put("a", 1, 0)
    clock.now += 11  # a expired
    cache.put("b", 2, 0)
    cache.put("c", 3, 0)
    cache.put("d", 4, 0)  # full: the expired a goes first
    assert (cache.get("b"), cache.get("c"), cache.get("d"), len(cache)) == (2, 3, 4, 3)
    cache.put("e", 5, 0)  # full, nothing expired: the oldest (b) goes
    assert cache.get("b") is None and (cache.get("c"), cache.get("e"), len(cache)) == (3, 5, 3)


def test_threads_sharing_the_cache_never_push_it_past_its_bound():
    cache = CountCache(ttl=60, max_entries=50)
    start = threading.Barrier(8)

    def fill(worker: int):
        start.wait()
        for i in range(2000):
            cache.put(f"user{worker}-{i}", i, cache.generation)
            if i % 7 == 0:
                cache.forget(f"user{worker}-{i - 1}")

    threads = [threading.Thread(target=fill, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 0 < len(cache) <= 50


def test_zero_turns_the_cache_off_and_every_profile_counts(settings, database_url):
    app = create_app(settings.with_overrides(profile_count_cache_seconds=0), TESTING=True)
    assert app.extensions["profile_count_cache"] is None
    with app.test_client() as client:
        before = count_of(client)
        post_from_elsewhere(database_url, "counted at once")
        assert count_of(client) == before + 1


def _env(raw: str) -> dict:
    return {
        "CONNECTION_URL": "postgresql://x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        "PROFILE_COUNT_CACHE_SECONDS": raw,
    }


@pytest.mark.parametrize("raw, expected", [("", 1.0), ("0", 0.0), ("2.5", 2.5)])
def test_the_ttl_setting(raw, expected):
    assert Settings.from_env(_env(raw)).profile_count_cache_seconds == expected


@pytest.mark.parametrize("raw", ["-1", "soon", "nan"])
def test_a_bad_ttl_stops_start_up_naming_the_setting(raw):
    with pytest.raises(ConfigError, match="PROFILE_COUNT_CACHE_SECONDS"):
        Settings.from_env(_env(raw))
