"""bin/cognito/sync-users: give every Cognito user its `users` row (created or linked)."""

from __future__ import annotations

from collections import Counter

import click
import psycopg

from ... import cognito
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log
from ..db import connection_url, describe, reachable
from . import resolve_pool

BAD = ("conflict", "invalid")
DRY_RUN_VERBS = {"created": "would create", "linked": "would link"}


@kit_command(dry_run="say what would change, change nothing")
@click.option(
    "--relink",
    is_flag=True,
    help="let a Cognito user take over a handle linked to another sub (a re-created local pool)",
)
def command(kit: Kit, relink: bool) -> None:
    """Create or link the users row of every Cognito user in the pool (all pages), in CONNECTION_URL's database.

    Prints one line per user: created, linked, unchanged, conflict (the handle or e-mail belongs to
    another Cognito user) or invalid (its attributes cannot make a row). The same upsert runs in the
    post-confirmation Lambda. Exits 1 when any user is in conflict or invalid.
    """
    from cruddur.stores import cognito_users

    url = connection_url()
    dry_run = kit.dry_run
    idp = kit.client("cognito-idp")
    pool = resolve_pool(idp, need_client=False)
    counts: Counter = Counter()
    # Each upsert commits on its own (no lock held across Cognito's pages); a dry run does them all
    # inside one transaction, as savepoints, and rolls it back.
    with (
        reachable(url),
        psycopg.connect(url, autocommit=not dry_run, connect_timeout=5, application_name="sync-users") as conn,
    ):
        if dry_run:
            conn.execute("SELECT 1")  # opens the outer transaction
        for user in cognito.list_users(idp, pool.pool_id):
            attrs = cognito.attributes(user)
            try:
                status, row = cognito_users.register(conn, attrs, relink=relink)
                handle, detail = row["handle"], ""
            except cognito_users.InvalidCognitoUser as e:
                status, handle, detail = "invalid", attrs.get("preferred_username") or "-", str(e)
            if status == "conflict":
                detail = f"{row['handle']} ({row['email']}) belongs to another Cognito user"
            counts[status] += 1
            verb = DRY_RUN_VERBS.get(status, status) if dry_run else status
            print(f"{verb:<12} {handle:<24} {attrs['sub']}" + (f"  ({detail})" if detail else ""), flush=True)
        if dry_run:
            conn.rollback()
    verb = (lambda s: DRY_RUN_VERBS.get(s, s)) if dry_run else (lambda s: s)  # a dry run did nothing: "would"
    summary = ", ".join(f"{n} {verb(s)}" for s, n in sorted(counts.items())) or "no users"
    log(f"pool {pool.pool_id} -> {describe(url)}: {summary}" + (" (dry run: nothing changed)" if dry_run else ""))
    bad = sum(counts[s] for s in BAD)
    if bad:
        raise KitError(
            f"{bad} Cognito user(s) have no users row: see the conflict/invalid lines above "
            "(--relink lets a re-created pool's users take their handles back)"
        )
