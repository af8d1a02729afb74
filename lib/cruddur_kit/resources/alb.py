"""The load balancer, one ip target group per service, the HTTP listener and path-based rules."""

from __future__ import annotations

import time

from .. import AWS_JSON, templates
from .. import spec as speclib
from ..config import ALB_NAME, forwarded_groups, load_balancer, target_group_arn
from ..errors import KitError
from ..kit import Kit
from . import planned

SPEC = AWS_JSON / "load-balancer" / "alb.json"
ALB_DELETE_TIMEOUT = 300.0
HEALTH_KEYS = (
    "HealthCheckProtocol",
    "HealthCheckPath",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "Matcher",
)
NOT_FOUND = {
    "Type": "fixed-response",
    "FixedResponseConfig": {
        "StatusCode": "404",
        "ContentType": "application/json",
        "MessageBody": '{"error":"not_found"}',
    },
}


def ensure_load_balancer(kit: Kit) -> str:
    elbv2 = kit.client("elbv2")
    wanted = templates.render(SPEC, kit.vars)["loadBalancer"]
    alb = load_balancer(elbv2, wanted["Name"])
    if alb is None:
        if kit.dry_run:
            kit.report("created", "load-balancer", wanted["Name"])
            return planned("load-balancer", wanted["Name"])
        alb = elbv2.create_load_balancer(**wanted)["LoadBalancers"][0]
        kit.report("created", "load-balancer", wanted["Name"], alb["DNSName"])
    elif sorted(alb.get("SecurityGroups", [])) != sorted(wanted["SecurityGroups"]):
        if not kit.dry_run:
            elbv2.set_security_groups(LoadBalancerArn=alb["LoadBalancerArn"], SecurityGroups=wanted["SecurityGroups"])
        kit.report("updated", "load-balancer", wanted["Name"], "security groups")
    else:
        kit.report("unchanged", "load-balancer", wanted["Name"])
    kit.vars.remember("ALB_DNS_NAME", alb["DNSName"])
    return alb["LoadBalancerArn"]


def ensure_target_group(kit: Kit, s: speclib.ServiceSpec, alternate: bool = False) -> str:
    """The service's target group, or (alternate) the second one a traffic-shifting deployment moves to:
    the same settings under another name."""
    elbv2 = kit.client("elbv2")
    wanted = templates.render(s.targets_path, kit.vars.for_service(s))["targetGroup"]
    if alternate:
        wanted = {**wanted, "Name": s.alternate_target_group_name}
    name = wanted["Name"]
    arn = target_group_arn(elbv2, name)
    if arn is None:
        if kit.dry_run:
            kit.report("created", "target-group", name, f"ip:{wanted['Port']} health {wanted['HealthCheckPath']}")
            return planned("target-group", name)
        arn = elbv2.create_target_group(**wanted)["TargetGroups"][0]["TargetGroupArn"]
        kit.report("created", "target-group", name, f"ip:{wanted['Port']} health {wanted['HealthCheckPath']}")
        return arn
    current = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    if current.get("Port") != wanted["Port"] or current.get("TargetType") != wanted["TargetType"]:
        raise KitError(
            f"target group {name} exists with port {current.get('Port')}/{current.get('TargetType')}, "
            f"the spec wants {wanted['Port']}/{wanted['TargetType']}: "
            "delete it (bin/aws/teardown) and re-run"
        )
    drift = {k: wanted[k] for k in HEALTH_KEYS if k in wanted and current.get(k) != wanted[k]}
    if drift:
        if not kit.dry_run:
            elbv2.modify_target_group(TargetGroupArn=arn, **drift)
        kit.report("updated", "target-group", name, ", ".join(sorted(drift)))
    else:
        kit.report("unchanged", "target-group", name)
    return arn


def _listener(elbv2, alb_arn: str, port: int) -> dict | None:
    if alb_arn.startswith("("):
        return None
    listeners = elbv2.describe_listeners(LoadBalancerArn=alb_arn)["Listeners"]
    return next((li for li in listeners if li["Port"] == port), None)


def _forward(tg_arn: str, alternate: str | None = None) -> list[dict]:
    if alternate is None:
        return [{"Type": "forward", "TargetGroupArn": tg_arn}]
    # a traffic-shifting service's rules name both colours; ECS moves the weights during a deployment
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": tg_arn, "Weight": 1}, {"TargetGroupArn": alternate, "Weight": 0}]
            },
        }
    ]


def _action_key(actions: list[dict]) -> list[tuple]:
    out = []
    for a in actions:
        if a["Type"] == "forward":
            tg = a.get("TargetGroupArn") or a["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"]
            out.append(("forward", tg))
        else:
            out.append((a["Type"], str(a.get("FixedResponseConfig", {}).get("StatusCode"))))
    return out


def ensure_listener(
    kit: Kit, alb_arn: str, tg_arns: dict[str, str], alt_arns: dict[str, str] | None = None, test: bool = False
) -> None:
    """HTTP listener: the service without a path rule is the default action; the others get path rules.
    `test`: the test listener of traffic-shifting deployments, with rules for those services only."""
    elbv2 = kit.client("elbv2")
    alt_arns = alt_arns or {}
    spec = templates.render(SPEC, kit.vars)["testListener" if test else "listener"]
    services = [s for s in speclib.services() if not test or s.name in alt_arns]
    default = None if test else next((s for s in services if s.is_default_route), None)
    default_actions = _forward(tg_arns[default.name]) if default else [NOT_FOUND]
    label = f"{ALB_NAME}:{spec['Port']}"
    listener = _listener(elbv2, alb_arn, spec["Port"])
    if listener is None:
        if not kit.dry_run:
            listener = elbv2.create_listener(LoadBalancerArn=alb_arn, DefaultActions=default_actions, **spec)[
                "Listeners"
            ][0]
        kit.report("created", "listener", label, f"default -> {default.name if default else '404'}")
    elif _action_key(listener["DefaultActions"]) != _action_key(default_actions):
        if not kit.dry_run:
            elbv2.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=default_actions)
        kit.report("updated", "listener", label, f"default -> {default.name if default else '404'}")
    else:
        kit.report("unchanged", "listener", label)
    rules = [] if listener is None else elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    for s in services:
        if s.is_default_route:
            continue
        rule_spec = templates.render(s.targets_path, kit.vars.for_service(s))["listenerRule"]
        name = f"{label} {' '.join(s.path_patterns)}"
        tg, alt = tg_arns[s.name], alt_arns.get(s.name)
        ours = {tg, alt} - {None}
        # a traffic-shifting rule's weights (and which colour comes first) are ECS's to change: find it by its groups
        mine = next((r for r in rules if not r["IsDefault"] and forwarded_groups(r["Actions"]) & ours), None)
        if mine is None:
            if not kit.dry_run:
                elbv2.create_rule(ListenerArn=listener["ListenerArn"], Actions=_forward(tg, alt), **rule_spec)
            kit.report("created", "listener-rule", name, f"-> {s.name}" + (" (blue/green pair)" if alt else ""))
            continue
        if forwarded_groups(mine["Actions"]) != ours and not alt:
            if not kit.dry_run:
                elbv2.modify_rule(RuleArn=mine["RuleArn"], Actions=_forward(tg))
            kit.report("updated", "listener-rule", name, f"-> {s.name} only")
            continue
        if alt and forwarded_groups(mine["Actions"]) != ours:
            if not kit.dry_run:
                elbv2.modify_rule(RuleArn=mine["RuleArn"], Actions=_forward(tg, alt))
            kit.report("updated", "listener-rule", name, f"-> {s.name} (blue/green pair)")
            continue
        same_paths = sorted(_paths(mine)) == sorted(s.path_patterns)
        same_priority = str(mine["Priority"]) == str(rule_spec["Priority"])
        if same_paths and same_priority:
            kit.report("unchanged", "listener-rule", name)
            continue
        if not kit.dry_run:
            if not same_paths:
                elbv2.modify_rule(RuleArn=mine["RuleArn"], Conditions=rule_spec["Conditions"])
            if not same_priority:
                elbv2.set_rule_priorities(
                    RulePriorities=[{"RuleArn": mine["RuleArn"], "Priority": rule_spec["Priority"]}]
                )
        kit.report("updated", "listener-rule", name, f"-> {s.name}")


def _paths(rule: dict) -> list[str]:
    paths = []
    for c in rule.get("Conditions", []):
        if c.get("Field") == "path-pattern":
            paths.extend(c.get("PathPatternConfig", {}).get("Values") or c.get("Values", []))
    return paths


def delete_load_balancer(kit: Kit) -> None:
    """Listener rules and listeners go with the load balancer; waits (bounded) until it is gone."""
    elbv2 = kit.client("elbv2")
    alb = load_balancer(elbv2, ALB_NAME)
    if alb is None:
        kit.report("absent", "load-balancer", ALB_NAME)
        return
    if not kit.dry_run:
        for li in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]:
            elbv2.delete_listener(ListenerArn=li["ListenerArn"])
        elbv2.delete_load_balancer(LoadBalancerArn=alb["LoadBalancerArn"])
        deadline = time.monotonic() + ALB_DELETE_TIMEOUT
        while load_balancer(elbv2, ALB_NAME) is not None:
            if time.monotonic() > deadline:
                raise KitError(f"load balancer {ALB_NAME} still deleting after {ALB_DELETE_TIMEOUT:g}s")
            time.sleep(5)
    kit.report("deleted", "load-balancer", ALB_NAME, "with its listeners and rules")


def delete_target_groups(kit: Kit) -> None:
    elbv2 = kit.client("elbv2")
    for s in speclib.services():
        for name in target_group_names(s):
            arn = target_group_arn(elbv2, name)
            if arn is None:
                kit.report("absent", "target-group", name)
                continue
            if not kit.dry_run:
                elbv2.delete_target_group(TargetGroupArn=arn)
            kit.report("deleted", "target-group", name)


def target_group_names(s: speclib.ServiceSpec) -> list[str]:
    return [s.target_group_name] + ([s.alternate_target_group_name] if s.shifts_traffic else [])
