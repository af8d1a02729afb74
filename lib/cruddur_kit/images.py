"""Container images: the git sha tag, the docker engine, ECR URIs and server-side re-tagging."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from dataclasses import dataclass

from . import REPO_ROOT
from .errors import KitError


def git_sha(short: int = 12) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", f"--short={short}", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except FileNotFoundError:
        raise KitError("git is not installed: install it or pass --tag") from None
    if out.returncode != 0:
        raise KitError(f"cannot read the git sha of {REPO_ROOT}: pass --tag")
    return out.stdout.strip()


def require_docker() -> str:
    """The docker binary, once `docker info` shows an engine answers; KitError otherwise."""
    docker = shutil.which("docker")
    if docker is None:
        raise KitError("docker is not installed: install Docker (or run this from CI / a Codespace with Docker)")
    try:
        info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        raise KitError("the Docker engine did not answer `docker info` within 20s: start Docker and retry") from None
    if info.returncode != 0:
        raise KitError("no Docker engine answers (`docker info` failed): start Docker Desktop or the docker service")
    return docker


def registry_host(account: str, region: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def image_uri(account: str, region: str, repository: str, tag: str) -> str:
    return f"{registry_host(account, region)}/{repository}:{tag}"


def login_password(ecr) -> tuple[str, str]:
    """(registry endpoint, password) from an ECR authorization token; the password is never printed."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    return data["proxyEndpoint"], password


def image_digest(ecr, repository: str, tag: str) -> str | None:
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    except ecr.exceptions.ImageNotFoundException:
        return None
    except ecr.exceptions.RepositoryNotFoundException:
        raise KitError(f"ECR repository {repository} does not exist: run bin/aws/setup") from None
    return found[0]["imageDigest"] if found else None


DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class EcrImage:
    """An image reference in one account's ECR: `HOST/REPO:TAG` or `HOST/REPO@sha256:...`."""

    host: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def pinned(self) -> str:
        return f"{self.host}/{self.repository}@{self.digest}"

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"


def ecr_image(image: str, account: str | None = None, region: str | None = None) -> EcrImage | None:
    """The ECR reference an image string names (this account's registry when account/region are given),
    else None (a public image, a local one)."""
    host, sep, path = str(image).partition("/")
    if not sep or ".dkr.ecr." not in host:
        return None
    if account and region and host != registry_host(account, region):
        return None
    path, _, digest = path.partition("@")
    repository, _, tag = path.partition(":")
    return (
        EcrImage(host, repository, tag or None, digest or None)
        if (tag or digest)
        else EcrImage(host, repository, "latest", None)
    )


def digest_of(ecr, ref: EcrImage) -> str | None:
    """The digest an ECR reference names now: its own digest (when ECR holds it), or what its tag resolves to."""
    ids = [{"imageDigest": ref.digest}] if ref.digest else [{"imageTag": ref.tag}]
    try:
        found = ecr.describe_images(repositoryName=ref.repository, imageIds=ids)["imageDetails"]
    except ecr.exceptions.ImageNotFoundException:
        return None
    except ecr.exceptions.RepositoryNotFoundException:
        raise KitError(f"ECR repository {ref.repository} does not exist: run bin/aws/setup") from None
    return found[0]["imageDigest"] if found else None


def retag(ecr, repository: str, source_tag: str, new_tag: str) -> str:
    """Point new_tag at source_tag's manifest server-side (no pull/push); 'created'/'updated'/'unchanged'."""
    source = image_digest(ecr, repository, source_tag)
    if source is None:
        raise KitError(f"{repository}:{source_tag} is not in ECR: push it first")
    current = image_digest(ecr, repository, new_tag)
    if current == source:
        return "unchanged"
    image = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": source_tag}])["images"][0]
    kwargs = {"repositoryName": repository, "imageManifest": image["imageManifest"], "imageTag": new_tag}
    if image.get("imageManifestMediaType"):
        kwargs["imageManifestMediaType"] = image["imageManifestMediaType"]
    ecr.put_image(**kwargs)
    return "created" if current is None else "updated"


def local_manifest(docker: str, image: str) -> str:
    """A Docker v2 manifest naming a local image's config and layers, for an emulator's ECR, which has no
    registry to push bytes to: the image's digest in ECR then follows the local image's content. Layer
    digests are the uncompressed diff ids (a registry would store compressed blobs)."""
    import json

    out = subprocess.run([docker, "image", "inspect", image], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise KitError(f"no local image {image}: build it first (bin/backend/build --tag {image.rsplit(':', 1)[-1]})")
    info = json.loads(out.stdout)[0]
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 0, "digest": info["Id"]},
            "layers": [
                {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": 0, "digest": layer}
                for layer in (info.get("RootFS") or {}).get("Layers") or []
            ],
        }
    )
