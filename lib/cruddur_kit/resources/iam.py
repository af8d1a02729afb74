"""The two roles every task uses, with their trust and inline policies from aws/json/policies."""
from __future__ import annotations

from urllib.parse import unquote

from .. import AWS_JSON, templates
from . import Ctx, same_json

POLICIES = AWS_JSON / "policies"
# role variable -> (trust file, policy file)
ROLES = {
    "EXECUTION_ROLE_NAME": ("execution-role-trust.json", "execution-role-policy.json"),
    "TASK_ROLE_NAME": ("task-role-trust.json", "task-role-policy.json"),
}


def _doc(value):
    return templates.json.loads(unquote(value)) if isinstance(value, str) else value


def role_names(ctx: Ctx) -> list[str]:
    return [ctx.vars[var] for var in ROLES]


def ensure_roles(ctx: Ctx) -> None:
    iam = ctx.client("iam")
    for var, (trust_file, policy_file) in ROLES.items():
        name = ctx.vars[var]
        trust = templates.render(POLICIES / trust_file, ctx.vars)
        policy = templates.render(POLICIES / policy_file, ctx.vars)
        policy_name = policy_file.removesuffix(".json")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            if not ctx.dry_run:
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=templates.json_text(trust),
                                Description="Cruddur ECS tasks (bin/aws/setup)",
                                Tags=[{"Key": "project", "Value": "cruddur"}])
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=templates.json_text(policy))
            ctx.report("created", "iam-role", name, f"trust + {policy_name}")
            continue
        changes = []
        if not same_json(_doc(role["AssumeRolePolicyDocument"]), trust):
            changes.append("trust")
            if not ctx.dry_run:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=templates.json_text(trust))
        try:
            current = _doc(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
        except iam.exceptions.NoSuchEntityException:
            current = None
        if current is None or not same_json(current, policy):
            changes.append(policy_name)
            if not ctx.dry_run:
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=templates.json_text(policy))
        ctx.report("updated" if changes else "unchanged", "iam-role", name, ", ".join(changes))


def delete_roles(ctx: Ctx) -> None:
    iam = ctx.client("iam")
    for name in role_names(ctx):
        try:
            iam.get_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            ctx.report("absent", "iam-role", name)
            continue
        if not ctx.dry_run:
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
            iam.delete_role(RoleName=name)
        ctx.report("deleted", "iam-role", name)


DB_SECRET_POLICY = "execution-role-db-secret-policy"
KMS_POLICY = "execution-role-kms-policy"


def ensure_db_secret_policy(ctx: Ctx) -> None:
    """With DB_CREDENTIALS=rds the execution role may read the RDS-managed secret (that one only);
    with the default (ssm) it may not, so a policy left from an earlier rds set-up is removed."""
    wanted = str(ctx.vars["DB_CREDENTIALS"]).lower() == "rds"
    pending = ctx.dry_run and ctx.vars.get("DB_SECRET_ARN") is None
    _converge_execution_policy(ctx, DB_SECRET_POLICY, wanted, "DB_CREDENTIALS is ssm",
                               "secretsmanager:GetSecretValue on the RDS-managed secret", pending=pending)


def ensure_kms_policy(ctx: Ctx) -> None:
    """kms:Decrypt, through SSM and Secrets Manager only, on the customer-managed keys of the secrets
    tasks read (cruddur_kit/kms.py); removed when every secret is under an AWS-managed key again."""
    keys = ctx.vars["KMS_KEY_ARNS"]
    _converge_execution_policy(ctx, KMS_POLICY, bool(keys), "no secret uses a customer-managed key",
                               f"kms:Decrypt on {', '.join(keys)}")


def _converge_execution_policy(ctx: Ctx, policy_name: str, wanted: bool, why_not: str, what: str,
                               pending: bool = False) -> None:
    """Put aws/json/policies/<policy_name>.json on the execution role when wanted, else delete it.
    `pending`: a dry run cannot render it yet (it names something setup has not created)."""
    iam = ctx.client("iam")
    name = ctx.vars["EXECUTION_ROLE_NAME"]
    label = f"{name}/{policy_name}"
    try:
        current = _doc(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
    except iam.exceptions.NoSuchEntityException:
        current = None  # no such policy, or (dry run) no role yet
    if not wanted:
        if current is not None:
            if not ctx.dry_run:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            ctx.report("deleted", "iam-role-policy", label, why_not)
        return
    if pending and current is None:
        ctx.report("created", "iam-role-policy", label, "once the database exists")
        return
    policy = templates.render(POLICIES / f"{policy_name}.json", ctx.vars)
    if current is not None and same_json(current, policy):
        ctx.report("unchanged", "iam-role-policy", label)
        return
    if not ctx.dry_run:
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=templates.json_text(policy))
    ctx.report("created" if current is None else "updated", "iam-role-policy", label, what)
