"""Cognito users becoming `users` rows: the one upsert shared by the API, bin/cognito/sync-users and the
Cognito post-confirmation Lambda.

It imports only psycopg and the standard library, and takes the connection it works on, so the Lambda
ships this very file (see aws/lambdas/cruddur-post-confirmation) without Flask or a pool.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import psycopg
from psycopg.rows import dict_row

CREATED, LINKED, UNCHANGED, CONFLICT = "created", "linked", "unchanged", "conflict"
HANDLE = re.compile(r"^[A-Za-z0-9_]{1,32}$")  # the users.handle CHECK constraint
RETURNING = "RETURNING uuid, handle, display_name, email, cognito_user_id"


class InvalidCognitoUser(ValueError):
    """The Cognito attributes cannot make a valid users row (the message says which attribute)."""


def fields(attributes: Mapping[str, str]) -> tuple[str, str, str, str]:
    """(sub, handle, display_name, email) from Cognito user attributes.

    The handle is preferred_username; without one it is derived from the e-mail's local part.
    """
    sub, email = attributes.get("sub"), attributes.get("email")
    if not sub or not email:
        raise InvalidCognitoUser("Cognito user has no " + ("sub" if not sub else "email") + " attribute")
    handle = attributes.get("preferred_username")
    if not handle:
        handle = re.sub(r"[^A-Za-z0-9_]", "_", email.split("@")[0])[:32] or "user"
    if not HANDLE.match(handle):
        raise InvalidCognitoUser(
            f"preferred_username {handle!r} is not a valid handle (1-32 letters, digits or underscores)"
        )
    display_name = (attributes.get("name") or "").strip()[:64] or handle
    return sub, handle, display_name, email


def upsert(
    conn: psycopg.Connection, sub: str, handle: str, display_name: str, email: str, relink: bool = False
) -> tuple[str, dict]:
    """Create or link the row for a Cognito user; returns (created|linked|unchanged|conflict, row).

    A row already holding this sub is left alone; a row with the same handle and no sub (a seeded demo
    user) is linked; a handle or e-mail owned by another Cognito user is a conflict, unless `relink`
    lets the new sub take the handle over (a re-created local pool). Runs in its own transaction.
    """
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT uuid, handle, display_name, email, cognito_user_id FROM users "
            "WHERE cognito_user_id = %s OR lower(handle) = lower(%s) "
            "ORDER BY (cognito_user_id IS NOT DISTINCT FROM %s) DESC FOR UPDATE",
            (sub, handle, sub),
        ).fetchall()
        if rows and rows[0]["cognito_user_id"] == sub:
            return UNCHANGED, rows[0]
        if rows:
            existing = rows[0]
            if existing["cognito_user_id"] is not None and not relink:
                return CONFLICT, existing
            linked = cur.execute(
                f"UPDATE users SET cognito_user_id = %s WHERE uuid = %s {RETURNING}", (sub, existing["uuid"])
            ).fetchone()
            return LINKED, linked
        try:
            with conn.transaction():  # a savepoint: a duplicate e-mail is a conflict, not a crash
                created = cur.execute(
                    f"INSERT INTO users (cognito_user_id, handle, display_name, email) "
                    f"VALUES (%s, %s, %s, %s) {RETURNING}",
                    (sub, handle, display_name, email),
                ).fetchone()
        except psycopg.errors.UniqueViolation:
            other = cur.execute(
                "SELECT uuid, handle, display_name, email, cognito_user_id FROM users "
                "WHERE lower(email) = lower(%s) OR lower(handle) = lower(%s) LIMIT 1",
                (email, handle),
            ).fetchone()
            return CONFLICT, other
        return CREATED, created


def register(conn: psycopg.Connection, attributes: Mapping[str, str], relink: bool = False) -> tuple[str, dict]:
    """Create or link the users row for a Cognito user from its attributes."""
    return upsert(conn, *fields(attributes), relink=relink)
