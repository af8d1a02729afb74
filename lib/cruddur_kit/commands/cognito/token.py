"""bin/cognito/token HANDLE: an access token for a demo user, alone on stdout."""

from __future__ import annotations

import sys

import click

from ... import cognito
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log
from . import resolve_pool


@kit_command()
@click.argument("handle")
@click.option(
    "--password-stdin", is_flag=True, help="read the user's password from stdin (required against real Cognito)"
)
def command(kit: Kit, handle: str, password_stdin: bool) -> None:
    """Print an access token for the Cognito user whose preferred_username is HANDLE.

    Against the local emulator (AWS_ENDPOINT_URL on loopback) it signs in with the demo password;
    against real Cognito it refuses unless the password comes on stdin.

        TOKEN=$(bin/cognito/token andrewbrown)
        curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4567/api/activities/notifications
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise KitError("--password-stdin read an empty password: pipe the password in")
    elif kit.is_emulator:
        password = cognito.DEMO_PASSWORD
    else:
        raise KitError(
            "AWS_ENDPOINT_URL does not point at the local emulator: the demo password works only "
            "there; for real Cognito pass the user's password with --password-stdin"
        )
    idp = kit.client("cognito-idp")
    pool = resolve_pool(idp)
    user = cognito.find_user_by_handle(idp, pool.pool_id, handle)
    if user is None:
        raise KitError(
            f"no Cognito user with preferred_username {handle} in pool {pool.pool_id}: "
            "bin/cognito/list-users shows who is there"
        )
    username = cognito.attributes(user).get("email") or user["Username"]
    token = cognito.access_token(idp, pool, username, password)
    log(f"access token for {handle} (pool {pool.pool_id})")
    print(token)
