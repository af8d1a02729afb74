"""The bounded wait after a deploy, a rollback or a scale: live progress on stderr, then a verdict.

Progress shows the rollout state, running/pending/desired, NEW service events only, and the reasons
of tasks that stopped meanwhile, grouped with counts. The verdict is success only when the deployment
this command started is the PRIMARY one, runs the task definition it registered, and is COMPLETED.
Anything else at the end is a failure with the reason: a FAILED rollout (the circuit breaker), a
PRIMARY deployment on another task definition (rolled back, or superseded), or the deadline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import KitError
from .clock import Deadline
from .tasks import StoppedWatcher


@dataclass
class Goal:
    """What the wait is for. deployment_id/task_definition: a deploy; desired_count: a scale."""

    task_definition: str
    deployment_id: str | None = None
    desired_count: int | None = None


@dataclass
class Verdict:
    ok: bool | None  # None: not decided yet
    message: str
    stopped: Counter = field(default_factory=Counter)


def describe_service(ecs, cluster: str, service: str) -> dict | None:
    """The service's description, or None when it does not exist (or is INACTIVE/DRAINING away)."""
    try:
        resp = ecs.describe_services(cluster=cluster, services=[service])
    except ecs.exceptions.ClusterNotFoundException:
        raise KitError(f"cluster {cluster} does not exist: run bin/aws/setup (or pass --cluster)") from None
    for svc in resp.get("services", []):
        if svc.get("status") == "ACTIVE":
            return svc
    return None


def require_service(ecs, cluster: str, service: str) -> dict:
    svc = describe_service(ecs, cluster, service)
    if svc is None:
        raise KitError(
            f"service {service} is not in cluster {cluster}: deploy it with bin/backend/deploy --service {service}"
        )
    return svc


def revision(arn: str | None) -> str:
    """'backend-flask:7' from a task definition ARN."""
    return (arn or "?").rsplit("/", 1)[-1]


def primary(svc: dict) -> dict | None:
    return next((d for d in svc.get("deployments", []) if d.get("status") == "PRIMARY"), None)


def judge(svc: dict, goal: Goal) -> Verdict:
    """Success, failure (with the reason) or undecided, from one describe_services answer."""
    deps = svc.get("deployments", [])
    prim = primary(svc)
    mine = next((d for d in deps if goal.deployment_id and d.get("id") == goal.deployment_id), None)
    if mine is not None and mine.get("rolloutState") == "FAILED":
        return Verdict(
            False,
            f"deployment {mine['id']} FAILED: {mine.get('rolloutStateReason') or 'no reason given'}"
            f"; the service runs {revision(prim and prim.get('taskDefinition'))}",
        )
    if prim is None:
        return Verdict(None, "no PRIMARY deployment yet")
    if prim.get("taskDefinition") != goal.task_definition:
        why = (mine or {}).get("rolloutStateReason") or _last_event(svc) or "no reason given"
        return Verdict(
            False,
            f"rolled back: the PRIMARY deployment runs {revision(prim.get('taskDefinition'))}, "
            f"not {revision(goal.task_definition)} which this command deployed ({why})",
        )
    if goal.deployment_id and prim.get("id") != goal.deployment_id:
        return Verdict(
            False,
            f"superseded: deployment {prim.get('id')} replaced {goal.deployment_id} "
            "(another deploy or a forced new deployment); its outcome is not this one's",
        )
    state = prim.get("rolloutState")
    if state == "FAILED":
        reason = prim.get("rolloutStateReason") or "no reason given"
        return Verdict(False, f"deployment {prim.get('id')} FAILED: {reason}")
    if goal.desired_count is not None:
        steady = (
            len(deps) == 1
            and svc.get("desiredCount") == goal.desired_count
            and svc.get("runningCount") == goal.desired_count
            and state in (None, "COMPLETED")
        )
        return Verdict(True if steady else None, f"{goal.desired_count} task(s) running")
    if state == "COMPLETED":
        return Verdict(
            True,
            f"deployment {prim.get('id')} COMPLETED: {revision(goal.task_definition)} "
            f"runs {prim.get('runningCount', 0)}/{prim.get('desiredCount', 0)}",
        )
    if state is None and len(deps) == 1 and prim.get("runningCount") == prim.get("desiredCount"):
        return Verdict(
            True,
            f"steady: {revision(goal.task_definition)} runs "
            f"{prim.get('runningCount', 0)}/{prim.get('desiredCount', 0)}",
        )
    return Verdict(None, f"rollout {state or 'IN_PROGRESS'}")


def _last_event(svc: dict) -> str | None:
    events = sorted(svc.get("events", []), key=lambda e: str(e.get("createdAt", "")))
    return events[-1]["message"] if events else None


def progress_line(svc: dict, goal: Goal) -> str:
    prim = primary(svc) or {}
    if goal.desired_count is not None:
        line = (
            f"desired {svc.get('desiredCount', 0)}: running {svc.get('runningCount', 0)}, "
            f"pending {svc.get('pendingCount', 0)}"
        )
    else:
        line = (
            f"rollout {prim.get('rolloutState', '?')}: {revision(prim.get('taskDefinition'))} running "
            f"{prim.get('runningCount', 0)}/{prim.get('desiredCount', 0)}, pending {prim.get('pendingCount', 0)}"
        )
    if prim.get("failedTasks"):
        line += f", {prim['failedTasks']} failed"
    others = [d for d in svc.get("deployments", []) if d is not prim and d.get("status") != "PRIMARY"]
    if others:
        line += f"; {len(others)} older deployment(s) with {sum(d.get('runningCount', 0) for d in others)} running"
    return line


def wait(
    ecs,
    *,
    cluster: str,
    service: str,
    goal: Goal,
    deadline: Deadline,
    interval: float,
    say: Callable[[str], None],
    seen_events: set | None = None,
    stopped: StoppedWatcher | None = None,
) -> Verdict:
    """Poll until judged, or the deadline passes; say() progress as it changes."""
    seen = set(seen_events or ())
    if stopped is None:
        stopped = StoppedWatcher(ecs, cluster, service)
        stopped.prime()  # tasks that stopped before this wait are history, not news
    last_line = None
    while True:
        svc = require_service(ecs, cluster, service)
        for ev in sorted(svc.get("events", []), key=lambda e: str(e.get("createdAt", ""))):
            if ev.get("id") not in seen:
                seen.add(ev.get("id"))
                say(f"  event: {ev.get('message', '')}")
        line = progress_line(svc, goal)
        if line != last_line:
            say(line)
            last_line = line
        for reason, n in stopped.poll().items():
            say(f"  stopped x{n}: {reason}")
        verdict = judge(svc, goal)
        verdict.stopped = stopped.reasons
        if verdict.ok is not None:
            return verdict
        if deadline.expired():
            return Verdict(
                False, with_stopped(f"timed out after {deadline.seconds:g}s: {line}", stopped.reasons), stopped.reasons
            )
        deadline.sleep(interval)


def with_stopped(message: str, reasons) -> str:
    """A failure's message, with the reason most stopped tasks gave (a collections.Counter) when any stopped."""
    if not reasons:
        return message
    reason, n = reasons.most_common(1)[0]
    return f"{message}; {n} task(s) stopped: {reason}"


def event_ids(svc: dict | None) -> set:
    return {e.get("id") for e in (svc or {}).get("events", [])}


def conclude(verdict: Verdict, what: str, say: Callable[[str], None]) -> None:
    """One verdict line; a failure (rollback, timeout) raises, exit 1 naming the reason — never 'success'."""
    if not verdict.ok:
        raise KitError(f"{what} failed: {verdict.message}")
    say(f"{what}: {verdict.message}")
