"""Facts about a live service that one-off commands reuse: its task definition, network, launch, containers."""

from __future__ import annotations

from ..errors import KitError


def task_definition(ecs, arn: str) -> dict:
    return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]


def container(td: dict, name: str | None) -> dict:
    """The named container, or by default the first essential one (the app, not the sidecar)."""
    containers = td.get("containerDefinitions", [])
    if name:
        found = next((c for c in containers if c["name"] == name), None)
        if found is None:
            known = ", ".join(c["name"] for c in containers)
            raise KitError(f"task definition {td.get('family')} has no container {name!r} (it has: {known})")
        return found
    found = next((c for c in containers if c.get("essential", True)), None)
    if found is None:
        raise KitError(f"task definition {td.get('family')} has no essential container: pass --container")
    return found


def launch(svc: dict) -> dict:
    """run_task's launch arguments matching the service: its capacity providers, else its launch type."""
    if svc.get("capacityProviderStrategy"):
        return {"capacityProviderStrategy": svc["capacityProviderStrategy"]}
    return {"launchType": svc.get("launchType") or "FARGATE"}
