"""The backend's CANARY deployments as a user runs them, every step a bin/ script as a process against the
emulator: bin/aws/setup makes what canary needs (alternate target group, test listener and rules, alarms,
ECS's infrastructure role); bin/backend/deploy walks the service deployment's stages to SUCCESSFUL; the
same deploy with an alarm forced into ALARM during the bake ends in ROLLBACK and exits 1 naming the alarm,
and bin/ecs/status shows it; bin/ecs/rollback stops a deployment in flight.

Set-up and the first deploy run on the emulator's real-time clock (1 s per emulated minute). The deploys
under test run on its manual clock, moved by the test (`_drive`) in 10-second steps: where the test asserts
what deploy showed, it moves the clock only once deploy has printed the stage the emulator is in, so no stage
can pass between two of deploy's polls however loaded the machine is.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

import ecs_world as w
from cruddur_kit import REPO_ROOT
from emulator_world import advance, control

ALARM = "cruddur-backend-flask-5xx"
STAGES = (
    "stage SCALE_UP",
    "stage PRODUCTION_TRAFFIC_SHIFT · traffic 5% to",
    "stage BAKE_TIME · traffic 100% to",
    "SUCCESSFUL · CANARY",
)


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
    return w.run("backend/deploy", "--tag", tag, "--interval", "0.2", "--timeout", "120", *extra, env=env, timeout=150)


def _current(server) -> dict:
    ecs = w.client(server, "ecs")
    svc = ecs.describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    return ecs.describe_service_deployments(serviceDeploymentArns=[svc["currentServiceDeployment"]])[
        "serviceDeployments"
    ][0]


@pytest.fixture
def manual_clock(world):
    server, _ = world
    status, doc = control(server, "clock", {"mode": "manual"})
    assert status == 200, doc
    yield
    status, doc = control(server, "clock", {"mode": "real", "minuteSeconds": 1})
    assert status == 200, doc


def _marker(sd: dict) -> str | None:
    """What deploy prints for the stage the service deployment is in (None: nothing to wait for)."""
    if sd["status"] != "IN_PROGRESS" or not sd.get("lifecycleStage"):
        return None
    weight = (sd.get("targetServiceRevision") or {}).get("requestedProductionTrafficWeight")
    return f"stage {sd['lifecycleStage']}" + (f" · traffic {weight:g}% to" if weight is not None else "")


def _drive(
    server, script: str, *args: str, env: dict, handshake: bool = False, on_step=None, seconds: float = 120.0
) -> subprocess.CompletedProcess:
    """Run a bin/ script while moving the manual clock 10 s at a time until it exits. `handshake`: move it
    only after the script printed the current stage; `on_step(sd)` runs before each move."""
    proc = subprocess.Popen(
        [str(REPO_ROOT / "bin" / script), *args],
        env=env,
        cwd=REPO_ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    err: list[str] = []

    def read() -> None:
        for line in proc.stderr:
            err.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + seconds
    try:
        while proc.poll() is None:
            assert time.monotonic() < deadline, f"{script} did not finish in {seconds:g}s:\n{''.join(err)}"
            sd = _current(server)
            if on_step:
                on_step(sd)
            marker = _marker(sd) if handshake else None
            if marker and not any(marker in line for line in list(err)):
                time.sleep(0.05)  # deploy has not seen this stage yet: hold the clock
                continue
            advance(server, seconds=10)
            time.sleep(0.05)
        stdout = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, "".join(err))


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
        "AmazonECSInfrastructureRolePolicyForLoadBalancers"
    ]
    again = w.run("aws/setup", env=env, timeout=120)  # after a deployment moved the rules' weights
    assert again.returncode == 0, again.stderr
    changed = [
        line
        for line in again.stdout.splitlines() + again.stderr.splitlines()
        if line.split()[:1] in (["created"], ["updated"])
    ]
    assert changed == []


def test_a_canary_deploy_walks_its_stages_and_succeeds(world, manual_clock):
    server, env = world
    result = _drive(
        server, "backend/deploy", "--tag", "bbb222", "--interval", "0.1", "--timeout", "120", env=env, handshake=True
    )
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

    # the tasks now serve from the alternate target group, which the rule now weights: doctor reads both
    # colours' health and the rule's forward to either, not an empty "blue" and a rule that "forwards nothing"
    doctor = w.run("ecs/doctor", "--json", env=env)
    findings = json.loads(doctor.stdout)["findings"]
    checked = [f for f in findings if f["check"] in ("target.health", "listener.rule")]
    assert sorted((f["check"], f["status"]) for f in checked) == [("listener.rule", "OK"), ("target.health", "OK")], (
        checked
    )


def test_an_alarm_in_alarm_during_bake_rolls_back_and_deploy_exits_1_naming_it(world, manual_clock):
    server, env = world
    cw = w.client(server, "cloudwatch")
    baking = []

    def alarm_once_baking(sd):
        if not baking and (sd["status"], sd.get("lifecycleStage")) == ("IN_PROGRESS", "BAKE_TIME"):
            baking.append(sd)
            cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test: 5xx above 5%")

    try:
        result = _drive(
            server,
            "backend/deploy",
            "--tag",
            "ccc333",
            "--interval",
            "0.1",
            "--timeout",
            "120",
            env=env,
            on_step=alarm_once_baking,
        )
    finally:
        cw.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="test over")
    assert baking, "the deployment never reached BAKE_TIME"
    [sd] = baking
    assert sd["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    stderr = result.stderr
    assert result.returncode == 1, stderr
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
    assert (
        f"outcome: service deployment {sd['serviceDeploymentArn'].rsplit('/', 1)[-1]} ROLLBACK_SUCCESSFUL: "
        f"CloudWatch alarm {ALARM} went into ALARM" in status.stdout
    )


def test_rollback_stops_a_deployment_in_flight(world, manual_clock):
    server, env = world
    started = _deploy(env, "ddd444", "--no-wait")
    assert started.returncode == 0, started.stderr
    in_flight = _current(server)
    assert in_flight["status"] in ("PENDING", "IN_PROGRESS")  # the clock stands still: it stays in flight
    sid = in_flight["serviceDeploymentArn"].rsplit("/", 1)[-1]
    status = w.run("ecs/status", env=env)
    assert status.returncode == 0, status.stderr
    shown = status.stdout.splitlines()
    head = next(i for i, line in enumerate(shown) if line.startswith("current service deployment "))
    assert sid in shown[head] and shown[head + 1].strip().startswith(f"{in_flight['status']} · CANARY")
    assert any(line.startswith("last service deployment ") for line in shown[head:])  # the one before it
    result = _drive(server, "ecs/rollback", "--interval", "0.1", "--timeout", "120", env=env)
    assert result.returncode == 0, result.stderr
    reported = [line for line in (result.stdout + result.stderr).splitlines() if "service-deployment" in line]
    assert len(reported) == 1 and sid in reported[0] and "stopped: ROLLBACK (StopServiceDeployment)" in reported[0]
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(f"service deployment {sid} ROLLBACK_SUCCESSFUL: the service runs backend-flask:2 again")
    )
    done = _current(server)
    assert done["serviceDeploymentArn"] == in_flight["serviceDeploymentArn"]
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    svc = w.client(server, "ecs").describe_services(cluster="cruddur", services=["backend-flask"])["services"][0]
    assert svc["taskDefinition"].endswith("backend-flask:2")
