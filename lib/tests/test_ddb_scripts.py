"""bin/ddb/*: run as processes against the emulator over HTTP (and PostgreSQL for the demo users)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from cruddur_kit import REPO_ROOT
from testkit import aws_client

SCRIPTS = (
    "schema-load",
    "seed",
    "list-tables",
    "drop",
    "scan",
    "patterns/get-conversation",
    "patterns/list-conversations",
)


def run(script: str, *args: str, env: dict | None = None, timeout: int = 60):
    return subprocess.run(
        [str(REPO_ROOT / "bin" / "ddb" / script), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def kit_env(aws_env, database_url):
    """The emulator (AWS_ENDPOINT_URL from aws_env), this test's own table, this test's own database."""
    table = f"cruddur-messages-s-{uuid.uuid4().hex[:8]}"
    yield {"DDB_MESSAGE_TABLE": table, "CONNECTION_URL": database_url}
    try:
        aws_client("dynamodb").delete_table(TableName=table)
    except aws_client("dynamodb").exceptions.ResourceNotFoundException:
        pass


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_help(script):
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert f"bin/ddb/{script}" in result.stdout
    assert ("--table" in result.stdout) == (script != "list-tables")


def test_schema_load_is_idempotent_and_list_tables_shows_it(kit_env):
    first = run("schema-load", env=kit_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["created", "dynamodb-table", kit_env["DDB_MESSAGE_TABLE"]]
    second = run("schema-load", env=kit_env)
    assert second.returncode == 0 and second.stdout.startswith("unchanged")
    table = aws_client("dynamodb").describe_table(TableName=kit_env["DDB_MESSAGE_TABLE"])["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["inbox-index"]
    listed = run("list-tables", env=kit_env)
    assert listed.returncode == 0 and kit_env["DDB_MESSAGE_TABLE"] in listed.stdout.splitlines()


def test_the_emulator_can_be_named_by_the_endpoint_flag(kit_env, aws_env):
    env = {**{k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}, **kit_env}
    flag = ["--endpoint-url", aws_env["AWS_ENDPOINT_URL"]]
    created = subprocess.run(
        [str(REPO_ROOT / "bin/ddb/schema-load"), *flag], env=env, capture_output=True, text=True, timeout=60
    )
    assert created.returncode == 0, created.stderr
    assert f"table {kit_env['DDB_MESSAGE_TABLE']} in emulator {aws_env['AWS_ENDPOINT_URL']}" in created.stderr
    assert aws_client("dynamodb").describe_table(TableName=kit_env["DDB_MESSAGE_TABLE"])["Table"]["TableStatus"]
    # no flag and no AWS_ENDPOINT_URL: real AWS, which a destructive command refuses without --yes
    refused = subprocess.run([str(REPO_ROOT / "bin/ddb/drop")], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "refusing to drop table" in refused.stderr
    dropped = subprocess.run(
        [str(REPO_ROOT / "bin/ddb/drop"), *flag], env=env, capture_output=True, text=True, timeout=60
    )
    assert dropped.returncode == 0 and dropped.stdout.split() == [
        "deleted",
        "dynamodb-table",
        kit_env["DDB_MESSAGE_TABLE"],
    ]


def test_schema_load_refuses_a_table_of_another_shape(kit_env):
    aws_client("dynamodb").create_table(
        TableName=kit_env["DDB_MESSAGE_TABLE"],
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    result = run("schema-load", env=kit_env)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith("error: ") and "bin/ddb/drop" in result.stderr


def test_seed_writes_a_conversation_through_the_store_once(kit_env):
    assert run("schema-load", env=kit_env).returncode == 0
    seeded = run("seed", env=kit_env)
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.startswith("created") and "andrewbrown <-> bayko" in seeded.stdout

    inbox = run("patterns/list-conversations", "andrewbrown", env=kit_env)
    assert inbox.returncode == 0, inbox.stderr
    [conversation] = lines(inbox.stdout)
    assert conversation["handle"] == "bayko"
    theirs = lines(run("patterns/list-conversations", "@bayko", env=kit_env).stdout)
    assert [c["uuid"] for c in theirs] == [conversation["uuid"]] and theirs[0]["handle"] == "andrewbrown"

    convo = run("patterns/get-conversation", conversation["uuid"], env=kit_env)
    messages = lines(convo.stdout)
    assert len(messages) == 6 and [m["handle"] for m in messages] == ["andrewbrown", "bayko"] * 3
    assert messages[-1]["message"] == conversation["message"]  # the conversation row shows the last message
    assert [m["created_at"] for m in messages] == sorted(m["created_at"] for m in messages)

    again = run("seed", env=kit_env)
    assert again.returncode == 0 and again.stdout.startswith("unchanged")
    assert len(lines(run("patterns/get-conversation", conversation["uuid"], env=kit_env).stdout)) == 6


def test_get_conversation_pages_backwards_with_the_printed_cursor(kit_env):
    run("schema-load", env=kit_env)
    run("seed", env=kit_env)
    group = lines(run("patterns/list-conversations", "andrewbrown", env=kit_env).stdout)[0]["uuid"]
    newest = run("patterns/get-conversation", group, "--limit", "4", env=kit_env)
    assert "--cursor " in newest.stderr
    cursor = newest.stderr.split("--cursor ")[1].split()[0]
    older = run("patterns/get-conversation", group, "--limit", "4", "--cursor", cursor, env=kit_env)
    assert older.returncode == 0, older.stderr
    seen = lines(older.stdout) + lines(newest.stdout)
    assert len(seen) == 6 and len({m["uuid"] for m in seen}) == 6
    wrong = run("patterns/get-conversation", str(uuid.uuid4()), "--cursor", cursor, env=kit_env)
    assert wrong.returncode == 1 and "another conversation" in wrong.stderr


def test_scan_prints_json_lines_bounded_by_limit(kit_env):
    run("schema-load", env=kit_env)
    run("seed", env=kit_env)
    everything = lines(run("scan", "--limit", "1000", env=kit_env).stdout)
    assert len(everything) == 1 + 2 + 6  # pair row, two conversation rows, six messages
    assert {i["pk"].split("#")[0] for i in everything} == {"PAIR", "GRP", "MSG"}
    assert len(lines(run("scan", "--limit", "2", env=kit_env).stdout)) == 2


def test_drop_deletes_then_reports_absent(kit_env):
    run("schema-load", env=kit_env)
    dropped = run("drop", env=kit_env)
    assert dropped.returncode == 0 and dropped.stdout.startswith("deleted"), dropped.stderr
    assert kit_env["DDB_MESSAGE_TABLE"] not in run("list-tables", env=kit_env).stdout.splitlines()
    again = run("drop", env=kit_env)
    assert again.returncode == 0 and again.stdout.startswith("absent")


@pytest.mark.parametrize("script", ["drop", "seed"])
@pytest.mark.parametrize("endpoint", ["", "https://dynamodb.us-east-1.amazonaws.com"])
def test_destructive_scripts_refuse_real_aws_without_yes(kit_env, script, endpoint):
    run("schema-load", env=kit_env)
    result = run(script, env={**kit_env, "AWS_ENDPOINT_URL": endpoint})
    assert result.returncode == 1 and "pass --yes" in result.stderr and result.stdout == ""
    # nothing happened in the emulator
    assert aws_client("dynamodb").scan(TableName=kit_env["DDB_MESSAGE_TABLE"])["Count"] == 0


def test_missing_table_and_unknown_user_are_one_line_errors(kit_env):
    missing = run("patterns/get-conversation", str(uuid.uuid4()), env=kit_env)
    assert missing.returncode == 1 and "bin/ddb/schema-load" in missing.stderr
    run("schema-load", env=kit_env)
    ghost = run("patterns/list-conversations", "ghost", env=kit_env)
    assert ghost.returncode == 1 and ghost.stderr.startswith("error: no user @ghost")
    bad = run("patterns/get-conversation", "not-a-uuid", env=kit_env)
    assert bad.returncode == 1 and "is not a uuid" in bad.stderr
    for result in (missing, ghost, bad):
        assert result.stdout == "" and result.stderr.splitlines()[-1].startswith("error: ")


def test_seed_needs_the_demo_users(kit_env):
    run("schema-load", env=kit_env)
    result = run("seed", env={**kit_env, "CONNECTION_URL": ""})
    assert result.returncode == 1 and "CONNECTION_URL" in result.stderr
