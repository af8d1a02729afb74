"""The tasks a service runs: Fargate's task lifecycle on the emulator's clock, and what a task does elsewhere.

A service task is a moto Task (so ListTasks, DescribeTasks and StopTask see it) whose lastStatus follows a
timeline fixed when it is launched: PROVISIONING, PENDING (image pull), RUNNING, then on a stop
DEACTIVATING (the target group's deregistration delay), STOPPING, DEPROVISIONING, STOPPED. Like ECS, it
registers its IP in the revision's target group when RUNNING, deregisters it when told to stop, and its
network interface is deleted when it has STOPPED. moto's task state manager does not move these tasks.

What a task cannot do here is run its image. How it behaves instead is decided at launch:
- an image in this account's ECR that is not there fails to pull (CannotPullContainerError), as on AWS;
- a behaviour registered through the control API (`POST /moto-api/cruddur/ecs/task-behaviours`, see
  control.py) for a matching image or task definition makes it crash, fail its health checks, fail to
  pull or never start;
- otherwise it starts and becomes healthy.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ecr.models import ecr_backends
from moto.ecs.models import Task
from moto.elbv2.models import elbv2_backends

from .clock import CLOCK, timestamp

# Fargate's timeline, in AWS seconds (the clock scales them): measured launch times are 30-60 s.
PENDING_AFTER = 5
RUNNING_AFTER = 35
STOP_SECONDS = 10  # SIGTERM to a container that exits promptly, then deprovisioning
CRASH_AFTER = 10
DEFAULT_CONTAINER_HEALTH_INTERVAL = 30
PLATFORM_VERSION = "1.4.0"

BEHAVIOURS = ("crash", "unhealthy", "pull-error", "hang")


@dataclass
class Behaviour:
    """How tasks whose image (or task definition) matches behave instead of running."""

    behaviour: str
    image: str | None = None
    task_definition: str | None = None
    exit_code: int = 1
    reason: str | None = None
    after_seconds: float = CRASH_AFTER

    def matches(self, td, images: list[str]) -> bool:
        if self.task_definition:
            ref = self.task_definition
            if ref not in (td.arn, f"{td.family}:{td.revision}") and not fnmatch.fnmatchcase(td.arn, ref):
                return False
        if self.image:
            return any(fnmatch.fnmatchcase(image, self.image) for image in images)
        return True

    def as_dict(self) -> dict:
        return {
            "behaviour": self.behaviour,
            "image": self.image,
            "taskDefinition": self.task_definition,
            "exitCode": self.exit_code,
            "reason": self.reason,
            "afterSeconds": self.after_seconds,
        }


@dataclass
class Behaviours:
    rules: list[Behaviour] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, rule: Behaviour) -> None:
        with self.lock:
            self.rules.append(rule)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def find(self, td, images: list[str]) -> Behaviour | None:
        with self.lock:
            return next((r for r in reversed(self.rules) if r.matches(td, images)), None)


BEHAVIOURS_REGISTRY = Behaviours()


@dataclass
class Plan:
    """A task's fixed future, in clock seconds; None: does not happen on its own."""

    running: float | None
    healthy: float | None
    fail: float | None  # the task stops itself (crash, health checks, pull)
    stop_code: str | None = None
    stop_reason: str | None = None
    exit_code: int | None = None


def missing_ecr_image(account: str, region: str, image: str) -> bool:
    """An image of this account's ECR that the registry does not hold (ECS could not pull it)."""
    host = f"{account}.dkr.ecr.{region}.amazonaws.com/"
    if not image.startswith(host):
        return False
    ref = image[len(host) :]
    if "@" in ref:
        repo, tag, digest = ref.split("@", 1)[0], None, ref.split("@", 1)[1]
    elif ":" in ref:
        (repo, tag), digest = ref.rsplit(":", 1), None
    else:
        repo, tag, digest = ref, "latest", None
    repository = ecr_backends[account][region].repositories.get(repo)
    if repository is None:
        return True
    try:
        repository._get_image(tag, digest)
    except Exception:  # moto's ImageNotFoundException
        return True
    return False


def image_digest(account: str, region: str, image: str) -> str | None:
    host = f"{account}.dkr.ecr.{region}.amazonaws.com/"
    if not image.startswith(host):
        return image.split("@", 1)[1] if "@" in image else None
    ref = image[len(host) :]
    if "@" in ref:
        return ref.split("@", 1)[1]
    repo, tag = ref.rsplit(":", 1) if ":" in ref else (ref, "latest")
    repository = ecr_backends[account][region].repositories.get(repo)
    try:
        return repository._get_image(tag, None).get_image_digest() if repository else None
    except Exception:
        return None


def tagged_names(account: str, region: str, images: list[str]) -> list[str]:
    """`HOST/REPO:TAG` for every tag that names an image pinned by digest (`HOST/REPO@sha256:...`) in this
    account's ECR, so a behaviour registered for a tag also applies to the digest a deploy pinned."""
    host = f"{account}.dkr.ecr.{region}.amazonaws.com/"
    names = []
    for image in images:
        if not image.startswith(host) or "@" not in image:
            continue
        repo, digest = image[len(host) :].split("@", 1)
        repository = ecr_backends[account][region].repositories.get(repo)
        for found in repository.images if repository else []:
            if found.get_image_digest() == digest:
                names += [f"{host}{repo}:{tag}" for tag in found.image_tags]
    return names


def plan_for(td, account: str, region: str, launched: float, health_delay: float, unhealthy_delay: float) -> Plan:
    images = [c.get("image", "") for c in td.container_definitions]
    span = CLOCK.span
    missing = next((i for i in images if missing_ecr_image(account, region, i)), None)
    rule = BEHAVIOURS_REGISTRY.find(td, images + tagged_names(account, region, images))
    if missing or (rule and rule.behaviour == "pull-error"):
        image = missing or images[0]
        reason = (
            rule.reason
            if rule and rule.reason
            else f"CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve "
            f"ref {image}: {image}: not found"
        )
        return Plan(None, None, launched + span(RUNNING_AFTER), "TaskFailedToStart", reason)
    running = launched + span(RUNNING_AFTER)
    if rule and rule.behaviour == "hang":
        return Plan(None, None, None)
    if rule and rule.behaviour == "crash":
        return Plan(
            running,
            None,
            running + span(rule.after_seconds),
            "EssentialContainerExited",
            rule.reason or "Essential container in task exited",
            rule.exit_code,
        )
    if rule and rule.behaviour == "unhealthy":
        return Plan(running, None, running + span(unhealthy_delay), "ServiceSchedulerInitiated", rule.reason)
    return Plan(running, running + span(health_delay), None)


class ServiceTask(Task):
    """A task launched by a service deployment; its state is read off its timeline at the clock's now."""

    def __init__(
        self,
        *,
        backend,
        cluster,
        task_definition,
        service,
        deployment_id: str,
        subnet_index: int,
        plan: Plan,
        launched: float,
        lb_targets: list[tuple[str, int]],
    ):
        nc = service.network_configuration or None
        if nc:
            conf = {"securityGroups": [], **nc["awsvpcConfiguration"]}
            subnets = list(conf.get("subnets") or [])
            if subnets:
                i = subnet_index % len(subnets)
                conf["subnets"] = subnets[i:] + subnets[:i]
            nc = {"awsvpcConfiguration": conf}
        super().__init__(
            cluster=cluster,
            task_definition=task_definition,
            container_instance_arn=None,
            resource_requirements=None,
            backend=backend,
            group=f"service:{service.name}",
            launch_type=service.launch_type or "FARGATE",
            started_by=deployment_id,
            networking_configuration=nc,
            platform_version=PLATFORM_VERSION,
            tags=list(service.tags)
            if service.propagate_tags == "SERVICE"
            else list(task_definition.tags)
            if service.propagate_tags == "TASK_DEFINITION"
            else [],
        )
        self.task_definition = task_definition
        self.service_name = service.name
        self.deployment_id = deployment_id
        self.plan = plan
        self.launched = launched
        self.lb_targets = lb_targets  # (target group ARN, port) the task registers in when RUNNING
        self.registered = False
        self.stop_requested: float | None = None
        self.stopped: float | None = None
        self.stop_code_value: str | None = None
        self.stop_reason_value: str | None = None
        self.exit_code: int | None = None
        self.failed = False
        self.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
        self.cpu = task_definition.cpu
        self.memory = task_definition.memory
        if plan.fail is not None:
            drain = 0.0  # a failed task is deregistered at once: it never served
            self._begin_stop(plan.fail, plan.stop_code, plan.stop_reason, drain, failed=True)
            self.exit_code = plan.exit_code

    # --- moto's Task interface ------------------------------------------------------------------------
    def advance(self) -> None:  # moto's describe_tasks moves tasks on each call; ours follow the clock
        pass

    @property
    def last_status(self) -> str:
        return self.status_at(CLOCK.now())

    @last_status.setter
    def last_status(self, value: str) -> None:
        pass  # moto's constructor sets it; the timeline decides

    @property
    def desired_status(self) -> str:
        return "STOPPED" if self.stop_requested is not None and CLOCK.now() >= self.stop_requested else "RUNNING"

    @desired_status.setter
    def desired_status(self, value: str) -> None:
        pass

    # --- the timeline ---------------------------------------------------------------------------------
    def _begin_stop(self, at: float, code: str | None, reason: str | None, drain: float, failed: bool = False):
        self.stop_requested = at
        self.stopped = at + drain + CLOCK.span(STOP_SECONDS)
        self.drain_end = at + drain
        self.stop_code_value = code
        self.stop_reason_value = reason
        self.failed = failed

    def request_stop(self, at: float, code: str, reason: str, drain: float) -> None:
        if self.stop_requested is not None and self.stop_requested <= at:
            return
        if self.plan.running is None or at < self.plan.running:
            drain = 0.0  # never RUNNING: nothing to drain
        self._begin_stop(at, code, reason, drain)
        self.exit_code = 0 if self.plan.running is not None and at >= self.plan.running else None

    def status_at(self, t: float) -> str:
        if self.stopped is not None and t >= self.stopped:
            return "STOPPED"
        if self.stop_requested is not None and t >= self.stop_requested:
            if t < self.drain_end:
                return "DEACTIVATING"
            return "STOPPING" if t < self.stopped - CLOCK.span(STOP_SECONDS) / 2 else "DEPROVISIONING"
        if self.plan.running is not None and t >= self.plan.running:
            return "RUNNING"
        if t >= self.launched + CLOCK.span(PENDING_AFTER):
            return "PENDING"
        return "PROVISIONING"

    def live_at(self, t: float) -> bool:
        """Not told to stop by t (it counts toward its deployment)."""
        return self.stop_requested is None or t < self.stop_requested

    def healthy_at(self, t: float) -> bool:
        return self.live_at(t) and self.plan.healthy is not None and t >= self.plan.healthy

    def running_at(self, t: float) -> bool:
        return self.status_at(t) == "RUNNING"

    def pending_at(self, t: float) -> bool:
        return self.status_at(t) in ("PROVISIONING", "PENDING", "ACTIVATING")

    def milestones(self) -> list[float]:
        return [m for m in (self.plan.running, self.plan.healthy, self.stop_requested, self.stopped) if m is not None]

    # --- what DescribeTasks shows ---------------------------------------------------------------------
    def _at(self, t: float | None) -> datetime | None:
        return timestamp(t) if t is not None and CLOCK.now() >= t else None

    @property
    def created_at(self):
        return timestamp(self.launched)

    @property
    def pull_started_at(self):
        return self._at(self.launched + CLOCK.span(PENDING_AFTER))

    @property
    def pull_stopped_at(self):
        return self._at(self.plan.running - CLOCK.span(2)) if self.plan.running else None

    @property
    def started_at(self):
        return self._at(self.plan.running)

    @property
    def connectivity(self):
        return "CONNECTED" if self.status_at(CLOCK.now()) != "PROVISIONING" else None

    @property
    def connectivity_at(self):
        return self._at(self.launched + CLOCK.span(PENDING_AFTER))

    @property
    def stopping_at(self):
        return self._at(self.stop_requested)

    @property
    def execution_stopped_at(self):
        return self._at(self.stopped - CLOCK.span(STOP_SECONDS) / 2) if self.stopped else None

    @property
    def stopped_at(self):
        return self._at(self.stopped)

    @property
    def stop_code(self):
        return self.stop_code_value if self.stop_requested is not None and CLOCK.now() >= self.stop_requested else None

    @property
    def stopped_reason(self):
        return (
            self.stop_reason_value if self.stop_requested is not None and CLOCK.now() >= self.stop_requested else None
        )

    @stopped_reason.setter
    def stopped_reason(self, value) -> None:
        pass  # moto's constructor and StopTask set it; the timeline decides

    @property
    def health_status(self):
        """ECS reports the container health checks' verdict; with none defined it is UNKNOWN (ELB's is apart)."""
        if not any(c.get("healthCheck") for c in self.task_definition.container_definitions):
            return "UNKNOWN"
        now = CLOCK.now()
        if self.healthy_at(now):
            return "HEALTHY"
        if self.failed and self.plan.stop_code == "ServiceSchedulerInitiated" and now >= (self.stop_requested or 0):
            return "UNHEALTHY"
        return "UNKNOWN"

    @property
    def availability_zone(self):
        for att in self.attachments:
            for d in att.get("details", []):
                if d["name"] == "subnetId":
                    ec2 = ec2_backends[self._account_id][self.region_name]
                    try:
                        return ec2.get_subnet(d["value"]).availability_zone
                    except Exception:
                        return None
        return None

    @property
    def platform_family(self):
        return "Linux"

    @property
    def containers(self) -> list[dict]:
        now = CLOCK.now()
        status = self.status_at(now)
        out = []
        for c in self.task_definition.container_definitions:
            state = {
                "PROVISIONING": "PENDING",
                "PENDING": "PENDING",
                "RUNNING": "RUNNING",
                "DEACTIVATING": "RUNNING",
            }.get(status, "STOPPED")
            entry: dict[str, Any] = {
                "containerArn": f"arn:aws:ecs:{self.region_name}:{self._account_id}:container/{self.cluster_name}/"
                f"{self.id}/{c.get('name')}",
                "taskArn": self.task_arn,
                "name": c.get("name"),
                "image": c.get("image"),
                "imageDigest": image_digest(self._account_id, self.region_name, c.get("image", "")),
                "lastStatus": state,
                "cpu": str(c.get("cpu", 0)),
                "healthStatus": ("HEALTHY" if self.healthy_at(now) else "UNKNOWN")
                if c.get("healthCheck")
                else "UNKNOWN",
                "networkInterfaces": [
                    {"attachmentId": a["id"], "privateIpv4Address": self.private_ip} for a in self.attachments
                ],
            }
            if c.get("memory") is not None:
                entry["memory"] = str(c["memory"])
            if state == "STOPPED":
                essential = c.get("essential", True)
                if self.exit_code is not None:
                    entry["exitCode"] = self.exit_code if (essential or not self.failed) else 0
                if self.failed and self.plan.stop_code == "TaskFailedToStart":
                    entry["reason"] = self.stop_reason_value
            out.append(entry)
        return out

    @containers.setter
    def containers(self, value) -> None:
        pass  # moto's constructor builds one Container from the first definition; ours lists them all

    @property
    def private_ip(self) -> str | None:
        for att in self.attachments:
            for d in att.get("details", []):
                if d["name"] == "privateIPv4Address":
                    return d["value"]
        return None

    @property
    def eni_id(self) -> str | None:
        for att in self.attachments:
            for d in att.get("details", []):
                if d["name"] == "networkInterfaceId":
                    return d["value"]
        return None

    # --- what the task does elsewhere (called by the service's rollout at the right time) -------------
    def register_targets(self) -> list[str]:
        if self.registered or not self.private_ip:
            return []
        elbv2 = elbv2_backends[self._account_id][self.region_name]
        done = []
        for arn, port in self.lb_targets:
            tg = elbv2.target_groups.get(arn)
            if tg is not None:
                tg.register([{"Id": self.private_ip, "Port": port}])
                done.append(arn)
        self.registered = True
        return done

    def deregister_targets(self) -> list[str]:
        if not self.registered:
            return []
        elbv2 = elbv2_backends[self._account_id][self.region_name]
        done = []
        for arn, _ in self.lb_targets:
            tg = elbv2.target_groups.get(arn)
            if tg is not None and self.private_ip in tg.targets:
                tg.deregister([{"Id": self.private_ip}])
                done.append(arn)
        self.registered = False
        return done

    def release_network_interface(self) -> None:
        eni = self.eni_id
        if eni:
            ec2 = ec2_backends[self._account_id][self.region_name]
            if eni in ec2.enis:
                ec2.delete_network_interface(eni)
        for att in self.attachments:
            att["status"] = "DELETED"
