"""Provision the local stack: demo users in Cognito linked to their `users` rows."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from .. import cognito
from ..errors import KitError


def link_demo_users(database_url: str, idp, pool: cognito.Pool) -> dict[str, str]:
    """Create a Cognito user for each seeded demo user and link its sub to the row through the API's
    shared Cognito-user upsert (relink mode: a re-created local pool takes the handles over); {handle: sub}."""
    from cruddur.stores import cognito_users

    linked = {}
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT handle, email, display_name FROM users WHERE handle = ANY(%s)", (list(cognito.DEMO_HANDLES),)
        ).fetchall()
        conn.commit()
        for row in rows:
            sub = cognito.ensure_user(idp, pool, row["handle"], row["email"], row["display_name"])
            status, user = cognito_users.upsert(
                conn, sub, row["handle"], row["display_name"], row["email"], relink=True
            )
            if status == cognito_users.CONFLICT or user["handle"] != row["handle"]:
                raise KitError(
                    f"Cognito user {row['handle']} ({sub}) is linked to @{user['handle']} in the "
                    "database: drop the local database (bin/db/drop) and run make up again"
                )
            linked[row["handle"]] = sub
    return linked
