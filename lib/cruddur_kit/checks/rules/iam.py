"""IAM policy rules: the grammar, parliament (a maintained policy linter), and our least-privilege rules."""

from __future__ import annotations

import json
from functools import cache

from ..cache import memo
from ..model import NG, SKIP, WARN
from ..registry import rule

KIND = "policy"
STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(doc) -> list:
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)] if isinstance(doc, dict) else []


def is_trust(doc) -> bool:
    return any("Principal" in s or "NotPrincipal" in s for s in statements(doc))


@cache
def _parliament():
    """parliament, imported once; its import leaves its config file to the GC (a ResourceWarning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        import parliament
    return parliament


@cache
def _resource_types() -> dict:
    iam_definition = _parliament().iam_definition

    return {
        (svc["prefix"], p["privilege"].lower()): [r["resource_type"] for r in p["resource_types"]]
        for svc in iam_definition
        for p in svc["privileges"]
    }


def _parliament_version() -> str:
    from importlib.metadata import version

    return version("parliament")


def supports_resources(action: str) -> bool:
    """True when the action can be scoped to an ARN (so "*" is broader than needed)."""
    if ":" not in action or "*" in action:
        return True

    def compute():
        prefix, name = action.split(":", 1)
        types = _resource_types().get((prefix.lower(), name.lower()))
        return bool(types) and any(t for t in types)

    return memo("resource-level", [_parliament_version(), action.lower()], compute)


def _analyze(doc, rel: str) -> list[dict]:
    """parliament's findings for a policy, as plain data (memoised: the import alone costs ~0.5 s)."""

    def compute():
        policy = _parliament().analyze_policy_string(json.dumps(doc), filepath=rel)
        return [
            {
                "issue": f.issue,
                "title": f.title or "",
                "severity": (getattr(f, "severity", "") or "").upper(),
                "detail": f.detail if isinstance(f.detail, str) else json.dumps(f.detail, default=str)[:200],
                "near": (f.location or {}).get("string") or "",
            }
            for f in policy.findings
        ]

    return memo("parliament", [_parliament_version(), doc], compute)


@rule("iam.grammar", KIND, seed="issue 6: IAM policy grammar")
def grammar(spec, specs):
    """Version 2012-10-17; each statement has Effect and Action, and Resource (or Principal in a trust policy).

    Fix: Add "Version": "2012-10-17" and give each statement Effect, Action and Resource (Principal in a trust
    policy).
    """
    doc = spec.doc
    if not isinstance(doc, dict):
        yield NG("$", "a policy document is a JSON object", 'write {"Version": "2012-10-17", "Statement": [...]}')
        return
    if doc.get("Version") != "2012-10-17":
        yield NG("$.Version", f"Version is {doc.get('Version')!r}", 'set "Version": "2012-10-17"')
    if not statements(doc):
        yield NG("$.Statement", "no statements", "add at least one statement")
    trust = is_trust(doc)
    for i, s in enumerate(as_list(doc.get("Statement"))):
        path = f"$.Statement[{i}]"
        if not isinstance(s, dict):
            yield NG(path, "a statement is a JSON object", "write the statement as an object")
            continue
        for key in s:
            if key not in STATEMENT_KEYS:
                yield NG(f"{path}.{key}", f"unknown statement key {key!r}", f"remove {key!r}")
        if s.get("Effect") not in ("Allow", "Deny"):
            yield NG(f"{path}.Effect", f"Effect is {s.get('Effect')!r}", 'use "Allow" or "Deny"')
        if "Action" not in s and "NotAction" not in s:
            yield NG(f"{path}.Action", "no Action", "name the actions this statement allows")
        if not trust and "Resource" not in s and "NotResource" not in s:
            yield NG(f"{path}.Resource", "no Resource", "name the ARNs the actions apply to")
        for a in as_list(s.get("Action")):
            if not isinstance(a, str) or (a != "*" and ":" not in a):
                yield NG(f"{path}.Action", f"{a!r} is not service:Action", "write actions as service:Name")


@rule("iam.parliament", KIND, seed="issue 6: a maintained policy linter")
def parliament_findings(spec, specs):
    """parliament finds unknown actions, malformed ARNs and resource mismatches.

    Fix: Correct the action or ARN parliament names in the finding.
    """
    if spec.path.name == "execution-role-policy.json" and (broken := specs.unparsed("task-definition")):
        # its ${SSM_PARAMETER_ARNS} are the secrets the task definitions name: none can be read from a broken file
        yield SKIP("$.Statement", f"{broken.rel} does not parse: checked once it does")
        return
    trust = is_trust(spec.doc)
    for f in _analyze(spec.doc, spec.rel):
        if trust and f["issue"] == "MALFORMED" and "Resource" in f["detail"]:
            continue  # parliament reads identity policies; a trust policy has a Principal, not a Resource
        make = WARN if f["severity"] in ("LOW", "INFO") else NG
        yield make(
            "$.Statement" + (f" (near {f['near']!r})" if f["near"] else ""),
            f"parliament {f['issue']}: {f['title']} {f['detail']}".strip(),
            "correct the action or resource parliament names (see parliament's docs for the issue id)",
        )


@rule("iam.least-privilege", KIND, seed="issue 5/6: least privilege; Cruddur's *FullAccess roles")
def least_privilege(spec, specs):
    """No "*" resource where the action takes an ARN, no service:* actions, no *FullAccess managed policies.

    Fix: Name the resources each action needs, list actions instead of service:*, and replace *FullAccess with the
    kit's own policy.
    """
    doc = spec.doc
    text = json.dumps(doc)
    if "FullAccess" in text:
        yield NG("$", "refers to an AWS *FullAccess managed policy", "grant the named actions on named ARNs instead")
    if is_trust(doc):
        return
    for i, s in enumerate(statements(doc)):
        if s.get("Effect") != "Allow":
            continue
        actions = as_list(s.get("Action"))
        for a in actions:
            if a == "*" or (isinstance(a, str) and a.endswith(":*")):
                yield NG(
                    f"$.Statement[{i}].Action",
                    f"{a!r} allows every action of the service",
                    "list the actions the role needs",
                )
        if "*" in as_list(s.get("Resource")):
            scoped = [a for a in actions if isinstance(a, str) and supports_resources(a)]
            if scoped:
                yield NG(
                    f"$.Statement[{i}].Resource",
                    f'"*" for {", ".join(scoped)}, which take an ARN',
                    "name the ARNs (table, parameter path, log group, repository) instead of *",
                )
        if "NotAction" in s or "NotResource" in s:
            yield WARN(
                f"$.Statement[{i}]",
                "NotAction/NotResource with Allow grants more than it names",
                "use Action and Resource",
            )


@rule("iam.trust", KIND, seed="seed 000 §7 problem 2 (task execution role); field notes: roles trust ecs-tasks")
def trust(spec, specs):
    """A role trust policy lets ecs-tasks.amazonaws.com assume it (a list Principal.Service is fine); the
    infrastructure role's (infrastructure-role-trust.json) lets ecs.amazonaws.com, which shifts traffic.

    Fix: Let the service assume the role ("Principal": {"Service": "ecs-tasks.amazonaws.com"}, or
    "ecs.amazonaws.com" for the infrastructure role).
    """
    doc = spec.doc
    if not is_trust(doc):
        return
    services = [
        svc
        for s in statements(doc)
        if s.get("Effect") == "Allow" and "sts:AssumeRole" in as_list(s.get("Action"))
        for svc in as_list((s.get("Principal") or {}).get("Service") if isinstance(s.get("Principal"), dict) else None)
    ]
    # tasks assume the task and execution roles; ECS itself the role it shifts load-balancer traffic with
    wanted = "ecs.amazonaws.com" if spec.path.stem.startswith("infrastructure-role") else "ecs-tasks.amazonaws.com"
    if wanted not in services:
        yield NG(
            "$.Statement[0].Principal.Service",
            f"{wanted} cannot assume this role (trusts {services or 'no service'})",
            f'allow sts:AssumeRole to {{"Service": "{wanted}"}}',
        )
