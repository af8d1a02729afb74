"""bin/backend/build: docker build of a service's image for linux/amd64, tagged with the git sha."""
from __future__ import annotations

import subprocess

import click

from ... import REPO_ROOT, images, spec as speclib
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(service=True, tag=True,
             help="Build --service's image from its directory for linux/amd64 (what Fargate runs), tagged "
                  "REPOSITORY:<git sha> and REPOSITORY:latest. Prints the sha tag.")
def command(kit: Kit) -> None:
    s = speclib.get(kit.service)
    context = REPO_ROOT / s.name
    if not (context / "Dockerfile").exists():
        raise KitError(f"{context.relative_to(REPO_ROOT)}/Dockerfile is missing: "
                       f"{kit.service} has no image to build here")
    docker = images.require_docker()
    tag = kit.tag
    argv = [docker, "build", "--platform", "linux/amd64", "-t", f"{s.repository}:{tag}", "-t", f"{s.repository}:latest",
            str(context)]
    log(" ".join(argv))
    if subprocess.run(argv).returncode != 0:
        raise KitError(f"docker build of {kit.service} failed: see the build output above")
    click.echo(f"{s.repository}:{tag}")
