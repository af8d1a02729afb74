"""The shared flags, each defined once, and `kit_command`, which gives them to a command and hands the command
the one context (cruddur_kit.kit.Kit) built from them. One precedence rule everywhere:
flag > environment (AWS_DEFAULT_REGION/AWS_REGION, AWS_ENDPOINT_URL, CLUSTER_NAME, SERVICE_NAME, IMAGE_TAG) > default.

    @kit_command(cluster=True, service=True, timeout=600.0, interval=True, dry_run=True)
    @click.option("--count", type=int, required=True)
    def command(kit: Kit, count: int) -> None:
        ...

Every command takes --region, and --endpoint-url unless it runs an emulator of its own (bin/dev/up, bench).
The others are taken when the command asks for them (True: the shared wording; a string: the command's own
help text for the same flag).
"""

from __future__ import annotations

import functools

import click

from .aws import DEFAULT_REGION
from .config import CLUSTER, DEFAULT_SERVICE
from .kit import DEFAULT_INTERVAL, Kit

TAG_HELP = "Image tag (env IMAGE_TAG; default: the git sha of HEAD, as bin/backend/build tags it)."
TAG_DEFAULT = " (env IMAGE_TAG; default: the git sha of HEAD, as for build, push and deploy)"


def _seconds(name: str, default, help: str):
    return click.option(
        name, type=click.FloatRange(min=0, min_open=True), default=default, show_default=default is not None, help=help
    )


# name -> (the option, given the command's own help or None)
SHARED = {
    "region": lambda help: click.option(
        "--region",
        envvar=["AWS_DEFAULT_REGION", "AWS_REGION"],
        default=DEFAULT_REGION,
        show_default=True,
        help=help or "AWS region (env AWS_DEFAULT_REGION, then AWS_REGION).",
    ),
    "endpoint": lambda help: click.option(
        "--endpoint-url",
        "endpoint",
        envvar="AWS_ENDPOINT_URL",
        default=None,
        metavar="URL",
        help=help
        or "Send AWS calls here, e.g. the local emulator http://127.0.0.1:4566 (env AWS_ENDPOINT_URL; "
        "default: AWS itself).",
    ),
    "cluster": lambda help: click.option(
        "--cluster",
        envvar="CLUSTER_NAME",
        default=CLUSTER,
        show_default=True,
        help=help or "ECS cluster (env CLUSTER_NAME).",
    ),
    "service": lambda help: click.option(
        "--service",
        envvar="SERVICE_NAME",
        default=DEFAULT_SERVICE,
        show_default=True,
        help=help or "Service name: a file aws/json/services/NAME.json (env SERVICE_NAME).",
    ),
    "services": lambda help: click.option(
        "--service",
        "services",
        envvar="SERVICE_NAME",
        multiple=True,
        metavar="NAME",
        help=help or "Only this service (repeatable; env SERVICE_NAME) [default: every aws/json/services/NAME.json].",
    ),
    "tag": lambda help: click.option("--tag", envvar="IMAGE_TAG", default=None, help=help or TAG_HELP),
    "interval": lambda help: _seconds("--interval", DEFAULT_INTERVAL, help or "Seconds between polls while waiting."),
    "dry_run": lambda help: click.option(
        "--dry-run", is_flag=True, help=help or "Show what would change; change nothing."
    ),
}
ORDER = ("cluster", "service", "services", "region", "endpoint", "tag", "timeout", "interval", "dry_run")  # in --help
NO_TIMEOUT = object()


def kit_command(
    *,
    region: bool | str = True,
    endpoint: bool | str = True,
    cluster: bool | str = False,
    service: bool | str = False,
    services: bool | str = False,
    tag: bool | str = False,
    dry_run: bool | str = False,
    interval: bool | str = False,
    timeout=NO_TIMEOUT,
    timeout_help: str | None = None,
    read_only: bool = False,
    **settings,
):
    """A click command taking the shared flags it names, called with the Kit built from them as its first
    argument (also click's ctx.obj). `timeout=SECONDS` (None: no deadline) adds --timeout; `read_only=True`
    gives it clients that refuse anything but reads. Other keywords go to click.command (help, context_settings)."""
    if region is False:
        raise TypeError("every kit command takes --region")
    asked = {
        "region": region,
        "endpoint": endpoint,
        "cluster": cluster,
        "service": service,
        "services": services,
        "tag": tag,
        "dry_run": dry_run,
        "interval": interval,
    }
    taken = {name: (asked[name] if isinstance(asked[name], str) else None) for name in asked if asked[name]}
    if timeout is not NO_TIMEOUT:
        taken["timeout"] = timeout_help

    def kit_from(params: dict) -> Kit:
        """The command's Kit from its parsed parameters (the shared ones are taken out of `params`)."""
        shared = {name: params.pop(name) for name in taken}
        return Kit(
            region=shared["region"],
            endpoint=shared.get("endpoint"),
            cluster=shared.get("cluster"),
            service=shared.get("service"),
            services=shared.get("services", ()),
            tag=shared.get("tag"),
            takes_tag="tag" in taken,
            dry_run=shared.get("dry_run", False),
            read_only=read_only,
            timeout=shared.get("timeout"),
            interval=shared.get("interval", DEFAULT_INTERVAL),
        )

    def decorate(fn):
        @functools.wraps(fn)
        def callback(**params):
            kit = kit_from(params)
            click.get_current_context().obj = kit
            return fn(kit, **params)

        for name in reversed(ORDER):  # applied last to first, so --help lists them in ORDER, before the command's own
            if name == "timeout" and name in taken:
                callback = _seconds(
                    "--timeout", timeout, taken[name] or "Give up waiting after this many seconds (exit 1, naming why)."
                )(callback)
            elif name in taken:
                callback = SHARED[name](taken[name])(callback)
        command = click.command(**settings)(callback)
        command.shared_flags = tuple(name for name in ORDER if name in taken)
        command.kit_from = kit_from
        return command

    return decorate
