"""The read-only checks' template variables: an unknown one renders as a marker instead of stopping the check.
(The checks' clients are the Kit's read-only ones: cruddur_kit.aws.Clients.)"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import KitError


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
