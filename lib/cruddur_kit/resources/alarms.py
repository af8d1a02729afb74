"""The CloudWatch alarms a service's deployments watch (aws/json/alarms/<service>.json, PutMetricAlarm inputs).

ECS rolls a deployment back when an alarm named in deploymentConfiguration.alarms is in ALARM between the
deployment's start and the end of its bake time; setup creates them after the target groups, whose
dimensions they read. PutMetricAlarm replaces an alarm whole, so a drifted one is simply put again.
"""

from __future__ import annotations

from .. import spec as speclib
from .. import templates
from ..errors import KitError
from ..kit import Kit

# what setup compares with the live alarm (the rest is AWS's bookkeeping)
COMPARED = (
    "AlarmDescription",
    "Metrics",
    "MetricName",
    "Namespace",
    "Statistic",
    "Dimensions",
    "Period",
    "Threshold",
    "ComparisonOperator",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "TreatMissingData",
)


def specs(kit: Kit, s: speclib.ServiceSpec) -> list[dict]:
    if s.alarms_path is None:
        return []
    return templates.render(s.alarms_path, kit.vars.for_service(s))["alarms"]


def names(s: speclib.ServiceSpec) -> list[str]:
    """The alarm names a service's alarm spec defines (read without rendering: no AWS look-ups)."""
    if s.alarms_path is None:
        return []
    return [a["AlarmName"] for a in templates.load(s.alarms_path)["alarms"]]


def _same(live: dict, wanted: dict) -> bool:
    return all(_norm(live.get(k)) == _norm(wanted[k]) for k in COMPARED if k in wanted)


def _norm(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def ensure(kit: Kit, services: list[speclib.ServiceSpec]) -> None:
    cw = kit.client("cloudwatch")
    for s in services:
        if s.alarms_path is None:
            continue
        try:
            wanted = specs(kit, s)
        except (KeyError, KitError):
            if not kit.dry_run:
                raise
            for name in names(s):  # a dry run on an empty account: the target groups are not there to read
                kit.report("created", "cloudwatch-alarm", name, "once its target groups exist")
            continue
        live = {
            a["AlarmName"]: a
            for a in cw.describe_alarms(AlarmNames=[a["AlarmName"] for a in wanted], AlarmTypes=["MetricAlarm"])[
                "MetricAlarms"
            ]
        }
        for alarm in wanted:
            name = alarm["AlarmName"]
            current = live.get(name)
            if current is not None and _same(current, alarm):
                kit.report("unchanged", "cloudwatch-alarm", name)
                continue
            if not kit.dry_run:
                cw.put_metric_alarm(**alarm)
            kit.report(
                "created" if current is None else "updated",
                "cloudwatch-alarm",
                name,
                f"watched by {s.name}'s deployments",
            )


def delete(kit: Kit, services: list[speclib.ServiceSpec]) -> None:
    cw = kit.client("cloudwatch")
    wanted = [n for s in services for n in names(s)]
    if not wanted:
        return
    live = {a["AlarmName"] for a in cw.describe_alarms(AlarmNames=wanted)["MetricAlarms"]}
    for name in wanted:
        if name not in live:
            kit.report("absent", "cloudwatch-alarm", name)
            continue
        if not kit.dry_run:
            cw.delete_alarms(AlarmNames=[name])
        kit.report("deleted", "cloudwatch-alarm", name)


def remaining(kit: Kit, services: list[speclib.ServiceSpec]) -> list[str]:
    wanted = [n for s in services for n in names(s)]
    if not wanted:
        return []
    return sorted(a["AlarmName"] for a in kit.client("cloudwatch").describe_alarms(AlarmNames=wanted)["MetricAlarms"])
