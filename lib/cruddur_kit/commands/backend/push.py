"""bin/backend/push: the image tagged with the git sha into ECR, and `latest` pointed at it."""
from __future__ import annotations

import subprocess

import click

from ... import images, spec as speclib
from ...cli import context, region_option, service_option, tag_option
from ...errors import KitError
from ...output import Reporter, log


@click.command(help="Push --service's image tagged with the git sha to ECR, then point "
                    "`latest` at it server-side. When ECR already holds that sha the docker push is skipped, so a "
                    "re-run changes nothing. Run bin/ecr/login first.")
@service_option
@tag_option
@region_option
def command(service, tag, region):
    s = speclib.get(service)
    tag = tag or images.git_sha()
    v = context({"region": region, "tag": tag}).vars
    ecr = v.client("ecr")
    report = Reporter()
    uri = images.image_uri(v["AWS_ACCOUNT_ID"], v.region, s.repository, tag)
    if images.image_digest(ecr, s.repository, tag) is not None:
        report("unchanged", "ecr-image", f"{s.repository}:{tag}", "already in ECR")
    else:
        docker = images.require_docker()
        for argv in ([docker, "tag", f"{s.repository}:{tag}", uri], [docker, "push", uri]):
            log(" ".join(argv))
            if subprocess.run(argv).returncode != 0:
                raise KitError(f"`{' '.join(argv[1:3])}` failed: build first (bin/backend/build), and log in "
                               "(bin/ecr/login; tokens last 12 hours)")
        report("created", "ecr-image", f"{s.repository}:{tag}")
    report(images.retag(ecr, s.repository, tag, "latest"), "ecr-image", f"{s.repository}:latest", f"-> {tag}")
    log(f"pushed {uri}")
