"""Target-tracking autoscaling on CPU for a service (aws/json/scaling/<service>.json).

Application Auto Scaling needs the ECS service to exist: bin/backend/deploy applies it after creating
the service; bin/aws/setup applies it to services that already exist.
"""

from __future__ import annotations

from .. import spec as speclib
from .. import templates
from ..kit import Kit


def ensure(kit: Kit, s: speclib.ServiceSpec) -> None:
    if s.scaling_path is None:
        return
    aas = kit.client("application-autoscaling")
    doc = templates.render(s.scaling_path, kit.vars.for_service(s))
    target, policy = doc["scalableTarget"], doc["policy"]
    label = f"{s.name} cpu"
    current = aas.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[target["ResourceId"]], ScalableDimension=target["ScalableDimension"]
    )["ScalableTargets"]
    policies = aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=target["ResourceId"], ScalableDimension=target["ScalableDimension"]
    )["ScalingPolicies"]
    existing = next((p for p in policies if p["PolicyName"] == policy["PolicyName"]), None)
    same_target = current and all(current[0].get(k) == target[k] for k in ("MinCapacity", "MaxCapacity"))
    wanted_cfg = policy["TargetTrackingScalingPolicyConfiguration"]
    same_policy = existing and all(
        existing.get("TargetTrackingScalingPolicyConfiguration", {}).get(k) == v for k, v in wanted_cfg.items()
    )
    if same_target and same_policy:
        kit.report("unchanged", "autoscaling", label)
        return
    if not kit.dry_run:
        aas.register_scalable_target(**target)
        aas.put_scaling_policy(**policy)
    status = "created" if not current else "updated"
    kit.report(
        status,
        "autoscaling",
        label,
        f"{target['MinCapacity']}-{target['MaxCapacity']} tasks at {wanted_cfg['TargetValue']:g}% CPU",
    )


def delete(kit: Kit, s: speclib.ServiceSpec) -> None:
    aas = kit.client("application-autoscaling")
    resource = f"service/{kit.vars['CLUSTER_NAME']}/{s.name}"
    current = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    if not current:
        kit.report("absent", "autoscaling", f"{s.name} cpu")
        return
    if not kit.dry_run:
        for p in aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]:
            aas.delete_scaling_policy(
                PolicyName=p["PolicyName"],
                ServiceNamespace="ecs",
                ResourceId=resource,
                ScalableDimension=p["ScalableDimension"],
            )
        aas.deregister_scalable_target(
            ServiceNamespace="ecs", ResourceId=resource, ScalableDimension="ecs:service:DesiredCount"
        )
    kit.report("deleted", "autoscaling", f"{s.name} cpu")
