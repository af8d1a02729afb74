"""bin/cognito/*: local demo tokens, and Cognito users becoming `users` rows.

The pool is AWS_COGNITO_USER_POOL_ID (and AWS_COGNITO_USER_POOL_CLIENT_ID) when set, else the pool
named cruddur_kit.cognito.POOL_NAME, the one bin/aws/setup creates (and `make up` in the local emulator).
"""

from __future__ import annotations

import os

from ... import cognito
from ...errors import KitError


def resolve_pool(idp, need_client: bool = True) -> cognito.Pool:
    pool_id = os.environ.get("AWS_COGNITO_USER_POOL_ID")
    client_id = os.environ.get("AWS_COGNITO_USER_POOL_CLIENT_ID")
    if pool_id and (client_id or not need_client):
        return cognito.Pool(pool_id, client_id or "")
    if pool_id:  # the pool is named; find its app client by name
        clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        match = next((c for c in clients if c["ClientName"] == cognito.CLIENT_NAME), None)
        if match is None:
            raise KitError(
                f"user pool {pool_id} has no app client {cognito.CLIENT_NAME}: set AWS_COGNITO_USER_POOL_CLIENT_ID"
            )
        return cognito.Pool(pool_id, match["ClientId"])
    found = cognito.find_pool(idp)
    if found is None:
        raise KitError(
            f"no user pool named {cognito.POOL_NAME}: set AWS_COGNITO_USER_POOL_ID "
            "(and AWS_COGNITO_USER_POOL_CLIENT_ID), or run bin/aws/setup (make up creates the local one)"
        )
    return found
