"""bin/db/kill-all: terminate every other session on CONNECTION_URL's database."""

from __future__ import annotations

from ...cli import kit_command
from ...kit import Kit
from ...output import log
from . import connect, connection_url, dbname, describe, other_sessions, reachable, server_url


@kit_command(endpoint=False)  # no AWS calls
def command(kit: Kit) -> None:
    """Terminate every other session on the database (e.g. before bin/db/drop); prints each pid ended."""
    url = connection_url()
    with reachable(url), connect(server_url(url)) as conn:
        # Two steps: in one statement the planner may call pg_terminate_backend before the datname filter.
        pids = [pid for pid, *_ in other_sessions(conn, dbname(url))]
        ended = [pid for pid in pids if conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]]
    for pid in ended:
        print(f"terminated  session  {pid}")
    log(
        f"terminated {len(ended)} session(s) on {describe(url)}"
        if ended
        else f"no other sessions on {describe(url)}: unchanged"
    )
