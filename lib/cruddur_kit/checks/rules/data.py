"""The database, ECR lifecycle and X-Ray sampling specs."""

from __future__ import annotations

from .. import shapes
from ..model import NG
from ..registry import rule


@rule("shape.database", "database", seed="issue 6: the API model")
def database_shape(spec, specs):
    """subnetGroup / instance are valid RDS inputs.

    Fix: Correct the key, type or value the finding names (CreateDBSubnetGroup, CreateDBInstance).
    """
    yield from shapes.validate_parts(
        spec.doc, [("subnetGroup", "rds", "CreateDBSubnetGroup", ()), ("instance", "rds", "CreateDBInstance", ())]
    )


@rule("database.safety", "database", seed="issue 5: encrypted, backups on, deletion protection, managed password")
def database_safety(spec, specs):
    """Encrypted, private, backed up, protected from deletion, password managed by Secrets Manager.

    Fix: Set StorageEncrypted, DeletionProtection and ManageMasterUserPassword true, PubliclyAccessible false and
    BackupRetentionPeriod 7 or more; no MasterUserPassword.
    """
    inst = spec.doc.get("instance") or {}
    wants = [
        ("StorageEncrypted", True, "the data is unencrypted at rest"),
        ("PubliclyAccessible", False, "the database is reachable from the internet"),
        ("DeletionProtection", True, "one command can delete the data"),
        ("ManageMasterUserPassword", True, "the master password lives outside Secrets Manager"),
    ]
    for key, want, why in wants:
        if inst.get(key, not want) != want:
            yield NG(f"$.instance.{key}", why, f'set "{key}": {str(want).lower()}')
    if "MasterUserPassword" in inst:
        yield NG("$.instance.MasterUserPassword", "a password in a spec file", "use ManageMasterUserPassword")
    if not inst.get("BackupRetentionPeriod"):
        yield NG("$.instance.BackupRetentionPeriod", "backups are off", "set BackupRetentionPeriod to 7 or more")


@rule("ecr.lifecycle", "ecr-lifecycle", seed="issue 5: ECR lifecycle policy")
def ecr_lifecycle(spec, specs):
    """Unique rule priorities, expire actions, countType with the members it needs.

    Fix: Give each rule a unique integer rulePriority, a tagStatus, a countType with its members (sinceImagePushed:
    countUnit days) and action expire.
    """
    seen = set()
    for i, r in enumerate(spec.doc.get("rules") or []):
        path = f"$.rules[{i}]"
        prio = r.get("rulePriority")
        if not isinstance(prio, int) or prio in seen:
            yield NG(f"{path}.rulePriority", f"rulePriority {prio!r} is missing or repeated", "use unique integers")
        seen.add(prio)
        sel = r.get("selection") or {}
        if sel.get("tagStatus") not in ("tagged", "untagged", "any"):
            yield NG(
                f"{path}.selection.tagStatus", f"tagStatus {sel.get('tagStatus')!r}", "use tagged, untagged or any"
            )
        if sel.get("countType") == "sinceImagePushed" and sel.get("countUnit") != "days":
            yield NG(f"{path}.selection.countUnit", "sinceImagePushed needs countUnit days", 'set "countUnit": "days"')
        if sel.get("countType") not in ("sinceImagePushed", "imageCountMoreThan"):
            yield NG(
                f"{path}.selection.countType",
                f"countType {sel.get('countType')!r}",
                "use sinceImagePushed or imageCountMoreThan",
            )
        if (r.get("action") or {}).get("type") != "expire":
            yield NG(f"{path}.action.type", "the only lifecycle action is expire", 'set "type": "expire"')


@rule("shape.xray-sampling", "xray-sampling", seed="issue 4: X-Ray sampling rules")
def xray_shape(spec, specs):
    """SamplingRule is a valid CreateSamplingRule input.

    Fix: Correct the key, type or value the finding names (CreateSamplingRule).
    """
    yield from shapes.validate(spec.doc, "xray", "CreateSamplingRule")


@rule("shape.cognito", "cognito", seed="issue 13: setup creates the user pool the task definition names")
def cognito_shape(spec, specs):
    """userPool is a CreateUserPool input; userPoolClient a CreateUserPoolClient input (pool id filled);
    postConfirmation.function a CreateFunction input (role and code filled) and its role names a service and
    AWS managed policies.

    Fix: Correct the key, type or value the finding names (CreateUserPool, CreateUserPoolClient, CreateFunction).
    """
    for part in ("userPool", "userPoolClient"):
        if not isinstance(spec.doc.get(part), dict):
            yield NG(
                f"$.{part}",
                f"no {part} object: setup creates the pool and its app client from it",
                f"add {part} (see aws/json/cognito/user-pool.json in git)",
            )
    yield from shapes.validate_parts(
        spec.doc,
        [
            ("userPool", "cognito-idp", "CreateUserPool", ()),
            ("userPoolClient", "cognito-idp", "CreateUserPoolClient", ("UserPoolId",)),
        ],
    )
    trigger = spec.doc.get("postConfirmation")
    if trigger is None:
        return
    for status, path, message, fix, cause in shapes.validate_parts(
        trigger, [("function", "lambda", "CreateFunction", ("Role", "Code"))]
    ):
        yield status, path.replace("$", "$.postConfirmation", 1), message, fix, cause
    role = trigger.get("role") or {}
    if not isinstance(role.get("RoleName"), str) or not str(role.get("Service", "")).endswith(".amazonaws.com"):
        yield NG(
            "$.postConfirmation.role",
            "the Lambda's role needs RoleName and the Service that assumes it",
            'set "RoleName" and "Service": "lambda.amazonaws.com"',
        )
    for i, arn in enumerate(role.get("ManagedPolicyArns") or []):
        if not str(arn).startswith("arn:aws:iam::aws:policy/"):
            yield NG(
                f"$.postConfirmation.role.ManagedPolicyArns[{i}]",
                f"{arn!r} is not an AWS managed policy ARN",
                "use arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            )
