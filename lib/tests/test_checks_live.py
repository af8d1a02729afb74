"""bin/ecs/verify, doctor and diff against a real account shape in the emulator, built by the real
bin/aws/setup, bin/ssm/put-params and bin/backend/deploy; then the live fault catalogue (lib/tests/faults/live,
journal/2026-11-29-faults-named.md): each fault mutates the emulator's state — AWS calls, or the emulator's
own control API to make a revision's tasks fail as a real image would — and is undone; only what the emulator
cannot produce (a target's health reason code) is a stubbed response of the real API's shape, as the fault
file says in its "_why"."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from cruddur_kit import REPO_ROOT, templates
from cruddur_kit import config as configlib
from cruddur_kit import spec as speclib
from cruddur_kit.aws import ReadOnlyViolation
from cruddur_kit.checks import causes
from cruddur_kit.checks.doctor import doctor
from cruddur_kit.checks.model import Status
from cruddur_kit.checks.verify import verify
from cruddur_kit.kit import Kit
from cruddur_kit.local import moto as motolib

REGION = "us-east-1"
TAG = "c0ffee1"
FAULTS = sorted((Path(__file__).parent / "faults" / "live").glob("*.json"))
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7,
            "digest": "sha256:" + "b" * 64,
        },
        "layers": [],
    }
)


def _client(endpoint: str, name: str):
    return boto3.client(
        name,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def _run(env, script, *args, extra=None):
    return subprocess.run(
        [str(REPO_ROOT / "bin" / script), *args],
        env={**env, **(extra or {})},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """setup + secrets + images + bin/backend/deploy of backend-flask, in our own emulator; then its clock stops."""
    server = motolib.MotoServer(
        port=motolib.free_port(), env={}, log_path=tmp_path_factory.mktemp("moto-checks") / "moto.log"
    ).start()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL", "OTEL_"))}
    env = {
        **base,
        **motolib.DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_COGNITO_USER_POOL_ID": f"{REGION}_checks",
        "AWS_COGNITO_USER_POOL_CLIENT_ID": "checksclient",
        "FRONTEND_URL": "http://localhost:3000",
        "BACKEND_URL": "http://localhost:4567",
        "IMAGE_TAG": TAG,
    }
    try:
        setup = _run(env, "aws/setup")
        assert setup.returncode == 0, setup.stderr
        params = _run(
            env,
            "ssm/put-params",
            extra={
                "CONNECTION_URL": "postgresql://u:p@db:5432/cruddur",
                "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=k",
            },
        )
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
        deploy = _run(env, "backend/deploy", "--service", "backend-flask", "--tag", TAG, "--interval", "0.2")
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        # From here the emulator's clock stands still: a fault's UpdateService leaves its deployment where a
        # user would find it (pointed at the new revision, tasks not yet replaced) until the fault is undone.
        _clock(server, {"mode": "manual"})
        ecs, iam = c("ecs"), c("iam")
        live = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
        tg_arn = variables.for_service(s)["TARGET_GROUP_ARN"]
        good_td = ecs.describe_task_definition(taskDefinition=live["taskDefinition"])["taskDefinition"]
        facts = {
            "ALB_SG_ID": variables["ALB_SG_ID"],
            "SERVICE_SG_ID": variables["SERVICE_SG_ID"],
            "TARGET_GROUP_ARN": tg_arn,
            "SUBNET_IDS": variables["SUBNET_IDS"],
            "IMAGE_TAG": TAG,
            "MANIFEST": MANIFEST,
            "IGW_ID": igw,
            "MAIN_ROUTE_TABLE_ID": _main_route_table(c("ec2")),
            "EXEC_POLICY": json.dumps(
                iam.get_role_policy(RoleName="CruddurServiceExecutionRole", PolicyName="execution-role-policy")[
                    "PolicyDocument"
                ]
            ),
            "TASK_TRUST": json.dumps(iam.get_role(RoleName="CruddurTaskRole")["Role"]["AssumeRolePolicyDocument"]),
            "TASK_DEFINITION_ARN": good_td["taskDefinitionArn"],
            # what a CANARY service's loadBalancers must carry in every UpdateService that names them
            "ADVANCED_CONFIGURATION": live["loadBalancers"][0]["advancedConfiguration"],
            # revisions a user might register by hand, in a family of their own so the spec's family stays as
            # deployed: one whose image tag was never pushed, one on the wrong port
            "UNPUSHED_TD_ARN": _register_variant(ecs, good_td, image_tag="n0tpushed"),
            "PORT_4568_TD_ARN": _register_variant(ecs, good_td, port=4568),
            # the same task, a revision of its own for the faults that tell the emulator how its tasks fail
            "FAILING_TD_ARN": _register_variant(ecs, good_td),
            **_listener_rule_facts(c("elbv2"), tg_arn),
            "TASK_POLICY": json.dumps(
                iam.get_role_policy(RoleName="CruddurTaskRole", PolicyName="task-role-policy")["PolicyDocument"]
            ),
        }
        yield {"server": server, "env": env, "facts": facts, "client": c}
    finally:
        server.stop()


def _control(server, route: str, body: dict | None = None, method: str = "POST") -> None:
    """The emulator's own control API: its clock, how tasks behave (journal/2026-11-29-emulator-ecs-deployments.md)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{server.endpoint}/moto-api/cruddur/{route}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=10).close()


def _clock(server, body: dict) -> None:
    _control(server, "clock", body)


def _register_variant(ecs, td: dict, image_tag: str | None = None, port: int | None = None) -> str:
    """The deployed task definition, registered again by hand with one thing changed."""
    keep = (
        "networkMode",
        "requiresCompatibilities",
        "cpu",
        "memory",
        "executionRoleArn",
        "taskRoleArn",
        "runtimePlatform",
    )
    containers = json.loads(json.dumps(td["containerDefinitions"]))
    app = containers[0]
    if image_tag:
        repository = app["image"].split("@", 1)[0]  # deploy pins by digest: repo@sha256:…
        app["image"] = (
            repository.rsplit(":", 1)[0] + ":" + image_tag if "@" not in app["image"] else repository + ":" + image_tag
        )
    if port:
        app["portMappings"][0]["containerPort"] = port
        app["portMappings"][0].pop("hostPort", None)
    family = "backend-flask-by-hand"
    return ecs.register_task_definition(
        family=family, containerDefinitions=containers, **{k: td[k] for k in keep if k in td}
    )["taskDefinition"]["taskDefinitionArn"]


def _listener_rule_facts(elbv2, tg_arn: str) -> dict:
    """The listener rule setup made for the backend, as the facts a fault needs to delete and re-create it."""
    [alb] = elbv2.describe_load_balancers(Names=["cruddur-alb"])["LoadBalancers"]
    [listener] = [
        li for li in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"] if li["Port"] == 80
    ]
    # the backend deploys CANARY: its rule forwards to both colours, weighted (config.forwarded_groups)
    rules = [
        r
        for r in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        if not r["IsDefault"] and tg_arn in configlib.forwarded_groups(r["Actions"])
    ]
    return {"LISTENER_ARN": listener["ListenerArn"], **({"BACKEND_RULE_ARN": rules[0]["RuleArn"]} if rules else {})}


def _main_route_table(ec2) -> str:
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]["RouteTableId"]


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
            client.meta.events.register_first(
                f"before-call.{event_service}.{op}", lambda response=response, **kw: response
            )


def _apply(world, calls, settle: bool = False) -> None:
    facts = {
        **world["facts"],
        "NOW_MS": int(time.time() * 1000),
        **_listener_rule_facts(world["client"]("elbv2"), world["facts"]["TARGET_GROUP_ARN"]),
    }
    for call in calls:
        if "control" in call:  # the emulator's control API: a task behaviour, the clock
            _control(
                world["server"],
                call["control"],
                templates.render(call.get("body"), facts) if call.get("body") is not None else None,
                call.get("method", "POST"),
            )
            continue
        args = templates.render(call["args"], facts)
        getattr(world["client"](call["service"]), call["op"])(**args)
    if settle:  # once a fault is undone, let the service's tasks catch up, so the next fault starts steady
        _clock(world["server"], {"advanceMinutes": 15})


def test_verify_good_world_has_no_ng_and_few_calls(world):
    result = _run(world["env"], "ecs/verify", "--json")
    report = json.loads(result.stdout)
    problems = [f for f in report["findings"] if f["status"] in ("NG", "WARN")]
    assert problems == [] and result.returncode == 0, problems
    assert report["summary"]["OK"] >= 12
    # bounded and batched: a constant handful per resource kind, not one call per rule
    # (the backend's CANARY spec names its alternate target group and two listener rules: verify looks them up
    # to render it, 5 calls more than a ROLLING service's)
    # 41 measured: the spec checks, what the deployed service runs (issue 13) and its pinned digests (issue 14)
    assert report["stats"]["aws_calls"] <= 45, report["stats"]["calls"]


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
    other = _run(
        world["env"], "ecs/diff", "--service", "backend-flask", "--tag", "d1ff001", "--only", "task-definition"
    )
    assert other.returncode == 1
    digest = world["client"]("ecr").describe_images(repositoryName="backend-flask", imageIds=[{"imageTag": TAG}])[
        "imageDetails"
    ][0]["imageDigest"]
    assert f'-      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask@{digest}"' in other.stdout
    assert '+      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:d1ff001"' in other.stdout


def test_verify_names_a_re_pushed_tag_and_an_image_run_by_tag(live_env):
    ecr, ecs = live_env["client"]("ecr"), live_env["client"]("ecs")
    pinned = ecr.describe_images(repositoryName="backend-flask", imageIds=[{"imageTag": TAG}])["imageDetails"][0]
    subject = "service cruddur/backend-flask container backend-flask"

    def deployed_findings():
        return [
            f
            for f in verify(_kit(live_env, services=("backend-flask",))).findings
            if f.check == "image.deployed" and f.subject == subject
        ]

    [ok] = deployed_findings()
    assert ok.status == Status.OK  # the service pins the digest the tag names
    rebuilt = json.loads(MANIFEST)
    rebuilt["config"]["digest"] = "sha256:" + "c" * 64
    ecr.put_image(repositoryName="backend-flask", imageManifest=json.dumps(rebuilt), imageTag=TAG)
    try:
        moved = ecr.describe_images(repositoryName="backend-flask", imageIds=[{"imageTag": TAG}])["imageDetails"][0]
        [drift] = deployed_findings()
        assert (drift.status, drift.cause) == (Status.WARN, "image.drift")
        assert drift.message == (
            f"backend-flask:1 pins {pinned['imageDigest']}, but the spec's image names "
            f"{moved['imageDigest']} now (its tag was re-pushed, or the service runs another "
            "build)"
        )
        # the pinned image expired (untagged, past the lifecycle policy's 7 days): new tasks could not pull it
        ecr.batch_delete_image(repositoryName="backend-flask", imageIds=[{"imageDigest": pinned["imageDigest"]}])
        [gone] = deployed_findings()
        assert (gone.status, gone.cause) == (Status.NG, "image.missing")
        assert f"pins {pinned['imageDigest']}, which ECR no longer holds" in gone.message
    finally:
        ecr.put_image(repositoryName="backend-flask", imageManifest=MANIFEST, imageTag=TAG)
    svc = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    by_tag = {
        k: td[k]
        for k in (
            "family",
            "containerDefinitions",
            "networkMode",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "executionRoleArn",
            "taskRoleArn",
        )
    }
    by_tag["containerDefinitions"] = [
        {**c, "image": c["image"].split("@")[0] + f":{TAG}"} if c["name"] == "backend-flask" else c
        for c in td["containerDefinitions"]
    ]
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
        return [
            f
            for f in verify(_kit(live_env, services=("backend-flask",))).findings
            if f.check == "tracing.deployed" and f.subject == subject(revision)
        ]

    svc = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    running = svc["taskDefinition"].rsplit("/", 1)[-1]
    assert [f.status for f in findings(running)] == [Status.OK]  # the revision registered from the specs
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    by_hand = {
        k: td[k]
        for k in (
            "family",
            "networkMode",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "executionRoleArn",
            "taskRoleArn",
        )
    }
    app = next(c for c in td["containerDefinitions"] if c["name"] == "backend-flask")
    by_hand["containerDefinitions"] = [c for c in td["containerDefinitions"] if c is not app] + [
        {
            **app,
            "environment": [
                e
                if e["name"] != "OTEL_EXPORTER_OTLP_ENDPOINT"
                else {"name": e["name"], "value": "https://api.honeycomb.io"}
                for e in app["environment"]
            ],
            "secrets": app["secrets"]
            + [
                {"name": "OTEL_EXPORTER_OTLP_HEADERS", "valueFrom": "/cruddur/backend-flask/OTEL_EXPORTER_OTLP_HEADERS"}
            ],
        }
    ]
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
        Filters=[{"Name": "group-name", "Values": ["should-not-exist"]}]
    )["SecurityGroups"]
    assert groups == []  # refused before anything was sent
    assert kit.clients.total == 0


def test_verify_never_prints_a_secret_value(world):
    result = _run(world["env"], "ecs/verify")
    assert "postgresql://u:p@" not in result.stdout + result.stderr
    assert "x-honeycomb-team=k" not in result.stdout + result.stderr


@pytest.mark.parametrize("fault_path", FAULTS, ids=[p.stem for p in FAULTS])
def test_live_fault_is_named_with_its_cause(fault_path, live_env):
    fault = json.loads(fault_path.read_text())
    kit = _kit(live_env, service=fault.get("service", "backend-flask"))
    _stub(kit, fault.get("stub") or {})
    _apply(live_env, fault["apply"])
    try:
        report = verify(kit) if fault["tool"] == "verify" else doctor(kit)
    finally:
        _apply(live_env, fault["undo"], settle=True)
    expect = fault["expect"]
    hits = [
        f
        for f in report.findings
        if f.status == Status.NG and f.check == expect["check"] and f.cause == expect["cause"]
    ]
    assert hits, f"{fault['id']}: expected {expect}, got {[f.to_dict() for f in report.problems]}"
    assert all(f.fix for f in report.problems)
    if "fix_contains" in expect:
        assert any(expect["fix_contains"] in f.fix for f in hits), [f.fix for f in hits]
    if "message_contains" in expect:  # this fault's own finding, not one an earlier fault left behind
        assert any(expect["message_contains"] in f.message for f in hits), [f.message for f in hits]
    # every cause said is one the registry (and so the journal's fault table) lists for this command
    for f in report.problems:
        assert f.cause in causes.BY_ID and fault["tool"] in causes.BY_ID[f.cause].named_by, f.to_dict()
    if fault["tool"] == "doctor":
        assert report.stats["causes"], "doctor's diagnosis line must name the cause"


def test_the_fault_catalogue_covers_every_catalogued_cause_for_each_command_that_names_it():
    """The journal's fault table says which command names each fault: each claim has its live fault here."""
    covered = {(json.loads(p.read_text())["expect"]["cause"], json.loads(p.read_text())["tool"]) for p in FAULTS}
    claimed = {(c.id, tool) for c in causes.CAUSES if c.catalogued for tool in c.named_by}
    assert claimed - covered == set(), "catalogued causes without a live fault file"
    assert {cause for cause, _ in covered} <= set(causes.BY_ID), "fault files name causes the registry lacks"
    assert {(cause, tool) for cause, tool in covered} <= {(c.id, t) for c in causes.CAUSES for t in c.named_by}


def test_every_cause_the_checks_can_say_is_registered():
    """The cause ids written in verify.py and doctor.py (cause=... and doctor's reason tables) are all registered."""
    import ast

    from cruddur_kit.checks import doctor as doctorlib
    from cruddur_kit.checks import verify as verifylib

    said = set()
    for module in (verifylib, doctorlib):
        for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
            if isinstance(node, ast.keyword) and node.arg == "cause" and isinstance(node.value, ast.Constant):
                said.add(node.value.value)
    said |= {cause for cause, _, _ in doctorlib.TARGET_REASONS.values()} | {"target.unhealthy"}
    said |= {c for narrowed in doctorlib.NARROWS for c in (narrowed, *doctorlib.NARROWS[narrowed])}
    assert said - set(causes.BY_ID) == set()
    assert "service.missing" in said and "listener-rule.missing" in said


def test_verify_names_a_secrets_manager_secret_that_does_not_exist(live_env, monkeypatch):
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:rds!db-gone-AbCdEf"
    for name, value in {
        "DB_CREDENTIALS": "rds",
        "DB_SECRET_ARN": missing,
        "DB_HOST": "db.example.internal",
        "DB_PORT": "5432",
        "DB_NAME": "cruddur",
    }.items():
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


def test_doctor_reads_the_newest_log_events_and_keeps_each_container_to_its_own_streams(live_env):
    """600 events in the app's stream (more than doctor reads): old errors first, the newest last. Doctor names
    the newest, says it did not read them all, and reports nothing under the tracing sidecar."""
    logs = live_env["client"]("logs")
    stream, now = "backend-flask/backend-flask/newest", int(time.time() * 1000)
    logs.create_log_stream(logGroupName="/cruddur/backend-flask", logStreamName=stream)
    messages = (
        [f"ERROR old failure #{i}" for i in range(3)]
        + [f"INFO request {i} ok" for i in range(596)]
        + ["ERROR psycopg.OperationalError: the newest failure " + "x" * 250]
    )
    logs.put_log_events(
        logGroupName="/cruddur/backend-flask",
        logStreamName=stream,
        logEvents=[{"timestamp": now - 600 + i, "message": m} for i, m in enumerate(messages)],
    )
    try:
        report = doctor(_kit(live_env, service="backend-flask"))
    finally:
        logs.delete_log_stream(logGroupName="/cruddur/backend-flask", logStreamName=stream)
    by_subject = {f.subject: f for f in report.findings if f.check == "logs.errors"}
    app = by_subject["logs /cruddur/backend-flask backend-flask/backend-flask/*"]
    assert app.status == Status.NG and app.cause == "logs.errors"
    assert app.message.endswith("newest: " + messages[-1])  # whole, not cut at 200 characters
    assert "old failure" not in app.message and "older ones not read" in app.message
    assert by_subject["logs /cruddur/backend-flask otel-collector/otel-collector/*"].status == Status.OK


def test_a_stopped_task_s_reason_is_said_once_and_whole():
    from cruddur_kit.checks.doctor import classify_stop

    reason = (
        "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:n0tpushed: " + "not found " * 20
    ).strip()
    task = {
        "stoppedReason": reason,
        "containers": [
            {"name": "backend-flask", "reason": reason},
            {"name": "xray", "reason": "CannotPullContainerError"},
        ],
    }
    cause, message, _ = classify_stop(task)
    assert (cause, message) == ("task.pull-image", reason)
    assert message.count("CannotPullContainerError") == 1


def test_doctor_names_a_missing_service_in_its_diagnosis(world):
    result = _run(world["env"], "ecs/doctor", "--service", "frontend-react-js")
    assert result.returncode == 1
    assert "NG   service.exists: the service does not exist" in result.stdout
    assert result.stdout.splitlines()[-1] == "diagnosis: service.missing"


def test_a_setup_fix_names_the_lint_finding_first_when_the_spec_fails_lint(live_env, tmp_path):
    """With a bad policy in aws/json, "run bin/aws/setup" would re-apply it: the fix names what lint finds."""
    import shutil

    root = tmp_path / "aws" / "json"
    shutil.copytree(REPO_ROOT / "aws" / "json", root)
    policy_path = root / "policies" / "execution-role-policy.json"
    policy = json.loads(policy_path.read_text())
    policy["Statement"] = [st for st in policy["Statement"] if "ssm:GetParameters" not in json.dumps(st)]
    policy_path.write_text(json.dumps(policy))
    fault = json.loads((Path(__file__).parent / "faults/live/execution-role-cannot-read-secrets.json").read_text())
    _apply(live_env, fault["apply"])  # the same policy, applied live (as setup would)
    try:
        report = verify(_kit(live_env, services=("backend-flask",)), root=root)
    finally:
        _apply(live_env, fault["undo"])
    hits = [f for f in report.problems if f.cause == "role.execution-policy"]
    assert hits
    for f in hits:
        assert f.fix.startswith("first fix ") and "cross.execution-role-reads-secrets" in f.fix, f.fix
    good = verify(_kit(live_env, services=("backend-flask",)))  # the repo's aws/json passes lint: no rewrite
    assert not any(f.fix.startswith("first fix") for f in good.findings)


def test_doctor_narrows_a_pull_failure_to_the_image_the_tasks_could_not_pull(live_env):
    """The emulator's tasks fail to pull an image that is not in its ECR, with ECS's own reason (last: the
    stopped tasks stay listed, as on ECS)."""
    ecs, facts = live_env["client"]("ecs"), live_env["facts"]
    ecs.update_service(cluster="cruddur", service="backend-flask", taskDefinition=facts["UNPUSHED_TD_ARN"])
    try:
        _clock(live_env["server"], {"advanceSeconds": 60})  # past Fargate's pull: the new tasks stop
        report = doctor(_kit(live_env, service="backend-flask"))
    finally:
        ecs.update_service(cluster="cruddur", service="backend-flask", taskDefinition=facts["TASK_DEFINITION_ARN"])
        _clock(live_env["server"], {"advanceMinutes": 15})
    [pull] = [f for f in report.findings if f.cause == "task.pull-image"]
    assert pull.message.count("CannotPullContainerError") == 1 and "n0tpushed" in pull.message
    assert pull.fix.startswith(
        "doctor's own checks found: image.missing: "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:n0tpushed is not in ECR"
    )
    assert "route" not in pull.fix and "execution role" not in pull.fix  # narrowed: only what was found


def test_doctor_narrows_a_resource_initialization_error_to_the_missing_secret(live_env):
    """Tasks that could not initialise while a parameter they read is gone: the fix names that parameter, not
    every possible cause (the emulator's task behaviour gives the reason; it does not check secrets itself)."""
    faults = Path(__file__).parent / "faults" / "live"
    stopped = json.loads((faults / "task-resource-initialization.json").read_text())
    gone = json.loads((faults / "secret-parameter-missing.json").read_text())
    _apply(live_env, gone["apply"] + stopped["apply"])
    try:
        report = doctor(_kit(live_env, service="backend-flask"))
    finally:
        _apply(live_env, stopped["undo"] + gone["undo"], settle=True)
    [init] = [f for f in report.findings if f.cause == "task.resource-init"]
    assert init.fix.startswith("doctor's own checks found: secret.missing (ssm parameter /cruddur/backend-flask/"), (
        init.fix
    )
    assert "NAT" not in init.fix and "assignPublicIp" not in init.fix


def test_doctor_door_exits_1_naming_a_deleted_log_group(live_env):
    """The issue's run: the log group deleted, `bin/ecs/doctor` said SKIP and exited 0."""
    fault = json.loads((Path(__file__).parent / "faults/live/log-group-missing-doctor.json").read_text())
    _apply(live_env, fault["apply"])
    try:
        result = _run(live_env["env"], "ecs/doctor", "--service", "backend-flask")
    finally:
        _apply(live_env, fault["undo"], settle=True)
    assert result.returncode == 1, result.stdout
    assert "NG   logs.group: the log group does not exist" in result.stdout
    assert "logs.group-missing" in result.stdout.splitlines()[-1]
    assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith("SKIP")]


def test_the_emulator_filters_log_events_by_stream_prefix_as_aws_does(world):
    """FilterLogEvents with logStreamNamePrefix searches only those streams (moto searched them all), and
    refuses a request naming both streams and a prefix (lib/cruddur_kit/local/emulator/logs_filter.py)."""
    from botocore.exceptions import ClientError

    logs, group, now = world["client"]("logs"), "/cruddur/backend-flask", int(time.time() * 1000)
    streams = {"backend-flask/backend-flask/p1": "ERROR the app's", "xray/xray/p1": "INFO the sidecar's"}
    for stream, message in streams.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now, "message": message}]
        )
    try:
        found = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="xray/xray/")["events"]
        assert [(e["logStreamName"], e["message"]) for e in found] == [("xray/xray/p1", "INFO the sidecar's")]
        assert logs.filter_log_events(logGroupName=group, logStreamNamePrefix="nobody/")["events"] == []
        with pytest.raises(ClientError, match="InvalidParameterException"):
            logs.filter_log_events(logGroupName=group, logStreamNamePrefix="xray/", logStreamNames=["xray/xray/p1"])
    finally:
        for stream in streams:
            logs.delete_log_stream(logGroupName=group, logStreamName=stream)
