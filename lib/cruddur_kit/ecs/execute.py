"""ECS Exec (bin/ecs/connect): pick a running task, build the execute-command call, hand the session
to the Session Manager plugin exactly as `aws ecs execute-command` does."""

from __future__ import annotations

import json
import re
import shutil

from ..errors import KitError
from .tasks import describe_tasks, short_id

PLUGIN = "session-manager-plugin"
INSTALL = (
    "install the Session Manager plugin: https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html"
)


def pick_task(ecs, cluster: str, service: str, task_id: str | None) -> dict:
    """The given task, or the service's first RUNNING task."""
    if task_id:
        found = describe_tasks(ecs, cluster, [task_id])
        if not found:
            raise KitError(f"no task {task_id} in cluster {cluster}: bin/ecs/status lists the tasks")
        return found[0]
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="RUNNING")["taskArns"]
    running = [
        t
        for t in (describe_tasks(ecs, cluster, arns) if arns else [])
        if t.get("group") == f"service:{service}" and t.get("lastStatus") == "RUNNING"
    ]
    if not running:
        raise KitError(
            f"service {service} has no RUNNING task to connect to: bin/ecs/status shows why (or pass --task ID)"
        )
    return running[0]


def execute_args(cluster: str, task: dict, container: str, command: str) -> dict:
    """The ExecuteCommand request for an interactive shell in `container` of `task`."""
    if task.get("lastStatus") not in (None, "RUNNING"):
        raise KitError(f"task {short_id(task['taskArn'])} is {task.get('lastStatus')}: ECS Exec needs a RUNNING task")
    if task.get("enableExecuteCommand") is False:
        raise KitError(
            f"ECS Exec is off for task {short_id(task['taskArn'])}: the service needs "
            "enableExecuteCommand (aws/json/services sets it) and tasks started after it was set — "
            "run bin/backend/deploy, then retry"
        )
    names = [c.get("name") for c in task.get("containers", [])]
    if names and container not in names:
        raise KitError(f"task {short_id(task['taskArn'])} has no container {container!r} (it has: {', '.join(names)})")
    return {
        "cluster": cluster,
        "task": task["taskArn"],
        "container": container,
        "interactive": True,
        "command": command,
    }


def target(cluster: str, task: dict, container: str) -> str:
    """The SSM target of an ECS Exec session: ecs:CLUSTER_TASKID_RUNTIMEID."""
    runtime = next((c.get("runtimeId") for c in task.get("containers", []) if c.get("name") == container), None)
    if not runtime:
        raise KitError(
            f"container {container} of task {short_id(task['taskArn'])} has no runtime id yet: wait until it is RUNNING"
        )
    return f"ecs:{cluster}_{short_id(task['taskArn'])}_{runtime}"


def plugin_argv(plugin: str, session: dict, region: str, ssm_target: str, ssm_endpoint: str) -> list[str]:
    """The Session Manager plugin's arguments, in the order the AWS CLI passes them."""
    return [plugin, json.dumps(session), region, "StartSession", "", json.dumps({"Target": ssm_target}), ssm_endpoint]


def start(ecs, args: dict) -> dict:
    """Call ExecuteCommand; a refusal becomes one line naming the usual causes."""
    try:
        return ecs.execute_command(**args)["session"]
    except ecs.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        raise KitError(
            f"ECS Exec refused for task {short_id(args['task'])} container {args['container']}: "
            f"{err.get('Code', 'Error')}: {one_line(err.get('Message', ''))} — check that the service has "
            "enableExecuteCommand, the task role allows ssmmessages:*, and the task's "
            "ExecuteCommandAgent is RUNNING"
        ) from None


def one_line(text: str, limit: int = 160) -> str:
    """An error body as one short line (some endpoints answer with an HTML page)."""
    text = " ".join(re.sub(r"<[^>]+>", " ", text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plugin_path() -> str:
    found = shutil.which(PLUGIN)
    if not found:
        raise KitError(f"{PLUGIN} is not installed: {INSTALL}")
    return found
