"""The port a service's image listens on, read from its build context (the Dockerfile's EXPOSE), so a port
fix names what the image does rather than echoing the value a spec got wrong."""

from __future__ import annotations

import re
from pathlib import Path

from .. import REPO_ROOT

EXPOSE = re.compile(r"^\s*EXPOSE\s+(.+)$", re.I | re.M)


def image_ports(service: str, repo_root: Path = REPO_ROOT) -> list[int]:
    """The tcp ports `<service>/Dockerfile` EXPOSEs (empty: no Dockerfile in this repo, or none exposed)."""
    dockerfile = repo_root / service / "Dockerfile"
    if not dockerfile.is_file():
        return []
    ports = []
    for line in EXPOSE.findall(dockerfile.read_text()):
        for item in line.split():
            number, _, proto = item.partition("/")
            if number.isdigit() and proto in ("", "tcp"):
                ports.append(int(number))
    return ports


def where(service: str) -> str:
    return f"{service}/Dockerfile EXPOSE"
