"""bin/db/migrate: apply pending migrations (cruddur.manage.migrate, yoyo)."""
from __future__ import annotations

import click

from ...output import Reporter
from . import connection_url, reachable


@click.command()
def command() -> None:
    """Apply every pending migration in backend-flask/db/migrations to CONNECTION_URL's database."""
    from cruddur import manage

    url = connection_url()
    with reachable(url):
        applied = manage.migrate(url)
    report = Reporter()
    for migration in applied:
        report("created", "migration", migration)
    if not applied:
        report("unchanged", "migrations", "up to date")
