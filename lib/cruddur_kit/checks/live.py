"""Live checks' client layer: every client read-only (enforced by a botocore hook) and every call counted."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from .. import aws
from ..errors import KitError

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet")
READ_EXTRA = {"FilterLogEvents"}  # a read whose name does not say so
# reads that would return a secret's value: verify and doctor need names only
VALUE_READS = {("ssm", "GetParameter"), ("ssm", "GetParameters"), ("ssm", "GetParametersByPath"),
               ("ssm", "GetParameterHistory"), ("secretsmanager", "GetSecretValue"),
               ("secretsmanager", "BatchGetSecretValue")}


class ReadOnlyViolation(KitError):
    """A live check tried an operation that could write (or read a secret value): refused before sending."""


class ReadOnlyClients:
    """A client factory whose clients refuse any operation not named Describe*/List*/Get*/BatchGet*."""

    def __init__(self, region: str | None = None, factory=None):
        self.region = region
        self._factory = factory or (lambda name: aws.client(name, region=region))
        self._clients: dict = {}
        self.calls: Counter = Counter()

    def __call__(self, name: str):
        if name not in self._clients:
            c = self._factory(name)
            c.meta.events.register("before-call.*.*", self._guard)
            self._clients[name] = c
        return self._clients[name]

    def _guard(self, model, **kwargs):
        service = model.service_model.service_name if hasattr(model.service_model, "service_name") else ""
        prefix = model.service_model.endpoint_prefix
        op = model.name
        reads_a_value = (service, op) in VALUE_READS or (prefix, op) in VALUE_READS
        if not (op.startswith(READ_PREFIXES) or op in READ_EXTRA) or reads_a_value:
            raise ReadOnlyViolation(f"read-only check refused {prefix}:{op}: it could change the account "
                                    "or reveal a secret value")
        self.calls[f"{prefix}:{op}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class Lenient(Mapping):
    """Template variables where an unknown one renders as a marker instead of stopping the check."""

    def __init__(self, variables):
        self.variables = variables
        self.missing: set[str] = set()

    def __getitem__(self, name):
        try:
            value = self.variables[name]
        except (KeyError, KitError):
            value = None
        if value is None:
            self.missing.add(name)
            return f"<unset {name}>"
        return value

    def get(self, name, default=None):
        return self[name]

    def for_service(self, service):
        child = Lenient(self.variables.for_service(service))
        child.missing = self.missing
        return child

    def __iter__(self):
        return iter(self.variables)

    def __len__(self):
        return len(self.variables)
