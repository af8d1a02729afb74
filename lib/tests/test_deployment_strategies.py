"""The backend's CANARY deployments as a user runs them, every step a bin/ script as a process against the
emulator: bin/aws/setup makes what canary needs (alternate target group, test listener and rules, alarms,
ECS's infrastructure role); bin/backend/deploy walks the service deployment's stages to SUCCESSFUL; the
same deploy with an alarm forced into ALARM during the bake ends in ROLLBACK and exits 1 naming the alarm,
and bin/ecs/status shows it; bin/ecs/rollback stops a deployment in flight.

The emulator's clock runs at 1 s per emulated minute, so the backend's 3-minute canary bake and 3-minute
bake take about 3 s each: long enough for a 0.2 s poll to see every stage, short enough for a test.
"""
from __future__ import annotations

import subprocess
import time

import pytest

import ecs_world as w
from cruddur_kit import REPO_ROOT

ALARM = "cruddur-backend-flask-5xx"
STAGES = ("stage SCALE_UP", "stage PRODUCTION_TRAFFIC_SHIFT · traffic 5% to", "stage BAKE_TIME · traffic 100% to",
          "SUCCESSFUL · CANARY")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = w.start(tmp_path_factory.mktemp("strategies"), CRUDDUR_EMULATOR_MINUTE_SECONDS="1")
    env = w.environment(server)
    setup = w.run("aws/setup", env=env, timeout=120)
    assert setup.returncode == 0, setup.stderr
    for tag in ("aaa111", "bbb222", "ccc333", "ddd444"):
        w.push_image(server, "backend-flask", tag)
    first = _deploy(env, "aaa111")
    assert first.returncode == 0, first.stderr
    yield server, env
    server.stop()


def _deploy(env, tag: str, *extra: str):
    return w.run("backend/deploy", "--tag", tag, "--interval", "0.2", "--timeout", "120", *extra, env=env,
                 timeout=150)


def _current(server) -> dict:
    ecs = w.client(server, "ecs")
    svc = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    return ecs.describe_service_deployments(serviceDeploymentArns=[svc["currentServiceDeployment"]])[
        "serviceDeployments"][0]


def _poll(what, condition, seconds: float = 60.0):
    """Poll `condition()` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds:g}s")


def test_setup_makes_what_a_canary_needs_and_a_second_run_changes_nothing(world):
    server, env = world
    elbv2 = w.client(server, "elbv2")
    groups = {t["TargetGroupName"] for t in elbv2.describe_target_groups()["TargetGroups"]}
    assert {"cruddur-backend-flask", "cruddur-backend-flask-alt"} <= groups
    alb = elbv2.describe_load_balancers(Names=["cruddur-alb"])["LoadBalancers"][0]
    ports = {li["Port"] for li in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert ports == {80, 8080}
    alarms = {a["AlarmName"] for a in w.client(server, "cloudwatch").describe_alarms()["MetricAlarms"]}
    assert {ALARM, "cruddur-backend-flask-unhealthy-hosts"} <= alarms
    attached = w.client(server, "iam").list_attached_role_policies(RoleName="CruddurECSInfrastructureRole")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [
        "AmazonECSInfrastructureRolePolicyForLoadBalancers"]
    again = w.run("aws/setup", env=env, timeout=120)  # after a deployment moved the rules' weights
    assert again.returncode == 0, again.stderr
    changed = [line for line in again.stdout.splitlines() + again.stderr.splitlines()
               if line.split()[:1] in (["created"], ["updated"])]
    assert changed == []


def test_a_canary_deploy_walks_its_stages_and_succeeds(world):
    server, env = world
    result = _deploy(env, "bbb222")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    where = [next((i for i, line in enumerate(lines) if stage in line), None) for stage in STAGES]
    assert None not in where and where == sorted(where), result.stderr  # each stage seen, in ECS's order
    canary = lines[where[1]]
    assert "traffic 5% to backend-flask:2" in canary and "canary bake ~" in canary
    assert f"alarms MONITORING ({ALARM} OK" in canary
    assert "backend-flask:2 (new) running 2/2" in canary and "backend-flask:1 (old) running 2/2" in canary
    assert "bake ~" in lines[where[2]]
    assert lines[-1].startswith("deploy of backend-flask: service deployment ")
    assert lines[-1].endswith("SUCCESSFUL: backend-flask:2 runs 2/2")
    assert _current(server)["status"] == "SUCCESSFUL"


def test_an_alarm_in_alarm_during_bake_rolls_back_and_deploy_exits_1_naming_it(world):
    server, env = world
    cw = w.client(server, "cloudwatch")
    proc = subprocess.Popen([str(REPO_ROOT / "bin" / "backend" / "deploy"), "--tag", "ccc333", "--interval", "0.2",
                             "--timeout", "120"], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def baking():
            sd = _current(server)
            return sd if (sd["status"], sd.get("lifecycleStage")) == ("IN_PROGRESS", "BAKE_TIME") else None

        sd = _poll("the canary's BAKE_TIME", baking)
        assert sd["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
        cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test: 5xx above 5%")
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        cw.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="test over")
    assert proc.returncode == 1, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: deploy of backend-flask failed: service deployment ")
    assert "ROLLBACK_SUCCESSFUL" in last
    assert f"CloudWatch alarm {ALARM} went into ALARM" in last
    assert "the service runs backend-flask:2" in last
    done = _current(server)
    assert done["serviceDeploymentArn"] == sd["serviceDeploymentArn"]
    assert done["status"] == "ROLLBACK_SUCCESSFUL" and done["alarms"]["triggeredAlarmNames"] == [ALARM]

    status = w.run("ecs/status", env=env)
    assert status.returncode == 0, status.stderr
    assert "last service deployment" in status.stdout
    assert "ROLLBACK_SUCCESSFUL · CANARY" in status.stdout
    assert f"outcome: service deployment {sd['serviceDeploymentArn'].rsplit('/', 1)[-1]} ROLLBACK_SUCCESSFUL: " \
           f"CloudWatch alarm {ALARM} went into ALARM" in status.stdout


def test_rollback_stops_a_deployment_in_flight(world):
    server, env = world
    started = _deploy(env, "ddd444", "--no-wait")
    assert started.returncode == 0, started.stderr
    in_flight = _current(server)
    assert in_flight["status"] in ("PENDING", "IN_PROGRESS")
    result = w.run("ecs/rollback", "--interval", "0.2", "--timeout", "120", env=env, timeout=150)
    assert result.returncode == 0, result.stderr
    sid = in_flight["serviceDeploymentArn"].rsplit("/", 1)[-1]
    reported = [line for line in (result.stdout + result.stderr).splitlines() if "service-deployment" in line]
    assert len(reported) == 1 and sid in reported[0] and "stopped: ROLLBACK (StopServiceDeployment)" in reported[0]
    assert result.stderr.strip().splitlines()[-1].endswith(
        f"service deployment {sid} ROLLBACK_SUCCESSFUL: the service runs backend-flask:2 again")
    done = _current(server)
    assert done["serviceDeploymentArn"] == in_flight["serviceDeploymentArn"]
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    svc = w.client(server, "ecs").describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    assert svc["taskDefinition"].endswith("backend-flask:2")
