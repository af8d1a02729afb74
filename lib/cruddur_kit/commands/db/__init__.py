"""bin/db/*: the Cruddur database named by CONNECTION_URL (created, migrated, seeded, inspected, dropped).

Migrate, seed and generate call cruddur.manage, the same module the image runs as `python -m cruddur.manage`.
Nothing here prints CONNECTION_URL itself: it may carry a password.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ...errors import KitError

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def connection_url() -> str:
    url = os.environ.get("CONNECTION_URL")
    if not url:
        raise KitError("CONNECTION_URL is not set: export CONNECTION_URL=postgresql://USER@HOST:PORT/DBNAME")
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as e:
        raise KitError(f"CONNECTION_URL is not a valid PostgreSQL URL ({str(e).splitlines()[0]}): fix it") from None
    return url


def dbname(url: str) -> str:
    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise KitError("CONNECTION_URL names no database: end it with /DBNAME")
    return str(name)


def host(url: str) -> str:
    return str(conninfo_to_dict(url).get("host") or "localhost")  # no host: the local Unix socket


def is_loopback(url: str) -> bool:
    h = host(url)
    return h.startswith("/") or h in LOOPBACK or h.startswith("127.")


def describe(url: str) -> str:
    """`database cruddur on 127.0.0.1:5432`: safe to print (no user, no password)."""
    info = conninfo_to_dict(url)
    return f"database {info.get('dbname')} on {host(url)}:{info.get('port') or 5432}"


def server_url(url: str) -> str:
    """The same server and credentials, on its maintenance database (for CREATE/DROP DATABASE)."""
    return make_conninfo(url, dbname="postgres")


@contextmanager
def reachable(url: str) -> Iterator[None]:
    """Turn 'cannot connect' into one line naming the target and the reason."""
    try:
        yield
    except psycopg.OperationalError as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        reason = lines[0].removeprefix("connection failed: ") if lines else type(e).__name__
        raise KitError(
            f"cannot reach {describe(url)}: {reason} (is PostgreSQL running and CONNECTION_URL right?)"
        ) from None


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, connect_timeout=5, **kwargs)


def exists(url: str) -> bool:
    with connect(server_url(url)) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname(url),)).fetchone() is not None


def create(url: str) -> bool:
    """Create the database when missing; True when it was created."""
    name = dbname(url)
    with connect(server_url(url)) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return True


def other_sessions(conn: psycopg.Connection, name: str) -> list[tuple]:
    return conn.execute(
        "SELECT pid, usename, application_name, client_addr::text, state, backend_start, "
        "left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY backend_start",
        (name,),
    ).fetchall()
