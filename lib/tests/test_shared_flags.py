"""The shared flags (cruddur_kit.cli): one definition, one precedence rule — flag > environment > default —
whichever command takes them."""
import importlib
import os
import subprocess

import pytest

from cruddur_kit import REPO_ROOT

COMMANDS = ["backend.deploy", "backend.build", "backend.push", "ecs.status", "ecs.scale", "ecs.diff", "ecs.doctor",
            "aws.setup"]


def _params(command: str, argv: list[str]) -> dict:
    module = importlib.import_module(f"cruddur_kit.commands.{command}")
    return module.command.make_context(command, list(argv)).params


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("CLUSTER_NAME", "SERVICE_NAME", "AWS_DEFAULT_REGION", "AWS_REGION", "IMAGE_TAG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("command", COMMANDS)
def test_flag_beats_environment_beats_default(clean_env, command):
    extra = ["--count", "1"] if command == "ecs.scale" else []
    defaults = _params(command, extra)
    for flag, default in (("cluster", "cruddur"), ("service", "backend-flask"), ("region", "us-east-1")):
        if flag in defaults:
            assert defaults[flag] == default, flag
    clean_env.setenv("CLUSTER_NAME", "from-env")
    clean_env.setenv("SERVICE_NAME", "svc-env")
    clean_env.setenv("AWS_REGION", "eu-west-1")
    from_env = _params(command, extra)
    clean_env.setenv("AWS_DEFAULT_REGION", "eu-central-1")  # the AWS CLI's order: AWS_DEFAULT_REGION first
    both = _params(command, extra)
    flags = _params(command, extra + [f"--{k}={v}" for k, v in
                                      (("cluster", "c"), ("service", "s"), ("region", "ap-south-1")) if k in defaults])
    for flag, env_value, flag_value in (("cluster", "from-env", "c"), ("service", "svc-env", "s")):
        if flag in defaults:
            assert from_env[flag] == env_value and flags[flag] == flag_value
    if "region" in defaults:
        assert (from_env["region"], both["region"], flags["region"]) == ("eu-west-1", "eu-central-1", "ap-south-1")


def test_timeout_and_interval_must_be_positive(clean_env):
    from click.exceptions import BadParameter

    for bad in (["--timeout", "0"], ["--interval", "-1"]):
        with pytest.raises(BadParameter):
            _params("backend.deploy", bad)


def test_build_and_push_take_service_like_deploy():
    env = {k: v for k, v in os.environ.items() if k not in ("SERVICE_NAME", "AWS_ENDPOINT_URL")}
    for script in ("bin/backend/build", "bin/backend/push"):
        proc = subprocess.run([str(REPO_ROOT / script), "--service", "nope", "--tag", "abc"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (script, proc.stderr)
        assert "no service 'nope' in aws/json/services" in proc.stderr, script
