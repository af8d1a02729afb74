"""bin/db/drop: drop the database CONNECTION_URL names."""

from __future__ import annotations

import click
import psycopg

from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from . import connect, connection_url, dbname, describe, is_loopback, other_sessions, reachable, server_url


@kit_command(endpoint=False)  # no AWS calls
@click.option("--yes", is_flag=True, help="required when the server is not on this machine (loopback)")
@click.option("--force", is_flag=True, help="terminate other sessions on the database first")
def command(kit: Kit, yes: bool, force: bool) -> None:
    """Drop the database named by CONNECTION_URL (absent already: nothing to do).

    Refuses a server that is not on loopback unless --yes is given, and a database that other
    sessions use unless --force is given (or bin/db/kill-all was run).
    """
    url = connection_url()
    name = dbname(url)
    if name in ("postgres", "template0", "template1"):
        raise KitError(f"refusing to drop the maintenance database {name}: point CONNECTION_URL at the app's database")
    if not is_loopback(url) and not yes:
        raise KitError(f"{describe(url)} is not on this machine: pass --yes to drop it anyway")
    report = kit.report
    with reachable(url), connect(server_url(url)) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            report("absent", "database", name)
            return
        sessions = other_sessions(conn, name)
        if sessions and not force:
            raise KitError(
                f"{len(sessions)} other session(s) use {describe(url)}: stop them "
                "(bin/db/sessions lists them, bin/db/kill-all ends them) or pass --force"
            )
        sql = psycopg.sql.SQL("DROP DATABASE {}{}").format(
            psycopg.sql.Identifier(name), psycopg.sql.SQL(" WITH (FORCE)" if force else "")
        )
        conn.execute(sql)
    report("deleted", "database", name)
