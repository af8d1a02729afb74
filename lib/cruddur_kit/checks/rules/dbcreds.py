"""db-credentials/<service>.json: the database login from the RDS-managed secret (DB_CREDENTIALS=rds)."""

from __future__ import annotations

import re

from ..model import NG, SKIP, WARN
from ..registry import rule
from .cross import allows

# A Secrets Manager secret ARN with a JSON key: ARN:json-key:version-stage:version-id (the last two empty)
KEYED_SECRET = re.compile(r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+):([^:]+):([^:]*):([^:]*)$")
NEEDS_SECRET = ("PGUSER", "PGPASSWORD")
POLICY = "execution-role-db-secret-policy.json"  # bin/aws/setup puts it on the execution role with DB_CREDENTIALS=rds
NEEDS_ENV = ("PGHOST", "PGDATABASE")


@rule(
    "db-credentials.secrets-manager",
    "db-credentials",
    seed="issue 5: task definitions may take secrets from Secrets Manager (seed 003)",
)
def rds_secret(spec, specs):
    """The login comes from JSON keys of a Secrets Manager secret the execution role may read; host and
    database are plain environment; the container it changes exists.

    Fix: Take PGUSER and PGPASSWORD from ${DB_SECRET_ARN}:KEY::, allow secretsmanager:GetSecretValue on it in the
    execution role policy, keep PGHOST and PGDATABASE in environment and name an existing container.
    """
    doc = spec.doc
    family = spec.path.stem
    td = specs.task_definition(family)
    if td is None and (broken := specs.unparsed("task-definition")):
        yield SKIP("$", f"{broken.rel} does not parse: checked once it does")
        return
    if td is None:
        yield NG("$", f"no task-definitions/{family}.json to apply this to", "name the file after a task definition")
        return
    containers = {c.get("name"): c for c in td.doc.get("containerDefinitions") or [] if isinstance(c, dict)}
    container = containers.get(doc.get("containerName"))
    if container is None:
        yield NG(
            "$.containerName",
            f"{doc.get('containerName')!r} is not a container of {td.rel}",
            f"use one of {', '.join(map(str, containers))}",
        )
        return
    have = {s_.get("name") for s_ in container.get("secrets") or []}
    for j, name in enumerate(doc.get("replacesSecrets") or []):
        if name not in have:
            yield WARN(
                f"$.replacesSecrets[{j}]",
                f"{td.rel} has no secret {name}: nothing is replaced",
                "name a secret the container has, or drop it",
            )
    secrets = doc.get("secrets") or []
    environment = doc.get("environment") or []
    names = {s_.get("name") for s_ in secrets}
    env_names = {e.get("name") for e in environment}
    for name in NEEDS_SECRET:
        if name not in names:
            yield NG(
                "$.secrets",
                f"no {name} secret: the app cannot build CONNECTION_URL",
                f'add {{"name": "{name}", "valueFrom": "${{DB_SECRET_ARN}}:{name[2:].lower()}::"}}',
            )
    for name in NEEDS_ENV:
        if name not in env_names:
            yield NG("$.environment", f"no {name}: the app cannot build CONNECTION_URL", f"add {name} to environment")
    if "PGPASSWORD" in env_names:
        yield NG(
            "$.environment",
            "PGPASSWORD in plain environment: the password is visible in the task definition",
            "take it from the secret (secrets, valueFrom ...:password::)",
        )
    policy = next((f for f in specs.of("policy") if f.path.name == POLICY), None)
    if policy is None and (broken := specs.unparsed("policy", POLICY)):
        yield SKIP("$.secrets", f"{broken.rel} does not parse: checked once it does")
        return
    for j, s_ in enumerate(secrets):
        ref = str(s_.get("valueFrom", ""))
        m = KEYED_SECRET.match(ref)
        path = f"$.secrets[{j}].valueFrom"
        if m is None:
            yield NG(
                path,
                f"{ref!r} is not a Secrets Manager ARN with a JSON key",
                "use ${DB_SECRET_ARN}:username:: (ARN:json-key:version-stage:version-id)",
            )
            continue
        if policy is None or not allows(policy.doc, "secretsmanager:GetSecretValue", m.group(1)):
            where = policy.rel if policy else f"aws/json/policies/{POLICY}"
            yield NG(
                path,
                f"{where} does not allow secretsmanager:GetSecretValue on {m.group(1)}: tasks stop with "
                "ResourceInitializationError: unable to pull secrets",
                f"allow it on ${{DB_SECRET_ARN}} in {where}",
            )
