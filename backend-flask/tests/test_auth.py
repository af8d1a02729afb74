"""Cognito token verification: keys fetched once with a timeout, refreshed on an unknown kid (rate-limited)."""

import time
import urllib.request

import jwt
import pytest

from cruddur import create_app
from testkit import serve


class JwksProxy:
    """A local key server that serves the emulator's JWKS, counts fetches, and can hang."""

    def __init__(self, upstream: str):
        self.upstream, self.fetches, self.hang = upstream, 0, False
        self.server = serve(self._answer)
        self.url = f"{self.server.url}/jwks.json"

    def _answer(self, request):
        self.fetches += 1
        if self.hang:
            time.sleep(3)
        return 200, urllib.request.urlopen(self.upstream, timeout=5).read()

    def close(self):
        self.server.close()


@pytest.fixture
def jwks(settings):
    proxy = JwksProxy(settings.jwks_url)
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_app(settings, jwks):
    app = create_app(settings.with_overrides(cognito_jwks_url=jwks.url, jwks_timeout=1.0))
    yield app
    app.extensions["db_pool"].close()


def test_keys_are_fetched_once_for_many_requests(proxied_app, jwks, auth):
    client = proxied_app.test_client()
    for _ in range(5):
        assert client.get("/api/activities/notifications", headers=auth("londo")).status_code == 200
    assert jwks.fetches == 1


def test_unknown_kid_refetches_at_most_once_per_window(proxied_app, jwks, tokens):
    client = proxied_app.test_client()
    client.get("/api/activities/notifications", headers={"Authorization": f"Bearer {tokens['londo']}"})
    assert jwks.fetches == 1
    claims = jwt.decode(tokens["londo"], options={"verify_signature": False})
    for i in range(5):  # forged kids must not turn into a flood of key downloads
        forged = jwt.encode(claims, _throwaway_rsa_key(), algorithm="RS256", headers={"kid": f"rotated-{i}"})
        r = client.get("/api/activities/notifications", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401 and r.get_json() == {"error": "token_invalid"}
    assert jwks.fetches == 1  # the first fetch was < 30 s ago: no refetch yet


def test_unknown_kid_after_the_window_refetches_once(proxied_app, jwks, tokens):
    proxied_app.extensions["verifier"].keys._min_refresh = 0
    client = proxied_app.test_client()
    claims = jwt.decode(tokens["londo"], options={"verify_signature": False})
    forged = jwt.encode(claims, _throwaway_rsa_key(), algorithm="RS256", headers={"kid": "rotated"})
    assert client.get("/api/activities/notifications", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert jwks.fetches == 1


def test_a_hung_key_server_is_503_within_the_timeout(proxied_app, jwks, tokens):
    jwks.hang = True
    started = time.monotonic()
    r = proxied_app.test_client().get(
        "/api/activities/notifications", headers={"Authorization": f"Bearer {tokens['londo']}"}
    )
    assert r.status_code == 503 and r.get_json()["error"] == "auth_unavailable"
    assert r.headers["Retry-After"] == "2"
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer a b", "token", "Bearer  "])
def test_malformed_authorization_headers_are_401(client, header):
    r = client.get("/api/activities/notifications", headers={"Authorization": header})
    assert r.status_code == 401 and r.is_json


def test_an_id_token_is_not_an_access_token(client, cognito_pool):
    from cruddur_kit import cognito
    from testkit import aws_client

    token = cognito.id_token(aws_client("cognito-idp"), cognito_pool, "lmollari@centari.com")
    r = client.get("/api/activities/notifications", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


_KEY = None


def _throwaway_rsa_key():
    global _KEY
    if _KEY is None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        _KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEY
