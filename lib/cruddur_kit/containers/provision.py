"""A Docker engine for CI and fresh machines: the one that answers, else (as root, on Debian) the docker.io
package installed and dockerd started in the background, its log in a file, waited for (bounded)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ..debian import apt_install
from ..errors import KitError
from . import engine

LOG = Path(os.environ.get("CRUDDUR_DOCKERD_LOG", "/var/log/cruddur-dockerd.log"))
PID_FILE = Path("/var/run/docker.pid")
START_TIMEOUT = 60.0


def _dockerd() -> str | None:
    return shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/usr/bin:/sbin:/bin")


def _stale_pid_file() -> None:
    """dockerd refuses to start over the pid file of one that was killed (a CI runner ends what a session left)."""
    try:
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        PID_FILE.unlink(missing_ok=True)


def ensure_engine(log: Callable[[str], None]) -> str:
    """'running' when an engine answered already, else 'started'; KitError naming the fix otherwise."""
    try:
        engine.connect(timeout=10)
        return "running"
    except KitError:
        pass
    if os.geteuid() != 0:
        raise KitError(
            f"no Docker engine answers at {engine.where()} and starting one needs root: run "
            "bin/dev/provision-docker as root, or start Docker Desktop / the docker service"
        )
    if os.environ.get("DOCKER_HOST"):
        raise KitError(
            f"no Docker engine answers at DOCKER_HOST={os.environ['DOCKER_HOST']}: start that engine, "
            "or unset DOCKER_HOST to have one started here"
        )
    if _dockerd() is None:
        apt_install(["docker.io"], "a Docker engine", log)
    _stale_pid_file()
    LOG.parent.mkdir(parents=True, exist_ok=True)
    log(f"docker: starting dockerd in the background (log {LOG})")
    with open(LOG, "ab") as out:
        subprocess.Popen(
            [_dockerd()], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            engine.connect(timeout=5)
            return "started"
        except KitError:
            time.sleep(0.5)
    tail = " / ".join(LOG.read_text(errors="replace").strip().splitlines()[-3:])
    raise KitError(f"dockerd did not answer within {START_TIMEOUT:g}s ({tail}): see {LOG}")
