"""The two roles every task uses, with their trust and inline policies from aws/json/policies."""

from __future__ import annotations

from urllib.parse import unquote

from .. import AWS_JSON, templates
from ..kit import Kit
from . import same_json

POLICIES = AWS_JSON / "policies"
# role variable -> (trust file, policy file)
ROLES = {
    "EXECUTION_ROLE_NAME": ("execution-role-trust.json", "execution-role-policy.json"),
    "TASK_ROLE_NAME": ("task-role-trust.json", "task-role-policy.json"),
}


def _doc(value):
    return templates.json.loads(unquote(value)) if isinstance(value, str) else value


INFRASTRUCTURE_TRUST = "infrastructure-role-trust.json"
LOAD_BALANCERS_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


def role_names(kit: Kit) -> list[str]:
    return [kit.vars[var] for var in ROLES] + [kit.vars["ECS_INFRASTRUCTURE_ROLE_NAME"]]


def ensure_infrastructure_role(kit: Kit) -> None:
    """The role ECS assumes to move load-balancer traffic in blue/green, canary and linear deployments
    (loadBalancers[].advancedConfiguration.roleArn): trusts ecs.amazonaws.com, carries AWS's managed policy."""
    iam = kit.client("iam")
    name = kit.vars["ECS_INFRASTRUCTURE_ROLE_NAME"]
    trust = templates.render(POLICIES / INFRASTRUCTURE_TRUST, kit.vars)
    policy = LOAD_BALANCERS_POLICY.rsplit("/", 1)[-1]
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        if not kit.dry_run:
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=templates.json_text(trust),
                Description="ECS shifts Cruddur's load-balancer traffic (bin/aws/setup)",
                Tags=[{"Key": "project", "Value": "cruddur"}],
            )
            iam.attach_role_policy(RoleName=name, PolicyArn=LOAD_BALANCERS_POLICY)
        kit.report("created", "iam-role", name, f"trust ecs.amazonaws.com + {policy}")
        return
    changes = []
    if not same_json(_doc(role["AssumeRolePolicyDocument"]), trust):
        changes.append("trust")
        if not kit.dry_run:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=templates.json_text(trust))
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
    if LOAD_BALANCERS_POLICY not in attached:
        changes.append(policy)
        if not kit.dry_run:
            iam.attach_role_policy(RoleName=name, PolicyArn=LOAD_BALANCERS_POLICY)
    kit.report("updated" if changes else "unchanged", "iam-role", name, ", ".join(changes))


def ensure_roles(kit: Kit) -> None:
    iam = kit.client("iam")
    for var, (trust_file, policy_file) in ROLES.items():
        name = kit.vars[var]
        trust = templates.render(POLICIES / trust_file, kit.vars)
        policy = templates.render(POLICIES / policy_file, kit.vars)
        policy_name = policy_file.removesuffix(".json")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            if not kit.dry_run:
                iam.create_role(
                    RoleName=name,
                    AssumeRolePolicyDocument=templates.json_text(trust),
                    Description="Cruddur ECS tasks (bin/aws/setup)",
                    Tags=[{"Key": "project", "Value": "cruddur"}],
                )
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=templates.json_text(policy))
            kit.report("created", "iam-role", name, f"trust + {policy_name}")
            continue
        changes = []
        if not same_json(_doc(role["AssumeRolePolicyDocument"]), trust):
            changes.append("trust")
            if not kit.dry_run:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=templates.json_text(trust))
        try:
            current = _doc(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
        except iam.exceptions.NoSuchEntityException:
            current = None
        if current is None or not same_json(current, policy):
            changes.append(policy_name)
            if not kit.dry_run:
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=templates.json_text(policy))
        kit.report("updated" if changes else "unchanged", "iam-role", name, ", ".join(changes))


def delete_roles(kit: Kit) -> None:
    iam = kit.client("iam")
    for name in role_names(kit):
        try:
            iam.get_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            kit.report("absent", "iam-role", name)
            continue
        if not kit.dry_run:
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
            iam.delete_role(RoleName=name)
        kit.report("deleted", "iam-role", name)


DB_SECRET_POLICY = "execution-role-db-secret-policy"
KMS_POLICY = "execution-role-kms-policy"


def ensure_db_secret_policy(kit: Kit) -> None:
    """With DB_CREDENTIALS=rds the execution role may read the RDS-managed secret (that one only);
    with the default (ssm) it may not, so a policy left from an earlier rds set-up is removed."""
    wanted = str(kit.vars["DB_CREDENTIALS"]).lower() == "rds"
    pending = kit.dry_run and kit.vars.get("DB_SECRET_ARN") is None
    _converge_execution_policy(
        kit,
        DB_SECRET_POLICY,
        wanted,
        "DB_CREDENTIALS is ssm",
        "secretsmanager:GetSecretValue on the RDS-managed secret",
        pending=pending,
    )


def ensure_kms_policy(kit: Kit) -> None:
    """kms:Decrypt, through SSM and Secrets Manager only, on the customer-managed keys of the secrets
    tasks read (cruddur_kit/kms.py); removed when every secret is under an AWS-managed key again."""
    keys = kit.vars["KMS_KEY_ARNS"]
    _converge_execution_policy(
        kit, KMS_POLICY, bool(keys), "no secret uses a customer-managed key", f"kms:Decrypt on {', '.join(keys)}"
    )


def _converge_execution_policy(
    kit: Kit, policy_name: str, wanted: bool, why_not: str, what: str, pending: bool = False
) -> None:
    """Put aws/json/policies/<policy_name>.json on the execution role when wanted, else delete it.
    `pending`: a dry run cannot render it yet (it names something setup has not created)."""
    iam = kit.client("iam")
    name = kit.vars["EXECUTION_ROLE_NAME"]
    label = f"{name}/{policy_name}"
    try:
        current = _doc(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
    except iam.exceptions.NoSuchEntityException:
        current = None  # no such policy, or (dry run) no role yet
    if not wanted:
        if current is not None:
            if not kit.dry_run:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            kit.report("deleted", "iam-role-policy", label, why_not)
        return
    if pending and current is None:
        kit.report("created", "iam-role-policy", label, "once the database exists")
        return
    policy = templates.render(POLICIES / f"{policy_name}.json", kit.vars)
    if current is not None and same_json(current, policy):
        kit.report("unchanged", "iam-role-policy", label)
        return
    if not kit.dry_run:
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=templates.json_text(policy))
    kit.report("created" if current is None else "updated", "iam-role-policy", label, what)
