"""The verified-token cache (cruddur/auth.py VerifiedTokens, AUTH_TOKEN_CACHE_SIZE) and the pool's quiet
check (cruddur/db.py check_quietly, DB_CHECK_QUIETLY): bounded, thread-safe, off by one setting each, and
with both on every token that must fail still fails at once — expired, another pool or client, a key gone
from the JWKS, a user deleted from the database."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from psycopg_pool import ConnectionPool

from cruddur import create_app
from cruddur.auth import LEEWAY, VerifiedTokens
from cruddur.config import ConfigError, Settings
from cruddur.db import make_pool
from cruddur.telemetry import logs
from testkit import serve

OUR_KID = "token-cache-test-key"
PROTECTED = "/api/activities/notifications"


# --- the cache itself -------------------------------------------------------------------------------------


def test_the_cache_keeps_at_most_its_size_and_drops_the_least_recently_used():
    cache = VerifiedTokens(size=2)
    far = time.time() + 3600
    cache.put(b"a", "kid", "key", {"sub": "a"}, until=far)
    cache.put(b"b", "kid", "key", {"sub": "b"}, until=far)
    assert cache.get(b"a") is not None  # a is now the most recently used
    cache.put(b"c", "kid", "key", {"sub": "c"}, until=far)
    assert len(cache) == 2
    assert cache.get(b"b") is None and cache.get(b"a") is not None and cache.get(b"c") is not None


def test_an_entry_is_dropped_at_its_expiry_and_an_expired_one_is_never_stored():
    now = [1000.0]
    cache = VerifiedTokens(size=8, clock=lambda: now[0])
    cache.put(b"t", "kid", "key", {"sub": "t"}, until=1010.0)
    cache.put(b"old", "kid", "key", {"sub": "old"}, until=1000.0)
    assert cache.get(b"t") is not None and cache.get(b"old") is None
    now[0] = 1010.0
    assert cache.get(b"t") is None and len(cache) == 0


def test_threads_sharing_the_cache_never_push_it_past_its_size():
    cache = VerifiedTokens(size=16)
    far = time.time() + 3600
    errors = []

    def hammer(n):
        try:
            for i in range(2000):
                digest = f"{n}-{i % 40}".encode()
                if cache.get(digest) is None:
                    cache.put(digest, "kid", "key", {"sub": digest}, until=far)
                assert len(cache) <= 16
        except Exception as e:  # collected: an assertion in a thread would otherwise be lost
            errors.append(e)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(cache) == 16


@pytest.mark.parametrize("value, expected", [(None, 4096), ("0", 0), ("10", 10)])
def test_the_size_is_a_setting_and_zero_turns_the_cache_off(value, expected, settings):
    env = {
        "CONNECTION_URL": "postgresql://x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        **({"AUTH_TOKEN_CACHE_SIZE": value} if value else {}),
    }
    assert Settings.from_env(env).auth_token_cache_size == expected
    app = create_app(settings.with_overrides(auth_token_cache_size=expected))
    try:
        assert (app.extensions["verifier"].verified is None) == (expected == 0)
    finally:
        app.extensions["db_pool"].close()


@pytest.mark.parametrize(
    "name, value",
    [("AUTH_TOKEN_CACHE_SIZE", "-1"), ("AUTH_TOKEN_CACHE_SIZE", "many"), ("DB_CHECK_QUIETLY", "sometimes")],
)
def test_a_bad_setting_stops_start_up_naming_it(name, value):
    env = {
        "CONNECTION_URL": "postgresql://x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_COGNITO_USER_POOL_ID": "p",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
        name: value,
    }
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


# --- the token checks with the cache on ------------------------------------------------------------------


@pytest.fixture(scope="module")
def our_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Jwks:
    """The emulator's keys plus ours, served on loopback; `ours` False takes ours out (a rotated-away key)."""

    def __init__(self, upstream: str, key):
        with urllib.request.urlopen(upstream, timeout=5) as r:
            self.real = json.load(r)["keys"]
        self.mine = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        self.mine.update(kid=OUR_KID, alg="RS256", use="sig")
        self.ours = True
        self.server = serve(
            lambda request: (200, json.dumps({"keys": self.real + ([self.mine] if self.ours else [])}).encode())
        )
        self.url = f"{self.server.url}/jwks.json"


@pytest.fixture
def jwks(settings, our_key):
    served = Jwks(settings.jwks_url, our_key)
    yield served
    served.server.close()


@pytest.fixture
def cached_app(settings, jwks):
    app = create_app(
        settings.with_overrides(cognito_jwks_url=jwks.url, auth_token_cache_size=64, db_check_quietly=True)
    )
    yield app
    app.extensions["db_pool"].close()


@pytest.fixture
def sign(tokens, our_key):
    """A token with londo's real claims (changed as asked), signed by our key, which the app trusts."""

    def make(**changes):
        claims = {**jwt.decode(tokens["londo"], options={"verify_signature": False}), **changes}
        return jwt.encode(claims, our_key, algorithm="RS256", headers={"kid": OUR_KID})

    return make


def _get(app, token):
    return app.test_client().get(PROTECTED, headers={"Authorization": f"Bearer {token}"})


def test_a_valid_token_is_verified_once_and_then_served_from_the_cache(cached_app, sign, monkeypatch):
    verifier = cached_app.extensions["verifier"]
    full_checks = []
    real = verifier._verify
    monkeypatch.setattr(verifier, "_verify", lambda token: full_checks.append(token) or real(token))
    token = sign(exp=int(time.time()) + 600)
    for _ in range(3):
        assert _get(cached_app, token).status_code == 200
    assert len(full_checks) == 1 and len(verifier.verified) == 1


def test_a_cached_token_fails_once_it_expires(cached_app, sign):
    exp = int(time.time()) + 2
    token = sign(exp=exp, iat=exp - 60)
    assert _get(cached_app, token).status_code == 200  # cached now
    deadline = time.monotonic() + 30
    while time.time() <= exp + LEEWAY and time.monotonic() < deadline:  # the clock passing exp (and the leeway)
        time.sleep(0.05)
    r = _get(cached_app, token)
    assert r.status_code == 401 and r.get_json() == {"error": "token_expired"}


@pytest.mark.parametrize(
    "changes",
    [{"client_id": "another-app-client"}, {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_another"}],
    ids=["another client", "another pool"],
)
def test_a_token_of_another_pool_or_client_fails_beside_a_cached_valid_one(cached_app, sign, changes):
    exp = int(time.time()) + 600
    assert _get(cached_app, sign(exp=exp)).status_code == 200
    for _ in range(2):  # failures are never remembered: the second is checked in full too
        r = _get(cached_app, sign(exp=exp, **changes))
        assert r.status_code == 401 and r.get_json() == {"error": "token_invalid"}
    assert len(cached_app.extensions["verifier"].verified) == 1


def test_a_cached_token_fails_once_its_key_is_gone_from_the_jwks(cached_app, jwks, sign, tokens, our_key):
    token = sign(exp=int(time.time()) + 600)
    assert _get(cached_app, token).status_code == 200  # cached now
    jwks.ours = False  # the key is rotated away at Cognito
    verifier = cached_app.extensions["verifier"]
    verifier.keys._min_refresh = 0
    # A token with a kid the process has not seen makes it fetch the key set again (the rotation path).
    claims = jwt.decode(tokens["londo"], options={"verify_signature": False})
    unknown = jwt.encode(claims, our_key, algorithm="RS256", headers={"kid": "a-new-kid"})
    assert _get(cached_app, unknown).status_code == 401
    assert verifier.keys.current(OUR_KID) is None  # refreshed: the key set no longer holds ours
    r = _get(cached_app, token)
    assert r.status_code == 401 and r.get_json() == {"error": "token_invalid"}


def test_a_cached_token_of_a_user_deleted_from_the_database_fails_at_once(cached_app, sign, database_url):
    token = sign(exp=int(time.time()) + 600)
    assert _get(cached_app, token).status_code == 200  # cached now
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE handle = 'londo'")
    r = _get(cached_app, token)
    assert r.status_code == 403 and r.get_json()["error"] == "user_not_registered"


HOME = "/api/activities/home"


def test_a_deleted_users_token_reads_on_home_exactly_what_anyone_can_and_nothing_private(
    cached_app, sign, database_url, monkeypatch
):
    # Home is the same public page for every caller: its token is verified in full, but no users row is
    # looked up. A deleted user's valid token there gets the anonymous answer (private, never cached);
    # every route that acts as the caller or answers about them refuses it at once.
    logged = []
    monkeypatch.setattr(logs, "write_line", logged.append)
    token = sign(exp=int(time.time()) + 600)
    client = cached_app.test_client()
    assert _get(cached_app, token).status_code == 200  # cached now, and londo is registered
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE handle = 'londo'")
    signed_in = client.get(HOME, headers={"Authorization": f"Bearer {token}"})
    anonymous = client.get(HOME)
    assert signed_in.status_code == 200 and signed_in.get_data() == anonymous.get_data()
    assert signed_in.get_json() and "londo" not in {a["handle"] for a in signed_in.get_json()}
    assert signed_in.headers["Cache-Control"] == "no-store" and "Cache-Control" not in anonymous.headers
    r = _get(cached_app, token)
    assert r.status_code == 403 and r.get_json()["error"] == "user_not_registered"
    r = client.post(
        "/api/activities",
        json={"message": "still here?", "ttl": "7-days"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403 and r.get_json()["error"] == "user_not_registered"
    # The log says home was a signed-in call (the token's sub, never the token), with no users row behind it.
    sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    home_line = next(line for line in logged if line.get("route") == HOME and line.get("user_sub"))
    assert home_line["user_sub"] == sub and home_line["user_uuid"] is None
    assert token not in json.dumps(logged)


def test_a_bad_token_on_home_still_fails_though_no_user_is_looked_up(cached_app, sign, jwks):
    client = cached_app.test_client()
    expired = sign(exp=int(time.time()) - 60, iat=int(time.time()) - 3600)
    other_client = sign(client_id="someone-else", exp=int(time.time()) + 600)
    for token, error in ((expired, "token_expired"), (other_client, None), ("x.y.z", None)):
        r = client.get(HOME, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, (token, r.get_json())
        assert error is None or r.get_json()["error"] == error
        assert r.headers["Cache-Control"] == "no-store"
    for empty in ("Bearer null", "Bearer undefined", "Bearer "):  # no token (issue 12): the public answer
        r = client.get(HOME, headers={"Authorization": empty})
        assert r.status_code == 200 and "Cache-Control" not in r.headers


def test_with_the_cache_off_every_request_is_checked_in_full(settings, jwks, sign, monkeypatch):
    app = create_app(settings.with_overrides(cognito_jwks_url=jwks.url, auth_token_cache_size=0))
    try:
        verifier = app.extensions["verifier"]
        full_checks = []
        real = verifier._verify
        monkeypatch.setattr(verifier, "_verify", lambda token: full_checks.append(token) or real(token))
        token = sign(exp=int(time.time()) + 600)
        for _ in range(3):
            assert _get(app, token).status_code == 200
        assert len(full_checks) == 3
    finally:
        app.extensions["db_pool"].close()


# --- the pool's quiet check -------------------------------------------------------------------------------


@pytest.mark.parametrize("quietly", [True, False], ids=["quiet check", "round-trip check"])
def test_a_connection_the_server_ended_is_replaced_not_served(settings, database_url, quietly):
    pool = make_pool(settings.with_overrides(db_pool_min=1, db_pool_max=1, db_check_quietly=quietly))
    pool.open(wait=True)
    try:
        with pool.connection() as conn:
            first = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            deadline = time.monotonic() + 10  # the backend exits after the signal: wait until it has
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)).fetchone():
                assert time.monotonic() < deadline, "the terminated backend did not exit"
                time.sleep(0.02)
        with pool.connection() as conn:  # the dead one is noticed on checkout and replaced
            second = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
        assert second != first
    finally:
        pool.close()


def test_the_quiet_check_sends_nothing_to_a_healthy_connection(settings, monkeypatch):
    round_trips = []
    real = ConnectionPool.check_connection
    monkeypatch.setattr(
        ConnectionPool, "check_connection", staticmethod(lambda conn: round_trips.append(conn) or real(conn))
    )
    pool = make_pool(settings.with_overrides(db_pool_min=1, db_pool_max=1, db_check_quietly=True))
    pool.open(wait=True)
    try:
        for _ in range(5):
            with pool.connection() as conn:
                conn.execute("SELECT 1")
        assert round_trips == []
    finally:
        pool.close()
