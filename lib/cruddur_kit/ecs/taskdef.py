"""Task definitions: the one normaliser, so deploy can skip a no-op registration and bin/ecs/diff shows
only real differences.

Normalising drops what AWS adds on registration (ARN, revision, status, compatibilities …), fills the
defaults AWS fills (hostPort = containerPort outside bridge mode, protocol tcp, essential true, cpu 0),
converts "1 vCPU"/"2 GB" to "1024"/"2048", drops empty values and sorts the lists whose order AWS does
not keep (name-keyed lists such as environment, secrets, portMappings; requiresCompatibilities). Every
other list keeps its order: a reordered `command` or `entryPoint` is a real change.
"""

from __future__ import annotations

import json
import re
from typing import Any

# What register_task_definition accepts; everything else in a describe answer is read-only.
REGISTER_KEYS = {
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "tags",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
}
# Lists that are sets to AWS: compared sorted. Any other list keeps its order.
_UNORDERED = {
    "environment",
    "secrets",
    "portMappings",
    "mountPoints",
    "ulimits",
    "dependsOn",
    "volumesFrom",
    "volumes",
    "containerDefinitions",
    "tags",
    "environmentFiles",
    "systemControls",
    "extraHosts",
    "resourceRequirements",
    "requiresCompatibilities",
    "placementConstraints",
}
_IDENTITY = (
    "name",
    "containerName",
    "key",
    "containerPort",
    "sourceVolume",
    "sourceContainer",
    "namespace",
    "hostname",
    "type",
    "value",
)
UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb|mb|mib|gib)?\s*$", re.I)


def parse_cpu(value) -> int | None:
    """Task cpu as units: "256", 256, "1 vCPU", "0.25 vCPU" -> 1024 per vCPU; None if unreadable."""
    m = UNIT.match(str(value))
    if not m:
        return None
    n, unit = float(m.group(1)), (m.group(2) or "").lower()
    return int(n * 1024) if unit == "vcpu" else int(n)


def parse_memory(value) -> int | None:
    """Task memory as MiB: "512", "2 GB", "2GB" -> 2048; None if unreadable."""
    m = UNIT.match(str(value))
    if not m:
        return None
    n, unit = float(m.group(1)), (m.group(2) or "").lower()
    return int(n * 1024) if unit in ("gb", "gib") else int(n)


def _as_units(value: Any, parse) -> Any:
    if value is None:
        return None
    parsed = parse(value)
    return str(value).strip() if parsed is None else str(parsed)


def _prune(node: Any) -> Any:
    """Drop nulls and empty strings, lists and objects, at every depth."""
    if isinstance(node, dict):
        out = {k: _prune(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {}, "")}
    if isinstance(node, list):
        return [v for v in (_prune(v) for v in node) if v not in (None, [], {})]
    return node


def _sort_key(item: Any) -> tuple[str, str]:
    identity = next((str(item[k]) for k in _IDENTITY if k in item), "") if isinstance(item, dict) else ""
    return identity, json.dumps(item, sort_keys=True, default=str)


def _sort_lists(node: Any, key: str | None = None) -> Any:
    if isinstance(node, dict):
        return {k: _sort_lists(v, k) for k, v in sorted(node.items())}
    if isinstance(node, list):
        items = [_sort_lists(v) for v in node]
        return sorted(items, key=_sort_key) if key in _UNORDERED else items
    return node


# The tag deploy adds to each revision it registers, so diff can tell a hand-registered revision from the
# kit's; it is not part of the spec, so comparisons leave it out.
KIT_TAG = {"key": "cruddur:registered-by", "value": "bin/backend/deploy"}


def registered_by_kit(tags: list | None) -> bool:
    return any(t.get("key") == KIT_TAG["key"] for t in tags or [])


def normalise(td: dict, tags: list | None = None) -> dict:
    """A comparable form of a rendered template or of describe_task_definition's answer (`tags` from
    its include=["TAGS"] part, when given)."""
    doc = {k: v for k, v in td.items() if k in REGISTER_KEYS}
    if tags is not None:
        doc["tags"] = tags
    if doc.get("tags"):
        doc["tags"] = [t for t in doc["tags"] if t.get("key") != KIT_TAG["key"]]
    doc["cpu"] = _as_units(doc.get("cpu"), parse_cpu)
    doc["memory"] = _as_units(doc.get("memory"), parse_memory)
    bridge = doc.get("networkMode") == "bridge"  # only there does an omitted hostPort mean "dynamic" (0)
    containers = []
    for c in doc.get("containerDefinitions") or []:
        c = dict(c)
        c.setdefault("essential", True)
        if c.get("cpu") == 0:
            c.pop("cpu")
        ports = []
        for p in c.get("portMappings") or []:
            p = dict(p)
            p.setdefault("protocol", "tcp")
            p.setdefault("hostPort", 0 if bridge else p.get("containerPort"))
            if bridge and p["hostPort"] == 0:
                p.pop("hostPort")
            ports.append(p)
        c["portMappings"] = ports
        containers.append(c)
    doc["containerDefinitions"] = containers
    return _sort_lists(_prune(doc))


def live(ecs, arn: str) -> tuple[dict, str] | None:
    """(normalised task definition, ARN) of a registered revision, or None if it is not there."""
    try:
        resp = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    except ecs.exceptions.ClientException:
        return None
    td = resp["taskDefinition"]
    if td.get("status") not in (None, "ACTIVE"):
        return None
    return normalise(td, resp.get("tags", [])), td["taskDefinitionArn"]


def latest_arn(ecs, family: str) -> str | None:
    arns = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="DESC", maxResults=1)
    found = [a for a in arns.get("taskDefinitionArns", []) if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
    return found[0] if found else None


def previous_arn(ecs, current: str) -> str | None:
    """The ACTIVE revision of the same family just below `current` (what a rollback goes back to)."""
    family, rev = current.rsplit("/", 1)[-1].rsplit(":", 1)
    older = []
    for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE"):
        for arn in page["taskDefinitionArns"]:
            fam, r = arn.rsplit("/", 1)[-1].rsplit(":", 1)
            if fam == family and int(r) < int(rev):
                older.append((int(r), arn))
    return max(older)[1] if older else None


def register(ecs, rendered: dict, candidates: list[str]) -> tuple[str, bool]:
    """(ARN, registered?) — reuses the first candidate revision equal to `rendered`, else registers."""
    wanted = normalise(rendered)
    for arn in candidates:
        found = live(ecs, arn) if arn else None
        if found and found[0] == wanted:
            return found[1], False
    try:
        resp = ecs.register_task_definition(**{**rendered, "tags": [*(rendered.get("tags") or []), KIT_TAG]})
    except ecs.exceptions.ClientException as e:
        from ..errors import KitError

        raise KitError(
            f"ECS refused task definition {rendered.get('family')}: {e.response['Error'].get('Message', e)}"
        ) from e
    return resp["taskDefinition"]["taskDefinitionArn"], True
