"""Idempotent create-or-converge and delete of the account-level resources, one module per AWS service.

Every `ensure_*` takes the command's Kit, reports one line per resource (created / updated / unchanged)
through `kit.report` and changes nothing under --dry-run; every `delete_*` reports deleted / absent.
"""

from __future__ import annotations

import json


def same_json(a, b) -> bool:
    """Policy documents compare equal regardless of key order or string/dict form."""

    def norm(x):
        return json.loads(x) if isinstance(x, str) else x

    return json.dumps(norm(a), sort_keys=True) == json.dumps(norm(b), sort_keys=True)


def planned(kind: str, name: str) -> str:
    """A stand-in id for a resource a dry run would create."""
    return f"({kind} {name}, not yet created)"
