"""Importing this package registers every lint rule (see ..registry)."""

from . import cross, data, dbcreds, iam, service, strategy, taskdef, tracing  # noqa: F401
