"""The service's Cognito user pool and app client (aws/json/cognito/user-pool.json): created or adopted by
name in setup, so deploy finds their ids (config.Variables looks them up by the same names); kept by
teardown unless --include-data, since the pool holds the users."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path

from .. import REPO_ROOT, cognito, ssm
from ..errors import KitError
from ..kit import Kit
from ..output import log

ROLE_PROPAGATION_SECONDS = 60.0


def ensure_pool(kit: Kit) -> None:
    idp = kit.client("cognito-idp")
    name = cognito.spec()["userPool"]["PoolName"]
    pool, made = cognito.ensure_pool(idp, name, dry_run=kit.dry_run)
    kit.report(
        "created" if "user-pool" in made else "unchanged", "cognito-user-pool", name, pool.pool_id if pool else ""
    )
    client = cognito.spec()["userPoolClient"]["ClientName"]
    kit.report(
        "created" if "app-client" in made else "unchanged", "cognito-app-client", client, pool.client_id if pool else ""
    )


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


# --- the post-confirmation trigger (aws/json/cognito/user-pool.json "postConfirmation") -----------------------
PERMISSION_ID = "cognito-post-confirmation"


def ensure_trigger(kit: Kit, lambda_zip: Path) -> None:
    """The sign-up Lambda, its role, Cognito's permission to invoke it and the pool's PostConfirmation
    setting, once bin/cognito/build-lambda has built the zip and bin/ssm/put-params has stored CONNECTION_URL.
    Without either it says what to run and attaches nothing (the pool works; new users get their row from
    bin/cognito/sync-users instead)."""
    conf = cognito.spec().get("postConfirmation")
    if conf is None:
        return
    fn_name = conf["function"]["FunctionName"]
    if not lambda_zip.is_file():
        log(
            f"cognito: no post-confirmation trigger yet: {_shown(lambda_zip)} is not built "
            "(run bin/cognito/build-lambda, then bin/aws/setup)"
        )
        return
    url = _connection_url(kit)
    if url is None:
        log(
            f"cognito: no post-confirmation trigger yet: {_connection_url_name()} is not in SSM "
            "(run bin/ssm/put-params, then bin/aws/setup)"
        )
        return
    role_arn = _ensure_role(kit, conf["role"])
    code = lambda_zip.read_bytes()
    wanted = {
        **conf["function"],
        "Role": role_arn,
        "Environment": {"Variables": {"CONNECTION_URL": url}},
        "VpcConfig": {"SubnetIds": list(kit.vars["SUBNET_IDS"]), "SecurityGroupIds": [kit.vars["SERVICE_SG_ID"]]},
    }
    fn_arn = _ensure_function(kit, wanted, code)
    _ensure_pool_trigger(kit, fn_name, fn_arn)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _connection_url_name() -> str:
    return ssm.parameter_name(ssm.DEFAULT_PREFIX, "CONNECTION_URL")


def _connection_url(kit: Kit) -> str | None:
    """The database URL the Lambda needs (a secret: compared and passed on, never printed)."""
    client = kit.client("ssm")
    try:
        return client.get_parameter(Name=_connection_url_name(), WithDecryption=True)["Parameter"]["Value"]
    except client.exceptions.ParameterNotFound:
        return None


def _ensure_role(kit: Kit, role: dict) -> str:
    iam = kit.client("iam")
    name = role["RoleName"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": role["Service"]}, "Action": "sts:AssumeRole"}],
    }
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
        status = "unchanged"
    except iam.exceptions.NoSuchEntityException:
        arn = f"arn:aws:iam::{kit.vars['AWS_ACCOUNT_ID']}:role/{name}"
        if not kit.dry_run:
            arn = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="Cruddur's Cognito post-confirmation Lambda (bin/aws/setup)",
                Tags=[{"Key": "project", "Value": "cruddur"}],
            )["Role"]["Arn"]
        attached, status = set(), "created"
    missing = [p for p in role["ManagedPolicyArns"] if p not in attached]
    if not kit.dry_run:
        for policy in missing:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    if missing and status == "unchanged":
        status = "updated"
    policies = ", ".join(p.rsplit("/", 1)[-1] for p in role["ManagedPolicyArns"])
    kit.report(status, "iam-role", name, f"Lambda, {policies}")
    return arn


def _ensure_function(kit: Kit, wanted: dict, code: bytes) -> str:
    lam = kit.client("lambda")
    name = wanted["FunctionName"]
    try:
        current = lam.get_function_configuration(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        current = None
    if current is None:
        arn = f"arn:aws:lambda:{kit.region}:{kit.vars['AWS_ACCOUNT_ID']}:function:{name}"
        if not kit.dry_run:
            arn = _create_function(lam, {**wanted, "Code": {"ZipFile": code}})["FunctionArn"]
        kit.report("created", "lambda-function", name, f"{wanted['Runtime']}, {len(code) // 1024} KiB")
    else:
        arn = current["FunctionArn"]
        changes = []
        if current.get("CodeSha256") != base64.b64encode(hashlib.sha256(code).digest()).decode():
            changes.append("code")
            if not kit.dry_run:
                lam.update_function_code(FunctionName=name, ZipFile=code)
                lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
        config = {k: v for k, v in wanted.items() if k not in ("FunctionName", "Tags", "Architectures")}
        if _configuration_differs(current, config):
            changes.append("configuration")
            if not kit.dry_run:
                lam.update_function_configuration(FunctionName=name, **config)
        kit.report("updated" if changes else "unchanged", "lambda-function", name, ", ".join(changes))
    if not kit.dry_run:
        _allow_cognito(kit, lam, name)
    return arn


def _create_function(lam, request: dict) -> dict:
    """CreateFunction, retried while IAM has not yet propagated a role made moments ago (AWS answers
    InvalidParameterValueException "cannot be assumed by Lambda" for a few seconds)."""
    deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
    while True:
        try:
            return lam.create_function(**request)
        except lam.exceptions.InvalidParameterValueException as e:
            if "assumed" not in str(e) or time.monotonic() > deadline:
                raise KitError(f"Lambda refused {request['FunctionName']}: {e.response['Error']['Message']}") from e
            time.sleep(2)


def _configuration_differs(current: dict, wanted: dict) -> bool:
    vpc = current.get("VpcConfig") or {}
    have = {
        "Runtime": current.get("Runtime"),
        "Handler": current.get("Handler"),
        "Timeout": current.get("Timeout"),
        "MemorySize": current.get("MemorySize"),
        "Role": current.get("Role"),
        "Environment": {"Variables": (current.get("Environment") or {}).get("Variables") or {}},
        "VpcConfig": {
            "SubnetIds": sorted(vpc.get("SubnetIds") or []),
            "SecurityGroupIds": sorted(vpc.get("SecurityGroupIds") or []),
        },
    }
    want = {**wanted, "VpcConfig": {k: sorted(v) for k, v in wanted["VpcConfig"].items()}}
    return any(have.get(k) != v for k, v in want.items())


def _allow_cognito(kit: Kit, lam, name: str) -> None:
    pool_id = cognito.find_pool_id(kit.client("cognito-idp"), cognito.spec()["userPool"]["PoolName"])
    try:
        policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        policy = {"Statement": []}
    if any(s.get("Sid") == PERMISSION_ID for s in policy["Statement"]):
        return
    lam.add_permission(
        FunctionName=name,
        StatementId=PERMISSION_ID,
        Action="lambda:InvokeFunction",
        Principal="cognito-idp.amazonaws.com",
        SourceArn=f"arn:aws:cognito-idp:{kit.region}:{kit.vars['AWS_ACCOUNT_ID']}:userpool/{pool_id}",
    )


def _ensure_pool_trigger(kit: Kit, fn_name: str, fn_arn: str) -> None:
    idp = kit.client("cognito-idp")
    pool_id = cognito.find_pool_id(idp, cognito.spec()["userPool"]["PoolName"])
    current = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"] if pool_id else {}
    lambdas = current.get("LambdaConfig") or {}
    if lambdas.get("PostConfirmation") == fn_arn:
        kit.report("unchanged", "cognito-trigger", "PostConfirmation", fn_name)
        return
    if not kit.dry_run:
        # UpdateUserPool resets every setting it is not given: give the spec's (the ones it may change)
        updatable = idp.meta.service_model.operation_model("UpdateUserPool").input_shape.members
        settings = {k: v for k, v in cognito.spec()["userPool"].items() if k in updatable}
        idp.update_user_pool(UserPoolId=pool_id, **settings, LambdaConfig={**lambdas, "PostConfirmation": fn_arn})
    kit.report(
        "created" if not lambdas.get("PostConfirmation") else "updated", "cognito-trigger", "PostConfirmation", fn_name
    )


def teardown_trigger(kit: Kit, include_data: bool) -> None:
    """Detach the trigger from a kept pool, then delete the function and its role: they are not data, and the
    function sits in the service security group teardown deletes next. The next setup attaches them again."""
    conf = cognito.spec().get("postConfirmation")
    if conf is None:
        return
    lam, iam, idp = kit.client("lambda"), kit.client("iam"), kit.client("cognito-idp")
    name, role = conf["function"]["FunctionName"], conf["role"]["RoleName"]
    pool_id = None if include_data else cognito.find_pool_id(idp, cognito.spec()["userPool"]["PoolName"])
    lambdas = (idp.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("LambdaConfig") or {}) if pool_id else {}
    if lambdas.get("PostConfirmation", "").endswith(f":function:{name}"):
        if not kit.dry_run:
            updatable = idp.meta.service_model.operation_model("UpdateUserPool").input_shape.members
            settings = {k: v for k, v in cognito.spec()["userPool"].items() if k in updatable}
            rest = {k: v for k, v in lambdas.items() if k != "PostConfirmation"}
            idp.update_user_pool(UserPoolId=pool_id, **settings, LambdaConfig=rest)
        kit.report("deleted", "cognito-trigger", "PostConfirmation", "detached from the kept pool")
    if _function_exists(lam, name):
        if not kit.dry_run:
            lam.delete_function(FunctionName=name)
        kit.report("deleted", "lambda-function", name)
    else:
        kit.report("absent", "lambda-function", name)
    try:
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    except iam.exceptions.NoSuchEntityException:
        kit.report("absent", "iam-role", role)
        return
    if not kit.dry_run:
        for policy in attached:
            iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
        iam.delete_role(RoleName=role)
    kit.report("deleted", "iam-role", role)


def _function_exists(lam, name: str) -> bool:
    try:
        lam.get_function_configuration(FunctionName=name)
        return True
    except lam.exceptions.ResourceNotFoundException:
        return False


def remaining_trigger(kit: Kit) -> list[tuple[str, str]]:
    conf = cognito.spec().get("postConfirmation")
    if conf is None:
        return []
    found = []
    if _function_exists(kit.client("lambda"), conf["function"]["FunctionName"]):
        found.append(("lambda-function", conf["function"]["FunctionName"]))
    iam = kit.client("iam")
    try:
        iam.get_role(RoleName=conf["role"]["RoleName"])
        found.append(("iam-role", conf["role"]["RoleName"]))
    except iam.exceptions.NoSuchEntityException:
        pass
    return found
