"""bin/backend/deploy as a process against a fresh emulator: create, no-op, update, dry run, bad input.

The emulator runs a service's tasks and deployments on its clock (journal/2026-11-29-emulator-ecs-deployments.md):
a created service's tasks start and its deployment reads COMPLETED, and an update starts a new deployment
that the deploy waits for until the new revision runs alone.
"""

from __future__ import annotations

import pytest

import ecs_world as w
from cruddur_kit import images


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = w.start(tmp_path_factory.mktemp("ecs-deploy"))
    w.prepare(server, tags=("aaa111", "bbb222"))
    yield server, w.environment(server)
    server.stop()


def _service(server):
    return w.client(server, "ecs").describe_services(cluster="cruddur", services=["backend-flask"])["services"]


def _revisions(server):
    return w.client(server, "ecs").list_task_definitions(familyPrefix="backend-flask")["taskDefinitionArns"]


def test_deploy_creates_then_skips_a_noop_then_updates(world):
    server, env = world
    first = w.run("backend/deploy", "--tag", "aaa111", "--interval", "0.2", env=env)
    assert first.returncode == 0, first.stderr
    assert "created      task-definition            backend-flask:1" in first.stdout
    assert "created      ecs-service                backend-flask" in first.stdout
    assert "SUCCESSFUL · CANARY · traffic 100% to backend-flask:1" in first.stderr  # the service deployment
    assert first.stderr.splitlines()[-1].endswith("SUCCESSFUL: backend-flask:1 runs 2/2")
    [svc] = _service(server)
    assert svc["taskDefinition"].endswith("task-definition/backend-flask:1")
    vpc_conf = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert len(vpc_conf["subnets"]) >= 2 and len(vpc_conf["securityGroups"]) == 1  # one subnet per AZ
    assert svc["loadBalancers"][0]["containerPort"] == 4567
    td = w.client(server, "ecs").describe_task_definition(taskDefinition="backend-flask:1")["taskDefinition"]
    # pinned: the digest ECR gave the tag at deploy time, not the tag
    [aaa111] = w.client(server, "ecr").describe_images(
        repositoryName="backend-flask", imageIds=[{"imageTag": "aaa111"}]
    )["imageDetails"]
    assert td["containerDefinitions"][0]["image"].endswith(f"/backend-flask@{aaa111['imageDigest']}")
    assert f"image backend-flask:aaa111 is {aaa111['imageDigest']}: the task definition pins the digest" in first.stderr

    again = w.run("backend/deploy", "--tag", "aaa111", env=env)
    assert again.returncode == 0, again.stderr
    assert "unchanged    task-definition            backend-flask:1" in again.stdout
    assert "unchanged    ecs-service" in again.stdout
    assert "nothing to change: backend-flask already runs backend-flask:1" in again.stderr
    assert (
        again.stderr.strip()
        .splitlines()[-1]
        .startswith("deploy of backend-flask: no new service deployment; the last one, ")
    )
    assert again.stderr.strip().endswith("ended SUCCESSFUL")
    assert len(_revisions(server)) == 1

    update = w.run("backend/deploy", "--tag", "bbb222", "--interval", "0.2", env=env)
    assert update.returncode == 0, update.stderr
    assert "created      task-definition            backend-flask:2" in update.stdout
    assert (
        "updated      ecs-service                backend-flask  (backend-flask:1 -> backend-flask:2)" in update.stdout
    )
    # both revisions ran during the rollout
    assert "backend-flask:2 (new) running 2/2; backend-flask:1 (old) running 2/2" in update.stderr
    assert update.stderr.strip().splitlines()[-1].endswith("SUCCESSFUL: backend-flask:2 runs 2/2")
    assert "rolled back" not in update.stderr
    [svc] = _service(server)
    assert svc["taskDefinition"].endswith("backend-flask:2") and len(svc["deployments"]) == 1


def test_dry_run_changes_nothing(world):
    server, env = world
    before = (_revisions(server), _service(server)[0]["taskDefinition"])
    dry = w.run("backend/deploy", "--tag", "aaa111", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would update" in dry.stdout or "unchanged" in dry.stdout
    assert (_revisions(server), _service(server)[0]["taskDefinition"]) == before


def test_an_image_missing_from_ecr_stops_before_registering(world):
    server, env = world
    before = _revisions(server)
    proc = w.run("backend/deploy", "--tag", "nosuchtag", env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: image backend-flask:nosuchtag is not in ECR: run bin/backend/build and bin/backend/push "
        "for that commit, or pass --tag with a pushed tag"
    )
    assert _revisions(server) == before


def test_unknown_service_names_the_known_ones(world):
    _, env = world
    proc = w.run("backend/deploy", "--service", "nope", "--tag", "aaa111", env=env)
    assert proc.returncode == 1
    assert "no service 'nope' in aws/json/services (known: backend-flask, frontend-react-js)" in proc.stderr


def test_help_lists_the_shared_flags(world):
    _, env = world
    proc = w.run("backend/deploy", "--help", env=env)
    assert proc.returncode == 0
    for flag in ("--cluster", "--service", "--region", "--timeout", "--interval", "--tag", "--dry-run"):
        assert flag in proc.stdout


def _digest(server, tag: str) -> str:
    return w.client(server, "ecr").describe_images(repositoryName="backend-flask", imageIds=[{"imageTag": tag}])[
        "imageDetails"
    ][0]["imageDigest"]


def _pinned_image(server, revision: str) -> str:
    td = w.client(server, "ecs").describe_task_definition(taskDefinition=revision)["taskDefinition"]
    return next(c["image"] for c in td["containerDefinitions"] if c["name"] == "backend-flask")


def test_a_re_pushed_tag_changes_nothing_that_runs_until_a_deploy_pins_its_new_digest(world):
    server, env = world
    running = _service(server)[0]["taskDefinition"]
    old = _digest(server, "bbb222")
    deploy = w.run("backend/deploy", "--tag", "bbb222", "--interval", "0.2", env=env)
    assert deploy.returncode == 0, deploy.stderr
    assert _service(server)[0]["taskDefinition"] == running
    assert _pinned_image(server, running).endswith(f"/backend-flask@{old}")
    same = w.run("ecs/diff", "--tag", "bbb222", "--only", "task-definition", env=env)
    assert (same.returncode, same.stdout) == (0, ""), same.stdout + same.stderr  # the tag names the pinned digest

    w.push_image(server, "backend-flask", "bbb222", build="bbb222, rebuilt")  # the tag moves to another image
    new = _digest(server, "bbb222")
    assert new != old
    # what ECS runs is what the revision pins: the re-push changed nothing there
    assert _pinned_image(server, running).endswith(f"/backend-flask@{old}")
    drift = w.run("ecs/diff", "--tag", "bbb222", "--only", "task-definition", env=env)
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert drift.stdout.splitlines()[0] == (
        f"# backend-flask: backend-flask:bbb222 names {new} now; the deployed "
        f"revision pins {old} (the tag was re-pushed, or the service runs "
        "another build)"
    )
    assert f'-      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask@{old}"' in drift.stdout
    assert '+      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:bbb222"' in drift.stdout

    redeploy = w.run("backend/deploy", "--tag", "bbb222", "--interval", "0.2", env=env)
    assert redeploy.returncode == 0, redeploy.stderr
    now = _service(server)[0]["taskDefinition"]
    assert now != running and _pinned_image(server, now).endswith(f"/backend-flask@{new}")
    after = w.run("ecs/diff", "--tag", "bbb222", "--only", "task-definition", env=env)
    assert (after.returncode, after.stdout) == (0, ""), after.stdout + after.stderr


def test_tracing_sidecar_is_one_setting_and_deploy_registers_the_choice(world):
    server, env = world
    daemon = w.run(
        "backend/deploy", "--tag", "bbb222", "--interval", "0.2", env={**env, "TRACING_SIDECAR": "xray-daemon"}
    )
    assert daemon.returncode == 0, daemon.stderr
    td = w.client(server, "ecs").describe_task_definition(taskDefinition=_service(server)[0]["taskDefinition"])[
        "taskDefinition"
    ]
    by_name = {c["name"]: c for c in td["containerDefinitions"]}
    assert sorted(by_name) == ["backend-flask", "xray"]
    assert by_name["xray"]["image"] == "public.ecr.aws/xray/aws-xray-daemon:3.3.13"  # public: not pinned by deploy
    assert {s["name"] for s in by_name["backend-flask"]["secrets"]} == {"CONNECTION_URL", "OTEL_EXPORTER_OTLP_HEADERS"}

    adot = w.run("backend/deploy", "--tag", "bbb222", "--interval", "0.2", env=env)  # the default again
    assert adot.returncode == 0, adot.stderr
    td = w.client(server, "ecs").describe_task_definition(taskDefinition=_service(server)[0]["taskDefinition"])[
        "taskDefinition"
    ]
    by_name = {c["name"]: c for c in td["containerDefinitions"]}
    assert sorted(by_name) == ["backend-flask", "otel-collector"]
    assert [s["name"] for s in by_name["backend-flask"]["secrets"]] == ["CONNECTION_URL"]
    assert [s["name"] for s in by_name["otel-collector"]["secrets"]] == ["HONEYCOMB_API_KEY"]

    wrong = w.run("backend/deploy", "--tag", "bbb222", env={**env, "TRACING_SIDECAR": "zipkin"})
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[-1] == (
        "error: TRACING_SIDECAR='zipkin' is not known: use 'adot' (the AWS Distro for OpenTelemetry collector) or "
        "'xray-daemon' (the X-Ray daemon, until its end of support on 2027-02-25)"
    )


def test_diff_without_a_tag_compares_the_git_sha_as_written(world):
    """No --tag and no IMAGE_TAG: Kit.tag's rule takes HEAD's sha, which was never pushed here; diff compares it as
    written (the deployed digest against a tag ECR does not hold: different, no failed look-up)."""
    server, env = world
    if not _service(server):  # run alone: deploy first, as the tests above did
        assert w.run("backend/deploy", "--tag", "aaa111", "--interval", "0.2", env=env).returncode == 0
    proc = w.run("ecs/diff", "--only", "task-definition", env={k: v for k, v in env.items() if k != "IMAGE_TAG"})
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and not proc.stdout.startswith("#")
    assert (
        f'+      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:{images.git_sha()}"'
        in proc.stdout
    )
