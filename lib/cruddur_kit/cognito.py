"""Cognito user pools, clients, users and tokens: what `make up`, bin/cognito/* and the tests share."""

from __future__ import annotations

from dataclasses import dataclass

from . import AWS_JSON, LOCAL_DIR, templates
from .errors import KitError

SPEC = AWS_JSON / "cognito" / "user-pool.json"  # the pool and app client bin/aws/setup and make up create
POOL_NAME = "cruddur-user-pool"  # = the spec's userPool.PoolName (test_deploy_kit.py checks they agree)
CLIENT_NAME = "cruddur-web"  # = the spec's userPoolClient.ClientName
DEMO_PASSWORD = "Cruddur-Demo-1"  # local emulator only; the demo users exist nowhere else
DEMO_HANDLES = ("andrewbrown", "altbrown", "bayko", "londo")


@dataclass(frozen=True)
class Pool:
    pool_id: str
    client_id: str


LAMBDA_ZIP = LOCAL_DIR / "build" / "cruddur-post-confirmation.zip"  # where bin/cognito/build-lambda puts it


def spec() -> dict:
    """aws/json/cognito/user-pool.json without its "_comment" keys: {"userPool", "userPoolClient",
    "postConfirmation": {"function", "role"}}."""
    doc = templates.load(SPEC)
    return {
        part: {k: v for k, v in doc[part].items() if not k.startswith("_")}
        for part in ("userPool", "userPoolClient", "postConfirmation")
        if part in doc
    }


def find_pool_id(idp, name: str = POOL_NAME) -> str | None:
    for page in idp.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return pool["Id"]
    return None


def find_client_id(idp, pool_id: str, name: str = CLIENT_NAME) -> str | None:
    for page in idp.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        client = next((c for c in page["UserPoolClients"] if c["ClientName"] == name), None)
        if client:
            return client["ClientId"]
    return None


def find_pool(idp, name: str = POOL_NAME) -> Pool | None:
    pool_id = find_pool_id(idp, name)
    client_id = find_client_id(idp, pool_id) if pool_id else None
    return Pool(pool_id, client_id) if client_id else None


def ensure_pool(idp, name: str = POOL_NAME, dry_run: bool = False) -> tuple[Pool | None, list[str]]:
    """The pool and its app client as the spec describes them, each created when missing (a pool or client
    already there under its name is adopted as it is); (pool, what was created: "user-pool", "app-client").
    Under dry_run nothing is created and the pool is None when anything is missing."""
    wanted = spec()
    made: list[str] = []
    pool_id = find_pool_id(idp, name)
    if pool_id is None:
        made.append("user-pool")
        if dry_run:
            return None, ["user-pool", "app-client"]
        pool_id = idp.create_user_pool(**{**wanted["userPool"], "PoolName": name})["UserPool"]["Id"]
    client_name = wanted["userPoolClient"]["ClientName"]
    client_id = find_client_id(idp, pool_id, client_name)
    if client_id is None:
        made.append("app-client")
        if dry_run:
            return None, made
        client_id = idp.create_user_pool_client(UserPoolId=pool_id, **wanted["userPoolClient"])["UserPoolClient"][
            "ClientId"
        ]
    return Pool(pool_id, client_id), made


def delete_pool(idp, name: str = POOL_NAME, dry_run: bool = False) -> bool:
    """Delete the pool (its clients and users go with it); False when there is none."""
    pool_id = find_pool_id(idp, name)
    if pool_id is None:
        return False
    if not dry_run:
        idp.delete_user_pool(UserPoolId=pool_id)
    return True


def attributes(user: dict) -> dict:
    attrs = {a["Name"]: a["Value"] for a in user.get("Attributes", user.get("UserAttributes", []))}
    attrs.setdefault("sub", user.get("Username"))
    return attrs


def ensure_user(idp, pool: Pool, handle: str, email: str, name: str, password: str = DEMO_PASSWORD) -> str:
    """A confirmed user with a permanent password; returns its sub."""
    try:
        user = idp.admin_get_user(UserPoolId=pool.pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        user = idp.admin_create_user(
            UserPoolId=pool.pool_id,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "preferred_username", "Value": handle},
                {"Name": "name", "Value": name},
            ],
        )["User"]
        idp.admin_set_user_password(UserPoolId=pool.pool_id, Username=email, Password=password, Permanent=True)
    return attributes(user)["sub"]


def list_users(idp, pool_id: str):
    """Every user in the pool, page by page (Cognito pages at 60)."""
    for page in idp.get_paginator("list_users").paginate(UserPoolId=pool_id):
        yield from page["Users"]


def find_user_by_handle(idp, pool_id: str, handle: str) -> dict | None:
    for user in list_users(idp, pool_id):
        if attributes(user).get("preferred_username", "").lower() == handle.lower():
            return user
    return None


def access_token(idp, pool: Pool, username: str, password: str = DEMO_PASSWORD) -> str:
    try:
        result = idp.initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except idp.exceptions.NotAuthorizedException:
        raise KitError(f"Cognito refused the password for {username}") from None
    return result["AuthenticationResult"]["AccessToken"]


def id_token(idp, pool: Pool, username: str, password: str = DEMO_PASSWORD) -> str:
    result = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]
