"""Task definition rules: the API shape and what Fargate enforces (../shared/notes/ecs-field-notes.md)."""

from __future__ import annotations

import re

from ...ecs.taskdef import parse_cpu, parse_memory
from .. import shapes
from ..model import NG, WARN
from ..registry import rule

KIND = "task-definition"
FIELD_NOTES = "field notes: rules a task definition must meet on Fargate"

# task cpu units -> allowed memory (MiB), Linux Fargate
CPU_MEMORY = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}
FORBIDDEN = (
    "privileged",
    "links",
    "extraHosts",
    "dnsServers",
    "dnsSearchDomains",
    "dockerSecurityOptions",
    "disableNetworking",
    "ipcMode",
    "gpu",
    "placementConstraints",
)
FORBIDDEN_LINUX = ("maxSwap", "swappiness", "devices", "sharedMemorySize", "tmpfs")
LOG_DRIVERS = ("awslogs", "splunk", "awsfirelens")
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter/.+$")
SM_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[^:]+(:[^:]*:[^:]*:[^:]*)?$")
SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]+$")


def _containers(doc):
    return [(i, c) for i, c in enumerate(doc.get("containerDefinitions") or []) if isinstance(c, dict)]


def _fargate(doc) -> bool:
    return "FARGATE" in (doc.get("requiresCompatibilities") or [])


@rule("shape.register-task-definition", KIND, seed="issue 6: the API model")
def shape(spec, specs):
    """The file is a valid RegisterTaskDefinition input (keys, types, required members, enums).

    Fix: Correct the key, type or value the finding names (RegisterTaskDefinition).
    """
    yield from shapes.validate(spec.doc, "ecs", "RegisterTaskDefinition")


@rule("fargate.compatibility", KIND, seed=FIELD_NOTES)
def compatibility(spec, specs):
    """requiresCompatibilities has FARGATE and networkMode is awsvpc.

    Fix: Set "requiresCompatibilities": ["FARGATE"] and "networkMode": "awsvpc".
    """
    doc = spec.doc
    if not _fargate(doc):
        yield NG(
            "$.requiresCompatibilities",
            "FARGATE is not among requiresCompatibilities",
            'set "requiresCompatibilities": ["FARGATE"]',
        )
    if doc.get("networkMode") != "awsvpc":
        yield NG(
            "$.networkMode",
            f"networkMode is {doc.get('networkMode')!r}; Fargate needs awsvpc",
            'set "networkMode": "awsvpc"',
        )


@rule("fargate.cpu-memory", KIND, seed="field notes: task cpu/memory pairs; 'Invalid 'cpu' setting for task'")
def cpu_memory(spec, specs):
    """Task-level cpu and memory are set and form a pair Fargate offers.

    Fix: Set task cpu and memory to a pair Fargate offers (256 with 512-2048, 512 with 1024-4096, ...).
    """
    doc = spec.doc
    if "cpu" not in doc or "memory" not in doc:
        yield NG(
            "$.cpu" if "cpu" not in doc else "$.memory",
            "Fargate needs task-level cpu and memory",
            'set "cpu": "256" and "memory": "512" (or another valid pair)',
        )
        return
    cpu, memory = parse_cpu(doc["cpu"]), parse_memory(doc["memory"])
    if cpu not in CPU_MEMORY:
        yield NG(
            "$.cpu",
            f"cpu {doc['cpu']!r} is not a Fargate size (registration fails: Invalid 'cpu' setting)",
            f"use one of {', '.join(map(str, CPU_MEMORY))}",
        )
    elif memory not in CPU_MEMORY[cpu]:
        allowed = CPU_MEMORY[cpu]
        shown = ", ".join(map(str, allowed)) if len(allowed) <= 4 else f"{allowed[0]}..{allowed[-1]}"
        yield NG(
            "$.memory",
            f"memory {doc['memory']!r} is not valid with cpu {doc['cpu']!r}",
            f"set memory to one of {shown} MiB for cpu {cpu}",
        )


@rule("fargate.port-mappings", KIND, seed=FIELD_NOTES)
def port_mappings(spec, specs):
    """hostPort is blank or equals containerPort; one port is not exposed on two protocols.

    Fix: Drop hostPort (or make it equal containerPort) and expose each port on one protocol.
    """
    seen: dict[int, str] = {}
    for i, c in _containers(spec.doc):
        for j, pm in enumerate(c.get("portMappings") or []):
            path = f"$.containerDefinitions[{i}].portMappings[{j}]"
            cp, hp = pm.get("containerPort"), pm.get("hostPort")
            if hp not in (None, cp):
                yield NG(
                    f"{path}.hostPort",
                    f"hostPort {hp} differs from containerPort {cp} (awsvpc)",
                    "remove hostPort or set it equal to containerPort",
                )
            proto = pm.get("protocol", "tcp")
            if cp in seen and seen[cp] != proto:
                yield NG(
                    f"{path}.protocol",
                    f"port {cp} is exposed on both {seen[cp]} and {proto}",
                    "expose each port on one protocol",
                )
            seen.setdefault(cp, proto)


@rule("fargate.health-check", KIND, seed="field notes: container healthCheck; seed 001 health check script")
def health_check(spec, specs):
    """Container health checks use CMD/CMD-SHELL and stay within ECS's ranges.

    Fix: Start the command with CMD or CMD-SHELL; keep interval 5-300, timeout 2-60 and below interval, retries
    1-10, startPeriod 0-300.
    """
    limits = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "startPeriod": (0, 300)}
    for i, c in _containers(spec.doc):
        hc = c.get("healthCheck")
        if not isinstance(hc, dict):
            continue
        path = f"$.containerDefinitions[{i}].healthCheck"
        cmd = hc.get("command") or []
        if not cmd or cmd[0] not in ("CMD", "CMD-SHELL"):
            yield NG(
                f"{path}.command[0]",
                f"command starts with {cmd[0] if cmd else 'nothing'!r}",
                'start it with "CMD" (exec form) or "CMD-SHELL" (shell form)',
            )
        elif cmd[0] == "CMD-SHELL" and len(cmd) != 2:
            yield NG(
                f"{path}.command",
                "CMD-SHELL takes exactly one shell string",
                'write ["CMD-SHELL", "the whole command line"]',
            )
        for key, (lo, hi) in limits.items():
            v = hc.get(key)
            if isinstance(v, int) and not lo <= v <= hi:
                yield NG(f"{path}.{key}", f"{key} {v} is outside {lo}-{hi}", f"set {key} between {lo} and {hi}")
        if (
            isinstance(hc.get("timeout"), int)
            and isinstance(hc.get("interval"), int)
            and hc["timeout"] >= hc["interval"]
        ):
            yield NG(f"{path}.timeout", "timeout is not shorter than interval", "make timeout < interval")


@rule("fargate.logging", KIND, seed="seed 000 step 5.4 (logging); field notes: log drivers")
def logging(spec, specs):
    """Each container logs with a Fargate driver; awslogs has group, region and stream prefix.

    Fix: Log with awslogs (group, region and stream prefix) or another Fargate driver, and set executionRoleArn.
    """
    for i, c in _containers(spec.doc):
        path = f"$.containerDefinitions[{i}].logConfiguration"
        lc = c.get("logConfiguration")
        if not isinstance(lc, dict):
            yield WARN(
                path,
                f"container {c.get('name')!r} has no logConfiguration: its crash leaves no trace",
                "add an awslogs logConfiguration with group, region and stream prefix",
            )
            continue
        driver = lc.get("logDriver")
        if driver not in LOG_DRIVERS:
            yield NG(
                f"{path}.logDriver",
                f"log driver {driver!r} is not supported on Fargate",
                f"use one of {', '.join(LOG_DRIVERS)}",
            )
            continue
        if driver == "awslogs":
            opts = lc.get("options") or {}
            for key in ("awslogs-group", "awslogs-region", "awslogs-stream-prefix"):
                if not opts.get(key):
                    yield NG(f"{path}.options.{key}", f"awslogs needs {key} on Fargate", f'add "{key}" to the options')
            if not spec.doc.get("executionRoleArn"):
                yield NG("$.executionRoleArn", "awslogs needs an executionRoleArn", "set executionRoleArn")


@rule("fargate.secrets", KIND, seed="field notes: secrets valueFrom; seed 001 'unable to pull secrets'")
def secrets(spec, specs):
    """secrets valueFrom is an SSM name/ARN or a Secrets Manager ARN in the task's region; no AWS keys inline.

    Fix: Reference an SSM parameter or a Secrets Manager secret in the task's region; give the app AWS access
    through the task role, not keys.
    """
    region = specs.variables["AWS_DEFAULT_REGION"]
    for i, c in _containers(spec.doc):
        for j, s in enumerate(c.get("secrets") or []):
            path = f"$.containerDefinitions[{i}].secrets[{j}].valueFrom"
            ref = s.get("valueFrom", "")
            m = SSM_ARN.match(ref) or SM_ARN.match(ref)
            if ref.startswith("arn:"):
                if not m:
                    yield NG(
                        path,
                        f"{ref!r} is neither an SSM parameter ARN nor a Secrets Manager secret ARN",
                        "use arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or a secretsmanager secret ARN",
                    )
                elif m.group(1) != region:
                    yield NG(
                        path,
                        f"the parameter is in {m.group(1)}, the task in {region}",
                        "reference a parameter in the task's region",
                    )
            elif not SSM_NAME.match(ref):
                yield NG(path, f"{ref!r} is not an SSM parameter name", "use /cruddur/backend-flask/NAME")
            if not spec.doc.get("executionRoleArn"):
                yield NG("$.executionRoleArn", "secrets need an executionRoleArn to be read", "set executionRoleArn")
        for j, e in enumerate(c.get("environment") or []):
            if e.get("name") in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                yield NG(
                    f"$.containerDefinitions[{i}].environment[{j}]",
                    f"{e['name']} in plain environment: long-lived keys in a task definition",
                    "remove it; grant what the app needs through the task role",
                )


@rule("fargate.forbidden-parameters", KIND, seed=FIELD_NOTES)
def forbidden(spec, specs):
    """No container parameter Fargate rejects; capabilities.add holds only SYS_PTRACE.

    Fix: Remove the parameter Fargate rejects; keep only SYS_PTRACE in capabilities.add.
    """
    doc = spec.doc
    for key in ("placementConstraints", "ipcMode", "pidMode"):
        if doc.get(key) and not (key == "pidMode" and doc[key] == "task"):
            yield NG(f"$.{key}", f"{key} is not valid on Fargate", f"remove {key}")
    storage = (doc.get("ephemeralStorage") or {}).get("sizeInGiB")
    if storage is not None and not 21 <= storage <= 200:
        yield NG("$.ephemeralStorage.sizeInGiB", f"{storage} GiB is outside 21-200", "use 21 to 200 GiB")
    for i, c in _containers(doc):
        for key in FORBIDDEN:
            if c.get(key) not in (None, False, [], {}):
                yield NG(f"$.containerDefinitions[{i}].{key}", f"{key} is not valid on Fargate", f"remove {key}")
        lp = c.get("linuxParameters") or {}
        for key in FORBIDDEN_LINUX:
            if lp.get(key) not in (None, [], {}):
                yield NG(
                    f"$.containerDefinitions[{i}].linuxParameters.{key}",
                    f"{key} is not valid on Fargate",
                    f"remove linuxParameters.{key}",
                )
        extra = set((lp.get("capabilities") or {}).get("add") or []) - {"SYS_PTRACE"}
        if extra:
            yield NG(
                f"$.containerDefinitions[{i}].linuxParameters.capabilities.add",
                f"Fargate allows only SYS_PTRACE, not {', '.join(sorted(extra))}",
                "keep only SYS_PTRACE",
            )


@rule("fargate.containers", KIND, seed=FIELD_NOTES)
def containers(spec, specs):
    """Names are valid and unique, dependsOn targets exist, and an essential container exists.

    Fix: Give each container a unique valid name, point dependsOn at existing containers (HEALTHY needs a
    healthCheck) and mark the app essential.
    """
    items = _containers(spec.doc)
    names = [c.get("name") for _, c in items]
    for i, c in items:
        name = c.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            yield NG(
                f"$.containerDefinitions[{i}].name",
                f"container name {name!r} is invalid",
                "use letters, digits, '-' and '_' (1-255)",
            )
        elif names.count(name) > 1:
            yield NG(
                f"$.containerDefinitions[{i}].name",
                f"container name {name!r} is used twice",
                "give each container its own name",
            )
        for j, d in enumerate(c.get("dependsOn") or []):
            target = d.get("containerName")
            path = f"$.containerDefinitions[{i}].dependsOn[{j}]"
            if target not in names:
                yield NG(
                    f"{path}.containerName",
                    f"depends on {target!r}, which is not in this task definition",
                    f"name one of {', '.join(map(str, names))}",
                )
            elif d.get("condition") == "HEALTHY":
                other = next(c2 for _, c2 in items if c2.get("name") == target)
                if not other.get("healthCheck"):
                    yield NG(
                        f"{path}.condition",
                        f"HEALTHY on {target!r}, which has no healthCheck",
                        f"add a healthCheck to {target!r} or use condition START",
                    )
    if items and not any(c.get("essential", True) for _, c in items):
        yield NG("$.containerDefinitions", "no container is essential", 'mark the app container "essential": true')


@rule("fargate.reservations", KIND, seed=FIELD_NOTES)
def reservations(spec, specs):
    """Containers' cpu and memory fit inside the task's; memoryReservation <= memory.

    Fix: Keep the containers' cpu and memory within the task's, and memoryReservation <= memory.
    """
    doc = spec.doc
    cpu, memory = parse_cpu(doc.get("cpu", "")), parse_memory(doc.get("memory", ""))
    items = _containers(doc)
    total_cpu = sum(c.get("cpu") or 0 for _, c in items)
    total_mem = sum(c.get("memoryReservation") or c.get("memory") or 0 for _, c in items)
    if cpu and total_cpu > cpu:
        yield NG(
            "$.containerDefinitions[*].cpu",
            f"containers reserve {total_cpu} cpu units, the task has {cpu}",
            "lower the containers' cpu or raise the task's",
        )
    if memory and total_mem > memory:
        yield NG(
            "$.containerDefinitions[*].memoryReservation",
            f"containers reserve {total_mem} MiB, the task has {memory}",
            "lower memoryReservation or raise the task memory",
        )
    for i, c in items:
        hard, soft = c.get("memory"), c.get("memoryReservation")
        if isinstance(hard, int) and isinstance(soft, int) and soft > hard:
            yield NG(
                f"$.containerDefinitions[{i}].memoryReservation",
                f"memoryReservation {soft} exceeds memory {hard}",
                "keep memoryReservation <= memory",
            )
        if memory and isinstance(hard, int) and hard > memory:
            yield NG(
                f"$.containerDefinitions[{i}].memory",
                f"memory {hard} exceeds the task's {memory} MiB",
                "lower the container memory",
            )


@rule("image.pinned", KIND, seed="seed 000 step 3 (push :latest); issue 6: a mutable :latest tag")
def image_pinned(spec, specs):
    """Images name an immutable tag or digest, not :latest or no tag.

    Fix: Tag images with the git sha (bin/backend/build does) or pin a digest, never :latest.
    """
    for i, c in _containers(spec.doc):
        image = str(c.get("image", ""))
        if "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else ""
        if tag in ("", "latest"):
            yield WARN(
                f"$.containerDefinitions[{i}].image",
                f"{image!r} uses a mutable tag ({tag or 'none'})",
                "pin the image to a git sha tag (${IMAGE_TAG}) or a digest",
            )
