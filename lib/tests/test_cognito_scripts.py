"""bin/cognito/*: run as processes against the local AWS emulator (moto over HTTP) and real PostgreSQL."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid

import psycopg
import pytest

from cruddur_kit import REPO_ROOT, cognito
from testkit import aws_client

DEMO = "andrewbrown"


def run(script: str, *args: str, env: dict | None = None, drop: tuple = (), stdin: str | None = None):
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CONNECTION_URL", "AWS_COGNITO_USER_POOL_ID", "AWS_COGNITO_USER_POOL_CLIENT_ID", *drop)
    }
    environ.update(env or {})
    return subprocess.run(
        [str(REPO_ROOT / "bin" / "cognito" / script), *args],
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def pool(aws_env):
    """A pool of this test's own (so other tests' users do not show up), named to the scripts by id."""
    idp = aws_client("cognito-idp")
    made, _ = cognito.ensure_pool(idp, name=f"cruddur-test-{uuid.uuid4().hex[:8]}")
    yield made
    idp.delete_user_pool(UserPoolId=made.pool_id)


def add_user(pool, email: str, handle: str | None = None, name: str | None = None) -> str:
    attrs = [{"Name": "email", "Value": email}]
    if handle:
        attrs.append({"Name": "preferred_username", "Value": handle})
    if name:
        attrs.append({"Name": "name", "Value": name})
    user = aws_client("cognito-idp").admin_create_user(
        UserPoolId=pool.pool_id, Username=email, MessageAction="SUPPRESS", UserAttributes=attrs
    )["User"]
    return cognito.attributes(user)["sub"]


def rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


# --- token -----------------------------------------------------------------------------------------


def test_token_prints_only_an_access_token_that_the_api_accepts(client, cognito_pool):
    result = run("token", DEMO)  # no AWS_COGNITO_* set: the pool is found by its name
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.count(".") == 2
    assert claims(token)["token_use"] == "access"
    assert claims(token)["client_id"] == cognito_pool.client_id
    response = client.get("/api/activities/notifications", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()


def test_token_uses_the_pool_named_in_the_environment(cognito_pool):
    result = run("token", "Bayko", env={"AWS_COGNITO_USER_POOL_ID": cognito_pool.pool_id})
    assert result.returncode == 0, result.stderr
    assert claims(result.stdout.strip())["client_id"] == cognito_pool.client_id


def test_token_for_an_unknown_handle_is_one_clear_line(cognito_pool):
    result = run("token", "nobody_here")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: no Cognito user with preferred_username nobody_here in pool ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_token_refuses_real_aws_without_a_password(aws_env):
    result = run("token", DEMO, drop=("AWS_ENDPOINT_URL",))
    assert result.returncode == 1 and result.stdout == ""
    assert "--password-stdin" in result.stderr and "local emulator" in result.stderr


def test_token_with_a_wrong_password_on_stdin_is_refused(cognito_pool):
    result = run("token", DEMO, "--password-stdin", stdin="Not-The-Password-9\n")
    assert result.returncode == 1 and result.stdout == ""
    assert "Cognito refused the password" in result.stderr
    assert "Not-The-Password-9" not in result.stderr


def test_token_with_the_right_password_on_stdin(cognito_pool):
    result = run("token", DEMO, "--password-stdin", stdin=cognito.DEMO_PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert claims(result.stdout.strip())["token_use"] == "access"


def test_an_unknown_pool_id_is_aws_s_reason_on_one_line(aws_env):
    result = run(
        "token",
        DEMO,
        env={"AWS_COGNITO_USER_POOL_ID": "us-east-1_Nope00000", "AWS_COGNITO_USER_POOL_CLIENT_ID": "nope"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: AWS refused ") and "ResourceNotFound" in result.stderr


# --- list-users ------------------------------------------------------------------------------------


def test_list_users_is_a_handle_to_sub_table(pool):
    subs = {h: add_user(pool, f"{h}@example.com", h) for h in ("zed", "amy", "Mike")}
    result = run("list-users", env={"AWS_COGNITO_USER_POOL_ID": pool.pool_id})
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["handle", "sub", "status"]
    assert [(h, s) for h, s, *_ in lines[1:]] == [("amy", subs["amy"]), ("Mike", subs["Mike"]), ("zed", subs["zed"])]
    assert "3 user(s)" in result.stderr


# --- sync-users ------------------------------------------------------------------------------------


def test_sync_users_creates_links_then_changes_nothing_across_pages(pool, database_url):
    tag = uuid.uuid4().hex[:6]
    fresh = {f"s{tag}_{i}": add_user(pool, f"s{tag}_{i}@example.com", f"s{tag}_{i}", f"Sync {i}") for i in range(63)}
    with psycopg.connect(database_url, autocommit=True) as conn:
        # a row waiting for its Cognito user (as the seed leaves the demo users)
        conn.execute(
            "INSERT INTO users (handle, display_name, email) VALUES (%s, 'Waiting', %s)",
            (f"w{tag}", f"w{tag}@example.com"),
        )
    waiting_sub = add_user(pool, f"w{tag}@example.com", f"w{tag}")
    derived_sub = add_user(pool, f"first.last+{tag}@example.com")  # no preferred_username
    env = {"CONNECTION_URL": database_url, "AWS_COGNITO_USER_POOL_ID": pool.pool_id}

    first = run("sync-users", env=env)
    assert first.returncode == 0, first.stderr
    lines = [line.split() for line in first.stdout.splitlines()]
    assert len(lines) == 65  # Cognito pages at 60: every page was read
    by_sub = {sub: (status, handle) for status, handle, sub, *_ in lines}
    assert all(by_sub[sub] == ("created", h) for h, sub in fresh.items())
    assert by_sub[waiting_sub] == ("linked", f"w{tag}")
    assert by_sub[derived_sub] == ("created", f"first_last_{tag}")
    assert rows(database_url, "SELECT display_name, cognito_user_id FROM users WHERE handle = %s", f"s{tag}_7") == [
        ("Sync 7", fresh[f"s{tag}_7"])
    ]
    assert rows(database_url, "SELECT cognito_user_id FROM users WHERE handle = %s", f"w{tag}") == [(waiting_sub,)]
    assert "64 created, 1 linked" in first.stderr

    second = run("sync-users", env=env)
    assert second.returncode == 0, second.stderr
    assert [line.split()[0] for line in second.stdout.splitlines()] == ["unchanged"] * 65
    assert rows(database_url, "SELECT count(*) FROM users WHERE cognito_user_id IS NOT NULL")[0][0] == 4 + 65


def test_sync_users_dry_run_changes_nothing(pool, database_url):
    sub = add_user(pool, "dry@example.com", "dryrun")
    env = {"CONNECTION_URL": database_url, "AWS_COGNITO_USER_POOL_ID": pool.pool_id}
    result = run("sync-users", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["would", "create", "dryrun", sub]
    assert rows(database_url, "SELECT count(*) FROM users WHERE handle = 'dryrun'") == [(0,)]
    assert run("sync-users", env=env).stdout.split()[:2] == ["created", "dryrun"]


def test_sync_users_reports_a_conflict_and_relink_resolves_it(pool, database_url):
    before = rows(database_url, "SELECT cognito_user_id FROM users WHERE handle = %s", DEMO)
    new_sub = add_user(pool, "andrew-again@example.com", DEMO)  # a re-created pool: same handle, new sub
    env = {"CONNECTION_URL": database_url, "AWS_COGNITO_USER_POOL_ID": pool.pool_id}

    result = run("sync-users", env=env)
    assert result.returncode == 1
    assert result.stdout.split()[:3] == ["conflict", DEMO, new_sub]
    assert "belongs to another Cognito user" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("error: 1 Cognito user(s) have no users row")
    assert rows(database_url, "SELECT cognito_user_id FROM users WHERE handle = %s", DEMO) == before

    relinked = run("sync-users", "--relink", env=env)
    assert relinked.returncode == 0, relinked.stderr
    assert relinked.stdout.split()[:2] == ["linked", DEMO]
    assert rows(database_url, "SELECT cognito_user_id FROM users WHERE handle = %s", DEMO) == [(new_sub,)]


def test_sync_users_names_a_missing_connection_url(pool):
    result = run("sync-users", env={"AWS_COGNITO_USER_POOL_ID": pool.pool_id})
    assert result.returncode == 1
    assert result.stderr.startswith("error: CONNECTION_URL is not set")


@pytest.mark.parametrize("script", ["token", "list-users", "sync-users", "build-lambda"])
def test_every_script_has_help(script):
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: bin/cognito/{script}")
