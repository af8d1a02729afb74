"""Users in PostgreSQL."""

from __future__ import annotations

from ..db import connection
from . import activities, cognito_users, keyset

SHORT = "SELECT uuid, handle, display_name FROM users"
PROFILE_BASE = "uuid, handle, display_name, bio"  # a profile without its count (count_cache.py knows it)
PROFILE_COLUMNS = f"{PROFILE_BASE}, {activities.cruds_count_sql('users.uuid')} AS cruds_count"
PROFILE_NAMES = (*(name.strip() for name in PROFILE_BASE.split(",")), "cruds_count")


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


def profile_query(handle: str, limit: int, cursor=None, count: bool = True) -> tuple[str, dict]:
    """A user's profile and a page of the cruds it lists, newest first; without `cruds_count` when `count`
    is false (the caller knows it: cruddur/count_cache.py). The page's handle and display name are the
    profile's own (`u`, one row from h): no users lookup per crud."""
    params = {"handle": handle}
    after, order = keyset.clauses(cursor, limit, params, "a.created_at", "a.uuid")
    columns = PROFILE_COLUMNS if count else PROFILE_BASE
    return activities.with_page(
        f"SELECT {columns} FROM users WHERE lower(handle) = lower(%(handle)s)",
        f"SELECT {activities.COLUMNS} FROM activities a, (SELECT h.handle, h.display_name) u "
        f"WHERE a.user_uuid = h.uuid AND {activities.PROFILE_LISTS}{after} {order}",
        "p.created_at DESC, p.uuid DESC",
    ), params


def profile_with_activities(
    handle: str, limit: int, cursor=None, count: bool = True
) -> tuple[dict | None, list[dict], list | None]:
    """(the profile or None, a page of its cruds, the next position), in one round trip; no query for a text
    no handle can be (the users.handle CHECK). The profile has no cruds_count when `count` is false."""
    if not cognito_users.HANDLE.fullmatch(handle):
        return None, [], None
    rows = activities.fetch_with_head(profile_query(handle, limit, cursor, count))
    return activities.split_head(rows, PROFILE_NAMES if count else PROFILE_NAMES[:-1], limit)


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
