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


def _from_request() -> CurrentUser | None:
    sub = _verified_sub()
    if sub is None:
        return None
    row = users_store.by_cognito_user_id(sub)
    if row is None:  # a valid Cognito user that has no users row (post-confirmation never ran, or deleted since)
        raise Forbidden("user_not_registered", message="run bin/cognito/sync-users")
    user = CurrentUser(
        uuid=str(row["uuid"]), handle=row["handle"], display_name=row["display_name"], cognito_user_id=sub
    )
    g.user_uuid = user.uuid  # for the request log
    return user


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
