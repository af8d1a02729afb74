"""The Python base image the Dockerfile names (its PYTHON_IMAGE default), or a stand-in made from Debian
packages when no registry serves it.

In order: the named image when the engine has it; a pull (it fails within a second when no registry
answers); the stand-in `cruddur-local/python-base:bookworm-<key>`, cached by the engine under a content
key (suite, variant, packages, recipe), so only the first build on an engine pays for debootstrap (~70 s):
`debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,python-is-python3,
ca-certificates bookworm`, apt's caches dropped, then `docker import`. Its Python is Debian's 3.11, the
minor version of the real base; the Dockerfile itself is unchanged, the stand-in only fills PYTHON_IMAGE.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docker.errors import DockerException

from .. import BACKEND, LOCAL_DIR
from ..debian import ensure_tool
from ..errors import KitError
from .engine import image_exists

SUITE = "bookworm"
VARIANT = "minbase"
PACKAGES = ("python3", "python3-venv", "python3-pip", "python-is-python3", "ca-certificates")
RECIPE = 1  # bump when the steps below change what ends up in the image
REPOSITORY = "cruddur-local/python-base"
CHANGES = [
    "ENV LANG=C.UTF-8",
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    'CMD ["python3"]',
]
# What the image must not carry: apt's downloaded packages and lists (as the official slim images).
DROPPED = ("var/cache/apt/archives", "var/lib/apt/lists")


@dataclass(frozen=True)
class Base:
    image: str
    how: str  # local | pulled | stand-in (cached) | stand-in (built)

    @property
    def is_stand_in(self) -> bool:
        return self.how.startswith("stand-in")


def dockerfile_default(dockerfile: Path = BACKEND / "Dockerfile") -> str:
    """The PYTHON_IMAGE default the Dockerfile names (the one real users build on)."""
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)", dockerfile.read_text(), re.M)
    if not match:
        raise KitError(f"{dockerfile} has no `ARG PYTHON_IMAGE=...` default: restore it from git")
    return match.group(1)


def content_key() -> str:
    recipe = {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": sorted(PACKAGES),
        "recipe": RECIPE,
        "changes": CHANGES,
        "dropped": DROPPED,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def stand_in_name() -> str:
    return f"{REPOSITORY}:{SUITE}-{content_key()}"


def pull(client, image: str) -> str | None:
    """None when the engine pulled the image, else its one-line reason (at once when no registry answers)."""
    repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
    try:
        client.images.pull(repository, tag=tag)
    except DockerException as e:
        return str(e).splitlines()[0][-160:]
    return None


def resolve(client, log: Callable[[str], None], wanted: str | None = None) -> Base:
    """The base to build on: the Dockerfile's own when it can be had, else the (cached) stand-in."""
    wanted = wanted or dockerfile_default()
    if image_exists(client, wanted):
        return Base(wanted, "local")
    reason = pull(client, wanted)
    if reason is None:
        return Base(wanted, "pulled")
    name = stand_in_name()
    if image_exists(client, name):
        return Base(name, "stand-in (cached)")
    log(f"image: {wanted} cannot be pulled here ({reason})")
    build_stand_in(client, name, log)
    return Base(name, "stand-in (built)")


def build_stand_in(client, name: str, log: Callable[[str], None]) -> None:
    if os.geteuid() != 0:
        raise KitError(
            f"building the stand-in base {name} needs root (debootstrap): run `make image` as root, "
            f"or make {dockerfile_default()} available to the engine (docker pull or docker load)"
        )
    debootstrap = ensure_tool("debootstrap", "debootstrap", "the stand-in base image", log)
    mirror = os.environ.get("CRUDDUR_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    logs = LOCAL_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / "debootstrap.log"
    log(
        f"image: building the stand-in base {name} from Debian packages (debootstrap {SUITE}, ~1-2 min; log {log_path})"
    )
    work = Path(tempfile.mkdtemp(prefix="cruddur-base-"))
    try:
        rootfs, tarball = work / "rootfs", work / "rootfs.tar"
        argv = [debootstrap, f"--variant={VARIANT}", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror]
        with open(log_path, "w") as out:
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=1200)
        if done.returncode != 0:
            tail = " / ".join(log_path.read_text().strip().splitlines()[-2:])
            raise KitError(
                f"debootstrap failed ({tail}): see {log_path}; set CRUDDUR_DEBIAN_MIRROR to a reachable "
                "Debian mirror if deb.debian.org is not one"
            )
        for dropped in DROPPED:
            for entry in (rootfs / dropped).glob("*"):
                if entry.is_file():
                    entry.unlink()
        for cache in (rootfs / "var/cache/apt").glob("*.bin"):
            cache.unlink()
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True, timeout=600)
        repository, tag = name.split(":", 1)
        client.api.import_image(src=str(tarball), repository=repository, tag=tag, changes=CHANGES)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not image_exists(client, name):
        raise KitError(f"docker import of {name} failed: see the engine's log")
    log(f"image: stand-in base {name} built")
