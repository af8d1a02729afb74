"""Service, load balancer, target group, scaling and capacity specs: API shapes and how they fit together."""

from __future__ import annotations

from .. import shapes
from ..model import NG, SKIP, WARN
from ..ports import image_ports, where
from ..registry import rule


@rule("shape.create-service", "service", seed="issue 6: the API model")
def service_shape(spec, specs):
    """The file is a valid CreateService input.

    Fix: Correct the key, type or value the finding names (CreateService in the AWS API model).
    """
    yield from shapes.validate(spec.doc, "ecs", "CreateService")


@rule("service.network", "service", seed="seed 000 §6 step 6.5; field notes: awsvpc needs awsvpcConfiguration")
def network(spec, specs):
    """awsvpcConfiguration with subnets and security groups; FARGATE launch type or capacity providers.

    Fix: Give awsvpcConfiguration subnets in two AZs and the service security group; use FARGATE or capacity
    providers, not both.
    """
    doc = spec.doc
    vpc = (doc.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not isinstance(vpc, dict):
        yield NG(
            "$.networkConfiguration.awsvpcConfiguration",
            "no awsvpcConfiguration: Fargate services need one",
            "add subnets, securityGroups and assignPublicIp",
        )
    else:
        if not vpc.get("subnets"):
            yield NG("$.networkConfiguration.awsvpcConfiguration.subnets", "no subnets", "name subnets in two AZs")
        if not vpc.get("securityGroups"):
            yield NG(
                "$.networkConfiguration.awsvpcConfiguration.securityGroups",
                "no security groups: the VPC default group does not admit the ALB",
                "use the service security group (${SERVICE_SG_ID})",
            )
    if doc.get("launchType") and doc.get("capacityProviderStrategy"):
        yield NG("$.launchType", "launchType and capacityProviderStrategy together are refused", "keep one of them")
    elif doc.get("launchType", "FARGATE") != "FARGATE" and not doc.get("capacityProviderStrategy"):
        yield NG("$.launchType", f"launchType {doc.get('launchType')!r}", 'use "FARGATE"')


@rule("service.deployment", "service", seed="field notes: users ask 2 (circuit breaker rollback)")
def deployment(spec, specs):
    """Circuit breaker with rollback, and percentages that let a rolling deployment progress.

    Fix: Turn on deploymentCircuitBreaker with rollback; use minimumHealthyPercent 100 with maximumPercent 200.
    """
    dc = spec.doc.get("deploymentConfiguration") or {}
    cb = dc.get("deploymentCircuitBreaker") or {}
    if not (cb.get("enable") and cb.get("rollback")):
        yield WARN(
            "$.deploymentConfiguration.deploymentCircuitBreaker",
            "no circuit breaker with rollback: a broken image keeps cycling tasks",
            'set {"enable": true, "rollback": true}',
        )
    lo, hi = dc.get("minimumHealthyPercent", 100), dc.get("maximumPercent", 200)
    if hi <= lo or (hi <= 100 and lo >= 100):
        yield NG(
            "$.deploymentConfiguration.maximumPercent",
            f"maximumPercent {hi} with minimumHealthyPercent {lo} leaves no room to start a new task",
            "use minimumHealthyPercent 100 with maximumPercent 200 (or lower the minimum)",
        )


@rule("service.task-definition", "service", seed="issue 6: cross-file (service container name/port)")
def service_task(spec, specs):
    """The task definition exists; load balancer container name/port and Service Connect ports match it.

    Fix: Point the service at a task definition in aws/json and at its container's name and port.
    """
    doc = spec.doc
    family = str(doc.get("taskDefinition", "")).split(":")[0].rsplit("/", 1)[-1]
    td = specs.task_definition(family)
    if td is None and (broken := specs.unparsed("task-definition")):
        yield SKIP("$.taskDefinition", f"{broken.rel} does not parse: checked once it does")
        return
    if td is None:
        yield NG(
            "$.taskDefinition",
            f"no task definition with family {family!r} in aws/json/task-definitions",
            f"add task-definitions/{family}.json or fix taskDefinition",
        )
        return
    containers = {c.get("name"): c for c in td.doc.get("containerDefinitions") or [] if isinstance(c, dict)}
    port_names = {pm.get("name") for c in containers.values() for pm in c.get("portMappings") or []}
    target = specs.target_for(spec)
    tg_port = ((target.doc or {}).get("targetGroup") or {}).get("Port") if target else None
    for i, lb in enumerate(doc.get("loadBalancers") or []):
        path = f"$.loadBalancers[{i}]"
        name, port = lb.get("containerName"), lb.get("containerPort")
        if name not in containers:
            yield NG(
                f"{path}.containerName",
                f"container {name!r} is not in {td.rel}",
                f"use one of {', '.join(map(str, containers))}",
            )
            continue
        ports = [pm.get("containerPort") for pm in containers[name].get("portMappings") or []]
        # the port the image listens on decides which side is wrong, not whichever value the spec holds
        listens = image_ports(str(doc.get("serviceName") or family))
        right = listens[0] if listens else None
        everywhere = (
            (
                f"use {right}, the port the image listens on ({where(str(doc.get('serviceName') or family))}), "
                f"for the portMapping in {td.rel}, this containerPort and the target group Port"
            )
            if right
            else None
        )
        if port not in ports:
            yield NG(
                f"{path}.containerPort",
                f"{name!r} maps ports {ports}, not {port}",
                everywhere
                or f"set containerPort to the container's port ({ports[0] if ports else 'add a portMapping'})",
            )
        elif right is not None and port != right:
            yield NG(
                f"{path}.containerPort", f"the image listens on {right}, not {port}: targets stay unhealthy", everywhere
            )
        if tg_port is not None and port != tg_port:
            yield NG(
                f"{path}.containerPort",
                f"the target group {target.rel} listens on {tg_port}, the service sends {port}",
                everywhere or "make the target group Port equal to the container port",
            )
    if doc.get("loadBalancers") and "healthCheckGracePeriodSeconds" not in doc:
        yield WARN(
            "$.healthCheckGracePeriodSeconds",
            "no grace period: slow starts are killed by the ALB check",
            "set healthCheckGracePeriodSeconds (e.g. 60-120)",
        )
    if (
        doc.get("loadBalancers")
        and target is None
        and (broken := specs.unparsed("target", f"{doc.get('serviceName')}.json"))
    ):
        yield SKIP("$.loadBalancers", f"{broken.rel} does not parse: checked once it does")
    elif doc.get("loadBalancers") and target is None:
        yield NG(
            "$.loadBalancers",
            f"no load-balancer/targets/{doc.get('serviceName')}.json",
            "add the service's target group spec",
        )
    for j, s in enumerate((doc.get("serviceConnectConfiguration") or {}).get("services") or []):
        if s.get("portName") not in port_names:
            yield NG(
                f"$.serviceConnectConfiguration.services[{j}].portName",
                f"{s.get('portName')!r} is not a named portMapping of {td.rel}",
                f"use one of {', '.join(sorted(map(str, port_names - {None})))}",
            )


@rule("shape.target-group", "target", seed="issue 6: the API model")
def target_shape(spec, specs):
    """targetGroup is a CreateTargetGroup input; listenerRule a CreateRule input (ARNs and actions filled).

    Fix: Correct the key, type or value the finding names (CreateTargetGroup, CreateRule).
    """
    yield from shapes.validate_parts(
        spec.doc,
        [
            ("targetGroup", "elbv2", "CreateTargetGroup", ()),
            ("listenerRule", "elbv2", "CreateRule", ("ListenerArn", "Actions")),
        ],
    )


@rule("target.fargate", "target", seed="seed 000 §7 problem 3 (health check configuration)")
def target_fargate(spec, specs):
    """ip targets (awsvpc), a health check whose timeout is shorter than its interval.

    Fix: Use TargetType ip and a health-check timeout shorter than its interval.
    """
    tg = spec.doc.get("targetGroup") or {}
    if tg.get("TargetType") != "ip":
        yield NG(
            "$.targetGroup.TargetType",
            f"TargetType {tg.get('TargetType')!r}: awsvpc tasks register by IP",
            'set "TargetType": "ip"',
        )
    interval, timeout = tg.get("HealthCheckIntervalSeconds", 30), tg.get("HealthCheckTimeoutSeconds", 5)
    if not 2 <= timeout <= 120:
        yield NG("$.targetGroup.HealthCheckTimeoutSeconds", f"timeout {timeout} outside 2-120", "use 2-120 s")
    elif timeout >= interval:
        yield NG(
            "$.targetGroup.HealthCheckTimeoutSeconds",
            f"timeout {timeout} >= interval {interval}",
            "make the timeout shorter than the interval",
        )


@rule("target.health-path", "target", seed="seed 000 §7 problem 1/3: 'verify health check path'")
def health_path(spec, specs):
    """The health-check path is a GET route the app serves (from its OpenAPI document).

    Fix: Point HealthCheckPath at a GET route the app answers with 200.
    """
    from ..routes import app_routes, serves

    tg = spec.doc.get("targetGroup") or {}
    path = tg.get("HealthCheckPath", "/")
    routes = app_routes(spec.path.stem)
    if routes is None:
        yield SKIP("$.targetGroup.HealthCheckPath", f"no OpenAPI document for {spec.path.stem} in this repo")
        return
    if not serves(routes, path):
        near = sorted(p for p in routes if "health" in p or "ready" in p)
        yield NG(
            "$.targetGroup.HealthCheckPath",
            f"{path!r} is not a GET route of the app: targets stay unhealthy",
            f"use {near[0] if near else 'a route the app serves'!r}",
        )


@rule("shape.load-balancer", "alb", seed="issue 6: the API model")
def alb_shape(spec, specs):
    """loadBalancer is a CreateLoadBalancer input; listener a CreateListener input.

    Fix: Correct the key, type or value the finding names (CreateLoadBalancer, CreateListener).
    """
    yield from shapes.validate_parts(
        spec.doc,
        [
            ("loadBalancer", "elbv2", "CreateLoadBalancer", ()),
            ("listener", "elbv2", "CreateListener", ("LoadBalancerArn", "DefaultActions")),
            ("testListener", "elbv2", "CreateListener", ("LoadBalancerArn", "DefaultActions")),
        ],
    )
    lb = spec.doc.get("loadBalancer") or {}
    if lb.get("Scheme") == "internal":
        yield WARN(
            "$.loadBalancer.Scheme",
            "an internal ALB is not reachable from the internet",
            'use "internet-facing" for the public API',
        )


@rule("shape.scaling", "scaling", seed="issue 6: the API model")
def scaling_shape(spec, specs):
    """scalableTarget / policy are valid Application Auto Scaling inputs, min <= max, for a known service.

    Fix: Correct the key, type or value the finding names; keep min <= max and name a service in aws/json/services.
    """
    doc = spec.doc
    yield from shapes.validate_parts(
        doc,
        [
            ("scalableTarget", "application-autoscaling", "RegisterScalableTarget", ()),
            ("policy", "application-autoscaling", "PutScalingPolicy", ()),
        ],
    )
    st = doc.get("scalableTarget") or {}
    if (
        isinstance(st.get("MinCapacity"), int)
        and isinstance(st.get("MaxCapacity"), int)
        and st["MinCapacity"] > st["MaxCapacity"]
    ):
        yield NG("$.scalableTarget.MinCapacity", "MinCapacity exceeds MaxCapacity", "make MinCapacity <= MaxCapacity")
    name = str(st.get("ResourceId", "")).rsplit("/", 1)[-1]
    if not any(s.doc.get("serviceName") == name for s in specs.of("service")) and (
        broken := specs.unparsed("service", f"{name}.json")
    ):
        yield SKIP("$.scalableTarget.ResourceId", f"{broken.rel} does not parse: checked once it does")
    elif not any(s.doc.get("serviceName") == name for s in specs.of("service")):
        yield NG(
            "$.scalableTarget.ResourceId",
            f"no service {name!r} in aws/json/services",
            "use service/${CLUSTER_NAME}/<serviceName>",
        )


@rule("shape.capacity-providers", "capacity", seed="issue 6: the API model")
def capacity_shape(spec, specs):
    """capacityProviderStrategy is valid for CreateService and names Fargate providers.

    Fix: Correct the strategy the finding names; use FARGATE or FARGATE_SPOT.
    """
    doc = spec.doc
    yield from shapes.validate({"serviceName": "x", **doc}, "ecs", "CreateService")
    for i, item in enumerate(doc.get("capacityProviderStrategy") or []):
        if item.get("capacityProvider") not in ("FARGATE", "FARGATE_SPOT"):
            yield NG(
                f"$.capacityProviderStrategy[{i}].capacityProvider",
                f"{item.get('capacityProvider')!r} is not a Fargate capacity provider",
                "use FARGATE or FARGATE_SPOT",
            )
