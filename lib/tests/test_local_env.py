"""`.local/env` (cruddur_kit.envfile): make up's non-secret settings as the lowest-precedence defaults of
bin/cognito/* and bin/ddb/*, for a loopback emulator only. Scripts run as processes."""

from __future__ import annotations

import os
import subprocess

import pytest

from cruddur_kit import REPO_ROOT
from cruddur_kit.envfile import apply_local

TOKEN = REPO_ROOT / "bin" / "cognito" / "token"


def shell_env(local_dir, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DDB_"))}
    return {**env, "CRUDDUR_LOCAL_DIR": str(local_dir), **extra}


def write(local_dir, endpoint, pool) -> None:
    (local_dir / "env").write_text(
        f"AWS_ENDPOINT_URL={endpoint}\nAWS_DEFAULT_REGION=us-east-1\n"
        f"AWS_COGNITO_USER_POOL_ID={pool.pool_id}\n"
        f"AWS_COGNITO_USER_POOL_CLIENT_ID={pool.client_id}\n"
    )


def token(env) -> subprocess.CompletedProcess:
    return subprocess.run([str(TOKEN), "andrewbrown"], env=env, capture_output=True, text=True, timeout=60)


def test_token_with_nothing_exported_uses_the_local_file(tmp_path, moto_server, cognito_pool, template_db):
    without = token(shell_env(tmp_path))
    assert without.returncode == 1 and "does not point at the local emulator" in without.stderr
    write(tmp_path, moto_server.endpoint, cognito_pool)
    proc = token(shell_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(".") == 2 and cognito_pool.pool_id in proc.stderr  # one JWT, from that pool


@pytest.mark.parametrize(
    "endpoint",
    ["https://cognito-idp.us-east-1.amazonaws.com", "http://127.0.0.1.example.com:4566", "http://10.0.0.5:4566"],
)
def test_a_file_naming_anything_but_loopback_is_ignored(tmp_path, cognito_pool, endpoint):
    write(tmp_path, endpoint, cognito_pool)
    proc = token(shell_env(tmp_path))
    assert proc.returncode == 1
    assert "warning: ignoring" in proc.stderr and "not a loopback address" in proc.stderr
    assert "does not point at the local emulator" in proc.stderr


def test_the_environment_wins_and_another_target_ignores_the_file(tmp_path, cognito_pool):
    write(tmp_path, "http://127.0.0.1:4566", cognito_pool)
    env = {"CRUDDUR_LOCAL_DIR": str(tmp_path), "AWS_COGNITO_USER_POOL_ID": "mine", "AWS_ACCESS_KEY_ID": "real"}
    filled = apply_local(env)
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566" and env["AWS_COGNITO_USER_POOL_ID"] == "mine"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"  # real keys never go to the emulator
    assert "AWS_COGNITO_USER_POOL_ID" not in filled
    other = {"CRUDDUR_LOCAL_DIR": str(tmp_path), "AWS_ENDPOINT_URL": "http://127.0.0.1:9999"}
    assert apply_local(other) == {} and "AWS_COGNITO_USER_POOL_ID" not in other
    same = {"CRUDDUR_LOCAL_DIR": str(tmp_path), "AWS_ENDPOINT_URL": "http://127.0.0.1:4566/", "AWS_ACCESS_KEY_ID": "k"}
    apply_local(same)
    assert same["AWS_COGNITO_USER_POOL_ID"] == cognito_pool.pool_id and same["AWS_ACCESS_KEY_ID"] == "k"
