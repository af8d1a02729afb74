"""bin/cognito/list-users: the pool's users as a handle -> sub table."""

from __future__ import annotations

from ... import cognito
from ...cli import kit_command
from ...kit import Kit
from ...output import log
from . import resolve_pool


@kit_command()
def command(kit: Kit) -> None:
    """List every user in the pool (all pages): handle, sub and status, sorted by handle."""
    idp = kit.client("cognito-idp")
    pool = resolve_pool(idp, need_client=False)
    rows = []
    for user in cognito.list_users(idp, pool.pool_id):
        attrs = cognito.attributes(user)
        rows.append((attrs.get("preferred_username") or "-", attrs["sub"], user.get("UserStatus", "")))
    rows.sort(key=lambda r: r[0].lower())
    width = max([len("handle")] + [len(r[0]) for r in rows])
    print(f"{'handle':<{width}}  {'sub':<36}  status")
    for handle, sub, status in rows:
        print(f"{handle:<{width}}  {sub:<36}  {status}")
    log(f"{len(rows)} user(s) in pool {pool.pool_id}")
