"""bin/db/sessions: who is connected to CONNECTION_URL's database."""

from __future__ import annotations

from ...cli import kit_command
from ...kit import Kit
from ...output import log
from . import connect, connection_url, dbname, describe, other_sessions, reachable, server_url

HEADER = ("pid", "user", "application", "client", "state", "since", "query")


@kit_command(endpoint=False)  # no AWS calls
def command(kit: Kit) -> None:
    """List the other sessions on the database (pg_stat_activity), oldest first, as a table."""
    url = connection_url()
    with reachable(url), connect(server_url(url)) as conn:
        rows = other_sessions(conn, dbname(url))
    table = [HEADER] + [
        tuple("" if v is None else (v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else str(v)) for v in row)
        for row in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER) - 1)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    log(f"{len(rows)} other session(s) on {describe(url)}")
