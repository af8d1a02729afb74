"""What bin/ecs/status shows, gathered as one document (text or JSON is the command's choice)."""

from __future__ import annotations

from . import rollout
from .tasks import describe_tasks, short_id, stop_reason
from .watch import require_service, revision


def _tasks(ecs, cluster: str, service: str) -> list[dict]:
    arns: list[str] = []
    for status in ("RUNNING", "STOPPED"):
        for page in ecs.get_paginator("list_tasks").paginate(
            cluster=cluster, serviceName=service, desiredStatus=status
        ):
            arns += page["taskArns"]
    # list_tasks filters by service on AWS; the group check keeps other tasks out everywhere.
    return [t for t in describe_tasks(ecs, cluster, arns) if t.get("group") == f"service:{service}"] if arns else []


def _address(task: dict) -> str | None:
    for att in task.get("attachments", []):
        for d in att.get("details", []):
            if d.get("name") == "privateIPv4Address":
                return d.get("value")
    return None


def _service_deployments(ecs, cloudwatch, cluster: str, service: str) -> list[dict]:
    """The current and the last service deployments, each with the lines deploy's wait shows for it."""
    ctx = rollout.Context(ecs, cloudwatch)
    out = []
    labels = []
    for sd in rollout.recent(ecs, cluster, service, 2):
        in_flight = not labels and sd.get("status") not in rollout.FINISHED
        labels.append("current" if in_flight else ("last" if labels in ([], ["current"]) else "previous"))
        label = labels[-1]
        verdict = rollout.judge(sd, ctx)
        out.append(
            {
                "arn": sd.get("serviceDeploymentArn"),
                "status": sd.get("status"),
                "strategy": (sd.get("deploymentConfiguration") or {}).get("strategy", "ROLLING"),
                "lifecycleStage": sd.get("lifecycleStage"),
                "outcome": verdict.message if verdict.ok is False else None,
                "lines": rollout.render(sd, ctx, label=f"{label} service deployment"),
            }
        )
    return out


def collect(ecs, elbv2, cluster: str, service: str, n_events: int = 5, cloudwatch=None) -> dict:
    svc = require_service(ecs, cluster, service)
    doc = {
        "service": svc["serviceName"],
        "cluster": cluster,
        "status": svc.get("status"),
        "taskDefinition": revision(svc.get("taskDefinition")),
        "desired": svc.get("desiredCount", 0),
        "running": svc.get("runningCount", 0),
        "pending": svc.get("pendingCount", 0),
        "deployments": [
            {
                "id": d.get("id"),
                "status": d.get("status"),
                "rolloutState": d.get("rolloutState"),
                "rolloutStateReason": d.get("rolloutStateReason"),
                "taskDefinition": revision(d.get("taskDefinition")),
                "desired": d.get("desiredCount", 0),
                "running": d.get("runningCount", 0),
                "pending": d.get("pendingCount", 0),
                "failed": d.get("failedTasks", 0),
                "createdAt": d.get("createdAt"),
            }
            for d in svc.get("deployments", [])
        ],
        "tasks": [
            {
                "id": short_id(t["taskArn"]),
                "lastStatus": t.get("lastStatus"),
                "health": t.get("healthStatus"),
                "taskDefinition": revision(t.get("taskDefinitionArn")),
                "address": _address(t),
                "startedAt": t.get("startedAt"),
                "stopped": stop_reason(t) if t.get("lastStatus") == "STOPPED" else None,
            }
            for t in _tasks(ecs, cluster, service)
        ],
        "serviceDeployments": _service_deployments(ecs, cloudwatch, cluster, service),
        "targets": [],
        "events": [
            {"at": e.get("createdAt"), "message": e.get("message")}
            for e in sorted(svc.get("events", []), key=lambda e: str(e.get("createdAt", "")), reverse=True)[:n_events]
        ],
    }
    # both colours of a blue/green, canary or linear service: either may be the one serving
    groups = [
        arn
        for lb in svc.get("loadBalancers", [])
        for arn in (lb.get("targetGroupArn"), (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"))
        if arn
    ]
    for arn in groups:
        health = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        doc["targets"].append(
            {
                "targetGroup": arn.split(":targetgroup/")[-1].split("/")[0],
                "targets": [
                    {
                        "target": f"{h['Target']['Id']}:{h['Target'].get('Port', '')}",
                        "state": h.get("TargetHealth", {}).get("State"),
                        "reason": h.get("TargetHealth", {}).get("Description"),
                    }
                    for h in health
                ],
            }
        )
    return doc


def text(doc: dict) -> str:
    out = [
        f"service      {doc['service']}  ({doc['status']}, cluster {doc['cluster']})",
        f"revision     {doc['taskDefinition']}",
        f"tasks        desired {doc['desired']}, running {doc['running']}, pending {doc['pending']}",
        "deployments",
    ]
    for d in doc["deployments"]:
        line = (
            f"  {d['status']:<8} {d['rolloutState'] or '-':<12} {d['taskDefinition']:<24} "
            f"running {d['running']}/{d['desired']}, pending {d['pending']}"
        )
        if d["failed"]:
            line += f", failed {d['failed']}"
        out.append(line + f"  {d['id']}")
        if d["rolloutState"] == "FAILED" and d["rolloutStateReason"]:
            out.append(f"           {d['rolloutStateReason']}")
    for sd in doc.get("serviceDeployments", []):
        out += sd["lines"]
        if sd["outcome"]:
            out.append(f"  outcome: {sd['outcome']}")
    out.append("tasks" if doc["tasks"] else "tasks        none")
    for t in doc["tasks"]:
        line = f"  {t['id']:<36} {t['lastStatus'] or '?':<10} {t['health'] or '-':<9} {t['taskDefinition']}"
        if t["address"]:
            line += f"  {t['address']}"
        if t["stopped"]:
            line += f"  stopped: {t['stopped']}"
        out.append(line)
    for tg in doc["targets"]:
        out.append(f"targets      {tg['targetGroup']}" + ("" if tg["targets"] else ": none registered"))
        for h in tg["targets"]:
            out.append(f"  {h['target']:<22} {h['state']}" + (f"  ({h['reason']})" if h["reason"] else ""))
    if doc["events"]:
        out.append("events")
        out += [f"  {e['at']}  {e['message']}" for e in doc["events"]]
    return "\n".join(out)
