"""Image builds: a service's image from its Dockerfile (what bin/backend/build ships and `make image` tests),
and the local images that stand in for what no registry serves here (see LOCAL_IMAGES).

Every build runs `docker build --network host` (the builder reaches PyPI the way the host does) on the
Python base base.resolve() picks, and trusts a CA bundle given at build time in the builder stage only:
the bundle becomes a tiny image (`cruddur-local/build-ca:<sha>`, the one file at
/etc/ssl/certs/ca-certificates.crt) that the Dockerfile's BUILD_CA_IMAGE stage copies from; the runtime
stage never copies it. It works with the classic builder as with BuildKit, and no secret is involved
(a CA bundle is public).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import BACKEND, REPO_ROOT, images
from .. import spec as speclib
from ..errors import KitError
from . import base as baselib
from .engine import connect, image_exists

CA_REPOSITORY = "cruddur-local/build-ca"
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LOCAL = REPO_ROOT / "docker" / "local"
TASK_CODE = REPO_ROOT / "lib" / "cruddur_kit" / "ecs" / "local_task"


@dataclass(frozen=True)
class LocalImage:
    """A local image: its build context (file name -> source), the build arguments it takes, and the
    images it stands in for when those cannot be pulled."""

    name: str
    purpose: str
    files: dict[str, Path]
    stands_in_for: tuple[str, ...] = ()
    uses_ca: bool = False  # its Dockerfile installs from PyPI, so it takes BUILD_CA_IMAGE
    extra_args: dict[str, Callable[[], str]] = field(default_factory=dict)

    def tag(self, args: dict[str, str]) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].read_bytes() + b"\0")
        for key in sorted(args):
            digest.update(f"{key}={args[key]}\0".encode())
        return f"cruddur-local/{self.name}:{digest.hexdigest()[:12]}"


def _moto_requirement() -> str:
    text = (REPO_ROOT / "requirements-dev.txt").read_text()
    match = re.search(r"^(moto\[server\]==\S+)", text, re.M)
    if not match:
        raise KitError("requirements-dev.txt pins no moto[server]==VERSION: restore the pin")
    return match.group(1)


LOCAL_IMAGES: dict[str, LocalImage] = {
    image.name: image
    for image in (
        LocalImage(
            "task-agent",
            "the pause container of bin/ecs/run-local (relays, task credentials)",
            {
                "Dockerfile": LOCAL / "task-agent" / "Dockerfile",
                "agent.py": TASK_CODE / "agent.py",
                "relay.py": TASK_CODE / "relay.py",
            },
        ),
        LocalImage(
            "xray-daemon",
            "stand-in X-Ray daemon: receives segments on 2000/udp, lists them on 2000/tcp",
            {"Dockerfile": LOCAL / "xray-daemon" / "Dockerfile", "daemon.py": LOCAL / "xray-daemon" / "daemon.py"},
            stands_in_for=("public.ecr.aws/xray/aws-xray-daemon", "amazon/aws-xray-daemon"),
        ),
        LocalImage(
            "adot-collector",
            "stand-in ADOT collector: X-Ray segments on 2000/udp, OTLP/HTTP on 4318, "
            "health_check on 13133, exports nothing",
            {
                "Dockerfile": LOCAL / "adot-collector" / "Dockerfile",
                "collector.py": LOCAL / "adot-collector" / "collector.py",
                "healthcheck": LOCAL / "adot-collector" / "healthcheck",
            },
            stands_in_for=("public.ecr.aws/aws-observability/aws-otel-collector", "amazon/aws-otel-collector"),
        ),
        LocalImage(
            "otel-collector",
            "stand-in OpenTelemetry Collector: OTLP/HTTP on 4318, exports nothing",
            {
                "Dockerfile": LOCAL / "otel-collector" / "Dockerfile",
                "collector.py": LOCAL / "otel-collector" / "collector.py",
            },
            stands_in_for=("otel/opentelemetry-collector-contrib", "otel/opentelemetry-collector"),
        ),
        LocalImage(
            "postgres",
            "stand-in postgres:15 (Debian's PostgreSQL 15, the official image's env contract)",
            {"Dockerfile": LOCAL / "postgres" / "Dockerfile", "entrypoint.sh": LOCAL / "postgres" / "entrypoint.sh"},
            stands_in_for=("postgres",),
        ),
        LocalImage(
            "moto",
            "stand-in motoserver/moto: the same moto server version as requirements-dev.txt",
            {"Dockerfile": LOCAL / "moto" / "Dockerfile", "constraints.txt": BACKEND / "constraints.txt"},
            stands_in_for=("motoserver/moto",),
            uses_ca=True,
            extra_args={"MOTO_REQUIREMENT": _moto_requirement},
        ),
    )
}


def ca_bundle(explicit: str | None = None) -> Path | None:
    """The CA bundle the builder trusts: --ca-bundle, else BUILD_CA_BUNDLE, PIP_CERT, REQUESTS_CA_BUNDLE,
    SSL_CERT_FILE, else the host's system bundle (where a TLS-intercepting proxy's CA is installed).
    An empty --ca-bundle means none: the base image's own bundle."""
    if explicit == "":
        return None
    candidates = (
        [explicit]
        + [os.environ.get(k) for k in ("BUILD_CA_BUNDLE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
        + [str(SYSTEM_BUNDLE)]
    )
    for candidate in candidates:
        if candidate:
            path = Path(candidate)
            if path.is_file():
                return path
            if candidate == explicit:
                raise KitError(f"--ca-bundle {candidate} is not a file: name a PEM bundle, or '' for the base's own")
    return None


def ca_image(client, bundle: Path, log: Callable[[str], None]) -> str:
    """An image holding just the bundle at /etc/ssl/certs/ca-certificates.crt, named by its content."""
    data = bundle.read_bytes()
    name = f"{CA_REPOSITORY}:{hashlib.sha256(data).hexdigest()[:12]}"
    if image_exists(client, name):
        return name
    with tempfile.TemporaryDirectory(prefix="cruddur-ca-") as tmp:
        tarball = Path(tmp) / "ca.tar"
        with tarfile.open(tarball, "w") as tar:
            info = tarfile.TarInfo("etc/ssl/certs/ca-certificates.crt")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        repository, tag = name.split(":", 1)
        client.api.import_image(src=str(tarball), repository=repository, tag=tag)
    log(f"image: {name} holds the build CA bundle {bundle} (the builder stage trusts it; the runtime never copies it)")
    return name


@dataclass(frozen=True)
class Toolchain:
    """What every build needs, resolved once: the docker CLI, the engine, the base and the CA image."""

    docker: str
    client: object
    base: baselib.Base
    ca: str | None

    def args(self, with_ca: bool) -> dict[str, str]:
        args = {"BASE_IMAGE": self.base.image}
        if self.ca and with_ca:
            args["BUILD_CA_IMAGE"] = self.ca
        return args


def toolchain(log: Callable[[str], None], ca: str | None = None, base_image: str | None = None) -> Toolchain:
    docker = images.require_docker()
    client = connect()
    base = baselib.resolve(client, log, base_image)
    bundle = ca_bundle(ca)
    return Toolchain(docker, client, base, ca_image(client, bundle, log) if bundle else None)


def _docker_build(
    tools: Toolchain,
    context: Path,
    tags: list[str],
    args: dict[str, str],
    *,
    platform: str | None,
    quiet: bool,
    log: Callable[[str], None],
) -> None:
    argv = [tools.docker, "build", "--network", "host"]
    if platform:
        argv += ["--platform", platform]
    for tag in tags:
        argv += ["-t", tag]
    for key, value in args.items():
        argv += ["--build-arg", f"{key}={value}"]
    argv.append(str(context))
    log(" ".join(argv))
    env = {**os.environ, "DOCKER_CLI_HINTS": "false"}
    # The build's own output is progress, not data: stderr (stdout stays the list of images).
    done = subprocess.run(
        argv,
        env=env,
        text=True,
        stdout=subprocess.PIPE if quiet else sys.stderr,
        stderr=subprocess.PIPE if quiet else None,
    )
    if done.returncode != 0:
        detail = ""
        if quiet:
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            detail = ": " + " / ".join(tail)
        raise KitError(f"docker build of {tags[0]} failed{detail}: see the build output above and retry")


def require_buildable(service: str) -> speclib.ServiceSpec:
    """The service's spec, when its image is built from this repository; KitError otherwise."""
    s = speclib.get(service)
    context = REPO_ROOT / s.name
    if not (context / "Dockerfile").exists():
        raise KitError(f"{context.relative_to(REPO_ROOT)}/Dockerfile is missing: {service} has no image to build here")
    return s


def service_image(tools: Toolchain, service: str, tag: str, log: Callable[[str], None]) -> list[str]:
    """Build a service's image for linux/amd64 as REPOSITORY:<tag> and REPOSITORY:latest; the tags."""
    s = require_buildable(service)
    context = REPO_ROOT / s.name
    args = {}
    if tools.base.image != baselib.dockerfile_default(context / "Dockerfile"):
        args["PYTHON_IMAGE"] = tools.base.image
        log(
            f"image: building {service} on the stand-in base {tools.base.image} "
            f"({baselib.dockerfile_default(context / 'Dockerfile')} cannot be had here)"
        )
    if tools.ca:
        args["BUILD_CA_IMAGE"] = tools.ca
    tags = [f"{s.repository}:{tag}", f"{s.repository}:latest"]
    _docker_build(tools, context, tags, args, platform="linux/amd64", quiet=False, log=log)
    return tags


def local_image_name(tools: Toolchain, name: str) -> str:
    image = LOCAL_IMAGES[name]
    return image.tag(_local_args(tools, image))


def _local_args(tools: Toolchain, image: LocalImage) -> dict[str, str]:
    args = tools.args(image.uses_ca)
    args.update({key: value() for key, value in image.extra_args.items()})
    return args


def local_image(tools: Toolchain, name: str, log: Callable[[str], None]) -> str:
    """The local image, built unless the engine already has this exact content; its name."""
    image = LOCAL_IMAGES[name]
    args = _local_args(tools, image)
    tag = image.tag(args)
    if image_exists(tools.client, tag):
        return tag
    with tempfile.TemporaryDirectory(prefix=f"cruddur-{name}-") as tmp:
        for file_name, source in image.files.items():
            shutil.copy2(source, Path(tmp) / file_name)
        _docker_build(tools, Path(tmp), [tag], args, platform=None, quiet=True, log=log)
    log(f"image: built {tag} ({image.purpose})")
    return tag


def stand_in_for(image: str) -> str | None:
    """The local image name (a LOCAL_IMAGES key) that stands in for `image`, if any."""
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return next((i.name for i in LOCAL_IMAGES.values() if repository in i.stands_in_for), None)


def buildable_services() -> list[str]:
    """The services whose image is built from this repository (a Dockerfile in the service's directory)."""
    return [s.name for s in speclib.services() if (REPO_ROOT / s.name / "Dockerfile").exists()]


def everything(tools: Toolchain, tag: str, log: Callable[[str], None]) -> list[tuple[str, str]]:
    """`make image`: every service image, then every local image; (image, what it is) for each."""
    built = []
    for service in buildable_services():
        tags = service_image(tools, service, tag, log)
        note = f"the {service} image, on {tools.base.image}"
        if tools.base.is_stand_in:
            note += f" (stand-in for {baselib.dockerfile_default()})"
        built += [(t, note) for t in tags]
    for name, image in LOCAL_IMAGES.items():
        built.append((local_image(tools, name, log), image.purpose))
    return built
