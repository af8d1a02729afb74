"""The container lifecycle rules the ECS agent applies, as pure functions of the containers' states:
when a container may start (dependsOn), when it never will, and the order containers stop in
(dependencies reversed: a container stops before the containers it depends on)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .plan import TaskPlan

PENDING, RUNNING, STOPPED = "PENDING", "RUNNING", "STOPPED"


@dataclass
class State:
    status: str = PENDING
    health: str | None = None  # None: no health check (ECS: UNKNOWN); starting | healthy | unhealthy
    exit_code: int | None = None
    started_at: float | None = None


def condition_met(condition: str, dep: State) -> bool | None:
    """True when met, False while it may still be, None when it never will be."""
    if condition == "START":
        return dep.status != PENDING
    if condition == "COMPLETE":
        return dep.status == STOPPED
    if condition == "SUCCESS":
        return (dep.exit_code == 0 or None) if dep.status == STOPPED else False
    if condition == "HEALTHY":
        if dep.health == "healthy":
            return True
        return None if dep.status == STOPPED or dep.health == "unhealthy" else False
    raise ValueError(condition)


def _why_never(condition: str, dep_name: str, dep: State) -> str:
    if dep.status == STOPPED:
        return f"{dep_name} exited with {dep.exit_code} before it was {condition}"
    return f"{dep_name} is unhealthy"


def startable(plan: TaskPlan, states: dict[str, State]) -> list[str]:
    """PENDING containers whose every dependency condition is met, in definition order."""
    return [
        c.name
        for c in plan.containers
        if states[c.name].status == PENDING and all(condition_met(cond, states[dep]) for dep, cond in c.depends_on)
    ]


def never_starting(
    plan: TaskPlan, states: dict[str, State], task_started: float, now: float | None = None
) -> list[tuple[str, str]]:
    """(container, why) for PENDING containers a dependency of which can no longer be met: it failed, or it
    did not get there within its own startTimeout (counted from its start, or the task's)."""
    now = time.monotonic() if now is None else now
    found = []
    for c in plan.containers:
        if states[c.name].status != PENDING:
            continue
        for dep, condition in c.depends_on:
            met = condition_met(condition, states[dep])
            if met is None:
                found.append(
                    (c.name, f"its dependency {_why_never(condition, dep, states[dep])} (dependsOn {dep} {condition})")
                )
                break
            timeout = plan.container(dep).start_timeout
            since = states[dep].started_at or task_started
            if not met and timeout is not None and now - since > timeout:
                found.append(
                    (c.name, f"its dependency {dep} did not reach {condition} within its startTimeout of {timeout}s")
                )
                break
    return found


def next_start_deadline(plan: TaskPlan, states: dict[str, State], task_started: float) -> float | None:
    """The earliest moment a dependency's startTimeout runs out for a PENDING container (monotonic), if any."""
    moments = []
    for c in plan.containers:
        if states[c.name].status != PENDING:
            continue
        for dep, _ in c.depends_on:
            timeout = plan.container(dep).start_timeout
            if timeout is not None:
                moments.append((states[dep].started_at or task_started) + timeout)
    return min(moments) if moments else None


def stop_waves(plan: TaskPlan, running: set[str]) -> list[list[str]]:
    """The running containers in stop order, as waves stopped together: first those no running container
    depends on, then what they depended on, and so on (ECS reverses the dependencies for shutdown)."""
    left = set(running)
    waves = []
    while left:
        wave = [
            c.name
            for c in plan.containers
            if c.name in left
            and not any(c.name == dep for other in left - {c.name} for dep, _ in plan.container(other).depends_on)
        ]
        if not wave:  # unreachable with a checked plan (no cycles); never loop forever on a bad one
            wave = sorted(left)
        waves.append(wave)
        left -= set(wave)
    return waves
