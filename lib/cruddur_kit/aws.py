"""The one client factory: every boto3 client the kit uses comes from a `Clients`, made for one region and
endpoint with the kit's timeouts and retries. A read-only `Clients` (bin/ecs/verify, diff, doctor, status,
logs) refuses, before sending, any operation that could change the account or reveal a secret value, and
counts the calls it lets through."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from .errors import KitError

DEFAULT_REGION = "us-east-1"
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 5})

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet")
READ_EXTRA = {"FilterLogEvents"}  # a read whose name does not say so
# reads that would return a secret's value: the read-only commands need names only
VALUE_READS = {
    ("ssm", "GetParameter"),
    ("ssm", "GetParameters"),
    ("ssm", "GetParametersByPath"),
    ("ssm", "GetParameterHistory"),
    ("secretsmanager", "GetSecretValue"),
    ("secretsmanager", "BatchGetSecretValue"),
}


def default_region(env: Mapping[str, str] | None = None) -> str:
    """The region when no flag names one: AWS_DEFAULT_REGION, then AWS_REGION (the AWS CLI's order), else us-east-1."""
    env = os.environ if env is None else env
    return env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or DEFAULT_REGION


class ReadOnlyViolation(KitError):
    """A read-only command tried an operation that could write (or read a secret value): refused before sending."""


class Clients:
    """`clients("ecs")`: one client per service, made once. `make` replaces boto3 (tests inject stubs there)."""

    def __init__(
        self,
        region: str | None = None,
        endpoint: str | None = None,
        *,
        read_only: bool = False,
        make: Callable[[str], object] | None = None,
    ):
        self.region = region or default_region()
        self.endpoint = endpoint or None  # None: boto3 reads AWS_ENDPOINT_URL itself
        self.read_only = read_only
        self._make = make or self._boto3
        self._session: boto3.Session | None = None
        self._clients: dict = {}
        self.calls: Counter = Counter()

    def __call__(self, name: str):
        if name not in self._clients:
            client = self._make(name)
            if self.read_only:
                client.meta.events.register("before-call.*.*", self._guard)
            self._clients[name] = client
        return self._clients[name]

    def _boto3(self, name: str):
        if self._session is None:
            self._session = boto3.Session(region_name=self.region)
        # The environment's own endpoint is left to boto3, which also honours AWS_ENDPOINT_URL_<SERVICE>.
        given = self.endpoint if self.endpoint != os.environ.get("AWS_ENDPOINT_URL") else None
        return self._session.client(name, endpoint_url=given, config=CLIENT_CONFIG)

    def _guard(self, model, **kwargs):
        service = getattr(model.service_model, "service_name", "")
        prefix = model.service_model.endpoint_prefix
        op = model.name
        reads_a_value = (service, op) in VALUE_READS or (prefix, op) in VALUE_READS
        if not (op.startswith(READ_PREFIXES) or op in READ_EXTRA) or reads_a_value:
            raise ReadOnlyViolation(
                f"read-only command refused {prefix}:{op}: it could change the account or reveal a secret value"
            )
        self.calls[f"{prefix}:{op}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def is_loopback(url: str | None) -> bool:
    """True for an http(s) URL whose host is 127.0.0.1, localhost or ::1 (parsed, not a substring match)."""
    try:
        parts = urlsplit(url or "")
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")
    except ValueError:
        return False


def is_emulator(endpoint: str | None = None) -> bool:
    """True when the endpoint (default: AWS_ENDPOINT_URL) is a loopback emulator rather than real AWS."""
    return is_loopback(endpoint if endpoint is not None else os.environ.get("AWS_ENDPOINT_URL"))
