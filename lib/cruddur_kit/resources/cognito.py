"""The service's Cognito user pool and app client (aws/json/cognito/user-pool.json): created or adopted by
name in setup, so deploy finds their ids (config.Variables looks them up by the same names); kept by
teardown unless --include-data, since the pool holds the users."""
from __future__ import annotations

from .. import cognito
from ..kit import Kit


def ensure_pool(kit: Kit) -> None:
    idp = kit.client("cognito-idp")
    name = cognito.spec()["userPool"]["PoolName"]
    pool, made = cognito.ensure_pool(idp, name, dry_run=kit.dry_run)
    kit.report("created" if "user-pool" in made else "unchanged", "cognito-user-pool", name,
               pool.pool_id if pool else "")
    client = cognito.spec()["userPoolClient"]["ClientName"]
    kit.report("created" if "app-client" in made else "unchanged", "cognito-app-client", client,
               pool.client_id if pool else "")


def teardown(kit: Kit, include_data: bool) -> None:
    name = cognito.spec()["userPool"]["PoolName"]
    idp = kit.client("cognito-idp")
    if not include_data:
        if cognito.find_pool_id(idp, name):
            kit.report("kept", "cognito-user-pool", name, "its users are data; --include-data deletes it")
        return
    if cognito.delete_pool(idp, name, dry_run=kit.dry_run):
        kit.report("deleted", "cognito-user-pool", name, "with its app clients and users")
    else:
        kit.report("absent", "cognito-user-pool", name)


def remaining(kit: Kit) -> list[str]:
    name = cognito.spec()["userPool"]["PoolName"]
    return [name] if cognito.find_pool_id(kit.client("cognito-idp"), name) else []
