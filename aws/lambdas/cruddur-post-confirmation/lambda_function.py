"""Cognito PostConfirmation trigger: the user who just confirmed sign-up gets a `users` row.

Runtime python3.11, handler `lambda_function.handler`. It runs the same upsert as the API and
bin/cognito/sync-users (cruddur/stores/cognito_users.py, shipped in the zip by bin/cognito/build-lambda),
on a connection opened per invocation and always closed. Needs CONNECTION_URL in its environment.

Failures are logged (one JSON line, no secrets) and re-raised, so Cognito reports the sign-up's
confirmation step as failed instead of leaving a user who cannot use the API without anyone knowing;
bin/cognito/sync-users repairs such users afterwards.
"""

from __future__ import annotations

import json
import logging
import os

import psycopg

from cruddur.stores import cognito_users

log = logging.getLogger("cruddur.post_confirmation")
log.setLevel(logging.INFO)

SIGN_UP = "PostConfirmation_ConfirmSignUp"  # the other source, ConfirmForgotPassword, needs no row
CONNECT_TIMEOUT = 3  # Cognito gives a trigger 5 seconds in all
STATEMENT_TIMEOUT_MS = 1500


class RegistrationFailed(RuntimeError):
    """The user could not be given a users row; the message says why."""


def _log(level: int, event: str, **fields) -> None:
    log.log(level, json.dumps({"event": event, **fields}, default=str))


def handler(event: dict, context) -> dict:
    source = event.get("triggerSource")
    if source != SIGN_UP:
        _log(logging.INFO, "post_confirmation_skipped", trigger_source=source)
        return event
    attributes = event["request"]["userAttributes"]
    who = {"sub": attributes.get("sub"), "user_pool_id": event.get("userPoolId")}
    url = os.environ.get("CONNECTION_URL")
    try:
        if not url:
            raise RegistrationFailed("CONNECTION_URL is not set in the Lambda's environment")
        with psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="cruddur-post-confirmation",
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        ) as conn:
            status, row = cognito_users.register(conn, attributes)
        if status == cognito_users.CONFLICT:
            raise RegistrationFailed(
                f"handle or e-mail of {attributes.get('preferred_username')!r} already belongs to another Cognito user"
            )
    except Exception as e:
        # psycopg messages name host and database, never the password.
        _log(
            logging.ERROR,
            "post_confirmation_failed",
            **who,
            error=type(e).__name__,
            reason=str(e).strip().splitlines()[0] if str(e).strip() else "",
        )
        raise
    _log(logging.INFO, "post_confirmation", **who, status=status, handle=row["handle"], user_uuid=row["uuid"])
    return event
