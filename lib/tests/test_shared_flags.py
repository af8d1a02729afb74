"""The shared flags (cruddur_kit.cli) reach every registered command by construction, with one precedence
rule — flag > environment > default — and land in the one context (cruddur_kit.kit.Kit) the command gets."""

import os
import subprocess

import pytest

from cruddur_kit import REPO_ROOT, commands, images
from cruddur_kit.aws import ReadOnlyViolation

NAMES = list(commands.COMMANDS)
REQUIRED = {
    "ecs scale": ["--count", "1"],
    "cognito token": ["andrewbrown"],
    "ddb patterns get-conversation": ["606eca81-5975-43ff-bae8-60b6f154d291"],
    "ddb patterns list-conversations": ["andrewbrown"],
}
# The only commands without --endpoint-url, and why: they make no AWS calls, or run an emulator of their own.
NO_ENDPOINT = {
    "db setup",
    "db create",
    "db drop",
    "db migrate",
    "db seed",
    "db connect",
    "db sessions",
    "db kill-all",
    "db generate",
    "cognito build-lambda",
    "ecs lint",
    "dev up",
    "dev bench",
    "dev docs",
    "dev image",
    "dev provision-docker",
}
ENV = ("CLUSTER_NAME", "SERVICE_NAME", "AWS_DEFAULT_REGION", "AWS_REGION", "IMAGE_TAG", "AWS_ENDPOINT_URL")


def _kit(name: str, argv: list[str] = ()):
    """The Kit the command would run with, parsed by its own click parser (nothing invoked)."""
    command = commands.load(name)
    params = dict(command.make_context(commands.door(name), REQUIRED.get(name, []) + list(argv)).params)
    return command.kit_from(params)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_registered_command_is_a_kit_command():
    for name in NAMES:
        command = commands.load(name)
        assert "region" in command.shared_flags, name
        assert callable(command.kit_from), name


@pytest.mark.parametrize("name", NAMES)
def test_region_flag_beats_environment_beats_default(clean_env, name):
    assert _kit(name).region == "us-east-1"
    clean_env.setenv("AWS_REGION", "eu-west-1")
    assert _kit(name).region == "eu-west-1"
    clean_env.setenv("AWS_DEFAULT_REGION", "eu-central-1")  # the AWS CLI's order: AWS_DEFAULT_REGION first
    assert _kit(name).region == "eu-central-1"
    assert _kit(name, ["--region", "ap-south-1"]).region == "ap-south-1"
    assert _kit(name, ["--region=ap-south-1"]).clients.region == "ap-south-1"  # the clients' region too


@pytest.mark.parametrize("name", NAMES)
def test_endpoint_flag_beats_environment(clean_env, name):
    if name in NO_ENDPOINT:
        assert "endpoint" not in commands.load(name).shared_flags
        return
    assert _kit(name).endpoint is None
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert _kit(name).endpoint == "http://127.0.0.1:4566"
    kit = _kit(name, ["--endpoint-url", "http://127.0.0.1:5000"])
    assert kit.endpoint == kit.clients.endpoint == "http://127.0.0.1:5000"
    assert kit.client("sts").meta.endpoint_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize("name", [n for n in NAMES if {"cluster", "service"} & set(commands.load(n).shared_flags)])
def test_cluster_and_service_flag_beats_environment_beats_default(clean_env, name):
    flags = commands.load(name).shared_flags
    checks = [f for f in ("cluster", "service") if f in flags]
    defaults = {"cluster": "cruddur", "service": "backend-flask"}
    env_names = {"cluster": "CLUSTER_NAME", "service": "SERVICE_NAME"}
    for flag in checks:
        assert getattr(_kit(name), flag) == defaults[flag]
        clean_env.setenv(env_names[flag], f"{flag}-env")
        assert getattr(_kit(name), flag) == f"{flag}-env"
        assert getattr(_kit(name, [f"--{flag}", f"{flag}-flag"]), flag) == f"{flag}-flag"
    if "cluster" in flags:
        assert _kit(name).vars["CLUSTER_NAME"] == "cluster-env"  # the templates see what the command sees


def test_verify_takes_many_services_the_same_way(clean_env):
    assert _kit("ecs verify").services == ()  # every service
    clean_env.setenv("SERVICE_NAME", "backend-flask")
    assert _kit("ecs verify").services == ("backend-flask",)
    assert _kit("ecs verify", ["--service", "a", "--service", "b"]).services == ("a", "b")


@pytest.mark.parametrize("name", [n for n in NAMES if "tag" in commands.load(n).shared_flags])
def test_tag_is_resolved_in_one_place(clean_env, name):
    kit = _kit(name)
    # one rule (issue 13): build, push, deploy and the read-only checks alike default to HEAD's sha
    assert kit.tag == images.git_sha()
    clean_env.setenv("IMAGE_TAG", "from-env")
    assert _kit(name).tag == "from-env" and _kit(name).vars["IMAGE_TAG"] == "from-env"
    assert _kit(name, ["--tag", "from-flag"]).tag == "from-flag"


def test_a_command_without_flags_leaves_the_variables_to_the_environment(clean_env):
    clean_env.setenv("CLUSTER_NAME", "env-cluster")
    clean_env.setenv("IMAGE_TAG", "env-tag")
    kit = _kit("ssm put-params")
    assert kit.vars["CLUSTER_NAME"] == "env-cluster" and kit.vars["IMAGE_TAG"] == "env-tag"


@pytest.mark.parametrize("name", ["ecs verify", "ecs diff", "ecs doctor", "ecs status", "ecs logs"])
def test_read_only_commands_get_clients_that_refuse_writes(clean_env, name):
    kit = _kit(name, ["--endpoint-url", "http://127.0.0.1:9"])  # nothing listens there: a refusal sends nothing
    assert kit.read_only
    with pytest.raises(ReadOnlyViolation, match="ec2:CreateSecurityGroup"):
        kit.client("ec2").create_security_group(GroupName="x", Description="x")
    assert kit.clients.total == 0


def test_dry_run_reaches_the_reporter(clean_env):
    kit = _kit("aws setup", ["--dry-run"])
    assert kit.dry_run and kit.report.dry_run
    assert not _kit("aws setup").report.dry_run


def test_timeout_and_interval_must_be_positive(clean_env):
    from click.exceptions import BadParameter

    for bad in (["--timeout", "0"], ["--interval", "-1"]):
        with pytest.raises(BadParameter):
            _kit("backend deploy", bad)
    kit = _kit("backend deploy", ["--timeout", "12", "--interval", "0.5"])
    assert (kit.timeout, kit.interval, kit.deadline().seconds) == (12.0, 0.5, 12.0)


def test_build_and_push_take_service_like_deploy():
    env = {k: v for k, v in os.environ.items() if k not in ("SERVICE_NAME", "AWS_ENDPOINT_URL")}
    for script in ("bin/backend/build", "bin/backend/push"):
        proc = subprocess.run(
            [str(REPO_ROOT / script), "--service", "nope", "--tag", "abc"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1, (script, proc.stderr)
        assert "no service 'nope' in aws/json/services" in proc.stderr, script


# --- --region reaches the calls, run as processes (issue 13: verify, diff, doctor, lint took none) ---------------
REGION_PROBES = {
    "ecs verify": [],
    "ecs diff": [],
    "ecs doctor": [],
    "ecs status": [],
    "ecs logs": [],
    "ecs scale": ["--count", "1"],
    "ecs rollback": [],
    "ecs run-task": [],
    "ecs connect": [],
}


@pytest.fixture(scope="module")
def cluster_in_eu_west_1(tmp_path_factory):
    """An emulator whose only cluster is in eu-west-1, and a shell whose region is us-east-1."""
    import boto3

    import ecs_world as w

    server = w.start(tmp_path_factory.mktemp("regions"))
    boto3.client(
        "ecs",
        region_name="eu-west-1",
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_cluster(clusterName="cruddur")
    yield w.environment(server)  # AWS_DEFAULT_REGION=us-east-1
    server.stop()


def test_every_cluster_command_that_calls_aws_is_probed():
    probed = {n for n in NAMES if "cluster" in commands.load(n).shared_flags and n.startswith("ecs ")}
    assert probed - {"ecs run-local"} == set(REGION_PROBES)  # run-local needs a Docker engine: its own tests


@pytest.mark.parametrize("name", list(REGION_PROBES))
def test_the_region_flag_reaches_the_aws_calls(cluster_in_eu_west_1, name):
    env = cluster_in_eu_west_1
    door = str(REPO_ROOT / commands.door(name))

    def run(*flags):
        proc = subprocess.run(
            [door, *REGION_PROBES[name], *flags], env=env, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
        )
        return proc.stdout + proc.stderr

    missing = "cluster cruddur does not exist"
    if name == "ecs verify":  # a tree, not an error: the cluster check is one line of it
        assert "NG   ecs cluster cruddur" in run() and "OK   ecs cluster cruddur" in run("--region", "eu-west-1")
        return
    assert missing in run()  # the environment's us-east-1 has no cluster
    assert missing not in run("--region", "eu-west-1")  # the flag's region has it


def test_no_command_makes_aws_clients_of_its_own():
    """Every AWS call goes through the Kit's one client factory, so --region and --endpoint-url reach it."""
    offenders = []
    for path in (REPO_ROOT / "lib" / "cruddur_kit" / "commands").rglob("*.py"):
        text = path.read_text()
        for pattern in ("boto3.client(", "boto3.Session(", "boto3.resource(", "Clients(", "aws.client("):
            if pattern in text:
                offenders.append(f"{path.relative_to(REPO_ROOT)}: {pattern}")
    assert offenders == []
