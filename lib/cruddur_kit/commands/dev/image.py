"""bin/dev/image (`make image`): the service images and the local images the tests and run-local need."""

from __future__ import annotations

import click

from ...cli import kit_command
from ...containers import build
from ...kit import Kit
from ...output import log


@kit_command(endpoint=False, tag=True)  # no AWS calls
@click.option(
    "--ca-bundle",
    default=None,
    metavar="PEM",
    help="CA bundle the builder stage trusts (default: BUILD_CA_BUNDLE, PIP_CERT, REQUESTS_CA_BUNDLE, "
    "SSL_CERT_FILE, else the host's /etc/ssl/certs/ca-certificates.crt); '' for the base's own.",
)
def command(kit: Kit, ca_bundle: str | None) -> None:
    """Build every service image (REPOSITORY:<git sha> and :latest, for linux/amd64) and the local images
    (run-local's task agent; stand-ins for the X-Ray daemon, the OTel collector, postgres and moto, which
    no registry serves here). The Dockerfile's base is used when the engine has it or can pull it; otherwise
    a stand-in base is made from Debian packages once and cached. Prints each image and what it is."""
    tools = build.toolchain(log, ca=ca_bundle)
    for image, note in build.everything(tools, kit.tag, log):
        click.echo(f"{image:<48} {note}")
