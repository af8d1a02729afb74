"""Forged and broken tokens against the real server: every one is 401 JSON, none is accepted.

The app trusts a key set served here: the emulator's Cognito keys plus one RSA key of our own, so
we can sign tokens whose claims are wrong in exactly one way. A correctly-signed token of ours and a
real Cognito access token are the controls: both get 200, so every 401 below is the check under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.request

import boto3
import jwt
import psycopg
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cruddur_kit import cognito
from testkit import serve

OUR_KID = "reliability-suite-key"
REGION = "us-east-1"
PROTECTED = "/api/activities/notifications"  # auth required, read-only


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def our_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_server(aws_env, cognito_pool, our_key):
    """Serves {emulator's keys + ours} on a loopback port, like Cognito's /.well-known/jwks.json."""
    real_url = f"{aws_env['AWS_ENDPOINT_URL']}/{cognito_pool.pool_id}/.well-known/jwks.json"
    with urllib.request.urlopen(real_url, timeout=5) as r:
        real = json.load(r)
    ours = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(our_key.public_key()))
    ours.update(kid=OUR_KID, alg="RS256", use="sig")
    body = json.dumps({"keys": [*real["keys"], ours]}).encode()

    with serve(lambda request: (200, body)) as url:
        yield {"url": f"{url}/jwks.json", "real": real}


@pytest.fixture(scope="module")
def server(start_api, tmp_path_factory, module_database_url, aws_env, cognito_pool, jwks_server):
    api = start_api(
        tmp_path_factory.mktemp("api"),
        module_database_url,
        aws_env,
        cognito_pool,
        AWS_COGNITO_JWKS_URL=jwks_server["url"],
    )
    yield api
    api.stop()


@pytest.fixture(scope="module")
def bayko_sub(module_database_url, server):
    with psycopg.connect(module_database_url) as conn:
        return conn.execute("SELECT cognito_user_id FROM users WHERE handle = 'bayko'").fetchone()[0]


@pytest.fixture(scope="module")
def claims(cognito_pool, bayko_sub):
    """Claims of a good access token for bayko (what Cognito puts in one)."""
    now = int(time.time())
    return {
        "sub": bayko_sub,
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{cognito_pool.pool_id}",
        "client_id": cognito_pool.client_id,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": "reliability",
        "username": bayko_sub,
    }


def sign(key, claims: dict, **header) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": OUR_KID, **header})


def call(server, token: str) -> requests.Response:
    return requests.get(server.url + PROTECTED, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_controls_a_token_signed_by_a_trusted_key_and_a_real_cognito_token_are_accepted(
    server, our_key, claims, tokens
):
    assert call(server, sign(our_key, claims)).status_code == 200
    assert call(server, tokens["bayko"]).status_code == 200


def forged(name, our_key, claims, real_token, real_id_token, real_kid, pool):
    """One forged or broken token, by name."""
    now = int(time.time())
    header_b64, payload_b64, _ = real_token.split(".")
    if name == "wrong_signature":  # the pool's kid, the right claims, signed by another key
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, other, algorithm="RS256", headers={"kid": real_kid})
    if name == "tampered_payload":  # a real token whose claims were edited after signing
        payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))
        payload["sub"] = claims["sub"] + "x"
        return ".".join([header_b64, _b64(json.dumps(payload).encode()), real_token.split(".")[2]])
    if name == "alg_none":
        header = _b64(json.dumps({"alg": "none", "kid": real_kid, "typ": "JWT"}).encode())
        return f"{header}.{_b64(json.dumps(claims).encode())}."
    if name == "hs256_with_public_key":  # the classic key-confusion attack, HMAC keyed by the public PEM
        pem = our_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = ".".join(
            [
                _b64(json.dumps({"alg": "HS256", "kid": OUR_KID, "typ": "JWT"}).encode()),
                _b64(json.dumps(claims).encode()),
            ]
        )
        return f"{signing_input}.{_b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"
    if name == "expired":
        return sign(our_key, {**claims, "iat": now - 7200, "exp": now - 3600})
    if name == "not_yet_valid":
        return sign(our_key, {**claims, "nbf": now + 3600})
    if name == "wrong_issuer":
        return sign(our_key, {**claims, "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_Other"})
    if name == "wrong_client":
        return sign(our_key, {**claims, "client_id": "someone-elses-client"})
    if name == "id_token_instead_of_access":
        return real_id_token
    if name == "id_token_claims_signed_by_trusted_key":
        id_claims = {k: v for k, v in claims.items() if k not in ("client_id", "scope")}
        return sign(our_key, {**id_claims, "token_use": "id", "aud": pool.client_id})
    if name == "unknown_kid":
        return sign(our_key, claims, kid="no-such-key")
    if name == "missing_exp":
        return sign(our_key, {k: v for k, v in claims.items() if k != "exp"})
    # Claims PyJWT alone lets through: times that are not JSON numbers, or absurdly far ahead; subs that
    # PostgreSQL cannot take (each was a 500 or an accepted token).
    if name == "exp_numeric_string":
        return sign(our_key, {**claims, "exp": str(now + 3600)})
    if name == "exp_1e30":
        return sign(our_key, {**claims, "exp": 1e30})
    if name == "exp_in_ten_years":
        return sign(our_key, {**claims, "exp": now + 10 * 365 * 86400})
    if name == "iat_numeric_string":
        return sign(our_key, {**claims, "iat": str(now)})
    if name == "auth_time_in_the_future":
        return sign(our_key, {**claims, "auth_time": now + 86400})
    if name == "exp_boolean":
        return sign(our_key, {**claims, "exp": True})
    if name == "sub_with_nul":
        return sign(our_key, {**claims, "sub": claims["sub"][:8] + "\x00" + claims["sub"][8:]})
    if name == "sub_lone_surrogate":
        return sign(our_key, {**claims, "sub": claims["sub"] + "\ud800"})
    if name == "sub_not_a_string":
        return sign(our_key, {**claims, "sub": 12345})
    if name == "header_nested_2000_deep":
        header = b'{"alg":"RS256","kid":"' + OUR_KID.encode() + b'","x":' + b"[" * 2000 + b"]" * 2000 + b"}"
        return f"{_b64(header)}.{_b64(json.dumps(claims).encode())}.{_b64(b'sig')}"
    if name == "garbage":
        return "garbage"
    if name == "three_garbage_parts":
        return "aaa.bbb.ccc"
    if name == "empty_json_parts":
        return f"{_b64(b'{}')}.{_b64(b'{}')}.{_b64(b'')}"
    raise AssertionError(name)


CASES = [
    "wrong_signature",
    "tampered_payload",
    "alg_none",
    "hs256_with_public_key",
    "expired",
    "not_yet_valid",
    "wrong_issuer",
    "wrong_client",
    "id_token_instead_of_access",
    "id_token_claims_signed_by_trusted_key",
    "unknown_kid",
    "missing_exp",
    "exp_numeric_string",
    "exp_1e30",
    "exp_in_ten_years",
    "iat_numeric_string",
    "auth_time_in_the_future",
    "exp_boolean",
    "sub_with_nul",
    "sub_lone_surrogate",
    "sub_not_a_string",
    "header_nested_2000_deep",
    "garbage",
    "three_garbage_parts",
    "empty_json_parts",
]


@pytest.fixture(scope="module")
def real_id_token(aws_env, cognito_pool):
    idp = boto3.client("cognito-idp", region_name=REGION)
    user = cognito.find_user_by_handle(idp, cognito_pool.pool_id, "bayko")
    return cognito.id_token(idp, cognito_pool, cognito.attributes(user)["email"])


@pytest.mark.parametrize("name", CASES)
def test_forged_token_is_rejected_with_401_json(name, server, our_key, claims, tokens, real_id_token, cognito_pool):
    real_token = tokens["bayko"]
    real_kid = jwt.get_unverified_header(real_token)["kid"]
    token = forged(name, our_key, claims, real_token, real_id_token, real_kid, cognito_pool)
    r = call(server, token)
    assert r.status_code == 401, (name, r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"] in ("token_invalid", "token_expired", "authorization_header_invalid")
