"""The task definition's `secrets`, read as the ECS agent reads them at container start: SSM parameters
(a name, or the full ARN) with decryption, Secrets Manager secrets (the ARN, optionally followed by
:json-key:version-stage:version-id). Through AWS_ENDPOINT_URL when it is set (the emulator), with the
caller's credentials (ECS uses the execution role: bin/ecs/verify checks that it may). Values are
returned to the caller and never printed."""

from __future__ import annotations

import json
from collections.abc import Callable

from botocore.exceptions import ClientError

from ...errors import KitError
from .plan import TaskPlan

PUT = "run bin/ssm/put-params (for the local stack, make up writes them)"
ECS_WORDS = "ECS would stop the task: ResourceInitializationError: unable to pull secrets"


def _parameter_name(value_from: str) -> tuple[str, str | None]:
    """(parameter name, region or None) from a name or an ARN arn:aws:ssm:REGION:ACCOUNT:parameter/NAME."""
    if not value_from.startswith("arn:"):
        return value_from, None
    parts = value_from.split(":", 5)
    name = parts[5][len("parameter") :]  # "/cruddur/backend-flask/X", or "/plain" for a name without a path
    return (name[1:] if name.count("/") == 1 else name), parts[3]


def _secret(client, value_from: str, label: str) -> str:
    parts = value_from.split(":")
    arn, extra = ":".join(parts[:7]), parts[7:] + ["", "", ""]
    json_key, stage, version = extra[0], extra[1], extra[2]
    kwargs = {"SecretId": arn}
    if stage:
        kwargs["VersionStage"] = stage
    if version:
        kwargs["VersionId"] = version
    try:
        value = client.get_secret_value(**kwargs)["SecretString"]
    except ClientError as e:
        code = e.response["Error"].get("Code", "")
        if code == "ResourceNotFoundException":
            raise KitError(
                f"{label}: Secrets Manager secret {arn} does not exist ({ECS_WORDS}): create it "
                "(bin/aws/setup --with-database makes the database's)"
            ) from None
        raise KitError(
            f"{label}: Secrets Manager refused {arn}: {code}: {e.response['Error'].get('Message', '')}"
        ) from None
    if not json_key:
        return value
    try:
        return str(json.loads(value)[json_key])
    except (ValueError, KeyError, TypeError):
        raise KitError(f"{label}: secret {arn} has no JSON key {json_key!r} ({ECS_WORDS}): fix valueFrom") from None


def resolve(plan: TaskPlan, client: Callable[[str, str | None], object]) -> dict[str, dict[str, str]]:
    """{container: {NAME: value}} for every container's secrets; KitError naming the first one that cannot
    be read and how to fix it. `client(service, region)` makes boto3 clients."""
    values: dict[str, dict[str, str]] = {c.name: {} for c in plan.containers}
    wanted: dict[tuple[str | None, str], list[tuple[str, str]]] = {}
    for c in plan.containers:
        for name, value_from in c.secrets:
            label = f"container {c.name}: secret {name}"
            if value_from.startswith("arn:aws:secretsmanager:"):
                region = value_from.split(":")[3]
                values[c.name][name] = _secret(client("secretsmanager", region), value_from, label)
                continue
            parameter, region = _parameter_name(value_from)
            wanted.setdefault((region, parameter), []).append((c.name, name))
    by_region: dict[str | None, list[str]] = {}
    for region, parameter in wanted:
        by_region.setdefault(region, []).append(parameter)
    for region, names in by_region.items():
        ssm = client("ssm", region)
        for i in range(0, len(names), 10):  # GetParameters takes at most 10 names
            batch = names[i : i + 10]
            try:
                found = ssm.get_parameters(Names=batch, WithDecryption=True)
            except ClientError as e:
                err = e.response["Error"]
                raise KitError(
                    f"SSM refused GetParameters for {', '.join(batch)}: {err.get('Code')}: "
                    f"{err.get('Message', '')} ({ECS_WORDS})"
                ) from None
            for parameter in found.get("Parameters", []):
                for container, name in wanted[(region, parameter["Name"])]:
                    values[container][name] = parameter["Value"]
            for missing in found.get("InvalidParameters", []):
                container, name = wanted[(region, missing)][0]
                raise KitError(
                    f"container {container}: secret {name}: SSM parameter {missing} does not exist ({ECS_WORDS}): {PUT}"
                )
    return values
