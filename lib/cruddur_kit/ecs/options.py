"""The ECS commands' options object: the shared flags of cruddur_kit.cli (cluster, service, region, and
timeout/interval for commands that wait) handed to the command as one `opts`."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from .. import aws, cli


@dataclass(frozen=True)
class EcsOptions:
    cluster: str
    service: str
    region: str
    timeout: float | None
    interval: float

    def client(self, name: str):
        return aws.client(name, region=self.region)


def ecs_options(*, timeout: float | None = 600.0, timeout_help: str | None = None, waits: bool = True):
    """Decorator: adds --cluster/--service/--region (and --timeout/--interval for commands that wait)
    and passes them to the command as one `opts`."""

    def decorate(f):
        @functools.wraps(f)
        def wrapper(**kw):
            opts = EcsOptions(cluster=kw.pop("cluster"), service=kw.pop("service"), region=kw.pop("region"),
                              timeout=kw.pop("timeout", None), interval=kw.pop("interval", cli.DEFAULT_INTERVAL))
            return f(opts, **kw)

        options = [cli.cluster_option, cli.service_option, cli.region_option]
        if waits:
            options += [cli.timeout_option(timeout, timeout_help), cli.interval_option]
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate
