"""Every list query is index-backed: EXPLAIN on 30k generated activities (plus replies and notifications)
shows an index on activities and no sequential scan of it — for the first page and a later one, with the
planner's custom plan (the actual parameters) and its generic plan (what a prepared statement may reuse)."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from cruddur import manage
from cruddur.stores import activities, users
from cruddur_kit.local.postgres import with_database

CURSOR_PAST = ["2026-01-01T00:00:00+00:00", "ffffffff-ffff-ffff-ffff-ffffffffffff"]


@pytest.fixture(scope="module")
def big_db(pg_server_url, template_db):
    """A copy of the seeded template with 30k bench activities, 3k replies, 1.5k notifications, analysed."""
    name = f"cruddur_explain_{uuid.uuid4().hex[:10]}"
    admin = with_database(pg_server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.Identifier(template_db)
            )
        )
    url = with_database(pg_server_url, name)
    manage.generate(url, activities=30_000, users=100)
    with psycopg.connect(url, autocommit=True) as conn:
        # replies: 3 on each of 1,000 activities; bench1 is notified of 1,500 of them
        conn.execute("""
            INSERT INTO activities (user_uuid, message, expires_at, created_at, reply_to_activity_uuid)
            SELECT (SELECT uuid FROM users WHERE handle = 'bench' || (1 + (p.n + k) % 100)),
                   'a reply ' || k, p.expires_at, p.created_at + k * interval '1 second', p.uuid
            FROM (SELECT uuid, expires_at, created_at, row_number() OVER (ORDER BY created_at) AS n
                  FROM activities WHERE reply_to_activity_uuid IS NULL LIMIT 1000) p,
                 generate_series(1, 3) AS k""")
        conn.execute("""
            INSERT INTO notifications (user_uuid, activity_uuid, kind, created_at)
            SELECT (SELECT uuid FROM users WHERE handle = 'bench1'), uuid, 'reply', created_at
            FROM activities WHERE reply_to_activity_uuid IS NOT NULL LIMIT 1500""")
        conn.execute("UPDATE users SET cognito_user_id = 'bench1-sub' WHERE handle = 'bench1'")
        conn.execute("ANALYZE")
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


def _ids(url: str) -> dict:
    with psycopg.connect(url) as conn:
        bench1 = conn.execute("SELECT uuid FROM users WHERE handle = 'bench1'").fetchone()[0]
        bench7 = conn.execute("SELECT uuid FROM users WHERE handle = 'bench7'").fetchone()[0]
        parent = conn.execute(
            "SELECT reply_to_activity_uuid FROM activities WHERE reply_to_activity_uuid IS NOT NULL LIMIT 1"
        ).fetchone()[0]
    return {"bench1": bench1, "bench7": bench7, "parent": parent}


QUERIES = {
    "home": lambda ids, cursor: activities.home_query(20, cursor),
    "profile": lambda ids, cursor: users.profile_query("bench7", 20, cursor),
    "search-common-term": lambda ids, cursor: activities.search_query("cruddur", 20, cursor),
    "search-rare-term": lambda ids, cursor: activities.search_query("fargate", 20, cursor),
    "search-absent-term": lambda ids, cursor: activities.search_query("zeppelin", 20, cursor),
    "replies": lambda ids, cursor: activities.thread_query(ids["parent"], 20, cursor),
    "notifications": lambda ids, cursor: activities.notifications_query("bench1-sub", 20, cursor),
    "profile-cruds-count": lambda ids, cursor: (
        f"SELECT {activities.cruds_count_sql('%(user_uuid)s')}",
        {"user_uuid": ids["bench7"]},
    ),
}


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _as_prepared(sql: str, params: dict) -> tuple[str, list]:
    """%(name)s placeholders -> $n, for PREPARE (the generic plan a reused prepared statement may get)."""
    names: list[str] = []

    def number(m):
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), [params[n] for n in names]


def explain(url: str, sql: str, params: dict, generic: bool) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        if not generic:
            return conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()[0][0]["Plan"]
        conn.execute("SET plan_cache_mode = force_generic_plan")
        text, values = _as_prepared(sql, params)
        conn.execute(f"PREPARE q AS {text}")
        args = psycopg.sql.SQL(", ").join(psycopg.sql.Literal(v) for v in values)
        execute = psycopg.sql.SQL("EXECUTE q({})").format(args) if values else psycopg.sql.SQL("EXECUTE q")
        return conn.execute(psycopg.sql.SQL("EXPLAIN (FORMAT JSON) {}").format(execute)).fetchone()[0][0]["Plan"]


@pytest.mark.parametrize("generic", [False, True], ids=["custom-plan", "generic-plan"])
@pytest.mark.parametrize("cursor", [None, CURSOR_PAST], ids=["first-page", "later-page"])
@pytest.mark.parametrize("query", QUERIES)
def test_list_query_uses_an_index_and_never_scans_activities(big_db, query, cursor, generic):
    if query == "replies" and cursor:  # replies page forwards (oldest first): use a cursor before them
        cursor = ["2000-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000"]
    sql, params = QUERIES[query](_ids(big_db), cursor)
    nodes = list(_nodes(explain(big_db, sql, params, generic)))
    on_activities = [n for n in nodes if n.get("Relation Name") == "activities"]
    assert on_activities, "the plan does not read activities"
    assert [n["Node Type"] for n in on_activities if n["Node Type"] == "Seq Scan"] == [], nodes
    indexes = {
        n.get("Index Name") for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
    }
    assert any(i and i.startswith("activities_") for i in indexes), nodes
    if query == "notifications":
        assert "notifications_feed_idx" in indexes, nodes
    if query == "profile-cruds-count":  # the user's live cruds in the index (index-only once vacuumed)
        assert "activities_user_live_idx" in indexes, nodes


def test_the_data_set_is_big_enough_to_matter(big_db):
    """Guard: with a few rows the planner scans anyway; the test above needs the generated volume."""
    with psycopg.connect(big_db) as conn:
        counts = conn.execute(
            "SELECT count(*) FILTER (WHERE reply_to_activity_uuid IS NULL), "
            "count(*) FILTER (WHERE reply_to_activity_uuid IS NOT NULL), "
            "(SELECT count(*) FROM notifications) FROM activities"
        ).fetchone()
    assert counts[0] >= 30_000 and counts[1] >= 3_000 and counts[2] >= 1_500
