"""Which image each container of a local task runs, in order: `--image NAME=IMAGE`; the image as named when
the engine has it; for an image of this account's ECR, the local build bin/backend/build tags
REPOSITORY:TAG; a pull; a local stand-in (containers/build.py LOCAL_IMAGES, e.g. the X-Ray daemon's),
said so. Anything else is one line naming the image and the fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from docker.errors import DockerException

from ...containers import build
from ...containers.engine import image_exists
from ...errors import KitError
from .plan import TaskPlan

ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/(?P<repo>[^:@]+):(?P<tag>[^@]+)$")


@dataclass(frozen=True)
class Choice:
    image: str
    how: str  # what the user is told: "local", "--image", "local build of …", "pulled", "stand-in …"

    @property
    def is_stand_in(self) -> bool:
        return self.how.startswith("stand-in")


def parse_overrides(values: tuple[str, ...], plan: TaskPlan) -> dict[str, str]:
    overrides = {}
    for value in values:
        name, sep, image = value.partition("=")
        if not sep or not name or not image:
            raise KitError(
                f"--image {value!r} is not NAME=IMAGE: e.g. --image otel-collector=cruddur-local/adot-collector:TAG"
            )
        if name not in plan.names:
            raise KitError(
                f"--image {value}: the task definition has no container {name} (it has: {', '.join(plan.names)})"
            )
        overrides[name] = image
    return overrides


def _pull(client, image: str) -> str | None:
    """None when pulled, else the engine's one-line reason."""
    repository, tag = image.rsplit(":", 1) if ":" in image.rsplit("/", 1)[-1] else (image, "latest")
    try:
        client.images.pull(repository, tag=tag)
        return None
    except DockerException as e:
        return str(e).splitlines()[0][-200:]


def resolve(client, plan: TaskPlan, overrides: dict[str, str], stand_in: Callable[[str], str]) -> dict[str, Choice]:
    """{container: Choice}; `stand_in(local image name)` builds or finds that local image."""
    chosen = {}
    for c in plan.containers:
        if c.name in overrides:
            image = overrides[c.name]
            if image_exists(client, image) or _pull(client, image) is None:
                chosen[c.name] = Choice(image, "--image")
                continue
            raise KitError(
                f"container {c.name}: --image {image} is neither local nor pullable: build or load it "
                "first (make image builds the local ones)"
            )
        if image_exists(client, c.image):
            chosen[c.name] = Choice(c.image, "local")
            continue
        ecr = ECR.match(c.image)
        if ecr and image_exists(client, f"{ecr['repo']}:{ecr['tag']}"):
            chosen[c.name] = Choice(f"{ecr['repo']}:{ecr['tag']}", f"local build of {c.image}")
            continue
        reason = _pull(client, c.image)
        if reason is None:
            chosen[c.name] = Choice(c.image, "pulled")
            continue
        local = build.stand_in_for(c.image)
        if local is not None:
            chosen[c.name] = Choice(stand_in(local), f"stand-in: {c.image} cannot be pulled here")
            continue
        if ecr:
            raise KitError(
                f"container {c.name}: image {c.image} is neither local nor pullable, and there is no local "
                f"build {ecr['repo']}:{ecr['tag']}: run make image (or bin/backend/build --tag "
                f"{ecr['tag']}), pass --tag with a built tag, or --image {c.name}=IMAGE"
            )
        raise KitError(
            f"container {c.name}: image {c.image} is neither local nor pullable ({reason}): pull or load "
            f"it, or pass --image {c.name}=IMAGE"
        )
    return chosen
