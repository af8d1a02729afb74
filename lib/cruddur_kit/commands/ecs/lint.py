"""bin/ecs/lint: check every file in aws/json offline (no AWS calls); exit 1 on any NG."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ...cli import kit_command
from ...kit import Kit


@kit_command(
    region="The region the specs are rendered for (env AWS_DEFAULT_REGION, then AWS_REGION).",
    endpoint=False,
    read_only=True,  # no AWS calls
    help=__doc__ + "\n\nShape against the AWS API models, Fargate rules, IAM (parliament + least "
    "privilege) and cross-file rules (secrets vs execution role, SG chain, health path).",
)
@click.option(
    "--dir",
    "root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="the aws/json directory to check (default: this repo's)",
)
@click.option("--json", "as_json", is_flag=True, help="print the findings (or, with --list-rules, the rules) as JSON")
@click.option("--quiet", "-q", is_flag=True, help="print only WARN/NG lines and the summary")
@click.option(
    "--list-rules",
    is_flag=True,
    help="print every rule (id, kind, what it checks, its fix, its source) as a Markdown table; check nothing",
)
def command(kit: Kit, root: Path | None, as_json: bool, quiet: bool, list_rules: bool) -> int:
    if list_rules:
        from cruddur_kit.checks.lint import RULES
        from cruddur_kit.checks.registry import table

        print(
            json.dumps(
                [{"id": r.id, "kind": r.kind, "checks": r.doc, "fix": r.fix, "seed": r.seed} for r in RULES], indent=2
            )
            if as_json
            else table()
        )
        return 0
    from cruddur_kit.checks.lint import lint

    report = lint(root, region=kit.region)
    if as_json:
        print(report.to_json())
    else:
        report.write_tree(sys.stdout, verbose=not quiet)
    return report.exit_code
