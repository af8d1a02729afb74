"""bin/db/seed: load Cruddur's demo users and activities (cruddur.manage.seed; idempotent)."""

from __future__ import annotations

from ...cli import kit_command
from ...kit import Kit
from ...output import log
from . import connection_url, describe, reachable


@kit_command(endpoint=False)  # no AWS calls
def command(kit: Kit) -> None:
    """Load the demo users (andrewbrown, altbrown, bayko, londo), their activities and replies.

    Idempotent: rows already present are kept as they are.
    """
    from cruddur import manage

    url = connection_url()
    with reachable(url):
        manage.seed(url)
    log(f"seeded {describe(url)}")
    print("seed: demo users and activities present")
