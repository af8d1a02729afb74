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


def _from_request() -> CurrentUser | None:
    # The environ, not request.headers.get: that raises and catches a BadRequestKeyError on every anonymous call.
    token = bearer_token(request.environ.get("HTTP_AUTHORIZATION"))
    if token is None:
        return None
    g.private = True  # whatever the outcome, the answer is about this caller: never cached (see headers.py)
    claims = current_app.extensions["verifier"].verify(token)
    row = users_store.by_cognito_user_id(claims["sub"])
    if row is None:  # a valid Cognito user that has no users row (post-confirmation never ran)
        raise Forbidden("user_not_registered", message="run bin/cognito/sync-users")
    user = CurrentUser(uuid=str(row["uuid"]), handle=row["handle"], display_name=row["display_name"],
                       cognito_user_id=claims["sub"])
    g.user_uuid = user.uuid  # for the request log
    return user


def current_user_optional() -> CurrentUser | None:
    return _from_request()


def current_user_required() -> CurrentUser:
    user = _from_request()
    if user is None:
        raise Unauthorized("authorization_required")
    return user
