"""bin/db/migrate: apply pending migrations (cruddur.manage.migrate, yoyo)."""

from __future__ import annotations

from ...cli import kit_command
from ...kit import Kit
from . import connection_url, reachable


@kit_command(endpoint=False)  # no AWS calls
def command(kit: Kit) -> None:
    """Apply every pending migration in backend-flask/db/migrations to CONNECTION_URL's database."""
    from cruddur import manage

    url = connection_url()
    with reachable(url):
        applied = manage.migrate(url)
    report = kit.report
    for migration in applied:
        report("created", "migration", migration)
    if not applied:
        report("unchanged", "migrations", "up to date")
