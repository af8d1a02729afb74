"""The rule registry: `@rule(id, kind, seed=...)` on a function (spec, specs) -> iterable of problems."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # the spec kind it runs on: task-definition, service, policy, target, network, alb, scaling, all
    fn: Callable
    seed: str = ""  # where the failure it catches comes from (seed section or field-notes rule)
    doc: str = ""


RULES: list[Rule] = []


def rule(id: str, kind: str, seed: str = ""):
    def register(fn):
        RULES.append(Rule(id, kind, fn, seed, (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""))
        return fn
    return register
