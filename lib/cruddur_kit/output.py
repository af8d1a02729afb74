"""The one-line-per-resource reporter every mutating command prints on stdout.

    created    ecr-repository   backend-flask
    unchanged  log-group        /cruddur/backend-flask
    kept       dynamodb-table   cruddur-messages  (data; --include-data deletes it)

With --dry-run the verbs read "would create", "would update", "would delete", "would stop".
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

STATUSES = ("created", "updated", "unchanged", "deleted", "stopped", "kept", "absent", "remains", "failed")
_DRY = {"created": "would create", "updated": "would update", "deleted": "would delete", "stopped": "would stop"}


class Reporter:
    def __init__(self, stream: TextIO | None = None, dry_run: bool = False):
        self.stream = stream or sys.stdout
        self.dry_run = dry_run
        self.counts: Counter = Counter()
        self.lines: list[tuple[str, str, str]] = []

    def __call__(self, status: str, kind: str, name: str, detail: str = "") -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self.counts[status] += 1
        self.lines.append((status, kind, name))
        verb = _DRY.get(status, status) if self.dry_run else status
        line = f"{verb:<12} {kind:<26} {name}"
        if detail:
            line += f"  ({detail})"
        print(line, file=self.stream, flush=True)

    def summary(self) -> str:
        """ "3 created, 14 unchanged"; under --dry-run "3 would create, 14 unchanged" (nothing was done)."""
        verb = (lambda s: _DRY.get(s, s)) if self.dry_run else (lambda s: s)
        return ", ".join(f"{n} {verb(s)}" for s, n in self.counts.items()) or "nothing to do"

    def closing(self) -> str:
        """The run's last line: "done: ..." or, under --dry-run, "dry run, nothing changed: ..."."""
        return f"{'dry run, nothing changed' if self.dry_run else 'done'}: {self.summary()}"


def log(message: str) -> None:
    """Progress for humans: stderr, so stdout stays data."""
    print(message, file=sys.stderr, flush=True)
