"""Cognito's USER_SRP_AUTH checks the password, as Cognito does (moto signs anyone in: its SRP_B is random
and it never checks PASSWORD_CLAIM_SIGNATURE). Amplify, amazon-cognito-identity-js, warrant and pycognito
all sign in this way by default.

SRP-6a over the RFC 5054 3072-bit group with SHA-256, as those clients compute it:
  k = H(N | g)   x = H(salt | H(pool name | user id | ":" | password))   v = g^x
  B = k·v + g^b  u = H(A | B)   S = (A · v^u)^b   K = HKDF(S, salt=u, info "Caldera Derived Key")[:16]
  PASSWORD_CLAIM_SIGNATURE = base64 HMAC-SHA256(K, pool name | user id | SECRET_BLOCK | TIMESTAMP)
(numbers hashed as big-endian hex padded to whole bytes, with a 00 byte when the top bit is set; the pool
name is the pool id after its region and "_"). The emulator knows each user's password, so it derives the
verifier v at InitiateAuth with a fresh salt; real Cognito stores one when the password is set.

InitiateAuth goes to moto first (client, user, status checks), then its SALT, SRP_B and SECRET_BLOCK are
replaced by real ones; the SECRET_BLOCK carries moto's session. RespondToAuthChallenge(PASSWORD_VERIFIER)
with a wrong signature is NotAuthorizedException "Incorrect username or password."; a right one goes on to
moto, which issues the tokens (or the next challenge).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from dataclasses import dataclass

from .wsgi import call, is_reset, json_error, read_body

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2
CHALLENGE_SECONDS = 180  # how long a PASSWORD_VERIFIER challenge can be answered (Cognito's session: 3 min)
INCORRECT = "Incorrect username or password."


def padded_hex(value: int | str) -> str:
    """Hex of a number as the SRP clients hash it: whole bytes, and a leading 00 byte when the top bit is set."""
    text = value if isinstance(value, str) else format(value, "x")
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdefABCDEF" else text


def h(hex_text: str) -> int:
    return int(hashlib.sha256(bytes.fromhex(hex_text)).hexdigest(), 16)


K = h("00" + format(N, "x") + "02")


def verifier(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    return pow(G, h(padded_hex(salt_hex) + inner), N)


def session_key(a: int, b: int, big_b: int, v: int) -> bytes:
    u = h(padded_hex(a) + padded_hex(big_b))
    s = pow(a * pow(v, u, N), b, N)
    prk = hmac.new(bytes.fromhex(padded_hex(u)), bytes.fromhex(padded_hex(s)), hashlib.sha256).digest()
    return hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]


@dataclass(frozen=True)
class Challenge:
    a: int
    b: int
    big_b: int
    v: int
    pool_name: str
    user_id: str
    until: float


def _password(client_id: str, user_id: str) -> tuple[str, str] | None:
    """(pool name, password) of the user `user_id` of the pool that has app client `client_id`, from moto."""
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in cognitoidp_backends.values():
        for backend in regions.values():
            for pool in backend.user_pools.values():
                if client_id in pool.clients:
                    for user in pool.users.values():
                        if user.id == user_id:
                            return pool.id.split("_", 1)[1], user.password or ""
    return None


class SrpPasswordCheck:
    def __init__(self, app):
        self.app = app
        self.challenges: dict[str, Challenge] = {}  # moto's session -> what answering it takes
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if is_reset(environ):
            with self.lock:
                self.challenges.clear()
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target not in (TARGET_PREFIX + "InitiateAuth", TARGET_PREFIX + "RespondToAuthChallenge"):
            return self.app(environ, start_response)
        try:
            request = json.loads(read_body(environ) or b"{}")
        except ValueError:
            return self.app(environ, start_response)
        if target.endswith("InitiateAuth") and request.get("AuthFlow") == "USER_SRP_AUTH":
            return self._initiate(environ, start_response, request)
        if target.endswith("RespondToAuthChallenge") and request.get("ChallengeName") == "PASSWORD_VERIFIER":
            return self._respond(environ, start_response, request)
        return self.app(environ, start_response)

    def _initiate(self, environ, start_response, request):
        try:
            a = int((request.get("AuthParameters") or {}).get("SRP_A", ""), 16)
        except ValueError:
            a = 0
        if a % N == 0:
            return json_error(start_response, "400 Bad Request", "InvalidParameterException", "SRP_A is not valid.")
        status, headers, body = call(self.app, environ)
        if not status.startswith("200"):
            start_response(status, headers)
            return [body]
        answer = json.loads(body)
        params = answer.get("ChallengeParameters", {})
        found = _password(request.get("ClientId", ""), params.get("USER_ID_FOR_SRP", ""))
        if answer.get("ChallengeName") != "PASSWORD_VERIFIER" or found is None:
            start_response(status, headers)
            return [body]
        pool_name, password = found
        session = params["SECRET_BLOCK"]
        salt = secrets.token_hex(16)
        v = verifier(pool_name, params["USER_ID_FOR_SRP"], password, salt)
        b = secrets.randbits(256) | 1
        big_b = (K * v + pow(G, b, N)) % N
        now = time.monotonic()
        with self.lock:
            for stale in [s for s, c in self.challenges.items() if c.until <= now]:
                del self.challenges[stale]
            self.challenges[session] = Challenge(
                a, b, big_b, v, pool_name, params["USER_ID_FOR_SRP"], now + CHALLENGE_SECONDS
            )
        params.update(
            SALT=salt,
            SRP_B=format(big_b, "x"),
            SECRET_BLOCK=base64.b64encode(secrets.token_bytes(16) + session.encode()).decode(),
        )
        body = json.dumps(answer).encode()
        start_response(
            status,
            [
                (k, str(len(body)) if k.lower() == "content-length" else v)
                for k, v in headers
                if k.lower() != "x-amz-crc32"
            ],
        )
        return [body]

    def _respond(self, environ, start_response, request):
        responses = request.get("ChallengeResponses") or {}
        block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK", "")
        try:
            block_bytes = base64.b64decode(block, validate=True)
            session = block_bytes[16:].decode()
        except (ValueError, UnicodeError):
            session = ""
        with self.lock:
            challenge = self.challenges.pop(session, None)  # one answer per challenge, right or wrong
        if challenge is None or challenge.until <= time.monotonic():
            return json_error(start_response, "400 Bad Request", "NotAuthorizedException", INCORRECT)
        key = session_key(challenge.a, challenge.b, challenge.big_b, challenge.v)
        message = (
            challenge.pool_name.encode()
            + challenge.user_id.encode()
            + block_bytes
            + str(responses.get("TIMESTAMP", "")).encode()
        )
        expected = hmac.new(key, message, hashlib.sha256).digest()
        try:
            given = base64.b64decode(responses.get("PASSWORD_CLAIM_SIGNATURE", ""), validate=True)
        except ValueError:
            given = b""
        if not hmac.compare_digest(expected, given):
            return json_error(start_response, "400 Bad Request", "NotAuthorizedException", INCORRECT)
        responses["PASSWORD_CLAIM_SECRET_BLOCK"] = session  # what moto knows the challenge by
        body = json.dumps(request).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def wrap(app):
    return SrpPasswordCheck(app)
