"""bin/db/create: create the database CONNECTION_URL names, when it is missing."""

from __future__ import annotations

from ...cli import kit_command
from ...kit import Kit
from . import connection_url, create, dbname, reachable


@kit_command(endpoint=False)  # no AWS calls
def command(kit: Kit) -> None:
    """Create the database named by CONNECTION_URL (on the same server) if it does not exist."""
    url = connection_url()
    with reachable(url):
        created = create(url)
    kit.report("created" if created else "unchanged", "database", dbname(url))
