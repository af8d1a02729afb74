"""Issue 13's promise, as a new user runs it: a fresh emulator (an empty account), then
put-params -> setup -> build -> push -> deploy with nothing exported by hand (no Cognito ids, no URLs, no
tag), each a bin/ script run as a process; then verify, diff and doctor find nothing wrong, an update deploy
of another image completes (it used to read "rolled back" on the emulator), and diff names what differs.

Marked `container`: bin/backend/build needs a Docker engine (skipped without one, a failure with CI=true);
with the build cache warm (make image) the two builds take seconds. The emulator has no registry, so
bin/backend/push puts the local image's manifest into its ECR (journal/2026-11-29-empty-account-to-service.md).
"""

from __future__ import annotations

import json
import subprocess

import pytest

import ecs_world as w
from cruddur_kit import AWS_JSON, images

pytestmark = [pytest.mark.container, pytest.mark.usefixtures("docker_engine")]

SECRETS = {
    "CONNECTION_URL": "postgresql://cruddurroot:rehearsal-Secr3t@db.example:5432/cruddur",
    "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=rehearsal-s3cret",
}
UPDATE_TAG = "rehearsal-2"


@pytest.fixture
def empty_account(tmp_path):
    server = w.start(tmp_path, CRUDDUR_EMULATOR_MINUTE_SECONDS="0.25")
    env = w.environment(server)
    for key in (
        "FRONTEND_URL",
        "BACKEND_URL",
        "AWS_COGNITO_USER_POOL_ID",
        "AWS_COGNITO_USER_POOL_CLIENT_ID",
        "IMAGE_TAG",
    ):
        env.pop(key, None)
    yield server, env
    server.stop()
    subprocess.run(["docker", "rmi", f"backend-flask:{UPDATE_TAG}"], capture_output=True, timeout=60)


def _ok(proc):
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _last(proc) -> str:
    return proc.stderr.strip().splitlines()[-1]


def test_put_params_setup_build_push_deploy_on_an_empty_account_then_an_update(empty_account):
    server, env = empty_account
    sha = images.git_sha()  # the one tag rule: no --tag anywhere means HEAD's sha, for every command

    put = _ok(w.run("ssm/put-params", env={**env, **SECRETS}))
    assert not any(secret in put.stdout + put.stderr for secret in SECRETS.values())
    setup = _ok(w.run("aws/setup", env=env, timeout=180))
    assert setup.stderr.splitlines()[0].startswith("lint: aws/json passes")
    assert "created      cognito-user-pool          cruddur-user-pool" in setup.stdout
    build = _ok(w.run("backend/build", env=env, timeout=900))
    assert build.stdout.strip() == f"backend-flask:{sha}"
    push = _ok(w.run("backend/push", env=env, timeout=120))
    assert f"created      ecr-image                  backend-flask:{sha}" in push.stdout
    assert _last(push).startswith(f"pushed 123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:{sha}")
    local_id = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", f"backend-flask:{sha}"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    ecr = w.client(server, "ecr")
    [pushed] = ecr.batch_get_image(repositoryName="backend-flask", imageIds=[{"imageTag": sha}])["images"]
    assert json.loads(pushed["imageManifest"])["config"]["digest"] == local_id  # the image that was built
    again = _ok(w.run("backend/push", env=env, timeout=120))
    assert _last(again).startswith("nothing pushed: ") and "\npushed " not in "\n" + again.stderr

    deploy = _ok(w.run("backend/deploy", "--interval", "0.2", env=env, timeout=180))
    assert f"deploying backend-flask ({sha}) to cluster cruddur" in deploy.stderr
    assert _last(deploy).endswith("SUCCESSFUL: backend-flask:1 runs 2/2"), deploy.stderr  # the service deployment

    ecs, idp = w.client(server, "ecs"), w.client(server, "cognito-idp")
    [svc] = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"]
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    env_vars = {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"]}
    [pool] = idp.list_user_pools(MaxResults=60)["UserPools"]
    [app] = idp.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
    assert (env_vars["AWS_COGNITO_USER_POOL_ID"], env_vars["AWS_COGNITO_USER_POOL_CLIENT_ID"]) == (
        pool["Id"],
        app["ClientId"],
    )

    # right after a good deploy the read-only checks find nothing, with the same default tag
    verify = w.run("ecs/verify", "--service", "backend-flask", env=env)
    assert verify.returncode == 0, verify.stdout
    assert f"OK   ecr image backend-flask:{sha}" in verify.stdout
    diff = w.run("ecs/diff", env=env)
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stdout + diff.stderr
    assert diff.stderr.startswith(
        f"deployed: backend-flask:1 (registered by bin/backend/deploy); local: aws/json at image tag {sha}"
    )
    doctor = w.run("ecs/doctor", "--json", env=env)
    report = json.loads(doctor.stdout)
    assert doctor.returncode == 0 and [f for f in report["findings"] if f["status"] in ("NG", "WARN")] == []

    # the same build under another tag is the same digest: deploy pins digests, so nothing changes
    _ok(w.run("backend/build", "--tag", "same-bytes", env=env, timeout=900))
    _ok(w.run("backend/push", "--tag", "same-bytes", env=env, timeout=120))
    retag = _ok(w.run("backend/deploy", "--tag", "same-bytes", "--interval", "0.2", env=env, timeout=180))
    assert "unchanged    task-definition            backend-flask:1" in retag.stdout, retag.stdout
    assert "no new service deployment" in _last(retag)

    # an update to another image (another build in ECR) completes (not "rolled back"), and diff names it
    w.push_image(server, "backend-flask", UPDATE_TAG)
    update = _ok(w.run("backend/deploy", "--tag", UPDATE_TAG, "--interval", "0.2", env=env, timeout=180))
    assert _last(update).endswith("SUCCESSFUL: backend-flask:2 runs 2/2"), update.stderr
    assert "ROLLBACK" not in update.stderr and "rolled back" not in update.stderr
    moved = w.run("ecs/diff", "--only", "task-definition", env=env)  # HEAD's sha is no longer what runs
    assert moved.returncode == 1
    [pinned] = w.client(server, "ecr").batch_get_image(
        repositoryName="backend-flask", imageIds=[{"imageTag": UPDATE_TAG}]
    )["images"]
    digest = pinned["imageId"]["imageDigest"]
    note, header = moved.stdout.splitlines()[:2]
    assert note.startswith("# backend-flask: ") and f"the deployed revision pins {digest}" in note  # by digest
    assert header == "--- deployed backend-flask:2 (registered by bin/backend/deploy)"
    assert f'-      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask@{digest}",' in moved.stdout
    doctor = w.run("ecs/doctor", "--tag", UPDATE_TAG, "--json", env=env)
    findings = json.loads(doctor.stdout)["findings"]
    assert [f for f in findings if f["status"] in ("NG", "WARN")] == []  # no network.no-route on the default VPC


def test_a_revision_registered_by_hand_is_named_as_such_by_diff(empty_account):
    server, env = empty_account
    _ok(w.run("aws/setup", env=env, timeout=180))
    w.push_image(server, "backend-flask", "handmade")  # what bin/backend/push leaves in ECR
    _ok(w.run("backend/deploy", "--tag", "handmade", "--interval", "0.2", env=env, timeout=180))
    ecs = w.client(server, "ecs")
    td = ecs.describe_task_definition(taskDefinition="backend-flask:1", include=["TAGS"])
    registerable = {
        k: v
        for k, v in td["taskDefinition"].items()
        if k
        in (
            "family",
            "taskRoleArn",
            "executionRoleArn",
            "networkMode",
            "containerDefinitions",
            "cpu",
            "memory",
            "requiresCompatibilities",
            "runtimePlatform",
        )
    }
    spec_memory = json.loads((AWS_JSON / "task-definitions" / "backend-flask.json").read_text())["memory"]
    registerable["memory"] = "2048"  # a change made by hand, registered with the AWS CLI, and put in service
    assert spec_memory != "2048"
    hand = ecs.register_task_definition(**registerable)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="cruddur", service="backend-flask", taskDefinition=hand)
    result = w.run("ecs/diff", "--tag", "handmade", "--only", "task-definition", env=env)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "--- deployed backend-flask:2 (registered outside the kit: no cruddur:registered-by tag)"
    )
    assert '-  "memory": "2048",' in result.stdout and f'+  "memory": "{spec_memory}",' in result.stdout
    assert result.stderr.startswith("deployed: backend-flask:2 (registered outside the kit")
