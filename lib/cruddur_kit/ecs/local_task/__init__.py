"""bin/ecs/run-local: the service's task definition, rendered as bin/backend/deploy renders it, run under the
local Docker engine as Fargate would run it (and, with --smoke, checked the way a deploy is judged).

The pieces: plan (render + read + check), images (which image each container runs), secrets (SSM /
Secrets Manager), credentials (the task's credentials endpoint), network (namespace, ports, relays to the
host's loopback), orchestrator + lifecycle (start order, health, essential, stop), observers (what ends
the run), logstream (terminal and CloudWatch Logs). This module wires them for one run.
"""

from __future__ import annotations

import collections
import os
import signal
import threading
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import click

from ... import aws, envfile, templates
from ... import images as gitimages
from ... import spec as speclib
from ...containers import build, engine
from ...errors import KitError
from ...output import log
from . import credentials, images, logstream, network, observers, secrets
from . import plan as planlib
from .orchestrator import Item, Task, sweep_leftovers


@dataclass(frozen=True)
class Options:
    service: str
    region: str
    cluster: str
    tag: str | None = None
    images: tuple[str, ...] = ()
    port_overrides: tuple[str, ...] = ()
    smoke: bool = False
    timeout: float | None = None
    task_definition: Path | None = None
    clients: aws.Clients | None = None  # the command's Kit's; None: made here for `region`


class Interrupted(Exception):
    """SIGINT or SIGTERM before the task's containers started: undo what was set up."""


def _port_overrides(values: tuple[str, ...]) -> dict[tuple[int, str], int]:
    found = {}
    for value in values:
        host, sep, container = value.partition(":")
        port, _, protocol = container.partition("/")
        if not sep or not host.isdigit() or not port.isdigit() or protocol not in ("", "tcp", "udp"):
            raise KitError(f"--port-override {value!r} is not HOST:CONTAINER[/udp]: e.g. --port-override 4568:4567")
        found[(int(port), protocol or "tcp")] = int(host)
    return found


def _bindings(plan: planlib.TaskPlan, overrides: dict, smoke: bool, lb: tuple[str, int, int]) -> list[network.Binding]:
    found = []
    for c in plan.containers:
        for p in c.ports:
            host = overrides.get((p.container_port, p.protocol))
            if host is None and (c.name, p.container_port) == lb[:2]:
                host = lb[2]
            if host is None:
                host = network.free_port(p.protocol) if smoke else p.container_port
            found.append(network.Binding(host, c.name, p.container_port, p.protocol))
    return found


def _environment(c: planlib.ContainerPlan, secret_values: dict, endpoint_env: dict, region: str) -> dict[str, str]:
    """What ECS puts in a Fargate container's environment, then the task definition's own, then its secrets."""
    env = {"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "AWS_REGION": region, "AWS_DEFAULT_REGION": region, **endpoint_env}
    if os.environ.get("AWS_ENDPOINT_URL"):  # the emulator (or another endpoint) the caller uses
        env["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
    env.update(c.environment)
    env.update(secret_values)
    return env


class Terminal:
    """Container lines on stdout ("name | line") for a plain run; for a smoke run, only kept (the last 20 per
    container) to show with a failure. Progress goes to stderr through `say`."""

    def __init__(self, quiet: bool, width: int):
        self.quiet = quiet
        self.width = width
        self.lock = threading.Lock()
        self.last: dict[str, collections.deque] = collections.defaultdict(lambda: collections.deque(maxlen=20))

    def emit(self, name: str, line: str) -> None:
        self.last[name].append(line)
        if not self.quiet:
            with self.lock:
                click.echo(f"{name:<{self.width}} | {line}")


def say(message: str) -> None:
    log(message)


def report(status: str, text: str) -> None:
    click.echo(f"{status:<4} {text}")


def run(o: Options) -> int:
    """Run the task until it stops (or, with smoke, until the check is decided); run-local's exit code."""
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(o)
    except Interrupted as e:
        say(f"{e}: stopped before the task started; nothing is left running")
        return 130
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


@dataclass
class Prepared:
    """Everything decided before anything runs (each step can fail in one line, with nothing to undo)."""

    task_id: str
    tag: str
    plan: planlib.TaskPlan
    service: speclib.ServiceSpec
    lb_host: int
    bindings: list
    images: dict
    envs: dict
    loopback: dict
    credentials: dict
    token: str
    agent_image: str


def _run(o: Options) -> int:
    filled = envfile.apply_local()
    if filled.get("AWS_ENDPOINT_URL"):
        say(
            f"settings   the local stack's (make up): AWS_ENDPOINT_URL={filled['AWS_ENDPOINT_URL']} from "
            f"{envfile.local_path()}"
        )
    service = speclib.get(o.service)
    client = engine.connect()
    sweep_leftovers(client, say)
    clients = _clients_by_region(o.clients or aws.Clients(o.region))
    return _execute(o, client, clients, _prepare(o, service, client, clients))


def _clients_by_region(base: aws.Clients):
    """`clients(service, region=None)`: the Kit's clients, or (for a secret ARN in another region) a client
    for that region through the same endpoint."""
    others: dict[str, aws.Clients] = {}

    def clients(service_name: str, region: str | None = None):
        if region in (None, base.region):
            return base(service_name)
        return others.setdefault(region, aws.Clients(region, base.endpoint))(service_name)

    return clients


def _prepare(o: Options, service, client, clients) -> Prepared:
    overrides = _port_overrides(o.port_overrides)
    lb_host = overrides.get((service.container_port, "tcp")) or (
        network.free_port() if o.smoke else service.container_port
    )
    tag = o.tag or gitimages.git_sha()
    td, source = planlib.render(
        service,
        tag=tag,
        region=o.region,
        cluster=o.cluster,
        backend_url=f"http://127.0.0.1:{lb_host}",
        task_definition=o.task_definition,
        clients=clients,
    )
    plan = planlib.load(td, source)
    task_id = uuid.uuid4().hex
    say(f"task       {plan.family} {task_id} from {source} (tag {tag}){' --smoke' if o.smoke else ''}")
    for c in plan.containers:
        if c.ignored:
            say(f"ignored    {c.name}: {', '.join(c.ignored)} (not run locally)")
    bindings = _bindings(plan, overrides, o.smoke, (service.container_name, service.container_port, lb_host))
    network.check_free(bindings)

    tools: list = []

    def local_image(name: str) -> str:
        if not tools:
            tools.append(build.toolchain(say))
        return build.local_image(tools[0], name, say)

    choices = images.resolve(client, plan, images.parse_overrides(o.images, plan), local_image)
    for c in plan.containers:
        text = f"{c.name}: {choices[c.name].image} ({choices[c.name].how})"
        if o.smoke:
            report("OK", text)
        else:
            say(f"image      {text}")
    secret_values = secrets.resolve(plan, clients)
    for c in plan.containers:
        if c.secrets:
            where = os.environ.get("AWS_ENDPOINT_URL") or "AWS"
            say(f"secrets    {c.name}: {', '.join(n for n, _ in c.secrets)} (read through {where}; values not shown)")
    logstream.check_groups(plan, clients, say)
    creds = credentials.for_task(plan.task_role_arn, o.region, task_id, say, clients)
    endpoint_env, token = credentials.endpoint_env(task_id)
    envs = {c.name: _environment(c, secret_values[c.name], endpoint_env, o.region) for c in plan.containers}
    # Ports of the task itself are not the host's: its containers' ports, the credentials endpoint, and the
    # ports it is published on (BACKEND_URL names one: a URL for browsers, not a connection the task makes).
    task_ports = (
        {p.container_port for c in plan.containers for p in c.ports}
        | {credentials.PORT}
        | {b.host_port for b in bindings}
    )
    return Prepared(
        task_id=task_id,
        tag=tag,
        plan=plan,
        service=service,
        lb_host=lb_host,
        bindings=bindings,
        images={name: choice.image for name, choice in choices.items()},
        envs=envs,
        loopback=network.loopback_ports(envs, task_ports),
        credentials=creds,
        token=token,
        agent_image=local_image("task-agent"),
    )


def _execute(o: Options, client, clients, p: Prepared) -> int:
    """Run the prepared task until the observer decides; stop it; undo everything it started."""
    plan = p.plan
    terminal = Terminal(quiet=o.smoke, width=max(len(n) for n in plan.names))
    readers: list = []
    with ExitStack() as stack:  # undone in reverse: containers removed, their log readers done, lines sent
        sink = logstream.CloudWatchSink(clients, say)
        stack.callback(sink.close)
        stack.callback(lambda: [reader.join(timeout=10) for reader in readers])
        task = Task(client, plan, p.task_id, say)
        stack.callback(task.remove)
        task_ip, gateway = task.start_pause(p.agent_image, p.bindings)
        relays = network.HostRelays(gateway, task_ip, list(p.loopback))
        stack.callback(relays.close)
        for port, names in p.loopback.items():
            missing = "" if network.host_listens(port) else " (nothing listens there on the host yet)"
            say(
                f"relay      127.0.0.1:{port} in the task -> the host's 127.0.0.1:{port} via {gateway} "
                f"(named by {', '.join(names)}){missing}"
            )
        task.configure_agent(
            {
                "relays": relays.targets(),
                "credentials": {"port": credentials.PORT, "token": p.token, "document": p.credentials},
            }
        )
        for b in p.bindings:
            say(f"port       127.0.0.1:{b.host_port} -> {b.container}:{b.container_port}/{b.protocol}")
        for c in plan.containers:
            task.create(c, p.images[c.name], p.envs[c.name])
            if c.logs:
                say(f"logs       {c.name}: {c.logs.group} {c.logs.stream(c.name, p.task_id)}")

        def on_started(name: str, container) -> None:
            c = plan.container(name)
            stream = c.logs.stream(name, p.task_id) if c.logs else None
            if c.logs:
                sink.open(c.logs, stream)
            readers.append(logstream.follow(container, name, terminal.emit, sink, c.logs, stream))

        def to_queue(signum, frame):
            task.queue.put(Item("signal", value=signal.Signals(signum).name))

        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, to_queue)
        observer = _observer(o, plan, p.service, p.lb_host)
        try:
            outcome = task.run(observer, on_started)
        finally:
            if isinstance(observer, observers.Smoke):
                observer.close()
            for s in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the stop short
                signal.signal(
                    s,
                    lambda *_: say("stopping   already stopping the task; it ends within the containers' stopTimeouts"),
                )
        say(f"task       stopping: {outcome.reason}" + (f" ({outcome.detail})" if outcome.detail else ""))
        task.stop()
        killed = _summarise(task, outcome)
    if not o.smoke:
        return outcome.exit_code
    return _smoke_verdict(outcome, killed, terminal)


def _observer(o: Options, plan, service, lb_host: int):
    if not o.smoke:
        return observers.Service(say)
    target = None
    if service.container_name in plan.names:
        targets = templates.load(service.targets_path)["targetGroup"]
        target = observers.Target(
            service.container_name,
            lb_host,
            service.health_path,
            str((targets.get("Matcher") or {}).get("HttpCode", "200")),
            int(targets.get("HealthyThresholdCount", 2)),
        )
    checks = [c.health.unhealthy_after for c in plan.containers if c.essential and c.health]
    timeout = o.timeout or max(60, max(checks, default=0) + 30)
    return observers.Smoke(say, target, timeout, report)


def _summarise(task: Task, outcome) -> list[str]:
    killed = []
    for c in task.plan.containers:
        state, stopped = task.states[c.name], task.stopped.get(c.name)
        if stopped and stopped.killed:
            killed.append(c.name)
            say(
                f"killed     {c.name}: exit {stopped.exit_code}, still running after its stopTimeout of "
                f"{c.stop_timeout}s (SIGKILL)"
            )
        elif stopped:
            say(f"stopped    {c.name}: exit {stopped.exit_code} ({stopped.seconds:.1f}s after SIGTERM)")
        elif state.status == "PENDING":
            say(f"never      {c.name} did not start")
    codes = ", ".join(
        f"{c.name} {task.states[c.name].exit_code}"
        for c in task.plan.containers
        if task.states[c.name].exit_code is not None
    )
    say(f"task       stopped: {outcome.reason}" + (f"; exit codes: {codes}" if codes else ""))
    return killed


def _smoke_verdict(outcome, killed: list[str], terminal: Terminal) -> int:
    if outcome.failed:
        report("NG", outcome.detail or outcome.reason)
        if outcome.container and terminal.last.get(outcome.container):
            report("", f"last log lines of {outcome.container}:")
            for line in terminal.last[outcome.container]:
                report("", f"  {line}")
        click.echo(f"smoke: FAILED: {outcome.reason}" + (f" ({outcome.container})" if outcome.container else ""))
        return 1
    if killed:
        report("NG", f"stop: {', '.join(killed)} ignored SIGTERM and was killed after its stopTimeout")
        click.echo("smoke: FAILED: a container did not stop on SIGTERM")
        return 1
    report("OK", "stop: every container exited on SIGTERM within its stopTimeout")
    click.echo("smoke: passed")
    return 0
