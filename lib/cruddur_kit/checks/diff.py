"""`bin/ecs/diff`: the local task definition and service against what is deployed, both normalised first
(read-only fields dropped, AWS defaults filled, unordered lists sorted, "1 vCPU"/"2 GB" as units, nulls
dropped). Task definitions go through deploy's own normaliser (cruddur_kit.ecs.taskdef.normalise), so diff
and deploy's no-op check agree on what counts as a change."""
from __future__ import annotations

import difflib
import json

from .. import spec as speclib
from ..ecs.taskdef import KIT_TAG, registered_by_kit
from ..ecs.taskdef import normalise as normalise_td
from ..ecs.watch import describe_service
from ..errors import KitError
from ..kit import Kit
from .live import Lenient

SERVICE_KEYS = ("serviceName", "taskDefinition", "desiredCount", "launchType", "platformVersion",
                "capacityProviderStrategy", "networkConfiguration", "loadBalancers", "healthCheckGracePeriodSeconds",
                "deploymentConfiguration", "deploymentController", "enableExecuteCommand", "propagateTags",
                "enableECSManagedTags", "schedulingStrategy")
SERVICE_DEFAULTS = {"schedulingStrategy": "REPLICA", "deploymentController": {"type": "ECS"},
                    "propagateTags": "NONE", "enableECSManagedTags": False, "enableExecuteCommand": False,
                    "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100,
                                                "strategy": "ROLLING",
                                                "deploymentCircuitBreaker": {"enable": False, "rollback": False},
                                                "alarms": {"alarmNames": [], "enable": False, "rollback": False}}}


def _prune(node):
    """Drop nulls, empty lists/objects; sort lists (every list in a service definition is a set to ECS)."""
    if isinstance(node, dict):
        out = {k: _prune(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {}, "")}
    if isinstance(node, list):
        items = [_prune(v) for v in node]
        items = [v for v in items if v not in (None, [], {})]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return node


def normalise_service(sd: dict) -> dict:
    out = {k: sd[k] for k in SERVICE_KEYS if k in sd}
    for k, v in SERVICE_DEFAULTS.items():
        if k == "deploymentConfiguration":
            out[k] = {**v, **(out.get(k) or {})}
        else:
            out.setdefault(k, v)
    if out.get("capacityProviderStrategy"):
        out.pop("launchType", None)
    # the family is what the local file names; the deployed side names an ARN with a revision
    out["taskDefinition"] = str(out.get("taskDefinition", "")).rsplit("/", 1)[-1].split(":")[0]
    return _prune(out)


def unified(deployed: dict, local: dict, label: str, deployed_label: str | None = None) -> list[str]:
    a = json.dumps(deployed, indent=2, sort_keys=True).splitlines()
    b = json.dumps(local, indent=2, sort_keys=True).splitlines()
    return list(difflib.unified_diff(a, b, f"deployed {deployed_label or label}", f"local {label}", lineterm=""))


def live_revision(kit: Kit) -> str:
    """What the service runs, as a person would say it: "backend-flask:7 (registered by bin/backend/deploy)", or
    "... (registered outside the kit: no cruddur:registered-by tag)" for a revision registered by hand."""
    s = speclib.get(kit.service)
    ecs = kit.client("ecs")
    live = describe_service(ecs, kit.vars["CLUSTER_NAME"], s.name)
    if live is None:
        raise KitError(f"service {s.name} is not deployed in cluster {kit.vars['CLUSTER_NAME']}: bin/backend/deploy")
    return _revision_note(ecs.describe_task_definition(taskDefinition=live["taskDefinition"], include=["TAGS"]))


def _revision_note(described: dict) -> str:
    name = described["taskDefinition"]["taskDefinitionArn"].rsplit("/", 1)[-1]
    if registered_by_kit(described.get("tags")):
        return f"{name} (registered by {KIT_TAG['value']})"
    return f"{name} (registered outside the kit: no {KIT_TAG['key']} tag)"


def diff(kit: Kit, parts: tuple[str, ...] = ("task-definition", "service")) -> list[str]:
    """Unified diff lines of kit.service, task definition first, then service. Empty when equal. The task
    definition's "deployed" side is labelled with the live revision and who registered it."""
    s = speclib.get(kit.service)
    scoped = Lenient(kit.vars).for_service(s)
    local_td, local_sd = speclib.task_definition(s, scoped), speclib.service_definition(s, scoped)
    ecs = kit.client("ecs")
    live = describe_service(ecs, local_sd["cluster"], s.name)
    if live is None:
        raise KitError(f"service {s.name} is not deployed in cluster {local_sd['cluster']}: bin/backend/deploy")
    deployed_td = ecs.describe_task_definition(taskDefinition=live["taskDefinition"], include=["TAGS"])
    td = {**deployed_td["taskDefinition"], "tags": deployed_td.get("tags") or []}
    lines = []
    if "task-definition" in parts:
        lines += unified(normalise_td(td), normalise_td(local_td), f"task-definitions/{s.name}.json",
                         _revision_note(deployed_td))
    if "service" in parts:
        local_service = {k: v for k, v in local_sd.items() if k in SERVICE_KEYS}
        lines += unified(normalise_service(live), normalise_service(local_service), f"services/{s.name}.json")
    return lines
