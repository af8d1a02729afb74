"""What CreateService/UpdateService accept for deployments, as ECS checks it, and what describe returns.

`deployment_configuration()` validates a request's deploymentConfiguration (merged over the service's
current one on update) and fills ECS's defaults, so DescribeServices answers what ECS answers. Ranges come
from the API reference (CanaryConfiguration, LinearConfiguration, DeploymentConfiguration,
DeploymentLifecycleHook); the wording of the messages follows ECS's InvalidParameterException style, but
ECS does not publish the exact text of every 2025 check, so clients must not match on it.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from moto.ecs.exceptions import InvalidParameterException

STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
TRAFFIC_SHIFTING = ("BLUE_GREEN", "LINEAR", "CANARY")
HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
LAMBDA_ONLY_STAGES = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
MAX_BAKE_MINUTES = 1440
CANARY_DEFAULTS = {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}
LINEAR_DEFAULTS = {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}
HOOK_TIMEOUT_DEFAULT = {"timeoutInMinutes": 1440, "action": "ROLLBACK"}
LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def invalid(message: str) -> InvalidParameterException:
    return InvalidParameterException(message)


def default_configuration() -> dict:
    """What ECS reports for a service created without a deploymentConfiguration."""
    return {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "alarms": {"alarmNames": [], "rollback": False, "enable": False},
        "strategy": "ROLLING",
    }


def deployment_configuration(requested: dict | None, current: dict | None = None) -> dict:
    """The configuration the service will have: `requested` members over `current` (or the defaults), checked."""
    config = copy.deepcopy(current) if current else default_configuration()
    for key, value in (requested or {}).items():
        if value is not None:
            config[key] = copy.deepcopy(value)
    strategy = config.get("strategy") or "ROLLING"
    config["strategy"] = strategy
    if strategy not in STRATEGIES:
        raise invalid(f"Invalid deployment strategy '{strategy}'. Valid values: {', '.join(STRATEGIES)}.")
    if requested and "strategy" in requested and requested["strategy"] != (current or {}).get("strategy"):
        # a strategy change drops the other strategies' settings unless they were given with it
        for key, owner in (("canaryConfiguration", "CANARY"), ("linearConfiguration", "LINEAR")):
            if owner != strategy and key not in requested:
                config.pop(key, None)
    _percentages(config)
    _bake_time(config, strategy)
    _shift_settings(config, strategy)
    _circuit_breaker(config.get("deploymentCircuitBreaker"))
    _alarms(config.get("alarms"))
    config["lifecycleHooks"] = [_hook(h) for h in config.get("lifecycleHooks") or []]
    if not config["lifecycleHooks"]:
        config.pop("lifecycleHooks")
    _early_success(config, strategy)
    return config


def _percentages(config: dict) -> None:
    low, high = config.get("minimumHealthyPercent"), config.get("maximumPercent")
    if low is None:
        config["minimumHealthyPercent"] = low = 100
    if high is None:
        config["maximumPercent"] = high = 200
    if not 0 <= low <= 100:
        raise invalid(f"minimumHealthyPercent must be between 0 and 100 (got {low}).")
    if high < 0:
        raise invalid(f"maximumPercent must not be negative (got {high}).")


def _bake_time(config: dict, strategy: str) -> None:
    bake = config.get("bakeTimeInMinutes")
    if bake is None:
        if strategy == "BLUE_GREEN":
            raise invalid("bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN.")
        return
    if not 0 <= bake <= MAX_BAKE_MINUTES:
        raise invalid(f"bakeTimeInMinutes must be between 0 and {MAX_BAKE_MINUTES} (got {bake}).")


def _tenths(value: float) -> bool:
    return math.isclose(value * 10, round(value * 10), abs_tol=1e-6)


def _shift_settings(config: dict, strategy: str) -> None:
    for key, owner in (("canaryConfiguration", "CANARY"), ("linearConfiguration", "LINEAR")):
        if config.get(key) is not None and strategy != owner:
            raise invalid(f"{key} is only valid when the deployment strategy is {owner} (the strategy is {strategy}).")
    if strategy == "CANARY":
        canary = {
            **CANARY_DEFAULTS,
            **{k: v for k, v in (config.get("canaryConfiguration") or {}).items() if v is not None},
        }
        pct, bake = canary["canaryPercent"], canary["canaryBakeTimeInMinutes"]
        if not (0.1 <= pct <= 100.0 and _tenths(pct)):
            raise invalid(f"canaryPercent must be a multiple of 0.1 from 0.1 to 100.0 (got {pct}).")
        if not 0 <= bake <= MAX_BAKE_MINUTES:
            raise invalid(f"canaryBakeTimeInMinutes must be between 0 and {MAX_BAKE_MINUTES} (got {bake}).")
        config["canaryConfiguration"] = {"canaryPercent": float(pct), "canaryBakeTimeInMinutes": int(bake)}
    if strategy == "LINEAR":
        linear = {
            **LINEAR_DEFAULTS,
            **{k: v for k, v in (config.get("linearConfiguration") or {}).items() if v is not None},
        }
        pct, bake = linear["stepPercent"], linear["stepBakeTimeInMinutes"]
        if not (3.0 <= pct <= 100.0 and _tenths(pct)):
            raise invalid(f"stepPercent must be a multiple of 0.1 from 3.0 to 100.0 (got {pct}).")
        if not 0 <= bake <= MAX_BAKE_MINUTES:
            raise invalid(f"stepBakeTimeInMinutes must be between 0 and {MAX_BAKE_MINUTES} (got {bake}).")
        config["linearConfiguration"] = {"stepPercent": float(pct), "stepBakeTimeInMinutes": int(bake)}


def _circuit_breaker(cb: dict | None) -> None:
    if not cb:
        return
    threshold = cb.get("thresholdConfiguration")
    if threshold:
        kind, value = threshold.get("type"), threshold.get("value")
        if kind not in ("COUNT", "BOUNDED_PERCENT", "UNBOUNDED_PERCENT"):
            raise invalid(
                f"Invalid thresholdConfiguration type '{kind}'. "
                "Valid values: COUNT, BOUNDED_PERCENT, UNBOUNDED_PERCENT."
            )
        if value is None or value < 1 or (kind != "COUNT" and value > 100):
            raise invalid(f"thresholdConfiguration value {value} is out of range for type {kind}.")


def _alarms(alarms: dict | None) -> None:
    if not alarms:
        return
    names = alarms.get("alarmNames") or []
    if alarms.get("enable") and not names:
        raise invalid("alarms.alarmNames must name at least one CloudWatch alarm when alarms are enabled.")
    if len(names) > 10:
        raise invalid("alarms.alarmNames can name at most 10 alarms.")


def _hook(hook: dict) -> dict:
    hook = copy.deepcopy(hook)
    kind = hook.get("targetType") or "AWS_LAMBDA"
    hook["targetType"] = kind
    stages = hook.get("lifecycleStages") or []
    if kind not in ("AWS_LAMBDA", "PAUSE"):
        raise invalid(f"Invalid lifecycle hook targetType '{kind}'. Valid values: AWS_LAMBDA, PAUSE.")
    if not stages:
        raise invalid("lifecycleStages must name at least one lifecycle stage for a lifecycle hook.")
    for stage in stages:
        if stage not in HOOK_STAGES:
            raise invalid(f"Invalid lifecycle stage '{stage}'. Valid values: {', '.join(HOOK_STAGES)}.")
        if kind == "PAUSE" and stage in LAMBDA_ONLY_STAGES:
            raise invalid(
                f"PAUSE hooks cannot be configured at the {stage} stage; only AWS_LAMBDA hooks can run there."
            )
    if kind == "AWS_LAMBDA":
        target = hook.get("hookTargetArn")
        if not target:
            raise invalid("hookTargetArn is required for an AWS_LAMBDA lifecycle hook.")
        if not LAMBDA_ARN.match(target):
            raise invalid(f"hookTargetArn '{target}' is not a Lambda function ARN.")
        role = hook.get("roleArn")
        if not role:
            raise invalid(
                "roleArn is required for an AWS_LAMBDA lifecycle hook: ECS assumes it to invoke the function."
            )
    if hook.get("roleArn") and not ROLE_ARN.match(hook["roleArn"]):
        raise invalid(f"roleArn '{hook['roleArn']}' is not an IAM role ARN.")
    timeout = hook.get("timeoutConfiguration")
    if timeout is not None:
        minutes = timeout.get("timeoutInMinutes", HOOK_TIMEOUT_DEFAULT["timeoutInMinutes"])
        if not 1 <= minutes <= 20160:
            raise invalid(f"timeoutInMinutes must be between 1 and 20160 (got {minutes}).")
        if timeout.get("action", "ROLLBACK") not in ("ROLLBACK", "CONTINUE"):
            raise invalid(f"Invalid timeout action '{timeout.get('action')}'. Valid values: ROLLBACK, CONTINUE.")
    return hook


def _early_success(config: dict, strategy: str) -> None:
    early = config.get("earlySuccessCriteria")
    if not early:
        return
    if strategy != "ROLLING":
        raise invalid("earlySuccessCriteria can only be used with the ROLLING deployment strategy.")
    if early.get("enable"):
        if early.get("healthyPercent") is None or not early.get("sourceServiceRevisionCleanup"):
            raise invalid("earlySuccessCriteria needs healthyPercent and sourceServiceRevisionCleanup when enabled.")
        if early["healthyPercent"] < config["minimumHealthyPercent"]:
            raise invalid("earlySuccessCriteria.healthyPercent must be greater than or equal to minimumHealthyPercent.")


def hook_timeout(hook: dict) -> dict:
    return {**HOOK_TIMEOUT_DEFAULT, **(hook.get("timeoutConfiguration") or {})}


def load_balancers(lbs: list[dict] | None, strategy: str, elbv2, service_connect: bool) -> list[dict]:
    """loadBalancers as given, checked for what a traffic-shifting strategy needs (ECS validates these)."""
    lbs = copy.deepcopy(lbs or [])
    if strategy not in TRAFFIC_SHIFTING:
        return lbs
    if not lbs and not service_connect:
        raise invalid(
            f"The {strategy} deployment strategy needs a load balancer (loadBalancers with "
            "advancedConfiguration) or Service Connect to shift traffic."
        )
    for lb in lbs:
        adv = lb.get("advancedConfiguration")
        if not adv:
            raise invalid(
                f"loadBalancers[].advancedConfiguration is required for the {strategy} deployment strategy: "
                "give alternateTargetGroupArn, productionListenerRule and roleArn."
            )
        for key in ("alternateTargetGroupArn", "productionListenerRule", "roleArn"):
            if not adv.get(key):
                raise invalid(f"advancedConfiguration.{key} is required for the {strategy} deployment strategy.")
        if adv["alternateTargetGroupArn"] == lb.get("targetGroupArn"):
            raise invalid("advancedConfiguration.alternateTargetGroupArn must differ from targetGroupArn.")
        if not ROLE_ARN.match(adv["roleArn"]):
            raise invalid(f"advancedConfiguration.roleArn '{adv['roleArn']}' is not an IAM role ARN.")
        if elbv2 is not None:
            _elb_exists(elbv2, adv)
    return lbs


def _elb_exists(elbv2, adv: dict) -> None:
    tg = adv["alternateTargetGroupArn"]
    if tg not in elbv2.target_groups:
        raise invalid(f"The target group with targetGroupArn {tg} does not exist.")
    for key in ("productionListenerRule", "testListenerRule"):
        arn = adv.get(key)
        if arn and find_rule(elbv2, arn) is None:
            raise invalid(f"The listener rule {arn} ({key}) does not exist.")


def find_rule(elbv2, arn: str) -> Any:
    for lb in elbv2.load_balancers.values():
        for listener in lb.listeners.values():
            if arn == listener.arn:
                return listener
            for rule in listener.rules.values():
                if rule.arn == arn:
                    return rule
    return None


def needs_new_deployment(changes: dict, revision: dict | None) -> bool:
    """Whether an UpdateService changes what the service revision holds (ECS then starts a service deployment)."""
    if revision is None:
        return True
    if changes.get("forceNewDeployment"):
        return True
    if changes.get("taskDefinition") and changes["taskDefinition"] != revision["taskDefinition"]:
        return True
    for key in (
        "loadBalancers",
        "serviceRegistries",
        "capacityProviderStrategy",
        "volumeConfigurations",
        "serviceConnectConfiguration",
        "vpcLatticeConfigurations",
    ):
        if key in changes and changes[key] is not None and _norm(changes[key]) != _norm(revision.get(key) or []):
            return True
    if changes.get("networkConfiguration") is not None and _network(changes["networkConfiguration"]) != _network(
        revision.get("networkConfiguration")
    ):
        return True
    if changes.get("platformVersion") and changes["platformVersion"] != revision.get("requestedPlatformVersion"):
        return True
    return False


def _network(nc: dict | None) -> tuple:
    c = (nc or {}).get("awsvpcConfiguration") or {}
    return (
        tuple(sorted(c.get("subnets") or [])),
        tuple(sorted(c.get("securityGroups") or [])),
        c.get("assignPublicIp") or "DISABLED",
    )


def _norm(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(sorted((_norm(v) for v in value), key=repr))
    return value
