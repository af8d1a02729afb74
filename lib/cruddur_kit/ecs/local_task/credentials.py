"""The credentials a local task's containers get, served as ECS serves the task role's: from a credentials
endpoint inside the task (AWS_CONTAINER_CREDENTIALS_FULL_URI with an authorization token, which every AWS
SDK reads), never as keys in a container's environment.

Against the emulator: its dummy credentials. Against an account: the task role's, when the caller may
assume it (what the task itself would get), else the caller's own, said in one line."""

from __future__ import annotations

import secrets as random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ... import aws
from ...envfile import DUMMY_CREDENTIALS
from ...errors import KitError

PORT = 51679  # inside the task's namespace; the ECS agent's credentials proxy uses the same port number


def _document(key: str, secret: str, token: str | None, expiration: datetime, role: str | None) -> dict:
    doc = {"AccessKeyId": key, "SecretAccessKey": secret, "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if token:
        doc["Token"] = token
    if role:
        doc["RoleArn"] = role
    return doc


def for_task(
    task_role_arn: str | None, region: str, task_id: str, say: Callable[[str], None], clients: Callable[[str], object]
) -> dict:
    """The JSON document the endpoint serves (AccessKeyId, SecretAccessKey, Token, Expiration); `clients`
    makes the boto3 clients (the command's Kit's)."""
    later = datetime.now(UTC) + timedelta(hours=6)
    if aws.is_emulator():
        return _document(
            DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
            later,
            task_role_arn,
        )
    if task_role_arn:
        try:
            creds = clients("sts").assume_role(RoleArn=task_role_arn, RoleSessionName=f"run-local-{task_id[:16]}")[
                "Credentials"
            ]
            return _document(
                creds["AccessKeyId"],
                creds["SecretAccessKey"],
                creds["SessionToken"],
                creds["Expiration"],
                task_role_arn,
            )
        except (ClientError, BotoCoreError) as e:
            say(
                f"credentials: cannot assume the task role {task_role_arn} ({str(e).splitlines()[0][:160]}): "
                "the containers get your own credentials instead"
            )
    found = boto3.Session(region_name=region).get_credentials()
    if found is None:
        raise KitError(
            "no AWS credentials for the task's containers: configure a profile (aws configure), "
            "or set AWS_ENDPOINT_URL for the local emulator (make up)"
        )
    frozen = found.get_frozen_credentials()
    return _document(frozen.access_key, frozen.secret_key, frozen.token, later, None)


def endpoint_env(task_id: str) -> tuple[dict[str, str], str]:
    """(the containers' environment for the endpoint, the token the endpoint checks)."""
    token = random.token_hex(24)
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{PORT}/v2/credentials/{task_id}",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
    }, token
