"""The deploy kit's remaining paths, as processes against a fresh emulator (moto server over HTTP):
the RDS database (`bin/aws/setup --with-database`, teardown keeping or deleting it), the database login
from the RDS-managed secret in Secrets Manager (DB_CREDENTIALS=rds), a missing template variable named
by the script that needs it, and the X-Ray sampling rules."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config

from cruddur_kit import REPO_ROOT
from cruddur_kit.local import moto as motolib

REGION = "us-east-1"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7,
            "digest": "sha256:" + "c" * 64,
        },
        "layers": [],
    }
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """Our own moto server (reset per test), so the session's shared one is never disturbed."""
    server = motolib.MotoServer(
        port=motolib.free_port(), log_path=tmp_path_factory.mktemp("moto-gaps") / "moto.log"
    ).start()
    yield server
    server.stop()


@pytest.fixture
def env(emulator):
    emulator.reset()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL", "OTEL_", "PG", "DB_"))}
    return {**base, **motolib.DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": emulator.endpoint, "AWS_DEFAULT_REGION": REGION}


def client(env, service):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def run(env, script, *args, extra=None, timeout=120):
    return subprocess.run(
        [str(REPO_ROOT / "bin" / script), *args],
        env={**env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def lines(stdout: str, kind: str | None = None) -> list[tuple[str, str, str]]:
    """(status, kind, name) of each resource line, optionally of one kind."""
    found = [tuple(line.split()[:3]) for line in stdout.splitlines() if line.strip()]
    return [f for f in found if kind is None or f[1] == kind]


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# -- 1. the database ------------------------------------------------------------------------------


def test_with_database_converges_then_teardown_keeps_it_or_deletes_it(env):
    first = ok(run(env, "aws/setup", "--with-database"))
    assert lines(first.stdout, "db-subnet-group") == [("created", "db-subnet-group", "cruddur-db-subnets")]
    assert lines(first.stdout, "rds-instance") == [("created", "rds-instance", "cruddur-db")]
    # moto implements traces but not X-Ray sampling rules: setup says so on stderr and goes on
    assert "the local emulator has no X-Ray sampling-rule API" in first.stderr

    rds, ec2 = client(env, "rds"), client(env, "ec2")
    db = rds.describe_db_instances(DBInstanceIdentifier="cruddur-db")["DBInstances"][0]
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert (
        db["Engine"],
        db["StorageEncrypted"],
        db["BackupRetentionPeriod"],
        db["DeletionProtection"],
        db["PubliclyAccessible"],
    ) == ("postgres", True, 7, True, False)
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [groups["cruddur-db-sg"]["GroupId"]]
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "cruddur-db-subnets"
    assert len({s["SubnetAvailabilityZone"]["Name"] for s in db["DBSubnetGroup"]["Subnets"]}) >= 2
    # 5432 from the service group only, no CIDR
    assert groups["cruddur-db-sg"]["IpPermissions"] == [
        {
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "IpRanges": [],
            "Ipv6Ranges": [],
            "PrefixListIds": [],
            "UserIdGroupPairs": [{"GroupId": groups["cruddur-srv-sg"]["GroupId"], "UserId": "123456789012"}],
        }
    ]
    # ManageMasterUserPassword: moto (5.x) implements it like RDS: a secret named rds!db-..., JSON with
    # username and password, its ARN in MasterUserSecret; no password is in any spec or output. (moto
    # writes "admin" as the username where RDS writes MasterUsername, so the value is not compared.)
    secret = db["MasterUserSecret"]["SecretArn"]
    assert ":secretsmanager:us-east-1:123456789012:secret:rds!db-" in secret
    value = json.loads(client(env, "secretsmanager").get_secret_value(SecretId=secret)["SecretString"])
    assert set(value) == {"username", "password"} and value["password"] not in first.stdout + first.stderr

    second = ok(run(env, "aws/setup", "--with-database"))
    assert {status for status, _, _ in lines(second.stdout)} == {"unchanged"}
    assert len(lines(second.stdout)) == len(lines(first.stdout))

    # drift in what keeps the data safe is repaired and reported
    rds.modify_db_instance(
        DBInstanceIdentifier="cruddur-db", DeletionProtection=False, BackupRetentionPeriod=1, ApplyImmediately=True
    )
    third = ok(run(env, "aws/setup", "--with-database"))
    assert lines(third.stdout, "rds-instance") == [("updated", "rds-instance", "cruddur-db")]
    assert "(BackupRetentionPeriod, DeletionProtection)" in third.stdout
    db = rds.describe_db_instances(DBInstanceIdentifier="cruddur-db")["DBInstances"][0]
    assert (db["DeletionProtection"], db["BackupRetentionPeriod"]) == (True, 7)

    # why teardown turns protection off first: RDS (and moto) refuse to delete a protected instance
    with pytest.raises(rds.exceptions.ClientError, match="deletion protection"):
        rds.delete_db_instance(DBInstanceIdentifier="cruddur-db", SkipFinalSnapshot=True)

    kept = ok(run(env, "aws/teardown", "--yes"))
    assert {(s, k, n) for s, k, n in lines(kept.stdout) if s == "kept"} >= {
        ("kept", "rds-instance", "cruddur-db"),
        ("kept", "db-subnet-group", "cruddur-db-subnets"),
        ("kept", "security-group", "cruddur-db-sg"),
        ("kept", "dynamodb-table", "cruddur-messages"),
    }
    assert "remains" not in kept.stdout
    assert rds.describe_db_instances(DBInstanceIdentifier="cruddur-db")["DBInstances"][0]["DeletionProtection"]

    gone = ok(run(env, "aws/teardown", "--yes", "--include-data"))
    assert ("deleted", "rds-instance", "cruddur-db") in lines(gone.stdout)
    assert ("deleted", "db-subnet-group", "cruddur-db-subnets") in lines(gone.stdout)
    assert ("deleted", "security-group", "cruddur-db-sg") in lines(gone.stdout)
    assert "waiting for rds-instance cruddur-db to be deleted" in gone.stderr
    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == []
    assert [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]] == ["cruddur-db-final"]
    assert [
        g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"].startswith("cruddur")
    ] == []
    again = ok(run(env, "aws/teardown", "--yes", "--include-data"))
    assert ("absent", "rds-instance", "cruddur-db") in lines(again.stdout)


# -- 2. the login from Secrets Manager -----------------------------------------------------------------

APP = {"AWS_COGNITO_USER_POOL_ID": f"{REGION}_test", "AWS_COGNITO_USER_POOL_CLIENT_ID": "testclient"}


def registered_container(env) -> dict:
    ecs = client(env, "ecs")
    td = ecs.describe_task_definition(taskDefinition="backend-flask")["taskDefinition"]
    return next(c for c in td["containerDefinitions"] if c["name"] == "backend-flask")


def test_rds_credentials_reach_the_task_from_the_managed_secret(env):
    rds_mode = {**APP, "DB_CREDENTIALS": "rds"}
    first = ok(run(env, "aws/setup", "--with-database", extra=rds_mode))
    label = "CruddurServiceExecutionRole/execution-role-db-secret-policy"
    assert ("created", "iam-role-policy", label) in lines(first.stdout)
    secret = client(env, "rds").describe_db_instances(DBInstanceIdentifier="cruddur-db")["DBInstances"][0][
        "MasterUserSecret"
    ]["SecretArn"]
    iam = client(env, "iam")
    policy = iam.get_role_policy(RoleName="CruddurServiceExecutionRole", PolicyName="execution-role-db-secret-policy")[
        "PolicyDocument"
    ]
    assert policy["Statement"] == [
        {
            "Sid": "ReadTheDatabaseSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret,
        }
    ]
    assert ("unchanged", "iam-role-policy", label) in lines(ok(run(env, "aws/setup", extra=rds_mode)).stdout)

    client(env, "ecr").put_image(repositoryName="backend-flask", imageTag="feed1234", imageManifest=MANIFEST)
    ok(run(env, "backend/deploy", "--tag", "feed1234", "--no-wait", extra=rds_mode))
    container = registered_container(env)
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets == {
        "PGUSER": f"{secret}:username::",
        "PGPASSWORD": f"{secret}:password::",
    }  # the Honeycomb key: the sidecar's
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["PGHOST"] == "cruddur-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com"  # moto's endpoint
    assert (environment["PGPORT"], environment["PGDATABASE"], environment["PGSSLMODE"]) == (
        "5432",
        "cruddur",
        "require",
    )
    assert environment["OTEL_PYTHON_FLASK_EXCLUDED_URLS"] == "api/health-check"

    # back to the default: the task reads CONNECTION_URL from SSM and the role loses the secret
    back = ok(run(env, "aws/setup", extra=APP))
    assert ("deleted", "iam-role-policy", label) in lines(back.stdout)
    assert iam.list_role_policies(RoleName="CruddurServiceExecutionRole")["PolicyNames"] == ["execution-role-policy"]
    ok(run(env, "backend/deploy", "--tag", "feed1234", "--no-wait", extra=APP))
    assert {s["name"] for s in registered_container(env)["secrets"]} == {"CONNECTION_URL"}


def test_rds_credentials_without_a_database_name_what_is_missing(env):
    ok(run(env, "aws/setup", extra=APP))
    client(env, "ecr").put_image(repositoryName="backend-flask", imageTag="feed1234", imageManifest=MANIFEST)
    result = run(env, "backend/deploy", "--tag", "feed1234", "--no-wait", extra={**APP, "DB_CREDENTIALS": "rds"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[1:] == [  # after lint's verdict on the specs
        "error: aws/json/db-credentials/backend-flask.json needs ${DB_SECRET_ARN}, ${DB_HOST}, ${DB_PORT}, "
        "${DB_NAME}: run bin/aws/setup --with-database (or set it in the environment)"
    ]
    assert client(env, "ecs").list_task_definitions()["taskDefinitionArns"] == []
    unknown = run(env, "backend/deploy", "--tag", "feed1234", "--no-wait", extra={**APP, "DB_CREDENTIALS": "vault"})
    assert unknown.returncode == 1 and "DB_CREDENTIALS='vault' is not known" in unknown.stderr


# -- 3. a missing variable, as a process ---------------------------------------------------------------


def test_a_missing_variable_stops_deploy_with_its_name(env):
    """No Cognito pool in the account (setup made one; it was deleted by hand since) and none named in the
    environment: the real task definition's ${AWS_COGNITO_USER_POOL_ID} has no value, and deploy stops before
    registering anything."""
    ok(run(env, "aws/setup"))
    idp = client(env, "cognito-idp")
    for pool in idp.list_user_pools(MaxResults=60)["UserPools"]:
        idp.delete_user_pool(UserPoolId=pool["Id"])
    client(env, "ecr").put_image(repositoryName="backend-flask", imageTag="feed1234", imageManifest=MANIFEST)
    result = run(env, "backend/deploy", "--tag", "feed1234", "--no-wait")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[1:] == [
        "error: aws/json/task-definitions/backend-flask.json needs ${AWS_COGNITO_USER_POOL_ID}, "
        "${AWS_COGNITO_USER_POOL_CLIENT_ID}: run bin/aws/setup (it creates the Cognito user pool and app client) "
        "or export the ids"
    ]
    assert result.stdout == ""
    assert client(env, "ecs").list_task_definitions()["taskDefinitionArns"] == []


# -- 4. X-Ray sampling rules -----------------------------------------------------------------------------


class FakeXRay(BaseHTTPRequestHandler):
    """The four sampling-rule operations of the X-Ray REST API, shaped after the API reference.

    moto (5.x) implements X-Ray traces but not sampling rules (its server answers 404 to
    /GetSamplingRules), so this stands in for that one part of the emulator; every other service the
    scripts call is still moto. The scripts reach it through AWS_ENDPOINT_URL_XRAY (botocore's
    per-service endpoint variable)."""

    rules: dict = {}
    calls: list = []

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body: dict, error: str | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, rule):
        return {"SamplingRule": rule, "CreatedAt": 1.7e9, "ModifiedAt": 1.7e9}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        op = self.path.strip("/")
        self.calls.append(op)
        if op == "GetSamplingRules":
            return self._reply(200, {"SamplingRuleRecords": [self._record(r) for r in self.rules.values()]})
        if op == "CreateSamplingRule":
            rule = dict(body["SamplingRule"])
            if rule["RuleName"] in self.rules:
                return self._reply(400, {"message": "rule exists"}, "InvalidRequestException")
            rule["RuleARN"] = f"arn:aws:xray:{REGION}:123456789012:sampling-rule/{rule['RuleName']}"
            self.rules[rule["RuleName"]] = rule
            return self._reply(200, {"SamplingRuleRecord": self._record(rule)})
        if op == "UpdateSamplingRule":
            update = body["SamplingRuleUpdate"]
            rule = self.rules.get(update["RuleName"])
            if rule is None:
                return self._reply(400, {"message": "no such rule"}, "InvalidRequestException")
            rule.update(update)
            return self._reply(200, {"SamplingRuleRecord": self._record(rule)})
        if op == "DeleteSamplingRule":
            rule = self.rules.pop(body["RuleName"], None)
            if rule is None:
                return self._reply(400, {"message": "no such rule"}, "InvalidRequestException")
            return self._reply(200, {"SamplingRuleRecord": self._record(rule)})
        return self._reply(404, {"message": f"unknown operation {op}"}, "UnknownOperationException")


@pytest.fixture
def xray():
    FakeXRay.rules = {
        "Default": {
            "RuleName": "Default",
            "RuleARN": f"arn:aws:xray:{REGION}::sampling-rule/Default",
            "ResourceARN": "*",
            "Priority": 10000,
            "FixedRate": 0.05,
            "ReservoirSize": 1,
            "ServiceName": "*",
            "ServiceType": "*",
            "Host": "*",
            "HTTPMethod": "*",
            "URLPath": "*",
            "Version": 1,
            "Attributes": {},
        }
    }
    FakeXRay.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeXRay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_setup_applies_the_sampling_rules_and_teardown_deletes_them(env, xray):
    extra = {"AWS_ENDPOINT_URL_XRAY": xray}
    files = sorted((REPO_ROOT / "aws/json/xray").glob("*.json"))
    wanted = {
        json.loads(p.read_text())["SamplingRule"]["RuleName"]: json.loads(p.read_text())["SamplingRule"] for p in files
    }
    assert set(wanted) == {"Cruddur", "CruddurHealthCheck"}

    first = ok(run(env, "aws/setup", extra=extra))
    assert sorted(lines(first.stdout, "xray-sampling-rule")) == [
        ("created", "xray-sampling-rule", "Cruddur"),
        ("created", "xray-sampling-rule", "CruddurHealthCheck"),
    ]
    for name, rule in wanted.items():
        assert {k: FakeXRay.rules[name][k] for k in rule} == rule
    health = FakeXRay.rules["CruddurHealthCheck"]
    assert (health["URLPath"], health["FixedRate"], health["ReservoirSize"]) == ("/api/health-check", 0, 0)
    assert health["Priority"] < FakeXRay.rules["Cruddur"]["Priority"]  # evaluated first

    second = ok(run(env, "aws/setup", extra=extra))
    assert {s for s, _, _ in lines(second.stdout)} == {"unchanged"}
    assert len(lines(second.stdout, "xray-sampling-rule")) == 2

    FakeXRay.rules["Cruddur"]["FixedRate"] = 0.5  # changed in the console
    third = ok(run(env, "aws/setup", extra=extra))
    assert sorted(lines(third.stdout, "xray-sampling-rule")) == [
        ("unchanged", "xray-sampling-rule", "CruddurHealthCheck"),
        ("updated", "xray-sampling-rule", "Cruddur"),
    ]
    assert "(FixedRate)" in third.stdout and FakeXRay.rules["Cruddur"]["FixedRate"] == 0.1

    gone = ok(run(env, "aws/teardown", "--yes", "--include-data", extra=extra))
    assert sorted(lines(gone.stdout, "xray-sampling-rule")) == [
        ("deleted", "xray-sampling-rule", "Cruddur"),
        ("deleted", "xray-sampling-rule", "CruddurHealthCheck"),
    ]
    assert list(FakeXRay.rules) == ["Default"]  # AWS's own rule is not ours to delete
    again = ok(run(env, "aws/teardown", "--yes", "--include-data", extra=extra))
    assert {s for s, k, _ in lines(again.stdout) if k == "xray-sampling-rule"} == {"absent"}


# -- 5. secrets under a customer-managed KMS key ----------------------------------------------------

SECRETS = {"CONNECTION_URL": "postgresql://u:p@db:5432/cruddur", "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=k"}
KMS_LABEL = "CruddurServiceExecutionRole/execution-role-kms-policy"


def test_setup_grants_decrypt_on_the_customer_key_of_the_secrets_and_takes_it_back(env):
    kms = client(env, "kms")
    key = kms.create_key(Description="cruddur secrets")["KeyMetadata"]
    kms.create_alias(AliasName="alias/cruddur-secrets", TargetKeyId=key["KeyId"])
    iam = client(env, "iam")
    ok(run(env, "ssm/put-params", extra=SECRETS))
    ok(run(env, "aws/setup", extra=APP))  # the AWS-managed aws/ssm key needs no grant
    assert iam.list_role_policies(RoleName="CruddurServiceExecutionRole")["PolicyNames"] == ["execution-role-policy"]

    put = ok(run(env, "ssm/put-params", "--kms-key-id", "alias/cruddur-secrets", extra=SECRETS))
    assert [status for status, _, _ in lines(put.stdout)] == ["updated", "updated", "updated"]  # same values, new key
    assert "bin/aws/setup" in put.stderr and SECRETS["CONNECTION_URL"] not in put.stdout + put.stderr
    first = ok(run(env, "aws/setup", extra=APP))
    assert ("created", "iam-role-policy", KMS_LABEL) in lines(first.stdout)
    (statement,) = iam.get_role_policy(RoleName="CruddurServiceExecutionRole", PolicyName="execution-role-kms-policy")[
        "PolicyDocument"
    ]["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("kms:Decrypt", [key["Arn"]])  # the key, not the alias
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"ssm.{REGION}.amazonaws.com", f"secretsmanager.{REGION}.amazonaws.com"]}
    }
    assert ("unchanged", "iam-role-policy", KMS_LABEL) in lines(ok(run(env, "aws/setup", extra=APP)).stdout)

    back = ok(run(env, "ssm/put-params", extra=SECRETS))  # re-encrypted under aws/ssm
    assert [status for status, _, _ in lines(back.stdout)] == ["updated", "updated", "updated"]
    assert ("deleted", "iam-role-policy", KMS_LABEL) in lines(ok(run(env, "aws/setup", extra=APP)).stdout)
    assert iam.list_role_policies(RoleName="CruddurServiceExecutionRole")["PolicyNames"] == ["execution-role-policy"]


def test_setup_grants_decrypt_on_the_database_secrets_customer_key(env):
    kms = client(env, "kms")
    key = kms.create_key(Description="cruddur database secret")["KeyMetadata"]
    secret = client(env, "secretsmanager").create_secret(
        Name="rds!db-elsewhere", SecretString="{}", KmsKeyId=key["Arn"]
    )["ARN"]
    rds_mode = {**APP, "DB_CREDENTIALS": "rds", "DB_SECRET_ARN": secret}
    first = ok(run(env, "aws/setup", extra=rds_mode))
    assert ("created", "iam-role-policy", KMS_LABEL) in lines(first.stdout)
    policy = client(env, "iam").get_role_policy(
        RoleName="CruddurServiceExecutionRole", PolicyName="execution-role-kms-policy"
    )["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Resource"] == [key["Arn"]]


def test_setup_names_a_key_it_cannot_describe(env):
    ok(run(env, "ssm/put-params", extra=SECRETS))
    ssm = client(env, "ssm")
    ssm.put_parameter(
        Name="/cruddur/backend-flask/CONNECTION_URL",
        Value=SECRETS["CONNECTION_URL"],
        Type="SecureString",
        KeyId="alias/no-such-key",
        Overwrite=True,
    )
    result = run(env, "aws/setup", extra=APP)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "cannot describe KMS key alias/no-such-key" in result.stderr and "KMS_KEY_ARNS" in result.stderr


def test_the_parameters_a_policy_resource_names_are_matched_as_iam_matches_them(env):
    from cruddur_kit import kms as kmslib

    ssm = client(env, "ssm")
    for name, key in (
        ("/cruddur/backend-flask/A", "alias/a"),
        ("/cruddur/backend-flask/sub/D", "alias/d"),
        ("/cruddur/backend-flask-old/E", "alias/e"),
        ("/other/B", "alias/aws/ssm"),
    ):
        ssm.put_parameter(Name=name, Value="v", Type="SecureString", KeyId=key)
    ssm.put_parameter(Name="/cruddur/backend-flask/PLAIN", Value="v", Type="String")
    arn = f"arn:aws:ssm:{REGION}:123456789012:parameter"
    assert kmslib.parameter_key_ids(ssm, [f"{arn}/cruddur/backend-flask/*"]) == {
        "/cruddur/backend-flask/A": "alias/a",
        "/cruddur/backend-flask/sub/D": "alias/d",
    }  # * spans folders
    assert kmslib.parameter_key_ids(ssm, [f"{arn}/cruddur/backend-flask*"]) == {
        "/cruddur/backend-flask/A": "alias/a",
        "/cruddur/backend-flask/sub/D": "alias/d",
        "/cruddur/backend-flask-old/E": "alias/e",
    }
    assert kmslib.parameter_key_ids(ssm, [f"{arn}/other/B", "arn:aws:ecr:us-east-1:1:repository/x"]) == {
        "/other/B": "alias/aws/ssm"
    }
    assert set(kmslib.parameter_key_ids(ssm, ["*"])) == {
        "/cruddur/backend-flask/A",
        "/cruddur/backend-flask/sub/D",
        "/cruddur/backend-flask-old/E",
        "/other/B",
    }
