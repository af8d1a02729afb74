"""bin/db/setup: create (if missing) + migrate + seed. Idempotent."""

from __future__ import annotations

from ...cli import kit_command
from ...kit import Kit
from . import connection_url, create, dbname, reachable


@kit_command(endpoint=False)  # no AWS calls
def command(kit: Kit) -> None:
    """Make CONNECTION_URL's database ready: create it if missing, migrate it, seed the demo data."""
    from cruddur import manage

    url = connection_url()
    report = kit.report
    with reachable(url):
        report("created" if create(url) else "unchanged", "database", dbname(url))
        applied = manage.migrate(url)
        report("created" if applied else "unchanged", "migrations", ", ".join(applied) or "up to date")
        manage.seed(url)
    report("unchanged", "seed", "demo users and activities present")
