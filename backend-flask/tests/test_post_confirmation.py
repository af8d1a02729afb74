"""The Cognito post-confirmation Lambda against real PostgreSQL, with the event Cognito sends."""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import sysconfig
import uuid
import zipfile

import psycopg
import pytest

from cruddur_kit import REPO_ROOT

HANDLER = REPO_ROOT / "aws" / "lambdas" / "cruddur-post-confirmation" / "lambda_function.py"


@pytest.fixture
def fn(monkeypatch, database_url):
    """The handler module, CONNECTION_URL set, and every connection it opens recorded."""
    spec = importlib.util.spec_from_file_location("lambda_function", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("CONNECTION_URL", database_url)
    opened = []
    real_connect = psycopg.connect

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(module.psycopg, "connect", connect)
    module.opened = opened
    return module


def cognito_event(
    handle: str,
    email: str | None = None,
    name: str = "New Person",
    sub: str | None = None,
    source: str = "PostConfirmation_ConfirmSignUp",
) -> dict:
    """The shape Cognito sends to a PostConfirmation trigger (AWS Lambda developer guide)."""
    sub = sub or str(uuid.uuid4())
    email = email or f"{handle}@example.com"
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_AbCdEfGhI",
        "userName": sub,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "3n4b5urk1ft4fl3mg5e62d9ado"},
        "triggerSource": source,
        "request": {
            "userAttributes": {
                "sub": sub,
                "email_verified": "true",
                "cognito:user_status": "CONFIRMED",
                "cognito:email_alias": email,
                "name": name,
                "preferred_username": handle,
                "email": email,
            }
        },
        "response": {},
    }


def users_row(url: str, handle: str):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT handle, display_name, email, cognito_user_id FROM users WHERE lower(handle) = lower(%s)", (handle,)
        ).fetchall()


def test_confirmed_sign_up_creates_the_users_row_and_returns_the_event(fn, database_url, caplog):
    event = cognito_event("newperson", name="New Person")
    original = copy.deepcopy(event)
    caplog.set_level(logging.INFO, logger="cruddur.post_confirmation")
    assert fn.handler(event, None) == original
    sub = event["request"]["userAttributes"]["sub"]
    assert users_row(database_url, "newperson") == [("newperson", "New Person", "newperson@example.com", sub)]
    line = json.loads(caplog.records[-1].getMessage())
    assert line["event"] == "post_confirmation" and line["status"] == "created" and line["sub"] == sub
    assert fn.opened and all(c.closed for c in fn.opened)


def test_a_second_delivery_changes_nothing(fn, database_url, caplog):
    event = cognito_event("twice")
    fn.handler(copy.deepcopy(event), None)
    caplog.set_level(logging.INFO, logger="cruddur.post_confirmation")
    fn.handler(copy.deepcopy(event), None)
    assert len(users_row(database_url, "twice")) == 1
    assert json.loads(caplog.records[-1].getMessage())["status"] == "unchanged"


def test_a_seeded_row_without_a_sub_is_linked(fn, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (handle, display_name, email) VALUES ('seeded', 'Seeded', 'seeded@example.com')"
        )
    event = cognito_event("Seeded", email="seeded@example.com")
    fn.handler(event, None)
    assert users_row(database_url, "seeded") == [
        ("seeded", "Seeded", "seeded@example.com", event["request"]["userAttributes"]["sub"])
    ]


def test_a_handle_owned_by_another_cognito_user_fails_loudly_and_changes_nothing(fn, database_url, caplog):
    before = users_row(database_url, "andrewbrown")
    with pytest.raises(fn.RegistrationFailed, match="already belongs to another Cognito user"):
        fn.handler(cognito_event("andrewbrown", email="someone-else@example.com"), None)
    assert users_row(database_url, "andrewbrown") == before
    failure = json.loads(caplog.records[-1].getMessage())
    assert caplog.records[-1].levelno == logging.ERROR and failure["event"] == "post_confirmation_failed"
    assert all(c.closed for c in fn.opened)


def test_a_duplicate_email_is_a_conflict_not_a_crash(fn, database_url):
    with pytest.raises(fn.RegistrationFailed):
        fn.handler(cognito_event("brandnew", email="ANDREW@exampro.co"), None)
    assert users_row(database_url, "brandnew") == []


@pytest.mark.parametrize(
    "attributes, expected",
    [
        (
            {"sub": "s1", "email": "a@x.io", "preferred_username": "Ann_1", "name": " Ann "},
            ("s1", "Ann_1", "Ann", "a@x.io"),
        ),
        (
            {"sub": "s2", "email": "first.last+tag@x.io", "preferred_username": ""},
            ("s2", "first_last_tag", "first_last_tag", "first.last+tag@x.io"),
        ),
        (
            {"sub": "s3", "email": "b@x.io", "preferred_username": "bee", "name": "N" * 80},
            ("s3", "bee", "N" * 64, "b@x.io"),
        ),
    ],
)
def test_attributes_map_to_a_valid_row(attributes, expected):
    from cruddur.stores import cognito_users

    assert cognito_users.fields(attributes) == expected


def test_an_invalid_handle_is_reported(fn, database_url, caplog):
    with pytest.raises(ValueError, match="not a valid handle"):
        fn.handler(cognito_event("no spaces please"), None)
    assert json.loads(caplog.records[-1].getMessage())["error"] == "InvalidCognitoUser"


def test_an_unreachable_database_is_logged_and_raised_without_the_password(fn, monkeypatch, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://cruddur:Sup3rSecret@127.0.0.1:{port}/cruddur")
    with pytest.raises(psycopg.OperationalError):
        fn.handler(cognito_event("nobody"), None)
    message = caplog.records[-1].getMessage()
    assert json.loads(message)["error"] == "OperationalError" and "Sup3rSecret" not in message


def test_missing_connection_url_is_named(fn, monkeypatch):
    monkeypatch.delenv("CONNECTION_URL")
    with pytest.raises(fn.RegistrationFailed, match="CONNECTION_URL is not set"):
        fn.handler(cognito_event("nobody"), None)


def test_forgot_password_confirmation_needs_no_row(fn, monkeypatch, database_url):
    monkeypatch.delenv("CONNECTION_URL")  # proves the database is not touched
    event = cognito_event("forgetful", source="PostConfirmation_ConfirmForgotPassword")
    assert fn.handler(event, None) is event
    assert users_row(database_url, "forgetful") == []


def test_the_built_zip_runs_on_its_own_without_flask(database_url, tmp_path):
    """bin/cognito/build-lambda's zip, unpacked and run with only psycopg beside it (no API package)."""
    zip_path = tmp_path / "fn.zip"
    built = subprocess.run(
        [str(REPO_ROOT / "bin" / "cognito" / "build-lambda"), "--no-deps", "--output", str(zip_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == str(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        assert sorted(zf.namelist()) == ["cruddur/stores/cognito_users.py", "lambda_function.py"]
        zf.extractall(tmp_path / "fn")
    event = cognito_event("fromzip")
    script = (
        "import json, sys; import lambda_function as f; "
        "out = f.handler(json.loads(sys.argv[1]), None); "
        "print(json.dumps({'same': out == json.loads(sys.argv[1]), 'flask': 'flask' in sys.modules}))"
    )
    # -S: no site processing, so neither the venv's .pth (backend-flask) nor anything else sneaks in;
    # site-packages is given only for psycopg (which the real zip carries).
    env = {
        "PATH": os.environ["PATH"],
        "CONNECTION_URL": database_url,
        "PYTHONPATH": f"{tmp_path / 'fn'}:{sysconfig.get_paths()['purelib']}",
    }
    run = subprocess.run(
        [sys.executable, "-S", "-c", script, json.dumps(event)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"same": True, "flask": False}
    assert users_row(database_url, "fromzip")[0][3] == event["request"]["userAttributes"]["sub"]
