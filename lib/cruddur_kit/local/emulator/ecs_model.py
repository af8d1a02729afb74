"""The records behind ECS's deployment APIs, and the answers built from them.

- Revision: a service revision (DescribeServiceRevisions), what one deployment runs.
- Entry: one item of DescribeServices' `deployments` (PRIMARY / ACTIVE, rolloutState, task counts).
- Rollout: a service deployment (List/DescribeServiceDeployments): status, lifecycle stage, rollback, monitors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from moto.moto_api._internal import mock_random

from .clock import timestamp
from .ecs_hooks import HookRun

ONGOING = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
FINISHED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


def deployment_id() -> str:
    return "ecs-svc/" + "".join(str(mock_random.randint(0, 9)) for _ in range(19))


def revision_id() -> str:
    return str(mock_random.randint(1, 9)) + "".join(str(mock_random.randint(0, 9)) for _ in range(18))


def rollout_id() -> str:
    return mock_random.get_random_string(length=21)


@dataclass
class Revision:
    arn: str
    service_arn: str
    cluster_arn: str
    task_definition: str
    launch_type: str
    requested_platform_version: str | None
    load_balancers: list
    service_registries: list
    network_configuration: dict | None
    service_connect: dict | None
    capacity_provider_strategy: list
    volume_configurations: list
    created: float
    container_images: list
    resolved: list = field(default_factory=list)  # [(targetGroupArn, containerPort, productionListenerRule)]

    def compare_view(self) -> dict:
        """What needs_new_deployment compares an UpdateService against."""
        return {
            "taskDefinition": self.task_definition,
            "loadBalancers": self.load_balancers,
            "serviceRegistries": self.service_registries,
            "networkConfiguration": self.network_configuration,
            "serviceConnectConfiguration": self.service_connect or [],
            "capacityProviderStrategy": self.capacity_provider_strategy,
            "volumeConfigurations": self.volume_configurations,
            "requestedPlatformVersion": self.requested_platform_version,
        }

    def view(self) -> dict:
        out = {
            "serviceRevisionArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "taskDefinition": self.task_definition,
            "capacityProviderStrategy": self.capacity_provider_strategy,
            "platformVersion": "1.4.0",
            "platformFamily": "Linux",
            "loadBalancers": self.load_balancers,
            "serviceRegistries": self.service_registries,
            "containerImages": self.container_images,
            "guardDutyEnabled": False,
            "volumeConfigurations": self.volume_configurations,
            "createdAt": timestamp(self.created),
        }
        if not self.capacity_provider_strategy:
            out["launchType"] = self.launch_type
        if self.network_configuration:
            out["networkConfiguration"] = self.network_configuration
        if self.service_connect:
            out["serviceConnectConfiguration"] = self.service_connect
        if self.resolved:
            out["resolvedConfiguration"] = {
                "loadBalancers": [
                    {k: v for k, v in (("targetGroupArn", tg), ("productionListenerRule", rule)) if v}
                    for tg, _, rule in self.resolved
                ]
            }
        return out


@dataclass
class Entry:
    """One `deployments` item; `ids` holds the deployment ids whose tasks it counts (a rollback adopts the
    tasks of the deployment it returns to)."""

    id: str
    revision: Revision
    created: float
    updated: float
    desired: int = 0
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    reason: str = ""
    failed_tasks: int = 0
    consecutive_failures: int = 0
    blocked: bool = False
    relaunch_at: float = 0.0
    warned_unstable: bool = False
    ids: set = field(default_factory=set)

    def __post_init__(self):
        self.ids.add(self.id)
        if not self.reason:
            self.reason = f"ECS deployment {self.id} in progress."

    def view(self, running: int, pending: int, desired: int) -> dict:
        out = {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.revision.task_definition,
            "desiredCount": desired,
            "pendingCount": pending,
            "runningCount": running,
            "failedTasks": self.failed_tasks,
            "createdAt": timestamp(self.created),
            "updatedAt": timestamp(self.updated),
            "platformVersion": "1.4.0",
            "platformFamily": "Linux",
            "rolloutState": self.rollout_state,
            "rolloutStateReason": self.reason,
        }
        if self.revision.capacity_provider_strategy:
            out["capacityProviderStrategy"] = self.revision.capacity_provider_strategy
        else:
            out["launchType"] = self.revision.launch_type
        if self.revision.network_configuration:
            out["networkConfiguration"] = self.revision.network_configuration
        if self.revision.volume_configurations:
            out["volumeConfigurations"] = self.revision.volume_configurations
        return out


@dataclass
class Step:
    stage: str  # the lifecycleStage reported while this step runs
    kind: str  # hooks | scale | shift-test | shift-prod | wait | cleanup | rb-scale | rb-cleanup
    hook_stage: str | None = None
    value: float = 0.0  # percent for shifts, AWS seconds for waits


@dataclass
class Rollout:
    arn: str
    service_arn: str
    cluster_arn: str
    created: float
    target: Entry
    sources: list
    config: dict
    desired: int
    strategy: str
    status: str = "PENDING"
    status_reason: str | None = None
    started: float | None = None
    finished: float | None = None
    stopped: float | None = None
    updated: float = 0.0
    steps: list = field(default_factory=list)
    step_index: int = -1
    step_started: float = 0.0
    step_due: float | None = None
    rollback: dict | None = None
    rollback_entry: Entry | None = None
    request_due: float | None = None  # ROLLBACK_REQUESTED / STOP_REQUESTED take effect then
    monitoring: bool = True
    cb_threshold: int | None = None
    cb_failures: int = 0
    cb_status: str = "DISABLED"
    alarm_names: list = field(default_factory=list)
    alarm_status: str = "DISABLED"
    triggered: list = field(default_factory=list)
    alarm_episodes: dict = field(default_factory=dict)  # name -> (state timestamp, clock time it began)
    hook_runs: list = field(default_factory=list)  # the runs of the current step
    prod_weight: float = 0.0  # percent of production traffic on the target revision
    test_weight: float = 0.0
    frozen: dict | None = None  # revision ARN -> (requested, running, pending) when it finished

    @property
    def step(self) -> Step | None:
        return self.steps[self.step_index] if 0 <= self.step_index < len(self.steps) else None

    @property
    def stage(self) -> str | None:
        s = self.step
        return s.stage if s else None

    @property
    def ongoing(self) -> bool:
        return self.status in ONGOING

    @property
    def shifts_traffic(self) -> bool:
        return self.strategy in ("BLUE_GREEN", "LINEAR", "CANARY")

    def brief(self) -> dict:
        out = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": timestamp(self.created),
            "targetServiceRevisionArn": self.target.revision.arn,
            "status": self.status,
        }
        if self.started is not None:
            out["startedAt"] = timestamp(self.started)
        if self.finished is not None:
            out["finishedAt"] = timestamp(self.finished)
        if self.status_reason:
            out["statusReason"] = self.status_reason
        return out

    def view(self, counts: Callable[[Entry], tuple]) -> dict:
        out = self.brief()
        out.pop("targetServiceRevisionArn")
        if self.stopped is not None:
            out["stoppedAt"] = timestamp(self.stopped)
        out["updatedAt"] = timestamp(self.updated or self.created)
        out["sourceServiceRevisions"] = [self._summary(e, counts, source=True) for e in self.sources]
        out["targetServiceRevision"] = self._summary(self.target, counts, source=False)
        if self.stage and self.status not in FINISHED:
            out["lifecycleStage"] = self.stage
        if self.hook_runs and self.ongoing:
            out["lifecycleHookDetails"] = [run.view() for run in self.hook_runs]
        out["deploymentConfiguration"] = self.config
        if self.rollback:
            out["rollback"] = {
                "reason": self.rollback["reason"],
                "startedAt": timestamp(self.rollback["startedAt"]),
                "serviceRevisionArn": self.rollback["serviceRevisionArn"],
            }
        cb = {"status": self.cb_status, "failureCount": self.cb_failures}
        if self.cb_threshold is not None:
            cb["threshold"] = self.cb_threshold
        out["deploymentCircuitBreaker"] = cb
        alarms = {"status": self.alarm_status}
        if self.alarm_names:
            alarms["alarmNames"] = list(self.alarm_names)
        if self.triggered:
            alarms["triggeredAlarmNames"] = list(self.triggered)
        out["alarms"] = alarms
        return out

    def _summary(self, entry: Entry, counts, source: bool) -> dict:
        key = entry.revision.arn
        if self.frozen is not None and key in self.frozen:
            requested, running, pending = self.frozen[key]
        else:
            requested, running, pending = counts(entry)
        out = {"arn": key, "requestedTaskCount": requested, "runningTaskCount": running, "pendingTaskCount": pending}
        if self.shifts_traffic:
            main = self.sources[0] if self.sources else None
            if source:
                share = (100.0 - self.prod_weight, 100.0 - self.test_weight) if entry is main else (0.0, 0.0)
            else:
                share = (self.prod_weight, self.test_weight)
            out["requestedProductionTrafficWeight"], out["requestedTestTrafficWeight"] = share
        return out

    def hook_run(self, hook_id: str) -> HookRun | None:
        return next((r for r in self.hook_runs if r.hook_id == hook_id), None)
