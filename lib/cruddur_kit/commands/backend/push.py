"""bin/backend/push: the image tagged with the git sha into ECR, and `latest` pointed at it."""

from __future__ import annotations

import subprocess

from ... import images
from ... import spec as speclib
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(
    service=True,
    tag=True,
    help="Push --service's image tagged with the git sha to ECR, then point `latest` at it server-side. "
    "When ECR already holds that sha the docker push is skipped, so a re-run changes nothing. Run "
    "bin/ecr/login first. Against the emulator (a loopback --endpoint-url) the local image's manifest is "
    "put into its ECR instead, since it has no registry to push to.",
)
def command(kit: Kit) -> None:
    s = speclib.get(kit.service)
    tag = kit.tag
    ecr = kit.client("ecr")
    uri = images.image_uri(kit.vars["AWS_ACCOUNT_ID"], kit.region, s.repository, tag)
    if images.image_digest(ecr, s.repository, tag) is not None:
        kit.report("unchanged", "ecr-image", f"{s.repository}:{tag}", "already in ECR")
        pushed = False
    elif kit.is_emulator:
        # The emulator's ECR is an API without a registry: the local image's manifest goes in through
        # PutImage, so deploy, verify and the emulator's pull check see the tag (the bytes stay local).
        manifest = images.local_manifest(images.require_docker(), f"{s.repository}:{tag}")
        ecr.put_image(repositoryName=s.repository, imageManifest=manifest, imageTag=tag)
        kit.report("created", "ecr-image", f"{s.repository}:{tag}", f"manifest only: {kit.target()} has no registry")
        pushed = True
    else:
        docker = images.require_docker()
        for argv in ([docker, "tag", f"{s.repository}:{tag}", uri], [docker, "push", uri]):
            log(" ".join(argv))
            if subprocess.run(argv).returncode != 0:
                raise KitError(
                    f"`{' '.join(argv[1:3])}` failed: build first (bin/backend/build), and log in "
                    "(bin/ecr/login; tokens last 12 hours)"
                )
        kit.report("created", "ecr-image", f"{s.repository}:{tag}")
        pushed = True
    kit.report(images.retag(ecr, s.repository, tag, "latest"), "ecr-image", f"{s.repository}:latest", f"-> {tag}")
    log(f"pushed {uri}" if pushed else f"nothing pushed: {uri} was already in ECR")
