"""Debian packages the kit installs on demand (as root, or through sudo), saying so first."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

from .errors import KitError


def apt_install(packages: list[str], why: str, log: Callable[[str], None]) -> None:
    """apt-get install the packages; KitError naming the command to run when that fails."""
    command = f"apt-get install -y {' '.join(packages)}"
    if os.geteuid() != 0 and not shutil.which("sudo"):
        raise KitError(f"{why} needs {', '.join(packages)}: run `{command}` as root, then try again")
    log(f"{why}: installing the Debian packages {', '.join(packages)} ({command})")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in ([*sudo, "apt-get", "update", "-qq"], [*sudo, "apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise KitError(f"`{' '.join(argv)}` failed ({last}): run `{command}` as root, then try again")


def ensure_tool(tool: str, package: str, why: str, log: Callable[[str], None]) -> str:
    """The tool's path, installing its package first when it is missing."""
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if found:
        return found
    apt_install([package], why, log)
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if not found:
        raise KitError(f"{package} is installed but {tool} is not on PATH: add /usr/sbin to PATH")
    return found
