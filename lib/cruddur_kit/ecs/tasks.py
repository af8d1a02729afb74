"""Tasks: why they stopped (grouped, with counts), and one-off tasks that wait for an exit code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import KitError
from .clock import Deadline

DESCRIBE_BATCH = 100  # describe_tasks takes at most 100 tasks per call


def describe_tasks(ecs, cluster: str, arns: list[str]) -> list[dict]:
    tasks = []
    for i in range(0, len(arns), DESCRIBE_BATCH):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=arns[i : i + DESCRIBE_BATCH])["tasks"]
    return tasks


def stop_reason(task: dict) -> str:
    """One line saying why a task stopped: the task's reason, then what its containers said."""
    parts = [task.get("stoppedReason") or task.get("stopCode") or "stopped (no reason given)"]
    for c in task.get("containers", []):
        if c.get("reason"):
            parts.append(f"{c['name']}: {c['reason']}")
        elif c.get("exitCode") not in (None, 0):
            parts.append(f"{c['name']}: exit code {c['exitCode']}")
    return " — ".join(parts)


def group_reasons(tasks: list[dict]) -> Counter:
    """Stopped tasks' reasons with counts, e.g. {'Task failed ELB health checks …': 3}."""
    return Counter(stop_reason(t) for t in tasks if t.get("lastStatus") == "STOPPED")


def service_stopped_tasks(ecs, cluster: str, service: str) -> list[str]:
    """ARNs of the service's stopped tasks (AWS keeps them for about an hour)."""
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, serviceName=service, desiredStatus="STOPPED"):
        arns += page["taskArns"]
    return arns


@dataclass
class StoppedWatcher:
    """Reports, once each, the service tasks that stopped since it was created, grouped by reason."""

    ecs: object
    cluster: str
    service: str
    known: set = field(default_factory=set)
    reasons: Counter = field(default_factory=Counter)

    def prime(self) -> None:
        self.known.update(service_stopped_tasks(self.ecs, self.cluster, self.service))

    def poll(self) -> Counter:
        """The new stopped tasks' reasons (only tasks of this service), added to `reasons`."""
        fresh = [a for a in service_stopped_tasks(self.ecs, self.cluster, self.service) if a not in self.known]
        if not fresh:
            return Counter()
        described = describe_tasks(self.ecs, self.cluster, fresh)
        # a task told to stop drains first (DEACTIVATING for the deregistration delay, then STOPPING):
        # it counts once it has STOPPED, so only those (and tasks ECS no longer describes) are known now
        self.known.update(set(fresh) - {t["taskArn"] for t in described if t.get("lastStatus") != "STOPPED"})
        # list_tasks filters by service on AWS; the group check keeps one-off tasks out everywhere.
        tasks = [
            t for t in described if t.get("group") == f"service:{self.service}" and t.get("lastStatus") == "STOPPED"
        ]
        new = group_reasons(tasks)
        self.reasons.update(new)
        return new


@dataclass
class TaskResult:
    arn: str
    status: str
    exit_code: int | None
    reason: str | None


def run_task(
    ecs,
    *,
    cluster: str,
    task_definition: str,
    network: dict | None,
    container: str,
    command: list[str] | None,
    launch: dict,
    started_by: str = "cruddur-kit",
) -> str:
    """Start one task in the given network; its ARN. `launch` is launchType or capacityProviderStrategy."""
    kwargs = dict(cluster=cluster, taskDefinition=task_definition, count=1, startedBy=started_by, **launch)
    if network:
        kwargs["networkConfiguration"] = network
    if command:
        kwargs["overrides"] = {"containerOverrides": [{"name": container, "command": list(command)}]}
    resp = ecs.run_task(**kwargs)
    if resp.get("failures"):
        why = "; ".join(
            f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip() for f in resp["failures"]
        )
        raise KitError(f"ECS could not start the task: {why}")
    if not resp.get("tasks"):
        raise KitError("ECS started no task and gave no reason: check the cluster and task definition")
    return resp["tasks"][0]["taskArn"]


def wait_task(
    ecs, *, cluster: str, arn: str, container: str, deadline: Deadline, interval: float, say: Callable[[str], None]
) -> TaskResult:
    """Poll until the task is STOPPED (whatever states it skipped); its container's exit code."""
    last = None
    while True:
        tasks = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"]
        if not tasks:
            raise KitError(f"task {arn} is gone: ECS no longer describes it")
        task = tasks[0]
        status = task.get("lastStatus", "UNKNOWN")
        if status != last:
            say(f"task {short_id(arn)}: {status}")
            last = status
        if status == "STOPPED":  # a fast task may go PENDING → STOPPED between two polls
            mine = next((c for c in task.get("containers", []) if c.get("name") == container), None)
            code = mine.get("exitCode") if mine else None
            return TaskResult(arn=arn, status=status, exit_code=code, reason=None if code == 0 else stop_reason(task))
        if deadline.expired():
            return TaskResult(
                arn=arn,
                status=status,
                exit_code=None,
                reason=f"timed out after {deadline.seconds:g}s with the task still {status}",
            )
        deadline.sleep(interval)


def short_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]
