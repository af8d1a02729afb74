"""The Docker engine through its API (the docker SDK): one client, and one line when no engine answers.

The API rather than the CLI: a container's whole configuration (an exec-form health check, the
environment with its secrets) travels in the request body, never on a command line `ps` can read.
"""

from __future__ import annotations

import os
import socket

import requests
from docker.errors import DockerException, ImageNotFound, NotFound

import docker

from ..errors import KitError

__all__ = ["connect", "where", "image_exists", "ImageNotFound", "NotFound", "DockerException"]

FIX = "start one (as root: bin/dev/provision-docker; or Docker Desktop, or `systemctl start docker`)"


def where() -> str:
    """The engine address the client uses (DOCKER_HOST, else the default socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _socket_accepts(address: str) -> bool:
    """False when a unix socket address refuses connections (a stale socket file, or none): checked here because
    the SDK leaks the socket of a refused connection. Other addresses (tcp://, ssh://) are left to the SDK."""
    if not address.startswith("unix://"):
        return True
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(5)
        try:
            probe.connect(address[len("unix://") :])
        except OSError:
            return False
    return True


def connect(timeout: float = 120) -> docker.DockerClient:
    """A client of an engine that answers; KitError naming the address and the fix otherwise."""
    if not _socket_accepts(where()):
        raise KitError(f"no Docker engine answers at {where()}: {FIX}")
    client = None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (DockerException, requests.RequestException):
        if client is not None:
            client.close()  # its connection pool holds the socket that got no answer
        raise KitError(f"no Docker engine answers at {where()}: {FIX}") from None
    return client


def image_exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except ImageNotFound:
        return False
    return True
