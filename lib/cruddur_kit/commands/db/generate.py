"""bin/db/generate: bulk benchmark data (cruddur.manage.generate)."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...kit import Kit
from ...output import log
from . import connection_url, describe, reachable


@kit_command(endpoint=False)  # no AWS calls
@click.option("--activities", default=1_000_000, show_default=True, type=click.IntRange(1))
@click.option("--users", default=1_000, show_default=True, type=click.IntRange(1))
def command(kit: Kit, activities: int, users: int) -> None:
    """Generate USERS bench users and ACTIVITIES activities inside PostgreSQL, then ANALYZE.

    Adds to what is there (run it on a dedicated database for benchmarks).
    """
    from cruddur import manage

    url = connection_url()
    log(f"generating {activities:,} activities for {users:,} users in {describe(url)} ...")
    with reachable(url):
        seconds = manage.generate(url, activities, users)
    print(f"generated {activities} activities for {users} users in {seconds:.1f}s")
