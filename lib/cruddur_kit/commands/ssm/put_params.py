"""bin/ssm/put-params: the backend's secrets into SSM Parameter Store as SecureString; never prints a value."""

from __future__ import annotations

import os

import click

from ... import envfile, ssm
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(
    dry_run="compare and report; write nothing",
    help="Write secrets to SSM Parameter Store as SecureString under PREFIX (default "
    f"{ssm.DEFAULT_PREFIX}). Values come from --env-file, else the environment. Prints each "
    "parameter's name and created / updated / unchanged; never a value.",
)
@click.option("--env-file", type=click.Path(exists=True, dir_okay=False), help="read KEY=VALUE lines from this file")
@click.option("--prefix", default=ssm.DEFAULT_PREFIX, show_default=True, help="parameter path prefix")
@click.option(
    "--name",
    "names",
    multiple=True,
    metavar="KEY",
    help=f"a key to write (repeatable) [default: {', '.join(ssm.BACKEND_SECRETS)}]",
)
@click.option(
    "--kms-key-id",
    metavar="KEY",
    envvar="SSM_KMS_KEY_ID",
    help="a customer-managed KMS key (id, ARN or alias/NAME) to encrypt with [env SSM_KMS_KEY_ID; "
    f"default: the AWS-managed {ssm.AWS_MANAGED_KEY}]; then run bin/aws/setup so tasks may decrypt",
)
def command(kit: Kit, env_file, prefix, names, kms_key_id):
    # either form of the Honeycomb key gives both parameters (the sidecar's and the app's)
    source = ssm.with_honeycomb_pair(envfile.read(env_file) if env_file else os.environ)
    keys = list(names or ssm.BACKEND_SECRETS)
    missing = [k for k in keys if not source.get(k)]
    if {"HONEYCOMB_API_KEY", "OTEL_EXPORTER_OTLP_HEADERS"} <= set(missing):  # one key, two forms: ask for one
        missing = [k for k in missing if k != "OTEL_EXPORTER_OTLP_HEADERS"]
        missing[missing.index("HONEYCOMB_API_KEY")] = (
            "HONEYCOMB_API_KEY (or OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY)"
        )
    if missing:
        where = env_file or "the environment"
        raise KitError(
            f"{', '.join(missing)} not set in {where}: set {'it' if len(missing) == 1 else 'them'} "
            "(or pass --env-file FILE)"
        )
    key = kms_key_id or ssm.AWS_MANAGED_KEY
    for name, status in ssm.put_parameters(
        kit.client("ssm"), prefix, {k: source[k] for k in keys}, dry_run=kit.dry_run, key_id=kms_key_id
    ):
        kit.report(status, "ssm-parameter", name, f"SecureString ({key})")
    log(kit.report.closing())
    if kms_key_id:
        log("tasks decrypt these with the execution role: run bin/aws/setup to grant it kms:Decrypt on the key")
