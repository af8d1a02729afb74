"""bin/db/create: create the database CONNECTION_URL names, when it is missing."""
from __future__ import annotations

import click

from ...output import Reporter
from . import connection_url, create, dbname, reachable


@click.command()
def command() -> None:
    """Create the database named by CONNECTION_URL (on the same server) if it does not exist."""
    url = connection_url()
    with reachable(url):
        created = create(url)
    Reporter()("created" if created else "unchanged", "database", dbname(url))
