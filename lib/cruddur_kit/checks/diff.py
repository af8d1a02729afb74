"""`bin/ecs/diff`: the local task definition and service against what is deployed, both normalised first
(read-only fields dropped, AWS defaults filled, unordered lists sorted, "1 vCPU"/"2 GB" as units, nulls
dropped). Task definitions go through deploy's own normaliser (cruddur_kit.ecs.taskdef.normalise), so diff
and deploy's no-op check agree on what counts as a change."""

from __future__ import annotations

import difflib
import json

from botocore.exceptions import BotoCoreError, ClientError

from .. import images
from .. import spec as speclib
from ..ecs.taskdef import KIT_TAG, registered_by_kit
from ..ecs.taskdef import normalise as normalise_td
from ..ecs.watch import describe_service
from ..errors import KitError
from ..kit import Kit
from .live import Lenient

SERVICE_KEYS = (
    "serviceName",
    "taskDefinition",
    "desiredCount",
    "launchType",
    "platformVersion",
    "capacityProviderStrategy",
    "networkConfiguration",
    "loadBalancers",
    "healthCheckGracePeriodSeconds",
    "deploymentConfiguration",
    "deploymentController",
    "enableExecuteCommand",
    "propagateTags",
    "enableECSManagedTags",
    "schedulingStrategy",
)
SERVICE_DEFAULTS = {
    "schedulingStrategy": "REPLICA",
    "deploymentController": {"type": "ECS"},
    "propagateTags": "NONE",
    "enableECSManagedTags": False,
    "enableExecuteCommand": False,
    "deploymentConfiguration": {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "ROLLING",
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "alarms": {"alarmNames": [], "enable": False, "rollback": False},
    },
}


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
        notes = same_images(kit.client("ecr"), td, local_td)
        body = unified(
            normalise_td(td), normalise_td(local_td), f"task-definitions/{s.name}.json", _revision_note(deployed_td)
        )
        lines += (notes + body) if body else []
    if "service" in parts:
        local_service = {k: v for k, v in local_sd.items() if k in SERVICE_KEYS}
        lines += unified(normalise_service(live), normalise_service(local_service), f"services/{s.name}.json")
    return lines


def same_images(ecr, deployed: dict, local: dict) -> list[str]:
    """Compare images by what they name in ECR: where the local tag resolves to the digest the deployed
    revision pins (or the two tags name one digest), the local side takes the deployed spelling, so a tag and
    its digest compare equal. Where they differ, a `#` line says which digest each side names (a re-pushed
    tag shows here as drift). Changes `local` in place."""
    deployed_images = {c.get("name"): c.get("image", "") for c in deployed.get("containerDefinitions", [])}
    notes = []
    for c in local.get("containerDefinitions", []):
        theirs, ours = deployed_images.get(c.get("name")), c.get("image", "")
        if theirs is None or theirs == ours:
            continue
        refs = images.ecr_image(theirs), images.ecr_image(ours)
        if None in refs or refs[0].repository != refs[1].repository or (refs[1].tag or "").startswith("<unset"):
            continue
        try:
            digests = [images.digest_of(ecr, r) for r in refs]
        except (KitError, BotoCoreError, ClientError):  # a tag ECR cannot look up: compare as written
            continue
        if digests[0] and digests[0] == digests[1]:
            c["image"] = theirs
        elif digests[1] and refs[0].digest and refs[1].tag:
            notes.append(
                f"# {c['name']}: {refs[1]} names {digests[1]} now; the deployed revision pins "
                f"{refs[0].digest} (the tag was re-pushed, or the service runs another build)"
            )
    return notes
