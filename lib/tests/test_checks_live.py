"""bin/ecs/verify, doctor and diff against a real account shape in the emulator, built by the real
bin/aws/setup and bin/ssm/put-params; then the live half of the fault catalogue (lib/tests/faults/live):
each fault mutates the emulator's state (and is undone), or — where moto cannot produce the state
(a stopped task's reason and exit code, a target's health reason) — stubs that one response with the
real API's shape, as the fault file says in its "_why"."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from cruddur_kit import REPO_ROOT, config as configlib, spec as speclib, templates
from cruddur_kit.aws import ReadOnlyViolation
from cruddur_kit.checks.doctor import doctor
from cruddur_kit.checks.model import Status
from cruddur_kit.checks.verify import verify
from cruddur_kit.ecs import deploy as deploylib
from cruddur_kit.kit import Kit
from cruddur_kit.local import moto as motolib

REGION = "us-east-1"
TAG = "c0ffee1"
FAULTS = sorted((Path(__file__).parent / "faults" / "live").glob("*.json"))
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                                  "digest": "sha256:" + "b" * 64}, "layers": []})


def _client(endpoint: str, name: str):
    return boto3.client(name, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


def _run(env, script, *args, extra=None):
    return subprocess.run([str(REPO_ROOT / "bin" / script), *args], env={**env, **(extra or {})}, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """setup + secrets + images + the backend-flask service deployed from the specs, in our own emulator."""
    server = motolib.MotoServer(port=motolib.free_port(), env={},
                                log_path=tmp_path_factory.mktemp("moto-checks") / "moto.log").start()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL", "OTEL_"))}
    env = {**base, **motolib.DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint, "AWS_DEFAULT_REGION": REGION,
           "AWS_COGNITO_USER_POOL_ID": f"{REGION}_checks", "AWS_COGNITO_USER_POOL_CLIENT_ID": "checksclient",
           "FRONTEND_URL": "http://localhost:3000", "BACKEND_URL": "http://localhost:4567", "IMAGE_TAG": TAG}
    try:
        setup = _run(env, "aws/setup")
        assert setup.returncode == 0, setup.stderr
        params = _run(env, "ssm/put-params", extra={"CONNECTION_URL": "postgresql://u:p@db:5432/cruddur",
                                                    "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=k"})
        assert params.returncode == 0, params.stderr
        c = lambda name: _client(server.endpoint, name)  # noqa: E731
        # A customer-managed key the faults can move a secret under (lib/tests/faults/live/*kms*).
        key = c("kms").create_key(Description="cruddur secrets (tests)")["KeyMetadata"]
        c("kms").create_alias(AliasName="alias/cruddur-secrets", TargetKeyId=key["KeyId"])
        igw = _real_default_vpc(c("ec2"))
        for repo in ("backend-flask", "frontend-react-js"):
            c("ecr").put_image(repositoryName=repo, imageManifest=MANIFEST, imageTag=TAG)
        variables = configlib.Variables(env=env, client_factory=c)
        s = speclib.get("backend-flask")
        pinned = deploylib.pin_images(c("ecr"), speclib.task_definition(s, variables), "123456789012", REGION)
        td = c("ecs").register_task_definition(**pinned)["taskDefinition"]  # as bin/backend/deploy registers it
        sd = speclib.service_definition(s, variables)
        sd.pop("serviceConnectConfiguration", None)  # moto has no Service Connect
        sd["taskDefinition"] = td["taskDefinitionArn"]
        c("ecs").create_service(**sd)
        tg_arn = variables.for_service(s)["TARGET_GROUP_ARN"]
        c("elbv2").register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": "172.31.0.10", "Port": 4567}])
        iam = c("iam")
        facts = {
            "ALB_SG_ID": variables["ALB_SG_ID"], "SERVICE_SG_ID": variables["SERVICE_SG_ID"],
            "TARGET_GROUP_ARN": tg_arn, "SUBNET_IDS": variables["SUBNET_IDS"], "IMAGE_TAG": TAG,
            "MANIFEST": MANIFEST, "IGW_ID": igw, "MAIN_ROUTE_TABLE_ID": _main_route_table(c("ec2")),
            "EXEC_POLICY": json.dumps(iam.get_role_policy(RoleName="CruddurServiceExecutionRole",
                                                          PolicyName="execution-role-policy")["PolicyDocument"]),
            "TASK_TRUST": json.dumps(iam.get_role(RoleName="CruddurTaskRole")["Role"]["AssumeRolePolicyDocument"]),
            "TASK_POLICY": json.dumps(iam.get_role_policy(RoleName="CruddurTaskRole",
                                                          PolicyName="task-role-policy")["PolicyDocument"]),
        }
        yield {"server": server, "env": env, "facts": facts, "client": c}
    finally:
        server.stop()


def _main_route_table(ec2) -> str:
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0][
        "RouteTableId"]


def _real_default_vpc(ec2) -> str:
    """The default VPC's internet gateway: the emulator's default VPC has one and a default route to it, as a
    real account's has (lib/cruddur_kit/local/emulator/default_vpc.py)."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    [igw] = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    return igw["InternetGatewayId"]


@pytest.fixture
def live_env(world, monkeypatch):
    """The world's environment in this process, for the in-process runs (stubs need the client objects)."""
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(k)
    for k, v in world["env"].items():
        if k.startswith("AWS_") or k in ("IMAGE_TAG", "FRONTEND_URL", "BACKEND_URL"):
            monkeypatch.setenv(k, v)
    return world


def _kit(world, **flags) -> Kit:
    """A read-only command's context, as bin/ecs/verify and doctor build it, on the world's emulator."""
    return Kit(read_only=True, make_client=lambda name: _client(world["server"].endpoint, name), **flags)


def _stub(kit: Kit, stubs: dict) -> None:
    """Answer named operations with a canned response of the real API's shape (what botocore's Stubber does)."""
    for service, ops in stubs.items():
        if service.startswith("_"):
            continue
        client = kit.client(service)
        event_service = client.meta.service_model.service_id.hyphenize()
        for op, parsed in ops.items():
            if op.startswith("_"):
                continue
            response = (AWSResponse("https://stub.invalid", 200, {}, None), parsed)
            client.meta.events.register_first(f"before-call.{event_service}.{op}",
                                              lambda response=response, **kw: response)


def _apply(world, calls) -> None:
    facts = {**world["facts"], "NOW_MS": int(time.time() * 1000)}
    for call in calls:
        args = templates.render(call["args"], facts)
        getattr(world["client"](call["service"]), call["op"])(**args)


def test_verify_good_world_has_no_ng_and_few_calls(world):
    result = _run(world["env"], "ecs/verify", "--json")
    report = json.loads(result.stdout)
    problems = [f for f in report["findings"] if f["status"] in ("NG", "WARN")]
    assert problems == [] and result.returncode == 0, problems
    assert report["summary"]["OK"] >= 12
    # bounded and batched: a constant handful per resource kind, not one call per rule
    assert report["stats"]["aws_calls"] <= 35, report["stats"]["calls"]


def test_doctor_good_world_finds_no_cause(world):
    result = _run(world["env"], "ecs/doctor", "--service", "backend-flask", "--json")
    report = json.loads(result.stdout)
    problems = [f for f in report["findings"] if f["status"] in ("NG", "WARN")]
    assert problems == [] and result.returncode == 0, problems


def test_diff_is_empty_when_equal_and_shows_the_change(world):
    # registered from the same file: equal once both sides are normalised (ECS fills defaults on its side)
    same = _run(world["env"], "ecs/diff", "--service", "backend-flask", "--only", "task-definition")
    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout == ""
    other = _run(world["env"], "ecs/diff", "--service", "backend-flask", "--tag", "d1ff001",
                 "--only", "task-definition")
    assert other.returncode == 1
    digest = world["client"]("ecr").describe_images(repositoryName="backend-flask", imageIds=[{"imageTag": TAG}])[
        "imageDetails"][0]["imageDigest"]
    assert f'-      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask@{digest}"' in other.stdout
    assert '+      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:d1ff001"' in other.stdout


def test_verify_names_a_re_pushed_tag_and_an_image_run_by_tag(live_env):
    ecr, ecs = live_env["client"]("ecr"), live_env["client"]("ecs")
    pinned = ecr.describe_images(repositoryName="backend-flask", imageIds=[{"imageTag": TAG}])["imageDetails"][0]
    subject = "service cruddur/backend-flask container backend-flask"

    def deployed_findings():
        return [f for f in verify(_kit(live_env, services=("backend-flask",))).findings
                if f.check == "image.deployed" and f.subject == subject]

    [ok] = deployed_findings()
    assert ok.status == Status.OK  # the service pins the digest the tag names
    rebuilt = json.loads(MANIFEST)
    rebuilt["config"]["digest"] = "sha256:" + "c" * 64
    ecr.put_image(repositoryName="backend-flask", imageManifest=json.dumps(rebuilt), imageTag=TAG)
    try:
        moved = ecr.describe_images(repositoryName="backend-flask", imageIds=[{"imageTag": TAG}])["imageDetails"][0]
        [drift] = deployed_findings()
        assert (drift.status, drift.cause) == (Status.WARN, "image.drift")
        assert drift.message == (f"backend-flask:1 pins {pinned['imageDigest']}, but the spec's image names "
                                 f"{moved['imageDigest']} now (its tag was re-pushed, or the service runs another "
                                 "build)")
        # the pinned image expired (untagged, past the lifecycle policy's 7 days): new tasks could not pull it
        ecr.batch_delete_image(repositoryName="backend-flask", imageIds=[{"imageDigest": pinned["imageDigest"]}])
        [gone] = deployed_findings()
        assert (gone.status, gone.cause) == (Status.NG, "image.missing")
        assert f"pins {pinned['imageDigest']}, which ECR no longer holds" in gone.message
    finally:
        ecr.put_image(repositoryName="backend-flask", imageManifest=MANIFEST, imageTag=TAG)
    svc = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    by_tag = {k: td[k] for k in ("family", "containerDefinitions", "networkMode", "requiresCompatibilities", "cpu",
                                 "memory", "executionRoleArn", "taskRoleArn")}
    by_tag["containerDefinitions"] = [{**c, "image": c["image"].split("@")[0] + f":{TAG}"}
                                      if c["name"] == "backend-flask" else c for c in td["containerDefinitions"]]
    unpinned = ecs.register_task_definition(**by_tag)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="cruddur", service="backend-flask", taskDefinition=unpinned)
    try:
        [by_tag_finding] = deployed_findings()
        assert (by_tag_finding.status, by_tag_finding.cause) == (Status.WARN, "image.unpinned")
        assert f"runs backend-flask:{TAG} by tag" in by_tag_finding.message
    finally:
        ecs.update_service(cluster="cruddur", service="backend-flask", taskDefinition=svc["taskDefinition"])


def test_verify_checks_the_tracing_sidecar_of_the_revision_that_runs(live_env):
    ecs = live_env["client"]("ecs")
    subject = lambda revision: f"task definition {revision} (service backend-flask)"  # noqa: E731

    def findings(revision):
        return [f for f in verify(_kit(live_env, services=("backend-flask",))).findings
                if f.check == "tracing.deployed" and f.subject == subject(revision)]

    svc = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    running = svc["taskDefinition"].rsplit("/", 1)[-1]
    assert [f.status for f in findings(running)] == [Status.OK]  # the revision registered from the specs
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    by_hand = {k: td[k] for k in ("family", "networkMode", "requiresCompatibilities", "cpu", "memory",
                                  "executionRoleArn", "taskRoleArn")}
    app = next(c for c in td["containerDefinitions"] if c["name"] == "backend-flask")
    by_hand["containerDefinitions"] = [c for c in td["containerDefinitions"] if c is not app] + [{
        **app, "environment": [e if e["name"] != "OTEL_EXPORTER_OTLP_ENDPOINT" else
                               {"name": e["name"], "value": "https://api.honeycomb.io"} for e in app["environment"]],
        "secrets": app["secrets"] + [{"name": "OTEL_EXPORTER_OTLP_HEADERS",
                                      "valueFrom": "/cruddur/backend-flask/OTEL_EXPORTER_OTLP_HEADERS"}]}]
    arn = ecs.register_task_definition(**by_hand)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="cruddur", service="backend-flask", taskDefinition=arn)
    try:
        found = findings(arn.rsplit("/", 1)[-1])
    finally:
        ecs.update_service(cluster="cruddur", service="backend-flask", taskDefinition=svc["taskDefinition"])
    messages = sorted(f.message for f in found if f.status == Status.NG)
    assert len(messages) == 2, [f.to_dict() for f in found]
    assert messages[0].startswith("OTEL_EXPORTER_OTLP_ENDPOINT=https://api.honeycomb.io bypasses the collector")
    assert messages[1].startswith("backend-flask reads the Honeycomb key (OTEL_EXPORTER_OTLP_HEADERS)")


def test_service_diff_is_empty_for_the_service_as_deployed_and_names_a_live_change(world):
    # ECS keeps every setting the spec gives and answers with its defaults filled (strategy ROLLING, alarms
    # off): diff must not report those as changes
    same = _run(world["env"], "ecs/diff", "--service", "backend-flask", "--only", "service")
    assert (same.returncode, same.stdout) == (0, ""), same.stdout + same.stderr
    ecs = world["client"]("ecs")
    ecs.update_service(cluster="cruddur", service="backend-flask", healthCheckGracePeriodSeconds=30)
    try:
        result = _run(world["env"], "ecs/diff", "--service", "backend-flask", "--only", "service")
    finally:
        ecs.update_service(cluster="cruddur", service="backend-flask", healthCheckGracePeriodSeconds=90)
    assert result.returncode == 1
    assert '-  "healthCheckGracePeriodSeconds": 30,' in result.stdout
    assert '+  "healthCheckGracePeriodSeconds": 90,' in result.stdout
    assert '"desiredCount"' not in "".join(line for line in result.stdout.splitlines() if line.startswith(("+", "-")))


def test_read_only_guard_refuses_writes_and_secret_values(live_env):
    kit = _kit(live_env)
    with pytest.raises(ReadOnlyViolation, match="ec2:CreateSecurityGroup"):
        kit.client("ec2").create_security_group(GroupName="should-not-exist", Description="x")
    with pytest.raises(ReadOnlyViolation, match="ssm:GetParameters"):
        kit.client("ssm").get_parameters(Names=["/cruddur/backend-flask/CONNECTION_URL"], WithDecryption=True)
    groups = live_env["client"]("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["should-not-exist"]}])["SecurityGroups"]
    assert groups == []  # refused before anything was sent
    assert kit.clients.total == 0


def test_verify_never_prints_a_secret_value(world):
    result = _run(world["env"], "ecs/verify")
    assert "postgresql://u:p@" not in result.stdout + result.stderr
    assert "x-honeycomb-team=k" not in result.stdout + result.stderr


@pytest.mark.parametrize("fault_path", FAULTS, ids=[p.stem for p in FAULTS])
def test_live_fault_is_named_with_its_cause(fault_path, live_env):
    fault = json.loads(fault_path.read_text())
    kit = _kit(live_env, service="backend-flask")
    _stub(kit, fault.get("stub") or {})
    _apply(live_env, fault["apply"])
    try:
        report = verify(kit) if fault["tool"] == "verify" else doctor(kit)
    finally:
        _apply(live_env, fault["undo"])
    expect = fault["expect"]
    hits = [f for f in report.findings if f.status == Status.NG and f.check == expect["check"]
            and f.cause == expect["cause"]]
    assert hits, f"{fault['id']}: expected {expect}, got {[f.to_dict() for f in report.problems]}"
    assert all(f.fix for f in report.problems)


def test_verify_names_a_secrets_manager_secret_that_does_not_exist(live_env, monkeypatch):
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:rds!db-gone-AbCdEf"
    for name, value in {"DB_CREDENTIALS": "rds", "DB_SECRET_ARN": missing, "DB_HOST": "db.example.internal",
                        "DB_PORT": "5432", "DB_NAME": "cruddur"}.items():
        monkeypatch.setenv(name, value)
    report = verify(_kit(live_env, services=("backend-flask",)))
    hits = [f for f in report.problems if f.check == "secret.exists" and f.cause == "secret.missing"]
    assert [f.subject for f in hits] == [f"secret {missing}"], [f.to_dict() for f in report.problems]
    assert live_env["client"]("secretsmanager").list_secrets()["SecretList"] == []  # read-only: nothing made


def test_a_service_that_is_not_deployed_is_named_by_doctor_and_diff(live_env):
    from cruddur_kit.checks.diff import diff
    from cruddur_kit.errors import KitError

    report = doctor(_kit(live_env, service="frontend-react-js"))  # in aws/json, never deployed in this world
    assert [(f.status, f.check, f.cause) for f in report.findings] == [(Status.NG, "service.exists", "service.missing")]
    with pytest.raises(KitError, match="service frontend-react-js is not deployed in cluster cruddur"):
        diff(_kit(live_env, service="frontend-react-js"))
    with pytest.raises(KitError, match="cluster elsewhere does not exist: run bin/aws/setup"):
        doctor(_kit(live_env, service="backend-flask", cluster="elsewhere"))
