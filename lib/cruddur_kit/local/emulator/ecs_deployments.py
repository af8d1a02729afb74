"""ECS deployments on the emulator: moto's ECS, taught what ECS does when a service is created or updated.

moto 5.2.5 keeps no deploymentConfiguration, starts no deployment on UpdateService, runs no task for a
service and has no service deployments. This module replaces moto's CreateService, UpdateService,
DeleteService and ListServices handlers, adds ListServiceDeployments, DescribeServiceDeployments,
StopServiceDeployment, ContinueServiceDeployment and DescribeServiceRevisions, and gives every service a
ServiceState (ecs_rollout.py) that runs its deployments and tasks on the emulator's clock.

Why patch moto's handlers rather than answer in a middleware of our own: the state stays in moto's
backend (one reset clears it, DescribeServices/ListTasks/DescribeTasks read the same objects), and moto's
serializer builds every answer from botocore's own service model, so the new operations answer exactly
the shapes boto3 parses. The middleware (control.py) only serialises the requests that read or change
what a deployment touches and advances every service to the clock's now before each of them, so EC2's
network interfaces, ELB's targets and ECS agree whatever is asked first.
"""

from __future__ import annotations

import base64
import sys
import traceback
from datetime import datetime

from moto.core.responses import ActionResult
from moto.ecs.exceptions import ECSException, InvalidParameterException, ServiceNotFoundException
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.models import elbv2_backends

from . import ecs_config
from .clock import CLOCK
from .ecs_model import FINISHED
from .ecs_rollout import ServiceState
from .ecs_tasks import ServiceTask

STATES: list[ServiceState] = []
SERVICE_SETTINGS = {  # request member -> moto Service attribute, kept as given and returned by DescribeServices
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableExecuteCommand": "enable_execute_command",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "placementConstraints": "placement_constraints",
    "placementStrategy": "placement_strategy",
    "capacityProviderStrategy": "capacity_provider_strategy",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
    "propagateTags": "propagate_tags",
}
REVISION_FIELDS = (
    "loadBalancers",
    "serviceRegistries",
    "networkConfiguration",
    "serviceConnectConfiguration",
    "capacityProviderStrategy",
    "volumeConfigurations",
    "platformVersion",
)


class ServiceDeploymentNotFoundException(ECSException):
    def __init__(self, arn: str):
        super().__init__("ServiceDeploymentNotFoundException", f"The service deployment {arn} does not exist.")


class ConflictException(ECSException):
    def __init__(self, message: str):
        super().__init__("ConflictException", message)


class ServiceNotActiveException(ECSException):
    def __init__(self):
        super().__init__("ServiceNotActiveException", "Service was not ACTIVE.")


# --- the states -------------------------------------------------------------------------------------------
def state_of(service) -> ServiceState | None:
    return getattr(service, "_cruddur_state", None)


def sync_all(now: float | None = None) -> None:
    """Advance every service's deployments and tasks to now (moto's reset drops the stale ones)."""
    now = CLOCK.now() if now is None else now
    backends = {}
    for state in list(STATES):
        key = f"{state.service.cluster_name}:{state.service.name}"
        if state.backend.services.get(key) is not state.service:
            STATES.remove(state)
            continue
        try:
            state.advance(now)
            state.publish()
        except Exception:  # an emulator bug must not turn every later request into a 500: log it, stop that one
            STATES.remove(state)
            print(f"emulator: service {key} stopped advancing after an internal error:", file=sys.stderr)
            traceback.print_exc()
            continue
        backends[id(state.backend)] = state.backend
    for backend in backends.values():
        _cluster_counts(backend, now)


def reset() -> None:
    STATES.clear()


def _cluster_counts(backend, now: float) -> None:
    for cluster in backend.clusters.values():
        mine = [s for s in STATES if s.backend is backend and s.service.cluster_name == cluster.name]
        cluster.running_tasks_count = sum(task.running_at(now) for s in mine for task in s.tasks)
        cluster.pending_tasks_count = sum(task.pending_at(now) for s in mine for task in s.tasks)
        cluster.active_services_count = sum(
            1 for svc in backend.services.values() if svc.cluster_name == cluster.name and svc.status == "ACTIVE"
        )


def _settle(state: ServiceState, now: float) -> None:
    state.advance(now)
    state.publish()
    _cluster_counts(state.backend, now)


def _find_rollout(backend, arn: str):
    for state in STATES:
        if state.backend is backend:
            r = state.find_rollout(arn)
            if r is not None:
                return state, r
    return None, None


# --- CreateService / UpdateService / DeleteService / ListServices -----------------------------------------
def _strategy_checks(controller: dict, config: dict, lbs, elbv2, service_connect) -> list:
    if (controller or {}).get("type", "ECS") != "ECS" and config.get("strategy", "ROLLING") != "ROLLING":
        raise InvalidParameterException(
            f"The {config['strategy']} deployment strategy requires the ECS deployment controller."
        )
    return ecs_config.load_balancers(
        lbs, config.get("strategy", "ROLLING"), elbv2, service_connect=bool((service_connect or {}).get("enabled"))
    )


def _settings(service, params: dict) -> None:
    for member, attr in SERVICE_SETTINGS.items():
        if params.get(member) is not None:
            value = params[member]
            if member == "healthCheckGracePeriodSeconds" and value < 0:
                raise InvalidParameterException("healthCheckGracePeriodSeconds must not be negative.")
            setattr(service, attr, value)


def create_service(self) -> ActionResult:
    backend = self.ecs_backend
    params = self._get_params()
    cluster = backend._get_cluster(params.get("cluster", "default"))
    name = params.get("serviceName")
    existing = backend.services.get(f"{cluster.name}:{name}")
    if existing is not None and existing.status != "INACTIVE":
        raise InvalidParameterException("Creation of service was not idempotent.")
    controller = params.get("deploymentController") or {"type": "ECS"}
    config = ecs_config.deployment_configuration(params.get("deploymentConfiguration"))
    elbv2 = elbv2_backends[self.current_account][self.region]
    lbs = _strategy_checks(
        controller, config, params.get("loadBalancers"), elbv2, params.get("serviceConnectConfiguration")
    )
    if params.get("healthCheckGracePeriodSeconds", 0) < 0:
        raise InvalidParameterException("healthCheckGracePeriodSeconds must not be negative.")
    if params.get("taskDefinition"):
        backend.describe_task_definition(params["taskDefinition"])
    now = CLOCK.now()
    service = backend.create_service(
        cluster.name,
        name,
        params.get("desiredCount"),
        params.get("taskDefinition"),
        lbs,
        params.get("schedulingStrategy"),
        params.get("tags"),
        controller,
        params.get("launchType"),
        network_configuration=params.get("networkConfiguration"),
        service_registries=params.get("serviceRegistries"),
        platform_version=params.get("platformVersion"),
        propagate_tags=params.get("propagateTags") or "NONE",
        role_arn=params.get("role"),
    )
    service.deployment_configuration = config
    service.created_at = datetime.fromtimestamp(now).astimezone()
    service.created_by = f"arn:aws:iam::{self.current_account}:root"
    service.platform_family = "Linux"
    service.enable_execute_command = False
    service.enable_ecs_managed_tags = False
    service.health_check_grace_period_seconds = 0
    service.service_connect_configuration = params.get("serviceConnectConfiguration")
    service.deployments = []
    service.running_count = service.pending_count = 0
    _settings(service, params)
    if controller.get("type", "ECS") == "ECS" and service.task_definition:
        state = ServiceState(backend, service, now)
        service._cruddur_state = state
        STATES.append(state)
        fields = {k: params.get(k) for k in REVISION_FIELDS}
        fields["taskDefinition"] = service.task_definition
        rev = state.new_revision(now, fields, None, config["strategy"])
        state.start(now, rev, config, service.desired_count)
        _settle(state, now)
    return ActionResult({"service": service})


def update_service(self) -> ActionResult:
    backend = self.ecs_backend
    params = self._get_params()
    service = backend._get_service(params.get("cluster", "default"), params["service"].split("/")[-1])
    if service.status != "ACTIVE":
        raise ServiceNotActiveException()
    state = state_of(service)
    now = CLOCK.now()
    if state is not None:
        _settle(state, now)
    config = ecs_config.deployment_configuration(
        params.get("deploymentConfiguration"), getattr(service, "deployment_configuration", None)
    )
    primary = state.primary if state else None
    current = primary.revision.compare_view() if primary else None
    elbv2 = elbv2_backends[self.current_account][self.region]
    lbs = params.get("loadBalancers")
    lbs_now = lbs if lbs is not None else (current or {}).get("loadBalancers") or service.load_balancers
    sc = params.get("serviceConnectConfiguration", getattr(service, "service_connect_configuration", None))
    checked = _strategy_checks(service.deployment_controller, config, lbs_now, elbv2, sc)
    if params.get("networkConfiguration") is not None:
        service._validate_network(params["networkConfiguration"])
    changes = {k: params.get(k) for k in REVISION_FIELDS if params.get(k) is not None}
    if params.get("taskDefinition"):
        changes["taskDefinition"] = backend.describe_task_definition(params["taskDefinition"]).arn
    changes["forceNewDeployment"] = bool(params.get("forceNewDeployment"))
    _settings(service, params)
    service.deployment_configuration = config
    if lbs is not None:
        service.load_balancers = checked
    if params.get("networkConfiguration") is not None:
        service.network_configuration = params["networkConfiguration"]
    if params.get("platformVersion"):
        service.platform_version = params["platformVersion"]
    if "serviceConnectConfiguration" in params:
        service.service_connect_configuration = params["serviceConnectConfiguration"]
    if params.get("desiredCount") is not None:
        service.desired_count = params["desiredCount"]
    if state is None:  # another deployment controller: moto's bookkeeping only
        if changes.get("taskDefinition"):
            service.task_definition = changes["taskDefinition"]
        return ActionResult({"service": service})
    if ecs_config.needs_new_deployment(changes, current):
        fields = {**(current or {}), **{k: v for k, v in changes.items() if k != "forceNewDeployment"}}
        fields.setdefault("taskDefinition", service.task_definition)
        fields["loadBalancers"] = service.load_balancers
        rev = state.new_revision(now, fields, primary.revision if primary else None, config["strategy"])
        service.task_definition = rev.task_definition
        state.start(now, rev, config, service.desired_count)
    elif params.get("desiredCount") is not None:
        state.scale(now, service.desired_count)
    _settle(state, now)
    return ActionResult({"service": service})


def delete_service(self) -> ActionResult:
    backend = self.ecs_backend
    service = backend._get_service(self._get_param("cluster", "default"), self._get_param("service").split("/")[-1])
    if service.status == "ACTIVE":
        if service.desired_count > 0 and not self._get_param("force", False):
            raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
        now = CLOCK.now()
        state = state_of(service)
        service.desired_count = 0
        service.status = "DRAINING"
        if state is not None:
            state.delete(now)
            _settle(state, now)
        else:
            service.status = "INACTIVE"
    return ActionResult({"service": service})


def list_services(self) -> ActionResult:
    backend = self.ecs_backend
    arns = backend.list_services(
        self._get_param("cluster", "default"),
        self._get_param("schedulingStrategy"),
        launch_type=self._get_param("launchType"),
    )
    inactive = {svc.arn for svc in backend.services.values() if svc.status == "INACTIVE"}
    return ActionResult({"serviceArns": [a for a in arns if a not in inactive]})


# --- service deployments and revisions --------------------------------------------------------------------
def _epoch(value) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


def list_service_deployments(self) -> ActionResult:
    backend = self.ecs_backend
    service = backend._get_service(self._get_param("cluster", "default"), self._get_param("service").split("/")[-1])
    if service.status == "INACTIVE":
        raise ServiceNotFoundException()
    state = state_of(service)
    statuses = self._get_param("status") or []
    window = self._get_param("createdAt") or {}
    before, after = _epoch(window.get("before")), _epoch(window.get("after"))
    limit = self._get_param("maxResults") or 20
    if not 1 <= limit <= 100:
        raise InvalidParameterException("maxResults must be between 1 and 100.")
    token = self._get_param("nextToken")
    try:
        start = int(base64.b64decode(token).decode()) if token else 0
    except ValueError:
        raise InvalidParameterException("Invalid nextToken.") from None
    found = [
        r
        for r in reversed(state.rollouts if state else [])
        if (not statuses or r.status in statuses)
        and (before is None or r.created < before)
        and (after is None or r.created > after)
    ]
    page = found[start : start + limit]
    result = {"serviceDeployments": [r.brief() for r in page]}
    if start + limit < len(found):
        result["nextToken"] = base64.b64encode(str(start + limit).encode()).decode()
    return ActionResult(result)


def _arns(self, member: str) -> list[str]:
    arns = self._get_param(member) or []
    if not arns:
        raise InvalidParameterException(f"{member} must name at least one ARN.")
    if len(arns) > 20:
        raise InvalidParameterException(f"{member} can name at most 20 ARNs.")
    return arns


def describe_service_deployments(self) -> ActionResult:
    backend = self.ecs_backend
    found, failures = [], []
    for arn in _arns(self, "serviceDeploymentArns"):
        state, r = _find_rollout(backend, arn)
        if r is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(r.view(state.counts))
    return ActionResult({"serviceDeployments": found, "failures": failures})


def describe_service_revisions(self) -> ActionResult:
    backend = self.ecs_backend
    found, failures = [], []
    for arn in _arns(self, "serviceRevisionArns"):
        rev = next((s.revisions[arn] for s in STATES if s.backend is backend and arn in s.revisions), None)
        if rev is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(rev.view())
    return ActionResult({"serviceRevisions": found, "failures": failures})


def stop_service_deployment(self) -> ActionResult:
    arn = self._get_param("serviceDeploymentArn")
    stop_type = self._get_param("stopType") or "ROLLBACK"
    if stop_type not in ("ROLLBACK", "ABORT"):
        raise InvalidParameterException(f"Invalid stopType '{stop_type}'. Valid values: ABORT, ROLLBACK.")
    state, r = _find_rollout(self.ecs_backend, arn)
    if r is None:
        raise ServiceDeploymentNotFoundException(arn)
    if r.status in FINISHED:
        raise ConflictException(f"The service deployment {arn} has finished ({r.status}) and cannot be stopped.")
    now = CLOCK.now()
    state.request_stop(r, now, stop_type)
    _settle(state, now)
    return ActionResult({"serviceDeploymentArn": arn})


def continue_service_deployment(self) -> ActionResult:
    arn = self._get_param("serviceDeploymentArn")
    hook_id = self._get_param("hookId")
    action = self._get_param("action") or "CONTINUE"
    if action not in ("CONTINUE", "ROLLBACK"):
        raise InvalidParameterException(f"Invalid action '{action}'. Valid values: CONTINUE, ROLLBACK.")
    state, r = _find_rollout(self.ecs_backend, arn)
    if r is None:
        raise ServiceDeploymentNotFoundException(arn)
    if r.status in FINISHED:
        raise ConflictException(f"The service deployment {arn} has finished ({r.status}).")
    run = r.hook_run(hook_id)
    if run is None or run.status != "AWAITING_ACTION":
        raise InvalidParameterException(f"No PAUSE lifecycle hook {hook_id} is awaiting action in {arn}.")
    now = CLOCK.now()
    run.resolve(action)
    _settle(state, now)
    return ActionResult({"serviceDeploymentArn": arn})


# --- tasks ------------------------------------------------------------------------------------------------
_original_list_tasks = EC2ContainerServiceBackend.list_tasks
_original_stop_task = EC2ContainerServiceBackend.stop_task


def list_tasks(
    self, cluster_str=None, container_instance=None, family=None, started_by=None, service_name=None, desiredStatus=None
):
    tasks = _original_list_tasks(self, cluster_str, container_instance, family, started_by, None, desiredStatus)
    if service_name:
        service = self._get_service(cluster_str or "default", service_name.split("/")[-1])
        tasks = [t for t in tasks if t.group == f"service:{service.name}"]
    return tasks


def stop_task(self, cluster_str: str, task_str: str, reason: str):
    cluster = self._get_cluster(cluster_str)
    task_id = task_str.split("/")[-1]
    for arn, task in self.tasks.get(cluster.name, {}).items():
        if arn.endswith(task_id) and isinstance(task, ServiceTask):
            service = self.services.get(f"{cluster.name}:{task.service_name}")
            state = state_of(service) if service else None
            now = CLOCK.now()
            if state is not None:
                state.stop_task(task, now, reason)
                _settle(state, now)
            return task
    task = _original_stop_task(self, cluster_str, task_str, reason)
    _release_network_interfaces(task)  # ECS deletes a stopped task's ENI; moto kept it (and its security group busy)
    return task


def _release_network_interfaces(task) -> None:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[task._account_id][task.region_name]
    for att in task.attachments:
        for detail in att.get("details", []):
            if detail["name"] == "networkInterfaceId" and detail["value"] in ec2.enis:
                ec2.delete_network_interface(detail["value"])
        att["status"] = "DELETED"


_original_describe_tasks = EC2ContainerServiceBackend.describe_tasks


def describe_tasks(self, cluster_str: str, tasks: list[str]):
    """moto moves a one-off task one state on per DescribeTasks; once it reads STOPPED its desired status is
    STOPPED too (ListTasks no longer counts it as running) and its network interface goes, as ECS deletes a
    stopped task's ENI (a service task's is the rollout's to release)."""
    found = _original_describe_tasks(self, cluster_str, tasks)
    for task in found:
        if not isinstance(task, ServiceTask) and getattr(task, "_status", None) == "STOPPED":
            task.desired_status = "STOPPED"
            _release_network_interfaces(task)
    return found


_original_delete_cluster = EC2ContainerServiceBackend.delete_cluster


class ClusterContainsServicesException(ECSException):
    def __init__(self) -> None:
        super().__init__("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")


class ClusterContainsTasksException(ECSException):
    def __init__(self) -> None:
        super().__init__("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")


def delete_cluster(self, cluster_str: str):
    """ECS refuses to delete a cluster that still has services or running tasks (DeleteCluster's errors in the
    API reference); moto deleted it and left the tasks and their network interfaces behind."""
    cluster = self._get_cluster(cluster_str)
    if any(s.cluster_name == cluster.name and s.status in ("ACTIVE", "DRAINING") for s in self.services.values()):
        raise ClusterContainsServicesException()
    # a service task's state is the rollout's; a one-off task's is moto's (read without advancing it)
    if any(
        getattr(t, "_status", None) not in (None, "STOPPED")
        if not isinstance(t, ServiceTask)
        else t.last_status != "STOPPED"
        for t in self.tasks.get(cluster.name, {}).values()
    ):
        raise ClusterContainsTasksException()
    return _original_delete_cluster(self, cluster_str)


def install() -> None:
    for name, handler in (
        ("create_service", create_service),
        ("update_service", update_service),
        ("delete_service", delete_service),
        ("list_services", list_services),
        ("list_service_deployments", list_service_deployments),
        ("describe_service_deployments", describe_service_deployments),
        ("describe_service_revisions", describe_service_revisions),
        ("stop_service_deployment", stop_service_deployment),
        ("continue_service_deployment", continue_service_deployment),
    ):
        setattr(EC2ContainerServiceResponse, name, handler)
    EC2ContainerServiceBackend.list_tasks = list_tasks
    EC2ContainerServiceBackend.stop_task = stop_task
    EC2ContainerServiceBackend.delete_cluster = delete_cluster
    EC2ContainerServiceBackend.describe_tasks = describe_tasks
