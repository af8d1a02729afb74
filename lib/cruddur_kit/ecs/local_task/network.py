"""A local task's network, as awsvpc gives a Fargate task one: a namespace of its own (the pause container's)
that every container joins, so they reach each other on localhost; ports published on 127.0.0.1 only.

The local stack's settings name the host's loopback (CONNECTION_URL=...@127.0.0.1:5432, AWS_ENDPOINT_URL=
http://127.0.0.1:4566), which inside the task's namespace is the task's own. So, for every such port the
task's settings name (and no container of the task listens on), a chain of two relays:

    app -> 127.0.0.1:P (in the task: the task agent) -> GATEWAY:R (host relay, bound to the bridge
    gateway address only, accepting only the task's address) -> 127.0.0.1:P (the host's loopback)

The settings then mean inside the task what they mean on the host, unchanged; nothing listens beyond the
bridge, and the services still see connections from 127.0.0.1 (so loopback-only trust rules hold).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from ...errors import KitError
from .relay import Relay

DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "postgres": 5432,
    "postgresql": 5432,
    "redis": 6379,
    "mysql": 3306,
    "amqp": 5672,
    "mongodb": 27017,
}
LOOPBACK = r"127\.0\.0\.1|localhost|\[::1\]"
URL = re.compile(rf"(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/\s]*@)?(?P<host>{LOOPBACK})(?::(?P<port>\d+))?", re.I)
HOST_PORT = re.compile(rf"(?<![\w.:/@])(?P<host>{LOOPBACK}):(?P<port>\d+)", re.I)


def loopback_ports(envs: dict[str, dict[str, str]], task_ports: set[int]) -> dict[int, list[str]]:
    """{port: ["NAME of container", ...]} for the host-loopback ports the containers' settings name, less the
    ports the task's own containers serve (those are the task's, e.g. the X-Ray sidecar's 2000)."""
    found: dict[int, list[str]] = {}
    for container, env in envs.items():
        for name, value in env.items():
            ports = set()
            for m in URL.finditer(value):
                scheme = m.group("scheme").lower().split("+")[0]
                port = int(m.group("port")) if m.group("port") else DEFAULT_PORTS.get(scheme)
                if port:
                    ports.add(port)
            ports.update(int(m.group("port")) for m in HOST_PORT.finditer(value))
            for port in ports - task_ports:
                found.setdefault(port, []).append(f"{name} of {container}")
    return dict(sorted(found.items()))


def host_listens(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Binding:
    host_port: int
    container: str
    container_port: int
    protocol: str

    @property
    def docker_key(self) -> str:
        return f"{self.container_port}/{self.protocol}"


def free_port(protocol: str = "tcp") -> int:
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_free(bindings: list[Binding]) -> None:
    """KitError naming the first host port already taken on 127.0.0.1, and the fix."""
    for b in bindings:
        kind = socket.SOCK_DGRAM if b.protocol == "udp" else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", b.host_port))
            except OSError:
                raise KitError(
                    f"port {b.host_port}/{b.protocol} on 127.0.0.1 is taken (for {b.container}:"
                    f"{b.container_port}): stop what listens there, or pass --port-override "
                    f"OTHER:{b.container_port}"
                ) from None


class HostRelays:
    """The host side: one relay per port, on the bridge gateway address, serving only the task's address."""

    def __init__(self, gateway: str, task_ip: str, ports: list[int]):
        self.relays: dict[int, Relay] = {}
        try:
            for port in ports:
                self.relays[port] = Relay((gateway, 0), ("127.0.0.1", port), allow=lambda ip: ip == task_ip).start()
        except OSError as e:
            self.close()
            raise KitError(f"cannot listen on the Docker bridge gateway {gateway}: {e}: restart the engine") from None

    def targets(self) -> list[dict]:
        """The task agent's relay configuration."""
        return [
            {"port": port, "host": relay.address[0], "host_port": relay.port} for port, relay in self.relays.items()
        ]

    def close(self) -> None:
        for relay in self.relays.values():
            relay.close()
