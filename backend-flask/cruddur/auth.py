"""Cognito access tokens: verified against the pool's JWKS (cached, refreshed on an unknown kid).

A token this process verified is remembered (VerifiedTokens, AUTH_TOKEN_CACHE_SIZE entries; 0 = off) so the
next request with it skips the signature check: the frontend sends the same token on every call for an hour.
The remembered answer is used only while the token is unexpired and the key that signed it is still the one
the key set holds for its kid, so it never outlives what a full verification would accept. Only successes
are remembered: a bad token pays the full check every time, as before.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import MappingProxyType

import jwt
from jwt import PyJWKClient, PyJWKClientError

from .config import Settings
from .errors import Unauthorized, Unavailable

ALGORITHMS = ["RS256"]  # Cognito signs with RS256 only: "none" and HS256 are never accepted
LEEWAY = 5  # seconds of clock skew allowed on exp, nbf and iat
# Cognito's access tokens live at most a day; a claimed time further ahead is forged or broken.
MAX_TOKEN_LIFETIME = 24 * 3600
TIME_CLAIMS = ("exp", "iat", "auth_time", "nbf")
# A Cognito sub is a uuid; printable ASCII (no NUL, no lone surrogate) is all PostgreSQL and the logs must get.
SUB = re.compile(r"[\x21-\x7e]{1,128}")
# What the original frontend sends when nobody is signed in: `Bearer ${localStorage.getItem("access_token")}`.
NO_TOKEN = frozenset({"", "null", "undefined"})


class KeySet:
    """The pool's public keys, fetched with a timeout, cached, refetched at most every N seconds."""

    def __init__(self, url: str, timeout: float, min_refresh_seconds: float):
        self._client = PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=timeout)
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            jwk_set = self._client.get_jwk_set(refresh=True)
        except PyJWKClientError as e:  # the token may be fine: the key server is what failed
            raise Unavailable("auth_unavailable", message="the sign-in key server did not answer") from e
        self._keys = {k.key_id: k for k in jwk_set.keys if k.key_id}
        self._fetched_at = time.monotonic()

    def current(self, kid: str) -> jwt.PyJWK | None:
        """The key held for `kid` now, without fetching."""
        return self._keys.get(kid)

    def get(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:  # an unknown kid may mean rotation; refetch, but not on every forged token
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self._min_refresh:
                self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token_invalid")
        return key


class VerifiedTokens:
    """Claims of tokens verified here, by the token's SHA-256: a bounded LRU, safe across threads.

    An entry is (kid, the key that verified it, claims, usable until): `usable until` is the token's exp
    (no leeway: past it the full check decides). The caller compares the key with the key set's current one."""

    def __init__(self, size: int, clock: Callable[[], float] = time.time):
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[bytes, tuple[str, jwt.PyJWK, Mapping, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: bytes) -> tuple[str, jwt.PyJWK, Mapping] | None:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[3] <= self.clock():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
        return entry[:3]

    def put(self, digest: bytes, kid: str, key: jwt.PyJWK, claims: Mapping, until: float) -> None:
        if until <= self.clock():
            return
        with self._lock:
            self._entries[digest] = (kid, key, claims, until)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)  # the least recently used

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class CognitoVerifier:
    """Checks signature, exp, nbf, iss, token_use=access and the app client id."""

    def __init__(self, settings: Settings):
        self.issuer = settings.issuer
        self.client_id = settings.cognito_client_id
        self.keys = KeySet(settings.jwks_url, settings.jwks_timeout, settings.jwks_min_refresh_seconds)
        self.verified = VerifiedTokens(settings.auth_token_cache_size) if settings.auth_token_cache_size else None

    def verify(self, token: str) -> Mapping:
        """The token's claims (read-only) when it is a valid access token of this pool and client; else 401."""
        if self.verified is None:
            return self._verify(token)[2]
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        hit = self.verified.get(digest)
        # The key must still be the key set's: after a refresh that dropped it, the full check says 401.
        if hit is not None and self.keys.current(hit[0]) is hit[1]:
            return hit[2]
        kid, key, claims = self._verify(token)
        self.verified.put(digest, kid, key, claims, until=claims["exp"])
        return claims

    def _verify(self, token: str) -> tuple[str, jwt.PyJWK, Mapping]:
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, RecursionError):  # RecursionError: a header of JSON nested thousands deep
            raise Unauthorized("token_invalid") from None
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str):
            raise Unauthorized("token_invalid")
        key = self.keys.get(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token_expired") from None
        except (jwt.PyJWTError, RecursionError):
            raise Unauthorized("token_invalid") from None
        if (
            claims.get("token_use") != "access"
            or claims.get("client_id") != self.client_id
            or not _times_are_sane(claims)
            or not isinstance(claims["sub"], str)
            or not SUB.fullmatch(claims["sub"])
        ):
            raise Unauthorized("token_invalid")
        return kid, key, MappingProxyType(claims)


def _times_are_sane(claims: dict, now: float | None = None) -> bool:
    """exp/iat/auth_time/nbf are JSON numbers (PyJWT also takes "1700000000" and 1e30) no further ahead than a
    token can live; iat and auth_time are not in the future."""
    limit = (now or time.time()) + LEEWAY
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if value is None and name in ("auth_time", "nbf"):
            continue
        if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
            return False
        if value > limit + (MAX_TOKEN_LIFETIME if name in ("exp", "nbf") else 0):
            return False
    return True


def bearer_token(header_value: str | None) -> str | None:
    """The token from an `Authorization: Bearer <token>` header; None when there is none: no header, or the
    original frontend's signed-out `Bearer null` / `Bearer undefined`, or an empty bearer. A different scheme
    or a token with spaces in it is a 401."""
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or " " in token:
        raise Unauthorized("authorization_header_invalid")
    return None if token in NO_TOKEN else token
