"""The live checks' cause ids: each fault verify and doctor name, said once, with the commands that name it.

A live NG/WARN carries one of these ids (`Finding.cause`). The checks journal's fault table is this list
(`make docs`), and lib/tests/test_checks_live.py holds the live fault catalogue: every fault below marked
`catalogued` is injected into the emulator after a good setup + deploy, and each command in `named_by`
must name it by this id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    id: str
    fault: str  # what is wrong, as a user meets it
    named_by: tuple[str, ...]  # the commands that name it: verify, doctor
    catalogued: bool = True  # injected live in the fault catalogue (False: stubbed or not yet)


V, D, VD = ("verify",), ("doctor",), ("verify", "doctor")

CAUSES: list[Cause] = [
    Cause("service.missing", "the service is not deployed (or was deleted)", D),
    Cause("service.scaled-down", "the service's desiredCount is below the spec's (or the scaling minimum), or 0", VD),
    Cause("service.short", "fewer tasks run than the service wants", D, catalogued=False),
    Cause(
        "image.missing",
        "an image the tasks run (the spec's tag, or the one the service was pointed at by hand) is not in ECR",
        VD,
    ),
    Cause(
        "port.mismatch",
        "the container port, the service's containerPort and the target group's Port disagree, "
        "or are not the port the image listens on",
        VD,
    ),
    Cause(
        "listener-rule.missing", "the ALB has no listener rule forwarding the service's paths to its target group", VD
    ),
    Cause("target-group.missing", "the service's target group does not exist", V, catalogued=False),
    Cause("target-group.drift", "the target group was changed live (health path, port, protocol, target type)", VD),
    Cause("logs.group-missing", "the log group the containers write to does not exist (tasks cannot start)", VD),
    Cause("logs.errors", "error lines in the newest log events of a container's streams", D),
    Cause("role.missing", "a task role or the execution role does not exist", VD, catalogued=False),
    Cause("role.trust", "a role does not trust ecs-tasks.amazonaws.com", VD),
    Cause("role.execution-policy", "the execution role cannot pull the image, write the logs or read a secret", VD),
    Cause("role.task-policy-tracing", "the task role cannot write to X-Ray: the tracing sidecar's traces are lost", V),
    Cause(
        "image.drift",
        "the service pins another digest than the one its tag names now (a re-pushed tag, or another build running)",
        V,
        catalogued=False,
    ),
    Cause(
        "image.unpinned",
        "the service's revision runs an image by tag, not by digest (registered by hand or an older kit)",
        V,
        catalogued=False,
    ),
    Cause("role.kms-decrypt", "the execution role cannot decrypt a secret under a customer-managed KMS key", VD),
    Cause("secret.missing", "an SSM parameter or Secrets Manager secret the tasks read does not exist", VD),
    Cause("cluster.missing", "the cluster does not exist or is not ACTIVE", V, catalogued=False),
    Cause("subnet.missing", "a subnet the service names does not exist", V, catalogued=False),
    Cause("sg.alb-inbound", "the ALB's security group does not admit HTTP 80 from the internet", VD),
    Cause("sg.service-from-alb", "the service's security group does not admit the container port from the ALB's", VD),
    Cause("network.no-route", "the subnets cannot reach ECR/SSM/Logs (no public IP, NAT or VPC endpoints)", D),
    Cause("target.timeout", "targets time out their health checks", D),
    Cause("target.health-path", "the health path answers a code other than 200", D),
    Cause("target.failed", "targets fail their health checks", D, catalogued=False),
    Cause("target.not-registered", "no task is registered in the target group", D, catalogued=False),
    Cause("target.initial", "targets are still in their first health checks", D, catalogued=False),
    Cause("target.unhealthy", "a target is unhealthy for a reason ELB does not code", D, catalogued=False),
    Cause("task.pull-image", "stopped tasks: CannotPullContainerError", D),
    Cause("task.resource-init", "stopped tasks: ResourceInitializationError (secrets, logs, network)", D),
    Cause("task.oom", "stopped tasks: a container killed for memory (exit 137)", D),
    Cause("task.image-or-command", "stopped tasks: the image's command cannot run (exit 125/126/127)", D),
    Cause("task.elb-health", "stopped tasks: killed by the ALB's health checks", D),
    Cause("task.app-crash", "stopped tasks: the app exited at start", D),
]

BY_ID = {c.id: c for c in CAUSES}


def table(injected: dict[str, list[str]] | None = None) -> str:
    """Every cause as a Markdown table (the faults journal's generated block); `injected`: cause -> the live
    fault catalogue's faults that inject it (lib/tests/faults/live)."""
    injected = injected or {}
    rows = ["| cause | the fault | named by | injected by (lib/tests/faults/live) |", "|---|---|---|---|"]
    for c in CAUSES:
        faults = ", ".join(injected.get(c.id, [])) or "— (not injected: see the entry)"
        cells = (f"`{c.id}`", c.fault, ", ".join(f"`bin/ecs/{n}`" for n in c.named_by), faults)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)
