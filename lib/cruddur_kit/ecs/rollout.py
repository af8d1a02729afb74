"""ECS service deployments (ListServiceDeployments / DescribeServiceDeployments): the wait deploy and rollback
use, and the one renderer they and bin/ecs/status share.

A service deployment is ECS's own record of one rollout, whatever the strategy (ROLLING, BLUE_GREEN, CANARY,
LINEAR): its status (PENDING → IN_PROGRESS → SUCCESSFUL, or ROLLBACK_* / STOPPED), its lifecycle stage, the
traffic it has shifted, its alarms and circuit breaker, and the revisions it moves between. Waiting on it
rather than on the service's PRIMARY deployment gives the real outcome and ECS's reason for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import KitError
from .clock import Deadline
from .tasks import StoppedWatcher
from .watch import Verdict, require_service, revision, with_stopped

FINISHED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
BAKES = ("BAKE_TIME", "PRODUCTION_TRAFFIC_SHIFT")  # a canary or linear step bakes inside the traffic shift


def short(arn: str | None) -> str:
    """The service deployment's id, from its ARN (…:service-deployment/CLUSTER/SERVICE/ID)."""
    return (arn or "?").rsplit("/", 1)[-1]


def describe(ecs, arn: str) -> dict:
    found = ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    if not found.get("serviceDeployments"):
        why = "; ".join(f.get("reason", "") for f in found.get("failures", [])) or "not found"
        raise KitError(f"service deployment {arn} cannot be described: {why}")
    return found["serviceDeployments"][0]


def recent(ecs, cluster: str, service: str, n: int = 2) -> list[dict]:
    """The service's newest `n` service deployments, newest first (ECS lists them so)."""
    arns = [
        d["serviceDeploymentArn"]
        for d in ecs.list_service_deployments(cluster=cluster, service=service, maxResults=n).get(
            "serviceDeployments", []
        )
    ][:n]
    if not arns:
        return []
    found = {
        d["serviceDeploymentArn"]: d
        for d in ecs.describe_service_deployments(serviceDeploymentArns=arns)["serviceDeployments"]
    }
    return [found[a] for a in arns if a in found]


@dataclass
class Context:
    """What the renderer needs besides the service deployment: revision names, alarm states, bake clocks."""

    ecs: object
    cloudwatch: object | None = None
    revisions: dict = field(default_factory=dict)  # service revision ARN -> "family:N"
    stage_seen: dict = field(default_factory=dict)  # (deployment, stage, weight) -> monotonic time first seen

    def revision_name(self, arn: str | None) -> str:
        if not arn:
            return "?"
        if arn not in self.revisions:
            found = self.ecs.describe_service_revisions(serviceRevisionArns=[arn]).get("serviceRevisions", [])
            self.revisions[arn] = revision(found[0]["taskDefinition"]) if found else short(arn)
        return self.revisions[arn]

    def alarm_states(self, names: list[str]) -> dict[str, str]:
        if not names or self.cloudwatch is None:
            return {}
        found = self.cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
        states = {a["AlarmName"]: a.get("StateValue", "?") for a in found}
        return {n: states.get(n, "MISSING") for n in names}

    def bake_left(self, sd: dict) -> str | None:
        """'~2m10s of 3m left' while the deployment bakes, counted from when this command first saw the stage
        (ECS reports the stage, not when it began)."""
        stage = sd.get("lifecycleStage")
        if stage not in BAKES or sd.get("status") != "IN_PROGRESS":
            return None
        config = sd.get("deploymentConfiguration") or {}
        weight = (sd.get("targetServiceRevision") or {}).get("requestedProductionTrafficWeight")
        if stage == "BAKE_TIME":
            minutes, what = config.get("bakeTimeInMinutes"), "bake"
        elif config.get("strategy") == "CANARY" and weight is not None and weight < 100:
            minutes, what = (config.get("canaryConfiguration") or {}).get("canaryBakeTimeInMinutes", 10), "canary bake"
        elif config.get("strategy") == "LINEAR" and weight is not None and weight < 100:
            minutes, what = (config.get("linearConfiguration") or {}).get("stepBakeTimeInMinutes", 6), "step bake"
        else:
            return None
        if minutes is None:
            return None
        key = (sd.get("serviceDeploymentArn"), stage, weight)
        first = self.stage_seen.setdefault(key, time.monotonic())
        left = max(0, minutes * 60 - (time.monotonic() - first))
        left = -(-left // 10) * 10  # in 10 s steps, so the progress line changes at most every 10 s
        return f"{what} ~{_duration(left)} of {_duration(minutes * 60)} left"


def _duration(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def _pct(value) -> str:
    return f"{value:g}%" if isinstance(value, (int, float)) else "?"


def summary(sd: dict, ctx: Context) -> str:
    """One line: status, strategy, stage, traffic shifted, bake left, alarms, running/desired per revision."""
    config = sd.get("deploymentConfiguration") or {}
    target = sd.get("targetServiceRevision") or {}
    parts = [f"{sd.get('status', '?')}", config.get("strategy", "ROLLING")]
    if sd.get("lifecycleStage"):
        parts.append(f"stage {sd['lifecycleStage']}")
    weight = target.get("requestedProductionTrafficWeight")
    if weight is not None:
        parts.append(f"traffic {_pct(weight)} to {ctx.revision_name(target.get('arn'))}")
    bake = ctx.bake_left(sd)
    if bake:
        parts.append(bake)
    alarms = sd.get("alarms") or {}
    if alarms.get("alarmNames") and alarms.get("status") != "DISABLED":
        states = ctx.alarm_states(alarms["alarmNames"])
        parts.append(f"alarms {alarms.get('status', '?')} (" + ", ".join(f"{n} {s}" for n, s in states.items()) + ")")
    counts = [_counts(target, ctx, "new")] if target else []
    counts += [_counts(s, ctx, "old") for s in sd.get("sourceServiceRevisions") or []]
    if counts:
        parts.append("; ".join(counts))
    return " · ".join(parts)


def _counts(rev: dict, ctx: Context, role: str) -> str:
    line = (
        f"{ctx.revision_name(rev.get('arn'))} ({role}) running {rev.get('runningTaskCount', 0)}/"
        f"{rev.get('requestedTaskCount', 0)}"
    )
    if rev.get("pendingTaskCount"):
        line += f", pending {rev['pendingTaskCount']}"
    return line


def details(sd: dict, ctx: Context) -> list[str]:
    """The lines under the summary: circuit breaker, hooks waiting, why it ended, what it rolled back to."""
    out = []
    cb = sd.get("deploymentCircuitBreaker") or {}
    if cb.get("status") and cb["status"] != "DISABLED":
        out.append(
            f"circuit breaker {cb['status']}: {cb.get('failureCount', 0)} of {cb.get('threshold', '?')} task failures"
        )
    for hook in sd.get("lifecycleHookDetails") or []:
        out.append(
            f"hook {hook.get('targetType', '')} at {sd.get('lifecycleStage', '?')}: {hook.get('status', '?')}"
            + (f", hookId {hook['hookId']}" if hook.get("hookId") else "")
            + (f", then {hook['timeoutAction']} at {hook['expiresAt']}" if hook.get("expiresAt") else "")
        )
    if sd.get("statusReason"):
        out.append(f"reason: {sd['statusReason']}")
    rollback = sd.get("rollback") or {}
    if rollback.get("serviceRevisionArn"):
        out.append(
            f"rolled back to {ctx.revision_name(rollback['serviceRevisionArn'])}"
            + (f": {rollback['reason']}" if rollback.get("reason") else "")
        )
    return out


def render(sd: dict, ctx: Context, label: str = "service deployment") -> list[str]:
    """The block bin/ecs/status prints for one service deployment (deploy prints the same summary line)."""
    head = f"{label} {short(sd.get('serviceDeploymentArn'))}"
    when = [
        f"started {sd['startedAt']}" if sd.get("startedAt") else "",
        f"finished {sd.get('finishedAt') or sd.get('stoppedAt')}"
        if sd.get("finishedAt") or sd.get("stoppedAt")
        else "",
    ]
    head += "  " + ", ".join(w for w in when if w) if any(when) else ""
    return [head, f"  {summary(sd, ctx)}"] + [f"  {line}" for line in details(sd, ctx)]


def cause(sd: dict) -> str:
    """Why a service deployment did not succeed, naming the trigger: which alarm, the circuit breaker, a hook,
    a stop request or a newer deployment — then ECS's own words."""
    alarms = sd.get("alarms") or {}
    cb = sd.get("deploymentCircuitBreaker") or {}
    if alarms.get("status") == "TRIGGERED" and alarms.get("triggeredAlarmNames"):
        names = ", ".join(alarms["triggeredAlarmNames"])
        why = f"CloudWatch alarm {names} went into ALARM"
    elif cb.get("status") == "TRIGGERED":
        why = (
            f"the deployment circuit breaker tripped ({cb.get('failureCount', '?')} task failures, "
            f"threshold {cb.get('threshold', '?')})"
        )
    elif "hook" in (sd.get("statusReason") or "").lower():
        why = "a lifecycle hook failed"
    elif "StopServiceDeployment" in (sd.get("statusReason") or ""):
        why = "stopped on request (StopServiceDeployment)"
    elif "newer" in (sd.get("statusReason") or ""):
        why = "a newer service deployment replaced it"
    else:
        why = "ECS stopped it"
    return f"{why}: {sd['statusReason']}" if sd.get("statusReason") else why


def judge(sd: dict, ctx: Context, success: tuple[str, ...] = ("SUCCESSFUL",)) -> Verdict:
    status = sd.get("status")
    sid = short(sd.get("serviceDeploymentArn"))
    target = sd.get("targetServiceRevision") or {}
    if status in success:
        name = ctx.revision_name((sd.get("rollback") or {}).get("serviceRevisionArn") or target.get("arn"))
        if status == "SUCCESSFUL":
            return Verdict(
                True,
                f"service deployment {sid} SUCCESSFUL: {name} runs "
                f"{target.get('runningTaskCount', 0)}/{target.get('requestedTaskCount', 0)}",
            )
        return Verdict(True, f"service deployment {sid} {status}: the service runs {name} again")
    if status in FINISHED:
        back = (sd.get("rollback") or {}).get("serviceRevisionArn")
        tail = f"; the service runs {ctx.revision_name(back)}" if back else ""
        return Verdict(False, f"service deployment {sid} {status}: {cause(sd)}{tail}")
    return Verdict(None, f"service deployment {sid} {status}")


def wait(
    ecs,
    cloudwatch,
    *,
    cluster: str,
    service: str,
    arn: str,
    deadline: Deadline,
    interval: float,
    say: Callable[[str], None],
    seen_events: set | None = None,
    stopped: StoppedWatcher | None = None,
    success: tuple[str, ...] = ("SUCCESSFUL",),
) -> Verdict:
    """Poll the service deployment `arn` until it finishes (or the deadline passes), saying each change of
    its summary, the service's new events and the reasons of tasks that stopped meanwhile."""
    ctx = Context(ecs, cloudwatch)
    seen = set(seen_events or ())
    if stopped is None:
        stopped = StoppedWatcher(ecs, cluster, service)
        stopped.prime()  # tasks that stopped before this wait are history, not news
    last_line, said = None, set()
    while True:
        svc = require_service(ecs, cluster, service)
        for ev in sorted(svc.get("events", []), key=lambda e: str(e.get("createdAt", ""))):
            if ev.get("id") not in seen:
                seen.add(ev.get("id"))
                say(f"  event: {ev.get('message', '')}")
        sd = describe(ecs, arn)
        line = summary(sd, ctx)
        if line != last_line:
            say(line)
            last_line = line
        for extra in details(sd, ctx) if sd.get("status") not in FINISHED else ():
            if extra not in said:  # each circuit-breaker count, hook state or reason once
                said.add(extra)
                say(f"  {extra}")
        for reason, n in stopped.poll().items():
            say(f"  stopped x{n}: {reason}")
        verdict = judge(sd, ctx, success)
        verdict.stopped = stopped.reasons
        if verdict.ok is not None:
            if verdict.ok is False:
                verdict.message = with_stopped(verdict.message, stopped.reasons)
            return verdict
        if deadline.expired():
            return Verdict(
                False, with_stopped(f"timed out after {deadline.seconds:g}s: {line}", stopped.reasons), stopped.reasons
            )
        deadline.sleep(interval)
