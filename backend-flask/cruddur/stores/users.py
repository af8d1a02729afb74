"""Users in PostgreSQL."""

from __future__ import annotations

from ..db import connection
from . import cognito_users
from .activities import cruds_count_sql

SHORT = "SELECT uuid, handle, display_name FROM users"
PROFILE_COLUMNS = f"uuid, handle, display_name, bio, {cruds_count_sql('users.uuid')} AS cruds_count"
PROFILE = f"SELECT {PROFILE_COLUMNS} FROM users"


def by_cognito_user_id(sub: str) -> dict | None:
    with connection() as conn:
        return conn.execute(
            "SELECT uuid, handle, display_name FROM users WHERE cognito_user_id = %s", (sub,)
        ).fetchone()


def _by_handle(columns: str, handle: str) -> dict | None:
    """The user with this handle; None without a query for a text no handle can be (the users.handle CHECK)."""
    if not cognito_users.HANDLE.fullmatch(handle):
        return None
    with connection() as conn:
        return conn.execute(f"{columns} WHERE lower(handle) = lower(%s)", (handle,)).fetchone()


def short_by_handle(handle: str) -> dict | None:
    return _by_handle(SHORT, handle)


def profile_by_handle(handle: str) -> dict | None:
    return _by_handle(PROFILE, handle)


def update_profile(user_uuid: str, display_name: str, bio: str) -> dict | None:
    with connection() as conn:
        return conn.execute(
            f"UPDATE users SET display_name = %s, bio = %s WHERE uuid = %s RETURNING {PROFILE_COLUMNS}",
            (display_name, bio, user_uuid),
        ).fetchone()


def short_by_uuids(user_uuids: list[str]) -> dict[str, dict]:
    """{uuid: short row} for the given users (one query)."""
    if not user_uuids:
        return {}
    with connection() as conn:
        rows = conn.execute(f"{SHORT} WHERE uuid = ANY(%s::uuid[])", (list(user_uuids),)).fetchall()
    return {str(r["uuid"]): r for r in rows}
