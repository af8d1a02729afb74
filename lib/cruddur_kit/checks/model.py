"""The result model every check shares: one Finding per (check, file, JSON path), and a Report of them.

A rule yields problems (NG / WARN / SKIP); a rule that yields none for a subject is recorded as OK,
so the tree shows what was checked as well as what failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import TextIO


class Status(IntEnum):
    OK = 0
    SKIP = 1
    WARN = 2
    NG = 3


@dataclass(frozen=True)
class Finding:
    status: Status
    check: str  # rule id, e.g. "fargate.cpu-memory"
    subject: str  # a file under aws/json, or a live resource ("service cruddur/backend-flask")
    message: str
    path: str = ""  # JSON path inside the file, e.g. "$.containerDefinitions[0].healthCheck.interval"
    fix: str = ""
    cause: str = ""  # doctor: the troubleshooting-tree cause id, e.g. "sg.service-from-alb"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.name
        return {k: v for k, v in d.items() if v != ""}


def problem(status: Status, path: str, message: str, fix: str = "", cause: str = "") -> tuple:
    """What a rule yields: the engine adds the check id and the subject."""
    return (status, path, message, fix, cause)


def NG(path: str, message: str, fix: str = "", cause: str = "") -> tuple:
    return problem(Status.NG, path, message, fix, cause)


def WARN(path: str, message: str, fix: str = "", cause: str = "") -> tuple:
    return problem(Status.WARN, path, message, fix, cause)


def SKIP(path: str, message: str) -> tuple:
    return problem(Status.SKIP, path, message)


@dataclass
class Report:
    title: str
    findings: list[Finding] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def record(self, check: str, subject: str, problems: Iterable[tuple], ok_message: str = "") -> None:
        found = False
        for status, path, message, fix, cause in problems:
            found = True
            self.findings.append(Finding(status, check, subject, message, path, fix, cause))
        if not found:
            self.findings.append(Finding(Status.OK, check, subject, ok_message))

    def count(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status == status)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status in (Status.NG, Status.WARN)]

    @property
    def exit_code(self) -> int:
        return 1 if self.count(Status.NG) else 0

    def summary(self) -> str:
        return ", ".join(f"{self.count(s)} {s.name}" for s in (Status.OK, Status.WARN, Status.NG, Status.SKIP))

    def to_json(self) -> str:
        return json.dumps(
            {
                "title": self.title,
                "summary": {s.name: self.count(s) for s in Status},
                "stats": self.stats,
                "findings": [f.to_dict() for f in self.findings],
            },
            indent=2,
        )

    def write_tree(self, out: TextIO, verbose: bool = True) -> None:
        """The ecspresso-style tree: subjects, then one line per check; NG/WARN carry path and fix.
        Not verbose (lint -q): only the WARN/NG lines under their subjects, and the summary."""
        if verbose:
            print(self.title, file=out)
        subjects: dict[str, list[Finding]] = {}
        for f in self.findings:
            subjects.setdefault(f.subject, []).append(f)
        for subject, items in subjects.items():
            worst = max(f.status for f in items)
            if not verbose and worst < Status.WARN:
                continue
            print(f"  {worst.name:<4} {subject}", file=out)
            for f in items:
                if f.status < Status.WARN and not verbose:
                    continue
                line = f"    {f.status.name:<4} {f.check}"
                if f.path:
                    line += f"  {f.path}"
                if f.message:
                    line += f": {f.message}"
                print(line, file=out)
                if f.fix and f.status in (Status.NG, Status.WARN):
                    print(f"           fix: {f.fix}", file=out)
        print(f"{self.summary()}", file=out)
