"""What a local task runs: the task definition bin/backend/deploy registers, rendered by the same code
(spec.task_definition), read into one plan per container and checked against the rules ECS enforces for
what run-local honours (dependsOn, essential, healthCheck, stopTimeout, startTimeout, user,
readonlyRootFilesystem, portMappings, awslogs)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from ... import REPO_ROOT, config
from ... import spec as speclib
from ...errors import KitError

CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")
STOP_TIMEOUT = 30  # seconds: ECS's default on Fargate (at most 120)
SECOND = 1_000_000_000  # Docker counts health-check durations in nanoseconds
# Honoured locally as ECS does; anything else in a container definition is reported once and ignored.
HONOURED = {
    "name",
    "image",
    "essential",
    "command",
    "entryPoint",
    "workingDirectory",
    "environment",
    "secrets",
    "user",
    "readonlyRootFilesystem",
    "healthCheck",
    "dependsOn",
    "stopTimeout",
    "startTimeout",
    "portMappings",
    "logConfiguration",
    "cpu",
    "memory",
    "memoryReservation",
    "linuxParameters",
    "ulimits",
    "repositoryCredentials",
}


@dataclass(frozen=True)
class HealthCheck:
    command: list[str]
    interval: int = 30
    timeout: int = 5
    retries: int = 3
    start_period: int = 0

    def docker(self) -> dict:
        return {
            "test": self.command,
            "interval": self.interval * SECOND,
            "timeout": self.timeout * SECOND,
            "retries": self.retries,
            "start_period": self.start_period * SECOND,
        }

    def describe(self) -> str:
        return " ".join(self.command)

    @property
    def unhealthy_after(self) -> int:
        """Seconds after start by which Docker (and ECS) would have called a failing check UNHEALTHY."""
        return self.start_period + self.interval * (self.retries + 1) + self.timeout


@dataclass(frozen=True)
class AwsLogs:
    group: str
    region: str
    prefix: str
    create_group: bool

    def stream(self, container: str, task_id: str) -> str:
        return f"{self.prefix}/{container}/{task_id}"  # the awslogs driver's name on Fargate


@dataclass(frozen=True)
class Port:
    container_port: int
    protocol: str = "tcp"


@dataclass
class ContainerPlan:
    name: str
    image: str
    essential: bool
    environment: dict[str, str]
    secrets: list[tuple[str, str]]  # (name, valueFrom)
    depends_on: list[tuple[str, str]]  # (container, condition)
    health: HealthCheck | None
    stop_timeout: int
    start_timeout: int | None
    ports: list[Port]
    logs: AwsLogs | None
    command: list[str] | None = None
    entry_point: list[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    read_only: bool = False
    memory: int | None = None
    memory_reservation: int | None = None
    cpu: int | None = None
    init: bool = False
    ulimits: list[dict] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


@dataclass
class TaskPlan:
    family: str
    source: str
    task_cpu: int | None
    task_memory: int | None
    task_role_arn: str | None
    containers: list[ContainerPlan]

    def container(self, name: str) -> ContainerPlan:
        return next(c for c in self.containers if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.containers]


def _ints(td: dict, key: str, parse) -> int | None:
    value = td.get(key)
    return parse(value) if value not in (None, "") else None


def _health(raw: dict | None, where: str) -> HealthCheck | None:
    if not raw:
        return None
    command = raw.get("command") or []
    if not command or command[0] not in ("CMD", "CMD-SHELL"):
        raise KitError(f"{where}: healthCheck.command must start with CMD or CMD-SHELL, got {command[:1]}")
    check = HealthCheck(
        command=list(command),
        interval=int(raw.get("interval", 30)),
        timeout=int(raw.get("timeout", 5)),
        retries=int(raw.get("retries", 3)),
        start_period=int(raw.get("startPeriod", 0)),
    )
    for label, value, low, high in (
        ("interval", check.interval, 5, 300),
        ("timeout", check.timeout, 2, 60),
        ("retries", check.retries, 1, 10),
        ("startPeriod", check.start_period, 0, 300),
    ):
        if not low <= value <= high:
            raise KitError(
                f"{where}: healthCheck.{label} {value} is outside ECS's {low}-{high}: fix the task definition"
            )
    return check


def _logs(raw: dict | None) -> AwsLogs | None:
    if not raw or raw.get("logDriver") != "awslogs":
        return None
    opts = raw.get("options") or {}
    return AwsLogs(
        group=opts.get("awslogs-group", ""),
        region=opts.get("awslogs-region", ""),
        prefix=opts.get("awslogs-stream-prefix", ""),
        create_group=str(opts.get("awslogs-create-group", "")).lower() == "true",
    )


def _container(c: dict, source: str) -> ContainerPlan:
    where = f"{source}: container {c.get('name')}"
    stop = int(c.get("stopTimeout", STOP_TIMEOUT))
    if not 0 <= stop <= 120:
        raise KitError(f"{where}: stopTimeout {stop} is outside Fargate's 0-120 seconds: fix the task definition")
    linux = c.get("linuxParameters") or {}
    return ContainerPlan(
        name=c["name"],
        image=c.get("image", ""),
        essential=c.get("essential", True),
        environment={e["name"]: str(e.get("value", "")) for e in c.get("environment") or []},
        secrets=[(s["name"], s["valueFrom"]) for s in c.get("secrets") or []],
        depends_on=[(d["containerName"], d["condition"]) for d in c.get("dependsOn") or []],
        health=_health(c.get("healthCheck"), where),
        stop_timeout=stop,
        start_timeout=int(c["startTimeout"]) if c.get("startTimeout") is not None else None,
        ports=[Port(int(p["containerPort"]), p.get("protocol", "tcp")) for p in c.get("portMappings") or []],
        logs=_logs(c.get("logConfiguration")),
        command=c.get("command"),
        entry_point=c.get("entryPoint"),
        working_dir=c.get("workingDirectory"),
        user=c.get("user"),
        read_only=bool(c.get("readonlyRootFilesystem")),
        memory=c.get("memory"),
        memory_reservation=c.get("memoryReservation"),
        cpu=c.get("cpu"),
        init=bool(linux.get("initProcessEnabled")),
        ulimits=list(c.get("ulimits") or []),
        ignored=sorted(k for k in c if k not in HONOURED),
    )


def load(td: dict, source: str) -> TaskPlan:
    """The plan of a rendered task definition; KitError on what ECS would refuse or fail on."""
    containers = [_container(c, source) for c in td.get("containerDefinitions") or []]
    if not containers:
        raise KitError(f"{source} defines no containerDefinitions")
    names = [c.name for c in containers]
    if len(set(names)) != len(names):
        raise KitError(f"{source}: container names must be unique, got {', '.join(names)}")
    if not any(c.essential for c in containers):
        raise KitError(f"{source}: ECS needs at least one essential container: mark the app essential")
    by_name = {c.name: c for c in containers}
    for c in containers:
        if not c.image:
            raise KitError(f"{source}: container {c.name} has no image")
        for dep, condition in c.depends_on:
            where = f"{source}: container {c.name} dependsOn {dep} {condition}"
            if dep not in by_name or dep == c.name:
                raise KitError(f"{where}: no such other container in the task definition (it has: {', '.join(names)})")
            if condition not in CONDITIONS:
                raise KitError(f"{where}: the condition must be one of {', '.join(CONDITIONS)}")
            if condition in ("COMPLETE", "SUCCESS") and by_name[dep].essential:
                raise KitError(
                    f"{where}: ECS allows COMPLETE and SUCCESS only on a non-essential container: "
                    f"mark {dep} essential: false"
                )
            if condition == "HEALTHY" and by_name[dep].health is None:
                raise KitError(f"{where}: {dep} has no healthCheck, so it can never be HEALTHY: give it one")
        if c.logs and not (c.logs.group and c.logs.region and c.logs.prefix):
            raise KitError(
                f"{source}: container {c.name}'s awslogs options need awslogs-group, awslogs-region and "
                "awslogs-stream-prefix (Fargate requires the prefix)"
            )
    _no_cycles(by_name, source)
    return TaskPlan(
        family=td.get("family", "task"),
        source=source,
        task_cpu=_ints(td, "cpu", _cpu_units),
        task_memory=_ints(td, "memory", _memory_mib),
        task_role_arn=td.get("taskRoleArn"),
        containers=containers,
    )


def _cpu_units(value) -> int | None:
    from ..taskdef import parse_cpu

    return parse_cpu(value)


def _memory_mib(value) -> int | None:
    from ..taskdef import parse_memory

    return parse_memory(value)


def _no_cycles(by_name: dict[str, ContainerPlan], source: str) -> None:
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise KitError(f"{source}: dependsOn forms a cycle ({' -> '.join(path + [name])}): break it")
        state[name] = "visiting"
        for dep, _ in by_name[name].depends_on:
            visit(dep, path + [name])
        state[name] = "done"

    for name in by_name:
        visit(name, [])


def label(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# -- rendering --------------------------------------------------------------------------------------------------


def local_defaults(backend_url: str) -> dict[str, str]:
    """Values a deploy reads from the account's load balancer, set for a local task when the environment
    does not name them (FRONTEND_URL, BACKEND_URL)."""
    return {"FRONTEND_URL": "http://localhost:3000", "BACKEND_URL": backend_url}


def render(
    service: speclib.ServiceSpec,
    *,
    tag: str,
    region: str,
    cluster: str,
    backend_url: str,
    task_definition: Path | None = None,
    clients=None,
) -> tuple[dict, str]:
    """(the rendered task definition, its file's label): bin/backend/deploy's rendering (spec.task_definition)
    of the service's task definition, or of another file given in its place."""
    env = {**local_defaults(backend_url), **os.environ}
    variables = config.Variables(
        {"IMAGE_TAG": tag, "CLUSTER_NAME": cluster, "AWS_DEFAULT_REGION": region}, env, client_factory=clients
    )
    if task_definition is not None:
        if not task_definition.is_file():
            raise KitError(f"--task-definition {task_definition} is not a file: name a task definition JSON file")
        service = dataclasses.replace(service, task_definition_path=task_definition.resolve())
    source = label(service.task_definition_path)
    return speclib.task_definition(service, variables), source
