"""The customer-managed KMS keys behind the secrets a task reads.

ECS decrypts a task's secrets with the execution role. Under the AWS-managed keys (aws/ssm,
aws/secretsmanager) the service's own grant is enough; under a customer-managed key the role also
needs kms:Decrypt on that key, or the task stops with "ResourceInitializationError: unable to pull
secrets ... AccessDeniedException ... kms:Decrypt". Only metadata is read here, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

from botocore.exceptions import ClientError

from .errors import KitError

AWS_MANAGED = "alias/aws/"


def customer_key_arn(kms, key_id: str | None) -> str | None:
    """The key's ARN when it is customer-managed; None for no key or an AWS-managed one."""
    if not key_id or key_id.startswith(AWS_MANAGED):
        return None
    try:
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except ClientError as e:
        raise KitError(
            f"cannot describe KMS key {key_id} ({e.response['Error']['Code']}): allow kms:DescribeKey "
            "on it, or set KMS_KEY_ARNS to the ARNs of the keys your secrets use"
        ) from None
    return None if meta.get("KeyManager") == "AWS" else meta["Arn"]


def secret_base_arn(value_from: str) -> str:
    """A Secrets Manager secret's ARN without the `:json-key:stage:version` a task definition may add."""
    return ":".join(value_from.split(":")[:7])


def parameter_key_ids(ssm, patterns: Iterable[str]) -> dict[str, str]:
    """{name: KeyId} of the SecureString parameters an IAM Resource pattern names: one parameter's ARN,
    `arn:aws:ssm:...:parameter/cruddur/backend-flask/*` (globs allowed), or `*`."""
    found: dict[str, str] = {}
    for pattern in patterns:
        if pattern == "*":
            name = "/*"
        elif ":parameter/" in pattern:
            name = "/" + pattern.split(":parameter/", 1)[1].lstrip("/")
        else:
            continue  # not a parameter
        if "*" not in name and "?" not in name:
            filters = [{"Key": "Name", "Option": "Equals", "Values": [name]}]
        else:  # the folder above the first glob, recursively, then the glob itself
            folder = re.split(r"[*?]", name, maxsplit=1)[0].rsplit("/", 1)[0]
            filters = [{"Key": "Path", "Option": "Recursive", "Values": [folder]}] if folder else []
        for page in ssm.get_paginator("describe_parameters").paginate(ParameterFilters=filters):
            found.update(
                {
                    p["Name"]: p.get("KeyId")
                    for p in page["Parameters"]
                    if p.get("Type") == "SecureString" and fnmatchcase(p["Name"], name)
                }
            )
    return found


def secret_key_id(secretsmanager, arn: str) -> str | None:
    return secretsmanager.describe_secret(SecretId=secret_base_arn(arn)).get("KmsKeyId")
