"""bin/backend/build: docker build of a service's image for linux/amd64, tagged with the git sha."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...containers import build
from ...kit import Kit
from ...output import log


@kit_command(
    service=True,
    tag=True,
    help="Build --service's image from its directory for linux/amd64 (what Fargate runs), tagged "
    "REPOSITORY:<git sha> and REPOSITORY:latest. Prints the sha tag. Where the Dockerfile's base "
    "cannot be pulled, builds on a stand-in made from Debian packages (see make image); the builder "
    "trusts --ca-bundle (default: the host's bundle).",
)
@click.option(
    "--ca-bundle", default=None, metavar="PEM", help="CA bundle the builder stage trusts; '' for the base image's own."
)
def command(kit: Kit, ca_bundle: str | None) -> None:
    build.require_buildable(kit.service)  # an unknown or image-less service fails before any engine work
    tools = build.toolchain(log, ca=ca_bundle)
    tags = build.service_image(tools, kit.service, kit.tag, log)
    click.echo(tags[0])
