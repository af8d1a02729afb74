"""The X-Ray sampling rules: every aws/json/xray/*.json is one CreateSamplingRule input (the file
`aws xray create-sampling-rule --cli-input-json` takes). The app reads the same files as its local rules."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .. import AWS_JSON, templates
from ..kit import Kit
from ..output import log

RULES_DIR = AWS_JSON / "xray"
# What UpdateSamplingRule can change; RuleName identifies the rule, Version cannot change.
UPDATABLE = (
    "ResourceARN",
    "Priority",
    "FixedRate",
    "ReservoirSize",
    "ServiceName",
    "ServiceType",
    "Host",
    "HTTPMethod",
    "URLPath",
    "Attributes",
)


def rules(kit: Kit) -> list[dict]:
    return [templates.render(path, kit.vars)["SamplingRule"] for path in sorted(RULES_DIR.glob("*.json"))]


def _live(kit: Kit, quiet: bool = False) -> dict[str, dict] | None:
    """The account's sampling rules by name; None when the endpoint has no sampling-rule API (the emulator)."""
    client = kit.client("xray")
    try:
        pages = client.get_paginator("get_sampling_rules").paginate()
        return {r["SamplingRule"]["RuleName"]: r["SamplingRule"] for page in pages for r in page["SamplingRuleRecords"]}
    except ClientError as e:
        # moto implements traces but not sampling rules: its server answers 404 to /GetSamplingRules
        if kit.is_emulator and e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            if not quiet:
                log("note: the local emulator has no X-Ray sampling-rule API; the sampling rules were not applied")
            return None
        raise


def _with_live(kit: Kit):
    """(client, the live rule or None, the spec's rule) for each rule in aws/json/xray; none without the API."""
    live = _live(kit)
    if live is None:
        return
    client = kit.client("xray")
    for rule in rules(kit):
        yield client, live.get(rule["RuleName"]), rule


def ensure_sampling_rules(kit: Kit) -> None:
    for client, current, rule in _with_live(kit):
        name = rule["RuleName"]
        if current is None:
            if not kit.dry_run:
                client.create_sampling_rule(SamplingRule=rule, Tags=[{"Key": "project", "Value": "cruddur"}])
            kit.report("created", "xray-sampling-rule", name, _describe(rule))
            continue
        changed = {k: rule[k] for k in UPDATABLE if k in rule and _norm(current.get(k)) != _norm(rule[k])}
        if changed and not kit.dry_run:
            client.update_sampling_rule(SamplingRuleUpdate={"RuleName": name, **changed})
        kit.report("updated" if changed else "unchanged", "xray-sampling-rule", name, ", ".join(sorted(changed)))


def delete_sampling_rules(kit: Kit) -> None:
    for client, current, rule in _with_live(kit):
        name = rule["RuleName"]
        if current is None:
            kit.report("absent", "xray-sampling-rule", name)
            continue
        if not kit.dry_run:
            client.delete_sampling_rule(RuleName=name)
        kit.report("deleted", "xray-sampling-rule", name)


def remaining(kit: Kit) -> list[str]:
    live = _live(kit, quiet=True) or {}
    return [r["RuleName"] for r in rules(kit) if r["RuleName"] in live]


def _norm(value):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _describe(rule: dict) -> str:
    return f"{rule['HTTPMethod']} {rule['URLPath']}: {rule['ReservoirSize']}/s then {rule['FixedRate']:.0%}"
