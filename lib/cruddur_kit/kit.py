"""The one context every kit command receives: built once from the shared flags (cruddur_kit.cli), it owns
the template variables, the client factory and the reporter (ecspresso's App; chalice's CLIFactory in
click's ctx.obj).

    kit.client("ecs")       a client for kit.region / kit.endpoint (read-only ones for a read-only command)
    kit.vars["VPC_ID"]      template variables: flag > environment > AWS look-up > default (config.Variables)
    kit.report(...)         one line per resource on stdout; "would create" under --dry-run
    kit.tag                 the image tag, resolved here and nowhere else
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import cached_property

from . import images
from .aws import Clients, is_emulator
from .config import Variables
from .ecs.clock import Deadline
from .output import Reporter

DEFAULT_INTERVAL = 5.0


class Kit:
    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        cluster: str | None = None,
        service: str | None = None,
        services: tuple[str, ...] = (),
        tag: str | None = None,
        takes_tag: bool = False,
        dry_run: bool = False,
        read_only: bool = False,
        timeout: float | None = None,
        interval: float = DEFAULT_INTERVAL,
        make_client: Callable[[str], object] | None = None,
        env: Mapping[str, str] | None = None,
    ):
        endpoint = endpoint if endpoint is not None else os.environ.get("AWS_ENDPOINT_URL")
        self.clients = Clients(region, endpoint, read_only=read_only, make=make_client)
        self.region = self.clients.region
        self.endpoint = self.clients.endpoint
        self.cluster = cluster  # None when the command takes no --cluster: CLUSTER_NAME is then the environment's
        self.service = service
        self.services = tuple(services)  # a command that takes several (--service repeated); empty: every one
        self.dry_run = dry_run
        self.read_only = read_only
        self.timeout = timeout
        self.interval = interval
        self.report = Reporter(dry_run=dry_run)
        self._tag = tag or None
        self._takes_tag = takes_tag or tag is not None
        self._env = env

    def client(self, name: str):
        return self.clients(name)

    @cached_property
    def tag(self) -> str:
        """The image tag, by one rule for every command that takes --tag (build, push, deploy, verify, diff,
        doctor, run-local): --tag (click has already put IMAGE_TAG there when the flag is absent), else the
        git sha of HEAD, as bin/backend/build tags it. So build -> push -> deploy -> verify/diff/doctor all
        name the same image without a flag; "what is deployed" could not be deploy's default (it would
        redeploy the running image), and as the checks' default it would compare the service with itself.
        journal/2026-11-29-empty-account-to-service.md says more."""
        return self._tag or images.git_sha()

    @cached_property
    def vars(self) -> Variables:
        flags = {"AWS_DEFAULT_REGION": self.region, "CLUSTER_NAME": self.cluster}
        if self._takes_tag:  # a command without --tag leaves IMAGE_TAG to the environment
            flags["IMAGE_TAG"] = self.tag
        return Variables(flags, self._env, client_factory=self.clients)

    def deadline(self) -> Deadline:
        """One deadline for every wait of this run (--timeout; None: no deadline)."""
        return Deadline(self.timeout)

    @property
    def is_emulator(self) -> bool:
        """True when the calls go to a loopback emulator rather than real AWS."""
        return is_emulator(self.endpoint or "")

    def target(self) -> str:
        """Where the calls go, safe to print: the emulator's URL or the real AWS region."""
        return f"emulator {self.endpoint}" if self.endpoint else f"AWS region {self.region}"
