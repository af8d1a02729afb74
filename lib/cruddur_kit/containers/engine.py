"""The Docker engine through its API (the docker SDK): one client, and one line when no engine answers.

The API rather than the CLI: a container's whole configuration (an exec-form health check, the
environment with its secrets) travels in the request body, never on a command line `ps` can read.
"""
from __future__ import annotations

import os

import docker
from docker.errors import DockerException, ImageNotFound, NotFound

from ..errors import KitError

__all__ = ["connect", "where", "image_exists", "ImageNotFound", "NotFound", "DockerException"]

FIX = "start one (as root: bin/dev/provision-docker; or Docker Desktop, or `systemctl start docker`)"


def where() -> str:
    """The engine address the client uses (DOCKER_HOST, else the default socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: float = 120) -> docker.DockerClient:
    """A client of an engine that answers; KitError naming the address and the fix otherwise."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException:
        raise KitError(f"no Docker engine answers at {where()}: {FIX}") from None
    return client


def image_exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except ImageNotFound:
        return False
    return True
