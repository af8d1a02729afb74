"""One service's deployments as ECS runs them, advanced on the emulator's clock.

A service deployment (Rollout) walks a list of steps that depends on its strategy:

  ROLLING     PRE_SCALE_UP, SCALE_UP (replace tasks within minimumHealthyPercent/maximumPercent),
              POST_SCALE_UP, BAKE_TIME (bakeTimeInMinutes, or the alarms' evaluation window), CLEAN_UP
  BLUE_GREEN  PRE_SCALE_UP, SCALE_UP (all green tasks), POST_SCALE_UP, TEST_TRAFFIC_SHIFT,
              POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT (100 % at once), POST_PRODUCTION_TRAFFIC_SHIFT,
              BAKE_TIME, CLEAN_UP (blue tasks drain and stop)
  CANARY      as BLUE_GREEN, production shifted canaryPercent, canaryBakeTimeInMinutes, then the rest
  LINEAR      as BLUE_GREEN, production shifted stepPercent at a time, stepBakeTimeInMinutes between steps

(RECONCILE_SERVICE first when the deployment starts with more than one revision running.) A step ends when
its work is done (tasks healthy, tasks stopped, a wait elapsed) and its lifecycle hooks have succeeded.
From start to the end of BAKE_TIME the deployment watches its CloudWatch alarms and, during scale-up, the
circuit breaker; a trigger, a failed hook or StopServiceDeployment(ROLLBACK) rolls it back to the last
revision that deployed successfully (or stops it where it is when rollback is off).

Progress is a pure function of the clock and of what happened (alarm states, controls, API calls): every
transition happens at the time it was due, whenever somebody looks, so tests see the same history at any
polling rate.
"""

from __future__ import annotations

import math

from moto.cloudwatch.models import cloudwatch_backends
from moto.elbv2.models import FakeAction, elbv2_backends

from . import ecs_config, ecs_hooks
from .clock import CLOCK, timestamp
from .ecs_model import Entry, Revision, Rollout, Step, deployment_id, revision_id, rollout_id
from .ecs_tasks import DEFAULT_CONTAINER_HEALTH_INTERVAL, ServiceTask, image_digest, plan_for

PENDING_SECONDS = 0  # a service deployment is PENDING until the scheduler picks it up: at once
REQUEST_SECONDS = 5  # ROLLBACK_REQUESTED / STOP_REQUESTED before ECS acts on it
SHIFT_SECONDS = 10  # one listener-rule weight change, test or production
RELAUNCH_CAP = 900  # the scheduler's throttle on relaunching failing tasks
KEEP_STOPPED = 100  # stopped tasks kept per service (ECS shows them for about an hour)
MAX_EVENTS = 100


def circuit_breaker_threshold(cb: dict | None, desired: int) -> int | None:
    if not cb or not cb.get("enable"):
        return None
    conf = cb.get("thresholdConfiguration") or {"type": "BOUNDED_PERCENT", "value": 50}
    value = conf.get("value", 50)
    if conf.get("type") == "COUNT":
        return max(1, value)
    raw = math.ceil(desired * value / 100)
    return max(1, raw) if conf.get("type") == "UNBOUNDED_PERCENT" else min(200, max(3, raw))


def plan_steps(config: dict, reconcile: bool, alarm_bake: float) -> list[Step]:
    strategy = config.get("strategy", "ROLLING")
    steps = [Step("RECONCILE_SERVICE", "hooks", "RECONCILE_SERVICE")] if reconcile else []
    steps += [
        Step("PRE_SCALE_UP", "hooks", "PRE_SCALE_UP"),
        Step("SCALE_UP", "scale"),
        Step("POST_SCALE_UP", "hooks", "POST_SCALE_UP"),
    ]
    bake = config.get("bakeTimeInMinutes")
    if strategy == "ROLLING":
        seconds = bake * 60 if bake is not None else alarm_bake
        return steps + [Step("BAKE_TIME", "wait", None, seconds), Step("CLEAN_UP", "cleanup")]
    steps += [
        Step("TEST_TRAFFIC_SHIFT", "shift-test", "TEST_TRAFFIC_SHIFT", 100.0),
        Step("POST_TEST_TRAFFIC_SHIFT", "hooks", "POST_TEST_TRAFFIC_SHIFT"),
    ]
    if strategy == "CANARY":
        canary = config["canaryConfiguration"]
        shifts = [(canary["canaryPercent"], canary["canaryBakeTimeInMinutes"] * 60), (100.0, 0)]
    elif strategy == "LINEAR":
        linear = config["linearConfiguration"]
        pct, shifts = 0.0, []
        while pct < 100.0:
            pct = min(100.0, round(pct + linear["stepPercent"], 1))
            shifts.append((pct, linear["stepBakeTimeInMinutes"] * 60 if pct < 100.0 else 0))
    else:
        shifts = [(100.0, 0)]
    for pct, wait in shifts:
        if pct <= 0:
            continue
        steps += [
            Step("PRODUCTION_TRAFFIC_SHIFT", "hooks", "PRE_PRODUCTION_TRAFFIC_SHIFT"),
            Step("PRODUCTION_TRAFFIC_SHIFT", "shift-prod", "PRODUCTION_TRAFFIC_SHIFT", pct),
        ]
        if wait:
            steps.append(Step("PRODUCTION_TRAFFIC_SHIFT", "wait", None, wait))
    return steps + [
        Step("POST_PRODUCTION_TRAFFIC_SHIFT", "hooks", "POST_PRODUCTION_TRAFFIC_SHIFT"),
        Step("BAKE_TIME", "wait", None, (bake or 0) * 60),
        Step("CLEAN_UP", "cleanup"),
    ]


def rollback_steps(rollout: Rollout) -> list[Step]:
    steps = []
    if rollout.shifts_traffic and rollout.test_weight:
        steps.append(Step("TEST_TRAFFIC_SHIFT", "shift-test", None, 0.0))
    if rollout.shifts_traffic and rollout.prod_weight:
        steps.append(Step("PRODUCTION_TRAFFIC_SHIFT", "shift-prod", None, 0.0))
    return steps + [Step("SCALE_UP", "rb-scale"), Step("CLEAN_UP", "rb-cleanup")]


class ServiceState:
    """The deployments, revisions and tasks of one moto Service."""

    def __init__(self, backend, service, now: float):
        self.backend = backend
        self.service = service
        self.t = now
        self.revisions: dict[str, Revision] = {}
        self.rollouts: list[Rollout] = []
        self.entries: list[Entry] = []
        self.tasks: list[ServiceTask] = []
        self.events: list[dict] = []
        self.launched = 0
        self.steady = False
        self._pending_events: dict = {}
        self.deleting = False

    # --- reading ------------------------------------------------------------------------------------
    @property
    def account(self) -> str:
        return self.backend.account_id

    @property
    def region(self) -> str:
        return self.backend.region_name

    @property
    def active(self) -> Rollout | None:
        r = self.rollouts[-1] if self.rollouts else None
        return r if r and r.ongoing else None

    @property
    def primary(self) -> Entry | None:
        return next((e for e in self.entries if e.status == "PRIMARY"), None)

    def tasks_of(self, entry: Entry) -> list[ServiceTask]:
        return [task for task in self.tasks if task.deployment_id in entry.ids]

    def live(self, entry: Entry, t: float) -> list[ServiceTask]:
        return [task for task in self.tasks_of(entry) if task.live_at(t)]

    def counts(self, entry: Entry, t: float | None = None) -> tuple:
        t = self.t if t is None else t
        tasks = self.tasks_of(entry)
        return (
            self.reported_desired(entry, t),
            sum(task.running_at(t) for task in tasks),
            sum(task.pending_at(t) for task in tasks),
        )

    def reported_desired(self, entry: Entry, t: float) -> int:
        if entry.status == "PRIMARY":
            return self.service.desired_count
        return max(entry.desired, len(self.live(entry, t))) if entry.desired else len(self.live(entry, t))

    def find_rollout(self, arn: str) -> Rollout | None:
        return next((r for r in self.rollouts if r.arn == arn), None)

    # --- events -------------------------------------------------------------------------------------
    def event(self, t: float, message: str) -> None:
        from moto.moto_api._internal import mock_random

        self.events.insert(
            0,
            {
                "id": str(mock_random.uuid4()),
                "createdAt": timestamp(t),
                "message": f"(service {self.service.name}) {message}",
            },
        )
        del self.events[MAX_EVENTS:]

    def _note(self, kind: str, key: str, item: str) -> None:
        self._pending_events.setdefault((kind, key), []).append(item)

    def _flush_events(self, t: float) -> None:
        for (kind, key), items in self._pending_events.items():
            tasks = " ".join(f"(task {i})" for i in items)
            n = len(items)
            message = {
                "started": f"has started {n} tasks: {tasks}.",
                "stopped": f"has stopped {n} running tasks: {tasks}.",
                "draining": f"has begun draining connections on {n} tasks.",
                "registered": f"registered {n} targets in (target-group {key})",
                "deregistered": f"deregistered {n} targets in (target-group {key})",
            }[kind]
            self.event(t, message)
        self._pending_events = {}

    # --- starting deployments -----------------------------------------------------------------------
    def new_revision(self, t: float, fields: dict, previous: Revision | None, strategy: str) -> Revision:
        svc = self.service
        td = self.backend.describe_task_definition(fields["taskDefinition"])
        images = [
            {
                "containerName": c.get("name"),
                "image": c.get("image"),
                "imageDigest": image_digest(self.account, self.region, c.get("image", "")),
            }
            for c in td.container_definitions
        ]
        rev = Revision(
            arn=f"arn:aws:ecs:{self.region}:{self.account}:service-revision/{svc.cluster_name}/"
            f"{svc.name}/{revision_id()}",
            service_arn=svc.arn,
            cluster_arn=svc.cluster_arn,
            task_definition=td.arn,
            launch_type=svc.launch_type or "FARGATE",
            requested_platform_version=fields.get("platformVersion"),
            load_balancers=fields.get("loadBalancers") or [],
            service_registries=fields.get("serviceRegistries") or [],
            network_configuration=fields.get("networkConfiguration"),
            service_connect=fields.get("serviceConnectConfiguration"),
            capacity_provider_strategy=fields.get("capacityProviderStrategy") or [],
            volume_configurations=fields.get("volumeConfigurations") or [],
            created=t,
            container_images=[{k: v for k, v in i.items() if v} for i in images],
        )
        rev.resolved = self._resolve_target_groups(rev, previous, strategy)
        self.revisions[rev.arn] = rev
        return rev

    @staticmethod
    def _resolve_target_groups(rev: Revision, previous: Revision | None, strategy: str) -> list:
        out = []
        for i, lb in enumerate(rev.load_balancers):
            primary = lb.get("targetGroupArn")
            adv = lb.get("advancedConfiguration") or {}
            alternate = adv.get("alternateTargetGroupArn")
            before = previous.resolved[i][0] if previous and i < len(previous.resolved) else None
            tg = primary
            if before in (primary, alternate) and before:
                tg = before
                if strategy in ecs_config.TRAFFIC_SHIFTING and alternate:
                    tg = alternate if before == primary else primary
            out.append((tg, lb.get("containerPort"), adv.get("productionListenerRule")))
        return out

    def start(self, t: float, revision: Revision, config: dict, desired: int) -> Rollout:
        """A new service deployment (CreateService, or an UpdateService that needs one)."""
        svc = self.service
        previous = self.active
        if previous is not None:
            previous.status = "STOPPED"
            previous.stopped = previous.updated = t
            previous.monitoring = False
            previous.hook_runs = []
            previous.status_reason = "Service deployment stopped: a newer service deployment started."
            self._freeze(previous, t)
        sources = [e for e in self.entries if self.live(e, t) or e.desired]
        for e in self.entries:
            if e not in sources:
                self.entries.remove(e)
        entry = Entry(deployment_id(), revision, t, t, desired=0)
        for e in sources:
            e.status = "ACTIVE"
            e.updated = t
        self.entries.insert(0, entry)
        alarms = config.get("alarms") or {}
        names = list(alarms.get("alarmNames") or []) if alarms.get("enable") else []
        arn = (
            f"arn:aws:ecs:{self.region}:{self.account}:service-deployment/{svc.cluster_name}/{svc.name}/{rollout_id()}"
        )
        rollout = Rollout(
            arn=arn,
            service_arn=svc.arn,
            cluster_arn=svc.cluster_arn,
            created=t,
            target=entry,
            sources=sources,
            config=config,
            desired=desired,
            strategy=config.get("strategy", "ROLLING"),
            updated=t,
            alarm_names=names,
            alarm_status="MONITORING" if names else "DISABLED",
        )
        threshold = circuit_breaker_threshold(config.get("deploymentCircuitBreaker"), desired)
        rollout.cb_threshold = threshold
        rollout.cb_status = "MONITORING" if threshold is not None else "DISABLED"
        rollout.steps = plan_steps(config, reconcile=len(sources) > 1, alarm_bake=self._alarm_window(names))
        self.rollouts.append(rollout)
        self.steady = False
        return rollout

    def _alarm_window(self, names: list) -> float:
        """ECS's own bake time for a rolling deployment watched by alarms: their evaluation window."""
        cw = cloudwatch_backends[self.account][self.region]
        windows = [(a.period or 60) * (a.evaluation_periods or 1) for n in names if (a := cw.alarms.get(n))]
        return float(max(windows, default=0))

    def scale(self, t: float, desired: int) -> None:
        r = self.active
        if r is None:
            if self.primary:
                self.primary.desired = desired
                self.primary.updated = t
            self.steady = False
            return
        r.desired = desired
        if r.target.desired:
            r.target.desired = desired
        if r.shifts_traffic and (r.stage or "") != "CLEAN_UP":
            for e in r.sources:
                if e.desired:
                    e.desired = desired
        if r.rollback_entry:
            r.rollback_entry.desired = desired

    # --- advancing ----------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        self._observe_alarms(now)
        for _ in range(100000):
            t = self._next_time()
            if t is None or t > now:
                break
            self._step(t)
        self._step(max(now, self.t))

    def _next_time(self) -> float | None:
        after = self.t
        times = []
        for task in self.tasks:
            if task.stopped is not None and task.stopped <= after:
                continue
            times += task.milestones()
        for e in self.entries:
            if e.relaunch_at > after:
                times.append(e.relaunch_at)
        r = self.active
        if r is not None:
            times += [x for x in (r.created + CLOCK.span(PENDING_SECONDS), r.step_due, r.request_due) if x]
            for run in r.hook_runs:
                times += run.times()
            times += [began for _, began in r.alarm_episodes.values()]
        later = [x for x in times if x > after]
        return min(later) if later else None

    def _step(self, t: float) -> None:
        self.t = max(self.t, t)
        t = self.t
        for _ in range(1000):
            changed = self._task_effects(t)
            changed |= self._rollout(t)
            changed |= self._schedule(t)
            changed |= self._housekeeping(t)
            if not changed:
                break
        self._flush_events(t)

    # --- tasks --------------------------------------------------------------------------------------
    def _entry_of(self, task: ServiceTask) -> Entry | None:
        return next((e for e in self.entries if task.deployment_id in e.ids), None)

    def _task_effects(self, t: float) -> bool:
        changed = False
        for task in self.tasks:
            marks = task.__dict__.setdefault("_seen", set())
            if (
                "running" not in marks
                and task.plan.running is not None
                and task.plan.running <= t
                and (task.stop_requested is None or task.stop_requested > task.plan.running)
            ):
                marks.add("running")
                for arn in task.register_targets():
                    self._note("registered", arn, task.id)
                changed = True
            if "healthy" not in marks and task.plan.healthy is not None and task.plan.healthy <= t and task.live_at(t):
                marks.add("healthy")
                entry = self._entry_of(task)
                if entry is not None:
                    entry.consecutive_failures = 0
                    cb = (self._rollout_config_for(entry) or {}).get("deploymentCircuitBreaker") or {}
                    if cb.get("resetOnHealthyTask", True):
                        entry.failed_tasks = 0
                        r = self.active
                        if r is not None and entry is r.target:
                            r.cb_failures = 0
                changed = True
            if "stop" not in marks and task.stop_requested is not None and task.stop_requested <= t:
                marks.add("stop")
                deregistered = task.deregister_targets()
                if deregistered and not task.failed:
                    self._note("draining", "", task.id)
                for arn in deregistered:
                    self._note("deregistered", arn, task.id)
                if task.failed:
                    self._count_failure(task, t)
                changed = True
            if "stopped" not in marks and task.stopped is not None and task.stopped <= t:
                marks.add("stopped")
                task.release_network_interface()
                changed = True
        return changed

    def _rollout_config_for(self, entry: Entry) -> dict | None:
        for r in reversed(self.rollouts):
            if r.target is entry or r.rollback_entry is entry:
                return r.config
        return None

    def _count_failure(self, task: ServiceTask, t: float) -> None:
        entry = self._entry_of(task)
        if entry is None:
            return
        entry.failed_tasks += 1
        entry.consecutive_failures += 1
        entry.updated = t
        over = max(0, entry.consecutive_failures - max(1, entry.desired))
        entry.relaunch_at = t + CLOCK.span(min(RELAUNCH_CAP, 10 * (2**over))) if over else t
        r = self.active
        if r is not None and (entry is r.target or entry is r.rollback_entry):
            r.cb_failures += 1
            r.updated = t
        if entry.consecutive_failures >= 3 and not entry.warned_unstable:
            entry.warned_unstable = True
            self.event(
                t,
                "is unable to consistently start tasks successfully. For more information, see the "
                "Troubleshooting section of the Amazon ECS Developer Guide.",
            )

    def _drain_seconds(self, revision: Revision) -> float:
        elbv2 = elbv2_backends[self.account][self.region]
        delays = []
        for tg_arn, _, _ in revision.resolved:
            tg = elbv2.target_groups.get(tg_arn)
            if tg is not None:
                delays.append(float(tg.attributes.get("deregistration_delay.timeout_seconds", 300)))
        return CLOCK.span(max(delays, default=0.0))

    def _health_delays(self, revision: Revision, td) -> tuple[float, float]:
        elbv2 = elbv2_backends[self.account][self.region]
        healthy, unhealthy = 0.0, 0.0
        for tg_arn, _, _ in revision.resolved:
            tg = elbv2.target_groups.get(tg_arn)
            if tg is not None:
                interval = float(tg.health_check_interval_seconds or 30)
                healthy = max(healthy, float(tg.healthy_threshold_count or 5) * interval)
                unhealthy = max(unhealthy, float(tg.unhealthy_threshold_count or 2) * interval)
        for c in td.container_definitions:
            check = c.get("healthCheck")
            if check:
                interval = float(check.get("interval", DEFAULT_CONTAINER_HEALTH_INTERVAL))
                healthy = max(healthy, interval)
                unhealthy = max(unhealthy, float(check.get("startPeriod", 0)) + interval * check.get("retries", 3))
        grace = float(getattr(self.service, "health_check_grace_period_seconds", None) or 0)
        return healthy, max(unhealthy, grace, 30.0)

    def _launch(self, entry: Entry, t: float, n: int) -> None:
        rev = entry.revision
        td = self.backend.describe_task_definition(rev.task_definition)
        healthy, unhealthy = self._health_delays(rev, td)
        cluster = self.backend._get_cluster(self.service.cluster_name)
        for _ in range(n):
            plan = plan_for(td, self.account, self.region, t, healthy, unhealthy)
            if plan.stop_code == "ServiceSchedulerInitiated" and plan.stop_reason is None:
                tg = rev.resolved[0][0] if rev.resolved else None
                plan.stop_reason = (
                    f"Task failed ELB health checks in (target-group {tg})"
                    if tg
                    else "Task failed container health checks"
                )
            task = ServiceTask(
                backend=self.backend,
                cluster=cluster,
                task_definition=td,
                service=self.service,
                deployment_id=entry.id,
                subnet_index=self.launched,
                plan=plan,
                launched=t,
                lb_targets=[(tg, port) for tg, port, _ in rev.resolved if tg],
            )
            self.launched += 1
            self.backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
            self.tasks.append(task)
            self._note("started", "", task.id)
        entry.updated = t

    def _stop(
        self,
        task: ServiceTask,
        t: float,
        entry: Entry,
        reason: str | None = None,
        code: str = "ServiceSchedulerInitiated",
    ) -> None:
        task.request_stop(
            t,
            code,
            reason or f"Scaling activity initiated by (deployment {entry.id})",
            self._drain_seconds(entry.revision),
        )
        if code == "ServiceSchedulerInitiated":
            self._note("stopped", "", task.id)
        entry.updated = t

    def stop_task(self, task: ServiceTask, t: float, reason: str) -> None:
        """StopTask on one of the service's tasks: it stops, and the scheduler replaces it."""
        entry = self._entry_of(task)
        if entry is not None and task.live_at(t):
            self._stop(task, t, entry, reason or "Task stopped by user", code="UserInitiated")

    def _schedule(self, t: float) -> bool:
        changed = False
        r = self.active
        rolling = r is not None and r.strategy == "ROLLING" and r.status == "IN_PROGRESS"
        desired = r.desired if r is not None else self.service.desired_count
        max_total = math.floor(desired * r.config.get("maximumPercent", 200) / 100) if rolling else None
        min_healthy = math.ceil(desired * r.config.get("minimumHealthyPercent", 100) / 100) if rolling else 0
        for entry in list(self.entries):
            live = self.live(entry, t)
            if len(live) > entry.desired:
                extra = sorted(live, key=lambda task: (task.healthy_at(t), task.running_at(t), -task.launched))
                extra = extra[: len(live) - entry.desired]
                for task in extra:
                    if rolling and entry is not r.target and task.healthy_at(t):
                        healthy = sum(x.healthy_at(t) for x in self.tasks if x.live_at(t))
                        if healthy - 1 < min_healthy:
                            continue
                    self._stop(task, t, entry)
                    changed = True
            elif len(live) < entry.desired and not entry.blocked and t >= entry.relaunch_at:
                n = entry.desired - len(live)
                if rolling:
                    total = sum(1 for x in self.tasks if x.live_at(t))
                    n = min(n, max(0, max_total - total))
                if n > 0:
                    self._launch(entry, t, n)
                    changed = True
        return changed

    # --- the service deployment ---------------------------------------------------------------------
    def _observe_alarms(self, now: float) -> None:
        r = self.active
        if r is None or not r.alarm_names or not r.monitoring:
            return
        cw = cloudwatch_backends[self.account][self.region]
        for name in r.alarm_names:
            alarm = cw.alarms.get(name)
            if alarm is not None and alarm.state_value == "ALARM":
                seen = r.alarm_episodes.get(name)
                if seen is None or seen[0] != alarm.state_updated_timestamp:
                    began = max(CLOCK.from_wall(alarm.state_updated_timestamp.timestamp()), r.created)
                    r.alarm_episodes[name] = (alarm.state_updated_timestamp, min(began, now))
            elif name not in r.triggered:
                r.alarm_episodes.pop(name, None)

    def _rollout(self, t: float) -> bool:
        r = self.active
        if r is None:
            return False
        changed = False
        if r.status == "PENDING" and t >= r.created + CLOCK.span(PENDING_SECONDS):
            r.status, r.started, r.updated = "IN_PROGRESS", t, t
            self._enter(r, 0, t)
            changed = True
        if r.status == "ROLLBACK_REQUESTED" and t >= (r.request_due or t):
            self._begin_rollback(r, t, r.rollback["reason"], r.status_reason)
            changed = True
        if r.status == "STOP_REQUESTED" and t >= (r.request_due or t):
            self._stop_in_place(r, t, r.status_reason)
            return True
        if r.status == "IN_PROGRESS" and r.monitoring:
            fired = sorted(n for n, (_, began) in r.alarm_episodes.items() if began <= t)
            if fired:
                r.triggered = fired
                r.alarm_status = "TRIGGERED"
                names = ", ".join(fired)
                self._fail(
                    r,
                    t,
                    rollback=(r.config.get("alarms") or {}).get("rollback", False),
                    entry_reason=f"ECS deployment {r.target.id} failed: CloudWatch alarm(s) in ALARM: {names}.",
                    status_reason=f"Service deployment rolled back because the CloudWatch alarm(s) {names} "
                    "went into ALARM."
                    if (r.config.get("alarms") or {}).get("rollback")
                    else f"Service deployment failed because the CloudWatch alarm(s) {names} went into ALARM.",
                    event=f"(deployment {r.target.id}) deployment failed: alarm(s) detected: {names}.",
                    cause="alarms",
                )
                return True
            if r.cb_threshold is not None and r.cb_failures >= r.cb_threshold:
                r.cb_status = "TRIGGERED"
                rollback = (r.config.get("deploymentCircuitBreaker") or {}).get("rollback", False)
                self._fail(
                    r,
                    t,
                    rollback=rollback,
                    entry_reason="ECS deployment circuit breaker: tasks failed to start.",
                    status_reason="Service deployment rolled back because the circuit breaker threshold was exceeded."
                    if rollback
                    else "Service deployment failed because the circuit breaker threshold was exceeded.",
                    event=f"(deployment {r.target.id}) deployment failed: tasks failed to start.",
                    cause="circuit breaker",
                )
                return True
        if (
            r.status == "ROLLBACK_IN_PROGRESS"
            and r.rollback_entry is not None
            and r.cb_threshold is not None
            and r.rollback_entry.consecutive_failures >= r.cb_threshold
        ):
            self._rollback_failed(r, t, "the tasks of the revision rolled back to failed to start")
            return True
        payload = self._hook_payload(r)
        for run in r.hook_runs:
            if run.advance(t, payload):
                changed = True
                r.updated = t
        failed = next((run for run in r.hook_runs if run.failed), None)
        if failed is not None and r.status == "IN_PROGRESS":
            self._fail(
                r,
                t,
                rollback=True,
                entry_reason=f"ECS deployment {r.target.id} failed: lifecycle hook "
                f"{failed.hook_id} {failed.status} at {failed.stage}.",
                status_reason=f"Service deployment rolled back: {failed.reason}.",
                event=f"(deployment {r.target.id}) deployment failed: lifecycle hook {failed.stage} {failed.status}.",
                cause="hook",
            )
            return True
        while r.status in ("IN_PROGRESS", "ROLLBACK_IN_PROGRESS") and self._step_done(r, t):
            if r.step_index + 1 >= len(r.steps):
                self._finish(r, t)
            else:
                self._enter(r, r.step_index + 1, t)
            changed = True
        return changed

    def _hook_payload(self, r: Rollout) -> dict:
        main = r.sources[0].revision.arn if r.sources else None
        prod = {r.target.revision.arn: r.prod_weight}
        test = {r.target.revision.arn: r.test_weight}
        if main:
            prod[main], test[main] = 100.0 - r.prod_weight, 100.0 - r.test_weight
        return {
            "serviceArn": r.service_arn,
            "targetServiceRevisionArn": r.target.revision.arn,
            "testTrafficWeights": test,
            "productionTrafficWeights": prod,
        }

    def _enter(self, r: Rollout, index: int, t: float) -> None:
        r.step_index, r.step_started, r.updated = index, t, t
        step = r.step
        r.step_due = None
        hooks = (r.config.get("lifecycleHooks") or []) if r.status == "IN_PROGRESS" else []
        r.hook_runs = ecs_hooks.runs_for(hooks, step.hook_stage, t) if step.hook_stage else []
        if step.kind == "scale":
            r.target.desired = r.desired
            if r.strategy == "ROLLING":
                for e in r.sources:
                    e.desired = 0
        elif step.kind in ("shift-test", "shift-prod"):
            if step.kind == "shift-test":
                r.test_weight = step.value
            else:
                r.prod_weight = step.value
            self._apply_weights(r, step.kind)
            r.step_due = t + CLOCK.span(
                SHIFT_SECONDS if self._has_rule(r, step.kind) or step.kind == "shift-prod" else 0
            )
        elif step.kind == "wait":
            r.step_due = t + CLOCK.span(step.value)
        elif step.kind == "cleanup":
            r.monitoring = False  # alarms and the circuit breaker watch until the bake time ends
            for e in r.sources:
                e.desired = 0
        elif step.kind == "rb-scale":
            r.rollback_entry.desired = r.desired
        elif step.kind == "rb-cleanup":
            r.target.desired = 0

    def _step_done(self, r: Rollout, t: float) -> bool:
        step = r.step
        if step is None:
            return True
        if r.hook_runs and not all(run.done for run in r.hook_runs):
            return False
        if r.step_due is not None and t < r.step_due:
            return False
        if step.kind == "scale":
            ready = sum(task.healthy_at(t) for task in self.live(r.target, t)) >= r.target.desired
            if r.strategy == "ROLLING":
                ready = ready and not any(self.live(e, t) for e in r.sources)
            return ready
        if step.kind == "cleanup":
            return all(task.status_at(t) == "STOPPED" for e in r.sources for task in self.tasks_of(e))
        if step.kind == "rb-scale":
            e = r.rollback_entry
            return sum(task.healthy_at(t) for task in self.live(e, t)) >= e.desired
        if step.kind == "rb-cleanup":
            return all(task.status_at(t) == "STOPPED" for task in self.tasks_of(r.target))
        return True

    def _has_rule(self, r: Rollout, kind: str) -> bool:
        key = "testListenerRule" if kind == "shift-test" else "productionListenerRule"
        return any((lb.get("advancedConfiguration") or {}).get(key) for lb in r.target.revision.load_balancers)

    def _apply_weights(self, r: Rollout, kind: str) -> None:
        """Point the listener rules' forward actions at blue and green with the requested weights, as ECS does."""
        if not r.shifts_traffic or not r.sources:
            return
        elbv2 = elbv2_backends[self.account][self.region]
        blue_rev, green_rev = r.sources[0].revision, r.target.revision
        pct = r.test_weight if kind == "shift-test" else r.prod_weight
        for i, lb in enumerate(green_rev.load_balancers):
            adv = lb.get("advancedConfiguration") or {}
            rule = ecs_config.find_rule(
                elbv2, adv.get("testListenerRule" if kind == "shift-test" else "productionListenerRule") or ""
            )
            if rule is None or i >= len(blue_rev.resolved) or i >= len(green_rev.resolved):
                continue
            blue, green = blue_rev.resolved[i][0], green_rev.resolved[i][0]
            if pct >= 100:
                weights = [(blue, 0), (green, 1)]
            elif pct <= 0:
                weights = [(blue, 1), (green, 0)]
            else:
                weights = [(blue, 1000 - round(pct * 10)), (green, round(pct * 10))]
            action = FakeAction(
                {
                    "Type": "forward",
                    "Order": 1,
                    "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg, "Weight": w} for tg, w in weights]},
                }
            )
            actions = getattr(rule, "actions", None)
            if actions is None:
                continue
            others = [a for a in actions if a.type != "forward"]
            rule.actions = [action] + others
            if hasattr(rule, "default_actions"):
                rule.default_actions = rule.actions

    def _fail(
        self, r: Rollout, t: float, *, rollback: bool, entry_reason: str, status_reason: str, event: str, cause: str
    ) -> None:
        self.event(t, event)
        r.target.rollout_state = "FAILED"
        r.target.reason = entry_reason
        r.target.updated = t
        if cause == "circuit breaker" and r.cb_status != "TRIGGERED":
            r.cb_status = "TRIGGERED"
        if rollback:
            self._begin_rollback(r, t, f"{cause}: {entry_reason}", status_reason)
        else:
            self._stop_in_place(r, t, status_reason)

    def _stop_in_place(self, r: Rollout, t: float, status_reason: str | None) -> None:
        r.status, r.stopped, r.updated = "STOPPED", t, t
        r.status_reason = status_reason
        r.monitoring = False
        r.hook_runs = []
        if r.target.rollout_state != "FAILED":
            r.target.rollout_state = "FAILED"
            r.target.reason = f"ECS deployment {r.target.id} stopped."
        r.target.blocked = True
        for e in r.sources:
            e.desired = len(self.live(e, t))
        self._close_monitors(r)
        self._freeze(r, t)

    def _last_good_revision(self, r: Rollout) -> Entry | None:
        good = [x for x in self.rollouts if x.status == "SUCCESSFUL" and x is not r]
        back = [x for x in self.rollouts if x.status == "ROLLBACK_SUCCESSFUL" and x is not r]
        last = max(good + back, key=lambda x: x.finished or 0, default=None)
        if last is None:
            return None
        revision = last.target.revision if last.status == "SUCCESSFUL" else last.rollback_entry.revision
        match = next((e for e in r.sources if e.revision is revision), None)
        return match if match is not None else Entry(deployment_id(), revision, self.t, self.t)

    def _begin_rollback(self, r: Rollout, t: float, reason: str, status_reason: str | None) -> None:
        back_to = self._last_good_revision(r)
        r.hook_runs = []
        r.monitoring = False
        if back_to is None:
            r.rollback = {"reason": reason, "startedAt": t, "serviceRevisionArn": r.target.revision.arn}
            self._rollback_failed(r, t, "there is no earlier service revision that deployed successfully")
            return
        entry = Entry(
            deployment_id(),
            back_to.revision,
            t,
            t,
            desired=r.desired,
            reason=f"ECS deployment {'circuit breaker' if reason.startswith('circuit') else 'rollback'}: "
            f"rolling back to deploymentId {back_to.id}.",
        )
        entry.ids |= back_to.ids
        if back_to in self.entries:
            self.entries.remove(back_to)
        for e in self.entries:
            e.status = "ACTIVE"
            if e is not r.target:
                e.desired = 0
        self.entries.insert(0, entry)
        r.target.blocked = True
        r.target.status = "ACTIVE"
        if r.target.rollout_state != "FAILED":
            r.target.rollout_state = "FAILED"
            r.target.reason = f"ECS deployment {r.target.id} rolled back: {reason}"
        r.rollback_entry = entry
        r.rollback = {"reason": reason, "startedAt": t, "serviceRevisionArn": back_to.revision.arn}
        r.status, r.updated = "ROLLBACK_IN_PROGRESS", t
        r.status_reason = status_reason
        r.steps = rollback_steps(r)
        self._close_monitors(r)
        self.service.task_definition = back_to.revision.task_definition
        self.event(t, f"rolling back to deployment {back_to.id}.")
        self._enter(r, 0, t)

    def _rollback_failed(self, r: Rollout, t: float, why: str) -> None:
        r.status, r.finished, r.updated = "ROLLBACK_FAILED", t, t
        r.status_reason = f"Service deployment rollback failed: {why}."
        r.hook_runs = []
        r.monitoring = False
        if r.rollback_entry is not None:
            r.rollback_entry.rollout_state = "FAILED"
            r.rollback_entry.reason = f"ECS deployment {r.rollback_entry.id} failed: {why}."
            r.rollback_entry.blocked = True
        self._close_monitors(r)
        self._freeze(r, t)

    def _close_monitors(self, r: Rollout) -> None:
        if r.cb_status == "MONITORING":
            r.cb_status = "MONITORING_COMPLETE"
        if r.alarm_status == "MONITORING":
            r.alarm_status = "MONITORING_COMPLETE"

    def _finish(self, r: Rollout, t: float) -> None:
        r.hook_runs = []
        r.monitoring = False
        if r.status == "ROLLBACK_IN_PROGRESS":
            r.status = "ROLLBACK_SUCCESSFUL"
            done = r.rollback_entry
            if r.target in self.entries:
                self.entries.remove(r.target)
        else:
            r.status = "SUCCESSFUL"
            done = r.target
            for e in r.sources:
                if e in self.entries:
                    self.entries.remove(e)
        r.finished = r.updated = t
        r.step_index = len(r.steps)
        self._close_monitors(r)
        done.rollout_state = "COMPLETED"
        done.reason = f"ECS deployment {done.id} completed."
        done.updated = t
        self._freeze(r, t)
        self.event(t, f"(deployment {done.id}) deployment completed.")

    def _freeze(self, r: Rollout, t: float) -> None:
        entries = r.sources + [r.target] + ([r.rollback_entry] if r.rollback_entry else [])
        r.frozen = {e.revision.arn: self.counts(e, t) for e in entries}

    # --- requests on a running deployment -----------------------------------------------------------
    def request_stop(self, r: Rollout, t: float, stop_type: str) -> None:
        if r.status in ("STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
            return
        r.updated = t
        r.request_due = t + CLOCK.span(REQUEST_SECONDS)
        if stop_type == "ABORT":
            r.status = "STOP_REQUESTED"
            r.status_reason = "Service deployment stopped by StopServiceDeployment (ABORT)."
        else:
            r.status = "ROLLBACK_REQUESTED"
            r.rollback = {
                "reason": "StopServiceDeployment requested a rollback.",
                "startedAt": t,
                "serviceRevisionArn": (self._last_good_revision(r) or r.target).revision.arn,
            }
            r.status_reason = "Service deployment rolled back by StopServiceDeployment (ROLLBACK)."
            r.monitoring = False
            r.target.rollout_state = "FAILED"
            r.target.reason = f"ECS deployment {r.target.id} stopped: a rollback was requested."
        r.hook_runs = []

    def delete(self, t: float) -> None:
        self.deleting = True
        r = self.active
        if r is not None:
            r.status, r.stopped, r.updated = "STOPPED", t, t
            r.status_reason = "Service deployment stopped: the service was deleted."
            r.monitoring = False
            r.hook_runs = []
        for e in self.entries:
            e.desired = 0
            e.blocked = True

    # --- bookkeeping --------------------------------------------------------------------------------
    def _housekeeping(self, t: float) -> bool:
        changed = False
        if self.active is None and not self.deleting:
            for e in list(self.entries):
                if (
                    e.status != "PRIMARY"
                    and not self.live(e, t)
                    and all(task.status_at(t) == "STOPPED" for task in self.tasks_of(e))
                ):
                    self.entries.remove(e)
                    changed = True
            primary = self.primary
            steady = (
                primary is not None
                and len(self.entries) == 1
                and primary.rollout_state == "COMPLETED"
                and sum(task.healthy_at(t) for task in self.live(primary, t)) == primary.desired
                and len(self.live(primary, t)) == primary.desired
                and all(task.live_at(t) or task.status_at(t) == "STOPPED" for task in self.tasks)
            )
            if steady and not self.steady:
                self.event(t, "has reached a steady state.")
            if steady != self.steady:
                self.steady = steady
                changed = True
        if (
            self.deleting
            and self.service.status != "INACTIVE"
            and all(task.status_at(t) == "STOPPED" for task in self.tasks)
        ):
            self.service.status = "INACTIVE"
            self.entries = []
            self.rollouts = []
            changed = True
        stopped = [
            task
            for task in self.tasks
            if task.status_at(t) == "STOPPED" and "stopped" in task.__dict__.get("_seen", set())
        ]
        if len(stopped) > KEEP_STOPPED:
            for task in sorted(stopped, key=lambda x: x.stopped)[: len(stopped) - KEEP_STOPPED]:
                self.tasks.remove(task)
                self.backend.tasks.get(self.service.cluster_name, {}).pop(task.task_arn, None)
        return changed

    def publish(self) -> None:
        """Write what DescribeServices shows onto moto's Service."""
        svc, t = self.service, self.t
        order = sorted(self.entries, key=lambda e: (e.status != "PRIMARY", -e.created))
        svc.deployments = [e.view(*self._counts_for_view(e, t)) for e in order]
        svc.running_count = sum(task.running_at(t) for task in self.tasks)
        svc.pending_count = sum(task.pending_at(t) for task in self.tasks)
        svc.events = list(self.events)
        if self.rollouts:
            svc.current_service_deployment = self.rollouts[-1].arn
        svc.current_service_revisions = [
            {"arn": e.revision.arn, "requestedTaskCount": c[0], "runningTaskCount": c[1], "pendingTaskCount": c[2]}
            for e in order
            for c in [self.counts(e, t)]
        ]

    def _counts_for_view(self, e: Entry, t: float) -> tuple:
        desired, running, pending = self.counts(e, t)
        return running, pending, desired
