"""ECR repositories (scan on push, lifecycle policy) and CloudWatch log groups (retention)."""

from __future__ import annotations

from .. import AWS_JSON, templates
from ..kit import Kit
from . import same_json

LIFECYCLE = AWS_JSON / "ecr" / "lifecycle-policy.json"


def ensure_repository(kit: Kit, name: str) -> None:
    ecr = kit.client("ecr")
    policy = templates.render(LIFECYCLE, kit.vars)
    try:
        repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        if not kit.dry_run:
            ecr.create_repository(
                repositoryName=name,
                imageScanningConfiguration={"scanOnPush": True},
                imageTagMutability="MUTABLE",
                encryptionConfiguration={"encryptionType": "AES256"},
                tags=[{"Key": "project", "Value": "cruddur"}],
            )
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=templates.json_text(policy))
        kit.report("created", "ecr-repository", name, "scan on push, lifecycle policy")
        return
    changes = []
    if not repo.get("imageScanningConfiguration", {}).get("scanOnPush"):
        changes.append("scan on push")
        if not kit.dry_run:
            ecr.put_image_scanning_configuration(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
    try:
        current = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        current = None
    if current is None or not same_json(current, policy):
        changes.append("lifecycle policy")
        if not kit.dry_run:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=templates.json_text(policy))
    kit.report("updated" if changes else "unchanged", "ecr-repository", name, ", ".join(changes))


def delete_repository(kit: Kit, name: str) -> None:
    ecr = kit.client("ecr")
    try:
        ecr.describe_repositories(repositoryNames=[name])
    except ecr.exceptions.RepositoryNotFoundException:
        kit.report("absent", "ecr-repository", name)
        return
    if not kit.dry_run:
        ecr.delete_repository(repositoryName=name, force=True)
    kit.report("deleted", "ecr-repository", name, "with its images")


def find_log_group(logs, name: str) -> dict | None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page["logGroups"]:
            if group["logGroupName"] == name:
                return group
    return None


def ensure_log_group(kit: Kit, name: str, retention_days: int) -> None:
    logs = kit.client("logs")
    group = find_log_group(logs, name)
    if group is None:
        if not kit.dry_run:
            logs.create_log_group(logGroupName=name, tags={"project": "cruddur"})
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
        kit.report("created", "log-group", name, f"retention {retention_days} days")
    elif group.get("retentionInDays") != retention_days:
        if not kit.dry_run:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
        kit.report("updated", "log-group", name, f"retention {retention_days} days")
    else:
        kit.report("unchanged", "log-group", name)


def delete_log_group(kit: Kit, name: str) -> None:
    logs = kit.client("logs")
    if find_log_group(logs, name) is None:
        kit.report("absent", "log-group", name)
        return
    if not kit.dry_run:
        logs.delete_log_group(logGroupName=name)
    kit.report("deleted", "log-group", name)
