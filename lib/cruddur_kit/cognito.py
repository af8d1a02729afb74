"""Cognito user pools, clients, users and tokens: what `make up`, bin/cognito/* and the tests share."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import KitError

POOL_NAME = "cruddur-user-pool"
CLIENT_NAME = "cruddur-web"
DEMO_PASSWORD = "Cruddur-Demo-1"  # local emulator only; the demo users exist nowhere else
DEMO_HANDLES = ("andrewbrown", "altbrown", "bayko", "londo")


@dataclass(frozen=True)
class Pool:
    pool_id: str
    client_id: str


def find_pool(idp, name: str = POOL_NAME) -> Pool | None:
    for page in idp.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                clients = idp.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]
                client = next((c for c in clients if c["ClientName"] == CLIENT_NAME), None)
                if client:
                    return Pool(pool["Id"], client["ClientId"])
    return None


def ensure_pool(idp, name: str = POOL_NAME) -> tuple[Pool, bool]:
    """The pool and its app client, created when missing; (pool, created)."""
    existing = find_pool(idp, name)
    if existing:
        return existing, False
    pool_id = idp.create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "preferred_username", "AttributeDataType": "String", "Mutable": True},
                {"Name": "name", "AttributeDataType": "String", "Mutable": True}],
        Policies={"PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True,
                                     "RequireNumbers": True, "RequireSymbols": False}},
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName=CLIENT_NAME, GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return Pool(pool_id, client_id), True


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
            UserPoolId=pool.pool_id, Username=email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                            {"Name": "preferred_username", "Value": handle}, {"Name": "name", "Value": name}],
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
        result = idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": username, "PASSWORD": password})
    except idp.exceptions.NotAuthorizedException:
        raise KitError(f"Cognito refused the password for {username}") from None
    return result["AuthenticationResult"]["AccessToken"]


def id_token(idp, pool: Pool, username: str, password: str = DEMO_PASSWORD) -> str:
    result = idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": username, "PASSWORD": password})
    return result["AuthenticationResult"]["IdToken"]
