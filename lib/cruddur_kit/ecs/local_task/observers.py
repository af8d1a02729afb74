"""What ends a local task's wait. `Service` decides as ECS does for a service's task: an essential container
exits ("Essential container in task exited"), an essential container turns unhealthy ("Task failed
container health checks"), an essential container can never start, or the user stops it ("Task stopped by
user"). `Smoke` adds the pre-push gate: every essential container healthy, the load balancer's health-check
path answered through the published port, within a deadline."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from .orchestrator import Item, Outcome, Task

ESSENTIAL_EXITED = "Essential container in task exited"
FAILED_HEALTH = "Task failed container health checks"
STOPPED_BY_USER = "Task stopped by user"


def _probe_text(task: Task, name: str) -> str:
    code, output = task.last_probe(name)
    check = task.plan.container(name).health
    text = f"{check.describe()}"
    if code is not None:
        text += f" -> exit {code}" + (f": {output.splitlines()[-1][:300]}" if output else "")
    return text


class Service:
    """The task of a service: runs until ECS would stop it."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say

    def deadline(self) -> float | None:
        return None

    def on(self, task: Task, item: Item) -> Outcome | None:
        plan = task.plan
        if item.kind == "signal":
            return Outcome(f"{STOPPED_BY_USER} ({item.value})", 0, False)
        if item.kind == "exited":
            c = plan.container(item.name)
            self.say(f"exited     {item.name} with {item.value}" + ("" if c.essential else " (not essential)"))
            if c.essential:
                return Outcome(ESSENTIAL_EXITED, item.value, True, item.name, f"{item.name} exited with {item.value}")
        if item.kind == "health":
            self.say(f"{item.value:<10} {item.name} ({plan.container(item.name).health.describe()})")
            if item.value == "unhealthy" and plan.container(item.name).essential:
                return Outcome(FAILED_HEALTH, 1, True, item.name, f"{item.name}: {_probe_text(task, item.name)}")
        if item.kind == "never":
            essential = plan.container(item.name).essential
            self.say(f"blocked    {item.name} cannot start: {item.value}")
            if essential:
                return Outcome(
                    f"Essential container {item.name} cannot start",
                    1,
                    True,
                    item.name,
                    f"{item.name} cannot start: {item.value}",
                )
        return None


@dataclass(frozen=True)
class Target:
    """The load balancer's view of the task: container, published host port, path, accepted codes."""

    container: str
    host_port: int
    path: str
    codes: str  # the target group's Matcher.HttpCode, e.g. "200" or "200-299" or "200,302"
    healthy_threshold: int = 2

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}{self.path}"

    def accepts(self, status: int) -> bool:
        for part in self.codes.split(","):
            low, _, high = part.strip().partition("-")
            if low.isdigit() and int(low) <= status <= int(high or low):
                return True
        return False


def get(url: str, timeout: float = 5.0) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as e:
        return e.code, ""
    except (OSError, ValueError) as e:
        return None, str(getattr(e, "reason", e))


class Smoke(Service):
    """Ready means: every essential container running, and healthy where it has a health check; then the
    target answers `healthy_threshold` times. Fails fast when a health probe fails after the app has
    answered the load balancer's path (ECS would turn it UNHEALTHY after its retries)."""

    POLL = 1.0  # how often the load balancer's path is tried while the app starts

    def __init__(self, say, target: Target | None, timeout: float, report: Callable[[str, str], None]):
        super().__init__(say)
        self.target = target
        self.ends = time.monotonic() + timeout
        self.timeout = timeout
        self.report = report
        self.answered = False
        self.healthy_at: dict[str, float] = {}
        self._stop = threading.Event()

    def close(self) -> None:
        self._stop.set()

    def deadline(self) -> float | None:
        return self.ends

    def _poll(self, task: Task) -> None:
        while not self._stop.is_set():
            status, _ = get(self.target.url, timeout=2)
            if status is not None and self.target.accepts(status):
                task.queue.put(Item("lb", self.target.container, status))
                return
            self._stop.wait(self.POLL)

    def on(self, task: Task, item: Item) -> Outcome | None:
        if item.kind == "started" and self.target and item.name == self.target.container:
            threading.Thread(target=self._poll, args=(task,), daemon=True).start()
        if item.kind == "lb":
            self.answered = True
            self.say(
                f"answering  {self.target.container}: GET {self.target.path} -> {item.value} "
                f"({item.at - task.started_at:.1f}s after the task started)"
            )
        if item.kind == "health" and item.value == "healthy":
            self.healthy_at[item.name] = time.monotonic() - task.started_at
        if item.kind == "probe" and item.value != 0 and self.answered and task.plan.container(item.name).essential:
            return Outcome(
                FAILED_HEALTH,
                1,
                True,
                item.name,
                f"{item.name}'s health check fails while the app answers GET {self.target.path}: "
                f"{_probe_text(task, item.name)} (ECS would mark it UNHEALTHY after "
                f"{task.plan.container(item.name).health.retries} retries and replace the task)",
            )
        outcome = super().on(task, item)
        if outcome is not None:
            return outcome
        if self._ready(task):
            return self._check_target(task)
        if time.monotonic() >= self.ends:
            return Outcome("smoke: timed out", 1, True, *self._pending(task))
        return None

    def _ready(self, task: Task) -> bool:
        for c in task.plan.containers:
            state = task.states[c.name]
            if c.essential and (state.status != "RUNNING" or (c.health and state.health != "healthy")):
                return False
        return True

    def _pending(self, task: Task) -> tuple[str | None, str]:
        for c in task.plan.containers:
            state = task.states[c.name]
            if not c.essential:
                continue
            if state.status != "RUNNING":
                return c.name, f"{c.name} is {state.status} after {self.timeout:g}s"
            if c.health and state.health != "healthy":
                return c.name, (
                    f"{c.name}'s health check has not passed within {self.timeout:g}s "
                    f"(state {state.health}): {_probe_text(task, c.name)}"
                )
        return None, f"not ready within {self.timeout:g}s"

    def _check_target(self, task: Task) -> Outcome:
        for c in task.plan.containers:
            if c.essential:
                took = f" after {self.healthy_at[c.name]:.1f}s" if c.name in self.healthy_at else ""
                self.report(
                    "OK",
                    f"container {c.name} "
                    + (
                        f"HEALTHY{took} ({c.health.describe()})"
                        if c.health
                        else "RUNNING (no health check: ECS reports UNKNOWN)"
                    ),
                )
        if self.target is None:
            self.report("SKIP", "load balancer check: the task definition has no container the service routes to")
            return Outcome("smoke: passed", 0, False)
        for _ in range(self.target.healthy_threshold):
            status, why = get(self.target.url)
            if status is None or not self.target.accepts(status):
                answer = f"HTTP {status}" if status is not None else why
                return Outcome(
                    "smoke: the load balancer's health check failed",
                    1,
                    True,
                    self.target.container,
                    f"GET {self.target.url} -> {answer} (the target group expects {self.target.codes})",
                )
        self.report(
            "OK",
            f"GET {self.target.path} via 127.0.0.1:{self.target.host_port} -> {self.target.codes} "
            f"x{self.target.healthy_threshold} (the target group's healthy threshold)",
        )
        return Outcome("smoke: passed", 0, False)
