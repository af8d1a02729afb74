"""Deployment strategies (ROLLING, BLUE_GREEN, CANARY, LINEAR): their settings, what traffic shifting needs
of the load balancer and roles, and the CloudWatch alarms a deployment watches.

The valid ranges come from botocore's ECS model where it states them (its documentation of canaryPercent,
stepPercent and the bake times: "Valid values are multiples of 0.1 from 0.1 to 100.0", "0 to 1440 minutes");
the model carries no range for bakeTimeInMinutes, which the ECS Developer Guide gives as 0-1440 minutes.
"""

from __future__ import annotations

import re
from functools import cache

from ... import spec as speclib
from .. import shapes
from ..model import NG, SKIP, WARN
from ..registry import rule

BAKE_MINUTES = (0, 1440)  # bakeTimeInMinutes (ECS Developer Guide; the API model gives no range)
MAX_ALARMS = 10
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+")
PLACEHOLDER = re.compile(r"^\$\{(\w+)\}$")


@cache
def model_range(shape: str, member: str) -> tuple[float, float, float | None]:
    """(low, high, step) of a member as the ECS model's documentation states it."""
    text = re.sub(r"<[^>]+>", "", shapes.service_model("ecs").shape_for(shape).members[member].documentation)
    multiples = re.search(r"multiples of (\d+(?:\.\d+)?) from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)", text)
    if multiples:
        step, low, high = (float(g) for g in multiples.groups())
        return low, high, step
    plain = re.search(r"Valid values are (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)", text)
    if plain:
        return float(plain.group(1)), float(plain.group(2)), None
    raise LookupError(f"the ECS model states no range for {shape}.{member}")


def _out_of_range(value, shape: str, member: str) -> str | None:
    low, high, step = model_range(shape, member)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{member} {value!r} is not a number"
    if not low <= value <= high:
        return f"{member} {value:g} is outside {low:g}-{high:g}"
    if step and abs(round(value / step) * step - value) > 1e-9:
        return f"{member} {value:g} is not a multiple of {step:g}"
    return None


def _range_text(shape: str, member: str, unit: str = "") -> str:
    low, high, step = model_range(shape, member)
    return f"use {low:g}-{high:g}{unit}" + (f" in steps of {step:g}" if step else "")


@rule("service.strategy", "service", seed="issue 14: ECS deployment strategies (2025); the API model")
def strategy(spec, specs):
    """A deployment strategy's settings: canary/linear percentages and bake times in the ranges the API model
    states, each configuration only with its strategy, a bake time (0-1440 min) that BLUE_GREEN requires, and
    Lambda lifecycle hooks with a function and a role.

    Fix: Use the value range the finding names; keep canaryConfiguration with CANARY and linearConfiguration
    with LINEAR; give bakeTimeInMinutes; give an AWS_LAMBDA hook hookTargetArn and roleArn.
    """
    dc = spec.doc.get("deploymentConfiguration") or {}
    name = dc.get("strategy", "ROLLING")
    base = "$.deploymentConfiguration"
    for key, owner in (("canaryConfiguration", "CANARY"), ("linearConfiguration", "LINEAR")):
        if key in dc and name != owner:
            yield NG(
                f"{base}.{key}",
                f"{key} is only valid with strategy {owner} (this one is {name})",
                f'remove {key} or set "strategy": "{owner}"',
            )
    settings = (
        ("canaryConfiguration", "CanaryConfiguration", ("canaryPercent", "canaryBakeTimeInMinutes")),
        ("linearConfiguration", "LinearConfiguration", ("stepPercent", "stepBakeTimeInMinutes")),
    )
    for key, shape, members in settings:
        for member in members:
            value = (dc.get(key) or {}).get(member)
            if value is None:
                continue
            problem = _out_of_range(value, shape, member)
            if problem:
                unit = " minutes" if "Minutes" in member else ""
                yield NG(f"{base}.{key}.{member}", problem, _range_text(shape, member, unit))
    bake = dc.get("bakeTimeInMinutes")
    if bake is None and name == "BLUE_GREEN":
        yield NG(
            f"{base}.bakeTimeInMinutes",
            "BLUE_GREEN requires bakeTimeInMinutes (the API model says so)",
            "set bakeTimeInMinutes (e.g. 5): how long both revisions run after production traffic moves",
        )
    elif bake is not None and (
        isinstance(bake, bool) or not isinstance(bake, int) or not BAKE_MINUTES[0] <= bake <= BAKE_MINUTES[1]
    ):
        yield NG(
            f"{base}.bakeTimeInMinutes",
            f"bakeTimeInMinutes {bake!r} is outside {BAKE_MINUTES[0]}-{BAKE_MINUTES[1]}",
            f"use {BAKE_MINUTES[0]}-{BAKE_MINUTES[1]} minutes",
        )
    for i, hook in enumerate(dc.get("lifecycleHooks") or []):
        if hook.get("targetType", "AWS_LAMBDA") == "AWS_LAMBDA":
            for key in ("hookTargetArn", "roleArn"):
                if not hook.get(key):
                    yield NG(
                        f"{base}.lifecycleHooks[{i}].{key}",
                        f"an AWS_LAMBDA hook needs {key}",
                        "name the Lambda function and the role ECS invokes it with (or use targetType PAUSE)",
                    )


def _placeholder(raw_lb: dict, key: str) -> str | None:
    found = PLACEHOLDER.match(str(((raw_lb or {}).get("advancedConfiguration") or {}).get(key, "")))
    return found.group(1) if found else None


@rule("service.traffic-shift", "service", seed="issue 14: blue/green needs two target groups, rules and a role")
def traffic_shift(spec, specs):
    """BLUE_GREEN, CANARY and LINEAR: each load balancer has advancedConfiguration with an alternate target group
    (not the production one), the production listener rule, and the IAM role ECS shifts traffic with (the one
    bin/aws/setup creates); the service routes by a listener rule; a test rule needs the ALB's testListener.

    Fix: Add loadBalancers[].advancedConfiguration {alternateTargetGroupArn: ${ALTERNATE_TARGET_GROUP_ARN},
    productionListenerRule: ${PRODUCTION_LISTENER_RULE_ARN}, testListenerRule: ${TEST_LISTENER_RULE_ARN},
    roleArn: ${ECS_INFRASTRUCTURE_ROLE_ARN}} and a listenerRule in the service's targets spec.
    """
    doc = spec.doc
    name = (doc.get("deploymentConfiguration") or {}).get("strategy", "ROLLING")
    if name not in speclib.TRAFFIC_SHIFTING:
        return
    if (doc.get("deploymentController") or {}).get("type", "ECS") != "ECS":
        yield NG(
            "$.deploymentController.type",
            f"{name} is ECS's own strategy: the controller must be ECS",
            'set "deploymentController": {"type": "ECS"}',
        )
    lbs = doc.get("loadBalancers") or []
    if not lbs:
        yield NG(
            "$.loadBalancers",
            f"{name} shifts traffic between two target groups: the service has no load balancer",
            "add loadBalancers with advancedConfiguration",
        )
    raw_lbs = (spec.raw or {}).get("loadBalancers") or []
    for i, lb in enumerate(lbs):
        path = f"$.loadBalancers[{i}].advancedConfiguration"
        adv = lb.get("advancedConfiguration")
        if not isinstance(adv, dict):
            yield NG(
                path,
                f"{name} needs advancedConfiguration: the alternate target group, listener rule and role",
                "add advancedConfiguration (see backend-flask.json)",
            )
            continue
        if not adv.get("alternateTargetGroupArn"):
            yield NG(
                f"{path}.alternateTargetGroupArn",
                f"{name} without an alternate target group: ECS has nowhere to start the new revision beside the old",
                'set "${ALTERNATE_TARGET_GROUP_ARN}" (bin/aws/setup creates it)',
            )
        elif adv["alternateTargetGroupArn"] == lb.get("targetGroupArn"):
            yield NG(
                f"{path}.alternateTargetGroupArn",
                "the alternate target group is the production one",
                'use "${ALTERNATE_TARGET_GROUP_ARN}"',
            )
        if not adv.get("productionListenerRule"):
            yield NG(
                f"{path}.productionListenerRule",
                f"{name} without the production listener rule: ECS cannot move traffic",
                'set "${PRODUCTION_LISTENER_RULE_ARN}"',
            )
        role = adv.get("roleArn")
        raw = raw_lbs[i] if i < len(raw_lbs) and isinstance(raw_lbs[i], dict) else {}
        if not role:
            yield NG(
                f"{path}.roleArn",
                f"{name} without roleArn: ECS needs a role to change the listener rules",
                'set "${ECS_INFRASTRUCTURE_ROLE_ARN}" (bin/aws/setup creates it with '
                "AmazonECSInfrastructureRolePolicyForLoadBalancers)",
            )
        elif not ROLE_ARN.match(str(role)):
            yield NG(f"{path}.roleArn", f"{role!r} is not an IAM role ARN", 'use "${ECS_INFRASTRUCTURE_ROLE_ARN}"')
        elif _placeholder(raw, "roleArn") not in (None, "ECS_INFRASTRUCTURE_ROLE_ARN"):
            yield WARN(
                f"{path}.roleArn",
                f"${{{_placeholder(raw, 'roleArn')}}} is not a role bin/aws/setup makes",
                'use "${ECS_INFRASTRUCTURE_ROLE_ARN}"',
            )
        if adv.get("testListenerRule") and (broken := specs.unparsed("alb")):
            yield SKIP(f"{path}.testListenerRule", f"{broken.rel} does not parse: checked once it does")
        elif adv.get("testListenerRule") and not any("testListener" in (a.doc or {}) for a in specs.of("alb")):
            yield NG(
                f"{path}.testListenerRule",
                "a test listener rule, but load-balancer/alb.json has no testListener",
                'add "testListener": {"Protocol": "HTTP", "Port": 8080} to alb.json',
            )
    target = specs.target_for(spec)
    if lbs and target is not None and not (target.doc or {}).get("listenerRule"):
        yield NG(
            "$.loadBalancers",
            f"{name} moves traffic by rewriting a listener rule, and "
            f"{target.rel} has none (the service is the listener's default action)",
            "give the service a listenerRule (path pattern and priority), or deploy it ROLLING",
        )


def alarm_names(specs) -> dict[str, str]:
    """Every alarm the specs define: name -> the file that defines it."""
    found = {}
    for f in specs.of("alarm"):
        for a in (f.doc or {}).get("alarms") or []:
            if isinstance(a, dict) and a.get("AlarmName"):
                found[a["AlarmName"]] = f.rel
    return found


@rule("service.alarms", "service", seed="issue 14: CloudWatch-alarm rollback (deploymentConfiguration.alarms)")
def alarms(spec, specs):
    """deploymentConfiguration.alarms names 1-10 alarms, each defined in aws/json/alarms (so bin/aws/setup
    creates it); a traffic-shifting strategy has alarms to roll back on.

    Fix: Define the alarm in aws/json/alarms/<service>.json or correct its name; enable alarms with rollback.
    """
    dc = spec.doc.get("deploymentConfiguration") or {}
    cfg = dc.get("alarms")
    if not cfg or not cfg.get("enable"):
        if dc.get("strategy") in speclib.TRAFFIC_SHIFTING:
            yield WARN(
                "$.deploymentConfiguration.alarms",
                "no alarms: a bad canary is caught only if its tasks fail to start",
                'add "alarms": {"alarmNames": [...], "enable": true, "rollback": true}',
            )
        return
    names = cfg.get("alarmNames") or []
    if not names:
        yield NG(
            "$.deploymentConfiguration.alarms.alarmNames",
            "alarms are enabled but name none",
            "name the alarms in aws/json/alarms",
        )
    if len(names) > MAX_ALARMS:
        yield NG(
            "$.deploymentConfiguration.alarms.alarmNames",
            f"{len(names)} alarms: ECS takes at most {MAX_ALARMS}",
            f"keep {MAX_ALARMS} or fewer",
        )
    if broken := specs.unparsed("alarm"):
        yield SKIP("$.deploymentConfiguration.alarms.alarmNames", f"{broken.rel} does not parse: checked once it does")
        return
    known = alarm_names(specs)
    for i, n in enumerate(names):
        if n not in known:
            yield NG(
                f"$.deploymentConfiguration.alarms.alarmNames[{i}]",
                f"alarm {n!r} is not defined in aws/json/alarms: setup will not create it and ECS watches nothing",
                f"add it to aws/json/alarms/{spec.path.stem}.json"
                + (f" or use one of {', '.join(sorted(known))}" if known else ""),
            )
    if not cfg.get("rollback"):
        yield WARN(
            "$.deploymentConfiguration.alarms.rollback",
            "alarms without rollback: an alarm fails the deployment but leaves the bad revision serving",
            'set "rollback": true',
        )


@rule("shape.alarm", "alarm", seed="issue 14: the API model (PutMetricAlarm)")
def alarm_shape(spec, specs):
    """Each alarms[] entry is a valid CloudWatch PutMetricAlarm input, names are unique, and a service uses it.

    Fix: Correct the key, type or value the finding names (PutMetricAlarm in the AWS API model).
    """
    items = (spec.doc or {}).get("alarms")
    if not isinstance(items, list) or not items:
        yield NG("$.alarms", "no alarms list", 'give "alarms": [PutMetricAlarm inputs]')
        return
    used = {
        n
        for s in specs.of("service")
        for n in ((s.doc.get("deploymentConfiguration") or {}).get("alarms") or {}).get("alarmNames") or []
    }
    seen = set()
    for i, a in enumerate(items):
        for status, path, message, fix, cause in shapes.validate(a, "cloudwatch", "PutMetricAlarm"):
            yield status, path.replace("$", f"$.alarms[{i}]", 1), message, fix, cause
        name = a.get("AlarmName") if isinstance(a, dict) else None
        if name in seen:
            yield NG(f"$.alarms[{i}].AlarmName", f"alarm {name!r} is defined twice", "give each alarm its own name")
        seen.add(name)
        if name and name not in used and not specs.unparsed("service"):  # a broken service file names none
            yield WARN(
                f"$.alarms[{i}].AlarmName",
                f"no service's deploymentConfiguration.alarms names {name!r}",
                "name it in the service's alarms, or remove it",
            )
