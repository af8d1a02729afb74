"""Who is calling: the verified Cognito token mapped to a `users` row."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request

from .auth import CognitoVerifier, bearer_token
from .config import Settings
from .errors import Forbidden, Unauthorized
from .stores import users as users_store


@dataclass(frozen=True)
class CurrentUser:
    uuid: str
    handle: str
    display_name: str
    cognito_user_id: str


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["verifier"] = CognitoVerifier(settings)


def _verified_sub() -> str | None:
    """The one token path: the caller's verified `sub`, or None when no token was sent; 401 for any bad token."""
    # The environ, not request.headers.get: that raises and catches a BadRequestKeyError on every anonymous call.
    token = bearer_token(request.environ.get("HTTP_AUTHORIZATION"))
    if token is None:
        return None
    g.private = True  # whatever the outcome, the answer is about this caller: never cached (see headers.py)
    sub = current_app.extensions["verifier"].verify(token)["sub"]
    g.user_sub = sub  # for the request log: who called, even where no users row is looked up (never the token)
    return sub


def registered(row: dict | None, sub: str) -> CurrentUser:
    """The caller, from the users row read for its verified `sub` (uuid, handle, display_name), as g.user;
    403 when there is none: a valid Cognito user without a users row (post-confirmation never ran, or the
    row was deleted since)."""
    if row is None:
        raise Forbidden("user_not_registered", message="run bin/cognito/sync-users")
    user = CurrentUser(
        uuid=str(row["uuid"]), handle=row["handle"], display_name=row["display_name"], cognito_user_id=sub
    )
    g.user = user
    g.user_uuid = user.uuid  # for the request log
    return user


def _from_request() -> CurrentUser | None:
    sub = _verified_sub()
    if sub is None:
        return None
    return registered(users_store.by_cognito_user_id(sub), sub)


def caller_sub_required() -> str:
    """For views that read the caller's users row in their own statement (one round trip instead of two):
    the verified `sub` (401 without a token or with a bad one). The view must pass the row it read to
    `registered` (the contract checks that it did)."""
    sub = _verified_sub()
    if sub is None:
        raise Unauthorized("authorization_required")
    return sub


def token_checked() -> None:
    """For views whose answer is the same for every caller: a sent token is verified in full (401 when bad,
    the answer marked private), but no users row is looked up — nothing in the answer depends on who calls."""
    _verified_sub()


def current_user_optional() -> CurrentUser | None:
    return _from_request()


def current_user_required() -> CurrentUser:
    user = _from_request()
    if user is None:
        raise Unauthorized("authorization_required")
    return user
