"""bin/dev/provision-docker: a Docker engine that answers (CI runs it before the container tests)."""

from __future__ import annotations

import time

import click

from ...cli import kit_command
from ...containers import provision
from ...kit import Kit
from ...output import log


@kit_command(endpoint=False)  # no AWS calls
def command(kit: Kit) -> None:
    """Make sure a Docker engine answers: use the running one, else (as root, on Debian) install the docker.io
    package when it is missing and start dockerd in the background (log /var/log/cruddur-dockerd.log,
    or CRUDDUR_DOCKERD_LOG). Prints `running` or `started` and how long it took."""
    began = time.monotonic()
    state = provision.ensure_engine(log)
    click.echo(f"docker engine {state} ({time.monotonic() - began:.1f}s)")
