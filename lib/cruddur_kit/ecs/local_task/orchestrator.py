"""A local task on the Docker engine, run as the ECS agent runs a Fargate task: a pause container owns the
network namespace and every container joins it; containers start as their dependsOn conditions allow;
Docker runs each task-definition health check (the image's own HEALTHCHECK is switched off, as ECS ignores
it); an essential container's exit or failed health check stops the task; a stop goes in reverse
dependency order, each container getting SIGTERM and, after its stopTimeout, SIGKILL.

Everything waits on one queue fed by the engine's event stream, the signal handlers and the observers'
probes; nothing polls the engine. What ends the wait is an observer's decision (observers.py).
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from docker.errors import APIError, DockerException, NotFound
from docker.types import Ulimit

from ...errors import KitError
from . import lifecycle
from .lifecycle import RUNNING, STOPPED, State
from .plan import ContainerPlan, TaskPlan

LABEL = "cruddur.run-local"
AGENT_READY = "task-agent: ready"
AGENT_TIMEOUT = 30.0
EXIT_SIGKILL = 137


@dataclass
class Outcome:
    """Why the task stops: ECS's words where ECS has them, run-local's exit code, and what failed."""

    reason: str
    exit_code: int
    failed: bool
    container: str | None = None
    detail: str = ""


@dataclass
class Stopped:
    exit_code: int | None
    seconds: float
    killed: bool  # still running after its stopTimeout: SIGKILL


@dataclass
class Item:
    kind: str  # started | exited | health | probe | signal | tick | lb | never
    name: str | None = None
    value: object = None
    at: float = field(default_factory=time.monotonic)


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def sweep_leftovers(client, say: Callable[[str], None]) -> None:
    """Remove the containers of earlier run-local processes on this host that died without cleaning up."""
    host = socket.gethostname()
    dead = set()
    for c in client.containers.list(all=True, filters={"label": f"{LABEL}.owner"}):
        who = c.labels.get(f"{LABEL}.owner", "")
        name, _, pid = who.rpartition(":")
        if name != host or not pid.isdigit() or _alive(int(pid)):
            continue
        dead.add(pid)
        c.remove(force=True)
    if dead:
        say(f"cleanup    removed the containers left by run-local process(es) {', '.join(sorted(dead))} that died")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _health_command(check) -> str:
    """How the engine names a health probe's exec in its events (exec_start: …)."""
    if check.command[0] == "CMD-SHELL":
        return "/bin/sh -c " + " ".join(check.command[1:])
    return " ".join(check.command[1:])


class Task:
    """One local task: its containers, their states, and the queue everything reports to."""

    def __init__(self, client, plan: TaskPlan, task_id: str, say: Callable[[str], None]):
        self.client = client
        self.plan = plan
        self.id = task_id
        self.say = say
        self.states = {c.name: State() for c in plan.containers}
        self.containers: dict[str, object] = {}
        self.created: list = []
        self.pause = None
        self.queue: queue.Queue[Item] = queue.Queue()
        self.started_at = time.monotonic()
        self.stopped: dict[str, Stopped] = {}
        self._health_execs: dict[str, str] = {}
        self._probe_commands = {c.name: _health_command(c.health) for c in plan.containers if c.health}
        self._events = client.events(decode=True, filters={"label": f"{LABEL}.task={task_id}", "type": "container"})
        threading.Thread(target=self._pump_events, name="engine-events", daemon=True).start()

    # -- naming ------------------------------------------------------------------------------------------------
    def labels(self, container: str) -> dict[str, str]:
        return {
            f"{LABEL}.task": self.id,
            f"{LABEL}.container": container,
            f"{LABEL}.owner": owner(),
            f"{LABEL}.family": self.plan.family,
        }

    def docker_name(self, container: str) -> str:
        return f"run-local-{self.id[:8]}-{container}"

    # -- the engine's events, as items ------------------------------------------------------------------------
    def _pump_events(self) -> None:
        try:
            for event in self._events:
                attrs = event.get("Actor", {}).get("Attributes", {})
                name = attrs.get(f"{LABEL}.container")
                action = event.get("Action", "")
                if action == "die":
                    self.queue.put(Item("exited", name, int(attrs.get("exitCode", -1))))
                elif action.startswith("health_status:"):
                    self.queue.put(Item("health", name, action.split(":", 1)[1].strip()))
                elif action.startswith("exec_start:") and name in self._probe_commands:
                    if action.split(":", 1)[1].strip() == self._probe_commands[name]:
                        self._health_execs[attrs.get("execID", "")] = name
                elif action == "exec_die" and attrs.get("execID") in self._health_execs:
                    self.queue.put(
                        Item("probe", self._health_execs.pop(attrs["execID"]), int(attrs.get("exitCode", -1)))
                    )
        except Exception:  # the stream is closed when the task is removed
            pass

    # -- the pause container ---------------------------------------------------------------------------------
    def start_pause(self, agent_image: str, bindings: list) -> tuple[str, str]:
        """Create and start the pause container with the task's published ports; (its address on the bridge,
        the bridge's gateway: the host's address as the task sees it)."""
        api = self.client.api
        host_config = api.create_host_config(
            port_bindings={b.docker_key: ("127.0.0.1", b.host_port) for b in bindings},
            network_mode="bridge",
            mem_limit="64m",
        )
        # detach=False with stdin_open is how the SDK asks for StdinOnce: stdin closes when its one writer
        # (configure_agent) leaves, so the agent reads exactly one configuration.
        created = api.create_container(
            agent_image,
            name=self.docker_name("pause"),
            labels=self.labels("~pause"),
            stdin_open=True,
            detach=False,
            ports=[(b.container_port, b.protocol) for b in bindings],
            host_config=host_config,
        )
        self.pause = self.client.containers.get(created["Id"])
        self.created.append(self.pause)
        try:
            self.pause.start()
        except APIError as e:
            text = str(e)
            if "already allocated" in text or "address already in use" in text:
                taken = next((b for b in bindings if f":{b.host_port}" in text), None)
                which = f"port {taken.host_port} on 127.0.0.1" if taken else "a port of the task on 127.0.0.1"
                raise KitError(
                    f"{which} is taken: stop what listens there, or pass --port-override "
                    f"OTHER:{taken.container_port if taken else 'CONTAINER_PORT'}"
                ) from None
            raise
        self.pause.reload()
        settings = self.pause.attrs["NetworkSettings"]
        if not settings.get("IPAddress") or not settings.get("Gateway"):
            raise KitError("the task's pause container got no address on the Docker bridge: restart the engine")
        return settings["IPAddress"], settings["Gateway"]

    def configure_agent(self, config: dict) -> None:
        """Hand the agent its configuration on stdin (never argv or env) and wait until it listens."""
        sock = self.client.api.attach_socket(self.pause.id, params={"stdin": 1, "stream": 1})
        raw = getattr(sock, "_sock", sock)
        try:
            raw.sendall((json.dumps(config) + "\n").encode())
        finally:
            raw.close()
        lines: queue.Queue = queue.Queue()
        stream = self.pause.logs(stream=True, follow=True)

        def read():
            buffer = b""
            try:
                for chunk in stream:
                    buffer += chunk
                    while b"\n" in buffer:
                        line, buffer = buffer.split(b"\n", 1)
                        lines.put(line.decode("utf-8", "replace"))
            except Exception:
                pass
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        seen = []
        deadline = time.monotonic() + AGENT_TIMEOUT
        try:
            while True:
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    line = None
                if line is not None and line.startswith(AGENT_READY):
                    return
                if line is None:
                    detail = " / ".join(seen[-3:]) or "no output"
                    raise KitError(
                        f"the task agent (pause container) did not get ready within {AGENT_TIMEOUT:g}s "
                        f"({detail}): run make image to rebuild cruddur-local/task-agent"
                    )
                seen.append(line)
        finally:
            stream.close()

    # -- the task's containers ---------------------------------------------------------------------------------
    def create(self, c: ContainerPlan, image: str, environment: dict[str, str]) -> None:
        kwargs = {
            "image": image,
            "name": self.docker_name(c.name),
            "labels": self.labels(c.name),
            "detach": True,
            "environment": [f"{k}={v}" for k, v in environment.items()],
            "network_mode": f"container:{self.pause.id}",
            "read_only": c.read_only,
            "healthcheck": c.health.docker() if c.health else {"test": ["NONE"]},
        }
        if c.command is not None:
            kwargs["command"] = c.command
        if c.entry_point is not None:
            kwargs["entrypoint"] = c.entry_point
        if c.working_dir:
            kwargs["working_dir"] = c.working_dir
        if c.user:
            kwargs["user"] = c.user
        if c.init:
            kwargs["init"] = True
        if c.ulimits:
            kwargs["ulimits"] = [Ulimit(name=u["name"], soft=u["softLimit"], hard=u["hardLimit"]) for u in c.ulimits]
        memory = c.memory or (None if c.memory_reservation else self.plan.task_memory)
        if memory:
            kwargs["mem_limit"] = f"{memory}m"
        if c.memory_reservation:
            kwargs["mem_reservation"] = f"{c.memory_reservation}m"
        if c.cpu:
            kwargs["cpu_shares"] = max(2, int(c.cpu))
        if self.plan.task_cpu:  # no container may use more than the task's vCPUs (Fargate caps their sum)
            kwargs["nano_cpus"] = int(self.plan.task_cpu / 1024 * 1e9)
        self.containers[c.name] = self.client.containers.create(**kwargs)
        self.created.append(self.containers[c.name])

    def start(self, name: str, on_started: Callable[[str, object], None]) -> None:
        self.containers[name].start()
        state = self.states[name]
        state.status, state.started_at = RUNNING, time.monotonic()
        if self.plan.container(name).health:
            state.health = "starting"
        on_started(name, self.containers[name])
        self.queue.put(Item("started", name))

    # -- the loop --------------------------------------------------------------------------------------------
    def apply(self, item: Item) -> None:
        """Fold an item into the containers' states (before the observer sees it)."""
        state = self.states.get(item.name) if item.name else None
        if state is None:
            return
        if item.kind == "exited" and state.status != STOPPED:
            state.status, state.exit_code = STOPPED, item.value
        elif item.kind == "health":
            state.health = item.value

    def run(self, observer, on_started: Callable[[str, object], None]) -> Outcome:
        reported_never: set[str] = set()
        while True:
            for name in lifecycle.startable(self.plan, self.states):
                deps = ", ".join(f"{d} {cond}" for d, cond in self.plan.container(name).depends_on)
                self.say(f"starting   {name}" + (f" (dependsOn {deps}: met)" if deps else ""))
                self.start(name, on_started)
            for name, why in lifecycle.never_starting(self.plan, self.states, self.started_at):
                if name not in reported_never:
                    reported_never.add(name)
                    self.queue.put(Item("never", name, why))
            deadlines = [
                d
                for d in (observer.deadline(), lifecycle.next_start_deadline(self.plan, self.states, self.started_at))
                if d
            ]
            timeout = max(0.05, min(deadlines) - time.monotonic()) if deadlines else None
            try:
                item = self.queue.get(timeout=timeout)
            except queue.Empty:
                item = Item("tick")
            self.apply(item)
            outcome = observer.on(self, item)
            if outcome is not None:
                return outcome

    # -- stopping ----------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the running containers as ECS does: dependents first, each SIGTERM then SIGKILL after its
        stopTimeout; containers of one wave in parallel. Then the pause container."""
        running = {name for name, s in self.states.items() if s.status == RUNNING}
        for wave in lifecycle.stop_waves(self.plan, running):
            threads = [threading.Thread(target=self._stop_one, args=(name,)) for name in wave]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if self.pause is not None:
            try:
                self.pause.stop(timeout=5)
            except DockerException:
                pass

    def _stop_one(self, name: str) -> None:
        c = self.plan.container(name)
        container = self.containers[name]
        began = time.monotonic()
        self.say(f"stopping   {name} (SIGTERM; SIGKILL after its stopTimeout of {c.stop_timeout}s)")
        try:
            container.stop(timeout=c.stop_timeout)
            container.reload()
            code = container.attrs["State"]["ExitCode"]
        except (NotFound, DockerException):
            code = None
        seconds = time.monotonic() - began
        killed = code == EXIT_SIGKILL and seconds >= c.stop_timeout
        self.stopped[name] = Stopped(code, seconds, killed)
        state = self.states[name]
        state.status, state.exit_code = STOPPED, code

    def health_log(self, name: str) -> tuple[int | None, str]:
        """(exit code, output) of the container's last health probe, as Docker recorded it."""
        try:
            container = self.containers[name]
            container.reload()
            log = ((container.attrs.get("State") or {}).get("Health") or {}).get("Log") or []
        except (KeyError, DockerException):
            return None, ""
        if not log:
            return None, ""
        last = log[-1]
        return last.get("ExitCode"), (last.get("Output") or "").strip()

    def last_probe(self, name: str, wait: float = 2.0) -> tuple[int | None, str]:
        """The probe Docker records just after its exec_die event (it lands in State.Health.Log a moment later)."""
        deadline = time.monotonic() + wait
        while True:
            code, output = self.health_log(name)
            if code is not None or time.monotonic() > deadline:
                return code, output
            time.sleep(0.05)

    def remove(self) -> None:
        """Remove every container this task created (pause included), and stop listening to the engine."""
        for container in reversed(self.created):
            try:
                container.remove(force=True, v=True)
            except NotFound:
                pass
            except DockerException as e:
                self.say(f"cleanup    warning: could not remove {container.name}: {str(e).splitlines()[0]}")
        try:
            self._events.close()
        except Exception:
            pass
