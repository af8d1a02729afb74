"""Activities (cruds and replies) in PostgreSQL. Every list is keyset-paginated and index-backed."""

from __future__ import annotations

import re

from psycopg.rows import tuple_row

from ..db import connection
from . import keyset
from .search_term import websearch_text

COLUMNS = """a.uuid, u.handle, u.display_name, a.message, a.replies_count, a.reposts_count,
    a.likes_count, a.reply_to_activity_uuid, a.expires_at, a.created_at"""
COLUMN_NAMES = tuple(column.strip().rpartition(".")[2] for column in COLUMNS.split(","))
CALLER_COLUMNS = "uuid, handle, display_name"  # what identity.CurrentUser holds
CALLER_NAMES = ("uuid", "handle", "display_name")
NOTIFICATION_NAMES = (*COLUMN_NAMES, "notification_kind")
FROM = "FROM activities a JOIN users u ON u.uuid = a.user_uuid"
UNEXPIRED = "a.expires_at > now()"
PROFILE_LISTS = f"a.reply_to_activity_uuid IS NULL AND {UNEXPIRED}"  # a profile's cruds, and its cruds_count
NEWEST_FIRST = "ORDER BY a.created_at DESC, a.uuid DESC"
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,32})\b")


def _newest_first(where: str, params: dict, limit: int, cursor, columns: str | None = None) -> tuple[str, dict]:
    after, order = keyset.clauses(cursor, limit, params, "a.created_at", "a.uuid")
    if columns:  # ids only, from activities alone (no join): see search_query
        return f"SELECT {columns} FROM activities a WHERE {where}{after} {order}", params
    return f"SELECT {COLUMNS} {FROM} WHERE {where}{after} {order}", params


def _page(query: tuple[str, dict], limit: int) -> tuple[list[dict], list | None]:
    with connection() as conn:
        rows = conn.execute(*query).fetchall()
    return keyset.split(rows, limit)


# Each list has a *_query function returning (sql, params) without running it: the EXPLAIN test
# (tests/test_explain.py) checks that every one of them is index-backed.
def home_query(limit: int, cursor=None) -> tuple[str, dict]:
    return _newest_first(f"a.reply_to_activity_uuid IS NULL AND {UNEXPIRED}", {}, limit, cursor)


def cruds_count_sql(user_uuid_sql: str) -> str:
    """A subquery: how many cruds the profile of `user_uuid_sql` lists (an index-only scan of
    activities_user_live_idx)."""
    return f"(SELECT count(*) FROM activities a WHERE a.user_uuid = {user_uuid_sql} AND {PROFILE_LISTS})"


def search_query(term: str, limit: int, cursor=None) -> tuple[str, dict]:
    """The page's ids first, then their rows: the inner walk is an index-only scan of
    activities_search_idx (its INCLUDEd tsvector and expiry are filtered without touching the heap),
    so a page costs about the same at 100k and 1M rows; only the hits are read from the table.
    The term is re-spelled first (search_term.py): PostgreSQL's parser fails on some inputs."""
    ids, params = _newest_first(
        f"a.message_tsv @@ websearch_to_tsquery('english', %(term)s) AND {UNEXPIRED}",
        {"term": websearch_text(term)},
        limit,
        cursor,
        columns="a.uuid",
    )
    return (
        f"SELECT {COLUMNS} FROM ({ids}) hit JOIN activities a ON a.uuid = hit.uuid "
        f"JOIN users u ON u.uuid = a.user_uuid {NEWEST_FIRST}",
        params,
    )


def notifications_query(cognito_user_id: str, limit: int, cursor=None) -> tuple[str, dict]:
    """The caller's users row (by the token's `sub`) and its notifications beside it: replies to its
    activities and mentions of its handle, newest first. One statement: the row the identity check needs
    and the page come back in one round trip (no row: the caller is not registered, see identity)."""
    params = {"sub": cognito_user_id}
    after, order = keyset.clauses(cursor, limit, params, "n.created_at", "n.activity_uuid")
    return with_page(
        f"SELECT {CALLER_COLUMNS} FROM users WHERE cognito_user_id = %(sub)s",
        f"SELECT {COLUMNS}, n.kind AS notification_kind "
        f"FROM notifications n JOIN activities a ON a.uuid = n.activity_uuid "
        f"JOIN users u ON u.uuid = a.user_uuid WHERE n.user_uuid = h.uuid AND {UNEXPIRED}{after} {order}",
        "p.created_at DESC, p.uuid DESC",
    ), params


def with_page(head: str, page: str, order: str) -> str:
    """One row (`head`, a subquery aliased h) and a page of rows beside it (`page`, a LATERAL subquery that
    may refer to h) in one statement, so a view that needs both costs one round trip: a head without
    page rows still comes back once, with NULLs in the page's columns (see split_head)."""
    # MATERIALIZED: the head is computed once. Inlined, its subqueries (a profile's cruds_count) ran once per
    # page row: 21 counts of 10,000 index entries, 15 ms at 1M activities instead of 0.9.
    return (
        f"WITH h AS MATERIALIZED ({head}) SELECT h.*, p.* FROM h LEFT JOIN LATERAL ({page}) p ON true ORDER BY {order}"
    )


def split_head(
    rows: list[tuple], head_names: tuple[str, ...], limit: int, item_names: tuple[str, ...] = COLUMN_NAMES
) -> tuple[dict | None, list[dict], list | None]:
    """(head, page rows, next position) from with_page's tuples; (None, [], None) when there was no head.
    A head without page rows has NULLs in the page's columns (its uuid is never NULL otherwise)."""
    if not rows:
        return None, [], None
    width = len(head_names)
    head = dict(zip(head_names, rows[0][:width], strict=True))
    items = [dict(zip(item_names, row[width:], strict=True)) for row in rows if row[width] is not None]
    return (head, *keyset.split(items, limit))


def fetch_with_head(query: tuple[str, dict]) -> list[tuple]:
    with connection() as conn:
        return conn.cursor(row_factory=tuple_row).execute(*query).fetchall()


def thread_query(activity_uuid, limit: int, cursor=None) -> tuple[str, dict]:
    """One unexpired activity and a page of its replies, oldest first."""
    params = {"activity": activity_uuid}
    after, order = keyset.clauses(cursor, limit, params, "a.created_at", "a.uuid", newest_first=False)
    return with_page(
        f"SELECT {COLUMNS} {FROM} WHERE a.uuid = %(activity)s AND {UNEXPIRED}",
        f"SELECT {COLUMNS} {FROM} WHERE a.reply_to_activity_uuid = h.uuid{after} {order}",
        "p.created_at, p.uuid",
    ), params


def home(limit: int, cursor=None):
    return _page(home_query(limit, cursor), limit)


def search(term: str, limit: int, cursor=None):
    if not websearch_text(term):  # punctuation only: nothing can match (and PostgreSQL would say so in a NOTICE)
        return [], None
    return _page(search_query(term, limit, cursor), limit)


def notifications(cognito_user_id: str, limit: int, cursor=None) -> tuple[dict | None, list[dict], list | None]:
    """(the caller's users row or None, a page of its notifications, the next position), in one round trip."""
    rows = fetch_with_head(notifications_query(cognito_user_id, limit, cursor))
    return split_head(rows, CALLER_NAMES, limit, NOTIFICATION_NAMES)


def thread(activity_uuid, limit: int, cursor=None) -> tuple[dict | None, list[dict], list | None]:
    """(the activity or None, a page of its replies, the next position), in one round trip."""
    return split_head(fetch_with_head(thread_query(activity_uuid, limit, cursor)), COLUMN_NAMES, limit)


# Posting and replying are one statement each (one round trip in autocommit, atomic as a statement is):
# the insert, the parent's replies_count, the notifications and the answer's row. They were four to six
# round trips in a transaction (BEGIN, INSERT, UPDATE, INSERT notifications, SELECT, COMMIT).
NEW_COLUMNS = (
    "uuid, user_uuid, message, replies_count, reposts_count, likes_count, reply_to_activity_uuid, "
    "expires_at, created_at"
)
# Notifications of the new crud `new`: the parent's author (`parent`, a reply) and every mentioned user,
# never its own author; a user both replied to and mentioned gets the reply (rank 0), as before.
NOTIFY = """, notified AS (
  INSERT INTO notifications (user_uuid, activity_uuid, kind, created_at)
  SELECT DISTINCT ON (n.who) n.who, new.uuid, n.kind, new.created_at
  FROM new, ({recipients}) n WHERE n.who <> new.user_uuid ORDER BY n.who, n.rank
  ON CONFLICT DO NOTHING)"""
MENTIONED = "SELECT u.uuid AS who, 'mention' AS kind, 1 AS rank FROM users u WHERE lower(u.handle) = ANY(%(handles)s)"
REPLIED = "SELECT parent.user_uuid AS who, 'reply' AS kind, 0 AS rank FROM parent"
ANSWER = f"SELECT {COLUMNS} FROM new a JOIN users u ON u.uuid = a.user_uuid"


def _mentions(message: str) -> list[str]:
    return sorted({h.lower() for h in MENTION.findall(message)})


def create(user_uuid, message: str, ttl_interval: str) -> dict:
    handles = _mentions(message)
    sql = (
        "WITH new AS (INSERT INTO activities (user_uuid, message, expires_at) "
        f"VALUES (%(user_uuid)s, %(message)s, now() + %(ttl)s::interval) RETURNING {NEW_COLUMNS})"
        + (NOTIFY.format(recipients=MENTIONED) if handles else "")
        + f" {ANSWER}"
    )
    with connection() as conn:
        return conn.execute(
            sql, {"user_uuid": user_uuid, "message": message, "ttl": ttl_interval, "handles": handles}
        ).fetchone()


def reply(user_uuid, parent_uuid, message: str) -> dict | None:
    """Insert a reply and bump the parent's replies_count in one statement; None if no live parent."""
    handles = _mentions(message)
    recipients = REPLIED + (f" UNION ALL {MENTIONED}" if handles else "")
    sql = (
        f"WITH parent AS (UPDATE activities a SET replies_count = replies_count + 1 "
        f"WHERE uuid = %(parent)s AND {UNEXPIRED} RETURNING user_uuid, expires_at), "
        "new AS (INSERT INTO activities (user_uuid, message, expires_at, reply_to_activity_uuid) "
        "SELECT %(user_uuid)s::uuid, %(message)s, parent.expires_at, %(parent)s::uuid FROM parent "
        f"RETURNING {NEW_COLUMNS})" + NOTIFY.format(recipients=recipients) + f" {ANSWER}"
    )
    with connection() as conn:
        return conn.execute(
            sql, {"user_uuid": user_uuid, "message": message, "parent": parent_uuid, "handles": handles}
        ).fetchone()
