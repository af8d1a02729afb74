"""The rule registry: `@rule(id, kind, seed=...)` on a function (spec, specs) -> iterable of problems.

What a rule checks and how to fix what it finds live in its docstring (the first paragraph, then a
"Fix: ..." paragraph); `bin/ecs/lint --list-rules` prints them, and the checks journal's table is that output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # the spec kind it runs on: task-definition, service, policy, target, network, alb, scaling, ...
    fn: Callable
    seed: str = ""  # where the failure it catches comes from (seed section, field notes, issue)
    doc: str = ""  # what it checks
    fix: str = ""  # what to do about what it finds


RULES: list[Rule] = []


def _paragraphs(docstring: str | None) -> list[str]:
    return [" ".join(line.strip() for line in p.splitlines()) for p in (docstring or "").strip().split("\n\n")]


def rule(id: str, kind: str, seed: str = ""):
    def register(fn):
        paragraphs = _paragraphs(fn.__doc__)
        fix = next((p.removeprefix("Fix:").strip() for p in paragraphs if p.startswith("Fix:")), "")
        RULES.append(Rule(id, kind, fn, seed, paragraphs[0], fix))
        return fn

    return register


def table(rules: list[Rule] | None = None) -> str:
    """Every rule as a Markdown table (bin/ecs/lint --list-rules; the checks journal holds the same)."""
    rows = ["| rule | on | what it checks | fix | seed / source |", "|---|---|---|---|---|"]
    for r in RULES if rules is None else rules:
        cells = (f"`{r.id}`", r.kind, r.doc, r.fix, r.seed)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
