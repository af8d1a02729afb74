"""bin/db/setup: create (if missing) + migrate + seed. Idempotent."""
from __future__ import annotations

import click

from ...output import Reporter
from . import connection_url, create, dbname, reachable


@click.command()
def command() -> None:
    """Make CONNECTION_URL's database ready: create it if missing, migrate it, seed the demo data."""
    from cruddur import manage

    url = connection_url()
    report = Reporter()
    with reachable(url):
        report("created" if create(url) else "unchanged", "database", dbname(url))
        applied = manage.migrate(url)
        report("created" if applied else "unchanged", "migrations", ", ".join(applied) or "up to date")
        manage.seed(url)
    report("unchanged", "seed", "demo users and activities present")
