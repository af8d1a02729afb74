"""`bin/ecs/lint`: every file in aws/json against the API models, Fargate's rules, IAM and each other."""

from __future__ import annotations

import time
from pathlib import Path

from ..aws import DEFAULT_REGION
from . import rules  # noqa: F401  (registers the rules)
from .model import NG, WARN, Report
from .registry import RULES
from .specset import SpecSet


def lint(root: Path | None = None, region: str = DEFAULT_REGION) -> Report:
    """Every file under root (default: this repo's aws/json), rendered for `region` with stand-in values."""
    started = time.perf_counter()
    specs = SpecSet.load(root, region=region)
    report = Report(f"lint {specs.root}")
    for spec in specs.files:
        if spec.error:
            report.record("file.parse", spec.rel, [NG("$", spec.error, "fix the JSON (or the placeholder)")])
            continue
        applicable = [r for r in RULES if r.kind == spec.kind]
        if not applicable:
            report.record(
                "file.known",
                spec.rel,
                [WARN("$", f"no checks know a {spec.kind!r} spec here", "put it under a known aws/json folder")],
            )
        for r in applicable:
            report.record(r.id, spec.rel, r.fn(spec, specs))
    report.stats = {"files": len(specs.files), "seconds": round(time.perf_counter() - started, 3)}
    return report


SKIP_LINT_FLAG = "--skip-lint"


def gate(region: str, skip: bool, say, root: Path | None = None) -> None:
    """What setup and deploy run first: stop on any NG (each one said with its fix), unless `skip`."""
    from ..errors import KitError
    from .model import Status

    if skip:
        say(f"lint skipped ({SKIP_LINT_FLAG}): applying aws/json as it is")
        return
    report = lint(root, region=region)
    bad = [f for f in report.findings if f.status == Status.NG]
    if not bad:
        say(f"lint: aws/json passes ({report.summary()})")
        return
    for f in bad:
        say(
            f"NG   {f.check}  {f.subject}{'  ' + f.path if f.path else ''}: {f.message}"
            + (f"  (fix: {f.fix})" if f.fix else "")
        )
    raise KitError(
        f"bin/ecs/lint found {len(bad)} NG in aws/json: fix them (bin/ecs/lint shows each), "
        f"or pass {SKIP_LINT_FLAG} to apply the specs anyway"
    )
