"""`bin/ecs/doctor`: why a deployed service misbehaves — the seeds' troubleshooting tree, walked live.

Order follows the seeds (000 §6 "If ALB DNS times out" A-C, §7 problems 1-4; 001 "Troubleshooting"):
the service exists -> what it runs (images in ECR, desired count, ports, the ALB's rule to it) -> ALB SG
inbound -> service SG from the ALB SG -> the target group as the spec has it, target health and its reason
-> secrets, execution role, log group -> the subnets' route to ECR/SSM -> stopped tasks' reasons and exit
codes, narrowed by what the checks before found -> error lines in the newest log events, per container.
Read-only, like verify (same guarded clients); each NG carries a cause id and the fix.
"""

from __future__ import annotations

import re
import time

from .. import spec as speclib
from ..ecs.watch import describe_service
from ..kit import Kit
from .groups import admits_cidr, admits_group
from .live import Lenient
from .model import NG, WARN, Report
from .verify import after_lint, deployed, log_groups, roles, secrets, target_groups

TARGET_REASONS = {
    "Target.Timeout": (
        "target.timeout",
        "the health check timed out: the service SG does not admit the ALB, "
        "or the app does not listen on the container port",
        "allow the container port from the ALB SG; check the app binds 0.0.0.0:{port}",
    ),
    "Target.ResponseCodeMismatch": (
        "target.health-path",
        "the health path answers a non-200 code",
        "point HealthCheckPath at a route that answers 200 ({path} in the spec)",
    ),
    "Target.FailedHealthChecks": (
        "target.failed",
        "the target fails its health checks",
        "read the container logs; check the health path and port",
    ),
    "Target.NotRegistered": (
        "target.not-registered",
        "no task is registered in the target group",
        "check the service's loadBalancers entry and that tasks reach RUNNING",
    ),
    "Elb.InitialHealthChecking": (
        "target.initial",
        "health checks have not finished yet",
        "wait one or two health-check intervals",
    ),
}
LOG_STREAMS = 5  # the newest streams read (one per task)
LOG_EVENTS = 500  # the newest events read per stream
LOG_ERROR = re.compile(r"\b(error|exception|traceback|fatal|critical)\b", re.I)


def reasons(task: dict) -> str:
    """The task's stoppedReason and its containers' reasons, each once and whole (a container's reason often
    repeats the task's, or the task's is a prefix of it)."""
    seen: list[str] = []
    for text in [task.get("stoppedReason")] + [c.get("reason") for c in task.get("containers") or []]:
        text = (text or "").strip()
        if not text or any(text in s for s in seen):
            continue
        seen = [s for s in seen if s not in text] + [text]
    return "; ".join(seen)


def classify_stop(task: dict) -> tuple[str, str, str] | None:
    """(cause, message, fix) for a stopped task, from its stoppedReason and containers' exit codes."""
    reason = task.get("stoppedReason", "") or ""
    containers = task.get("containers") or []
    texts = reasons(task)
    codes = {c.get("name"): c.get("exitCode") for c in containers if c.get("exitCode") is not None}
    if "CannotPullContainerError" in texts:
        return (
            "task.pull-image",
            texts,
            "push the image tag (bin/backend/push); give the subnets a route to ECR (public IP, NAT or "
            "VPC endpoints); let the execution role pull from ECR",
        )
    if "ResourceInitializationError" in texts:
        return (
            "task.resource-init",
            texts,
            "the task cannot reach ECR/SSM/Logs or the execution role cannot read the secrets: public subnet "
            "with assignPublicIp ENABLED, or private with NAT/endpoints; ssm:GetParameters on the parameters",
        )
    if "OutOfMemory" in texts or 137 in codes.values():
        name = next((n for n, c in codes.items() if c == 137), "a container")
        return (
            "task.oom",
            f"{name} exited 137 (killed: out of memory)",
            "raise the container's memory / the task's memory (a valid Fargate pair), or fix the leak",
        )
    for code in (125, 126, 127):
        if code in codes.values():
            name = next(n for n, c in codes.items() if c == code)
            return (
                "task.image-or-command",
                f"{name} exited {code}: the image's command cannot run",
                "build for linux/amd64 (docker build --platform linux/amd64) and check CMD/ENTRYPOINT",
            )
    if "ELB health checks" in reason or "failed ELB" in reason:
        return ("task.elb-health", texts, "the ALB killed the task: see target health and the service SG above")
    if "Essential container in task exited" in reason:
        detail = ", ".join(f"{n} exit {c}" for n, c in codes.items()) or "no exit code"
        return ("task.app-crash", f"{texts} ({detail})", "the app crashed at start: read the log lines below")
    return None


# What doctor's own checks may have found behind a task that could not pull or initialise, in that order.
NARROWS = {
    "task.pull-image": ("image.missing", "role.missing", "role.trust", "role.execution-policy", "network.no-route"),
    "task.resource-init": (
        "secret.missing",
        "role.missing",
        "role.trust",
        "role.execution-policy",
        "role.kms-decrypt",
        "logs.group-missing",
        "network.no-route",
    ),
}


def narrow(report: Report, cause: str, fix: str, missing_images: list[str] = ()) -> str:
    """A stopped task's fix, narrowed by what doctor's own checks found (its images in ECR? the role may pull?
    the secrets exist? the log group? a route?) instead of every possible fix."""
    if cause not in NARROWS:
        return fix
    found = [
        f"image.missing: {image} is not in ECR: push it (bin/backend/build && bin/backend/push) or deploy a "
        "tag that is (bin/backend/deploy --tag SHA)"
        for image in missing_images
    ]
    found += [
        f"{f.cause} ({f.subject}): {f.fix}"
        for f in report.problems
        if f.cause in NARROWS[cause] and f.cause != "image.missing"
    ]
    if found:
        return "doctor's own checks found: " + "; ".join(dict.fromkeys(found))
    checked = ", ".join(NARROWS[cause])
    return f"doctor's own checks pass now ({checked}): if the tasks still stop, {fix}"


def _missing_images(ecr, task: dict, cache: dict) -> list[str]:
    """The task's own ECR images that ECR does not hold (what it tried to pull, not what the service runs now)."""
    missing = []
    for c in task.get("containers") or []:
        image = c.get("image") or ""
        if ".dkr.ecr." not in image or "@" in image:
            continue
        if image not in cache:
            repo, _, tag = image.split("/", 1)[1].partition(":")
            try:
                ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag or "latest"}])
                cache[image] = False
            except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
                cache[image] = True
        if cache[image]:
            missing.append(image)
    return missing


def doctor(kit: Kit, log_minutes: int = 60) -> Report:
    """kit.service's troubleshooting tree, walked in the seeds' order; each step records what it found."""
    clients = kit.clients
    s = speclib.get(kit.service)
    scoped = Lenient(kit.vars).for_service(s)
    td, sd = speclib.task_definition(s, scoped), speclib.service_definition(s, scoped)
    report = Report(f"doctor {sd['cluster']}/{s.name} (read-only)")
    live = _service(report, clients("ecs"), sd["cluster"], s)
    if live is None:
        report.stats = {"aws_calls": clients.total, "causes": sorted({f.cause for f in report.problems if f.cause})}
        return report
    # what runs: its images in ECR, its desired count, its ports, the ALB's rule to it
    td = deployed(report, clients, s, sd, live) or td
    rendered = [(s, td, sd)]
    vpc_cfg = (live.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    lb = next(iter(live.get("loadBalancers") or []), {})
    tg_arn = lb.get("targetGroupArn")
    # blue/green, canary and linear: after a deployment the tasks may serve from the alternate group
    alternate = (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
    _security_groups(report, clients, tg_arn, vpc_cfg.get("securityGroups") or [], s.container_port)
    if tg_arn:
        target_groups(report, clients, rendered)  # a health path changed live fails every target
        _target_health(report, clients("elbv2"), [a for a in (tg_arn, alternate) if a], s)
    # the secrets exist; the execution role exists, trusts ecs-tasks, may pull, read and decrypt the secrets
    roles(report, clients, rendered, secrets(report, clients, rendered))
    log_groups(report, clients, rendered)
    _network_path(report, clients("ec2"), vpc_cfg)
    after_lint(report)  # before the stopped tasks, whose narrowed fixes quote the fixes above
    _stopped_tasks(report, clients, sd["cluster"], s.name)
    _log_errors(report, clients("logs"), td, log_minutes)
    report.stats = {
        "aws_calls": clients.total,
        "calls": dict(sorted(clients.calls.items())),
        "causes": sorted({f.cause for f in report.problems if f.cause}),
    }
    return report


def _service(report, ecs, cluster: str, s) -> dict | None:
    """service.exists, then service.running: the live service, or None when it is not deployed."""
    live = describe_service(ecs, cluster, s.name)
    subject = f"service {s.name}"
    if live is None:
        report.record(
            "service.exists",
            subject,
            [NG("", "the service does not exist", "bin/backend/deploy", cause="service.missing")],
        )
        return None
    report.record(
        "service.running",
        subject,
        []
        if live.get("runningCount", 0) >= live.get("desiredCount", 0)
        else [
            WARN(
                "",
                f"{live.get('runningCount', 0)} of {live.get('desiredCount')} tasks running",
                "the causes below say why tasks do not stay up",
                cause="service.short",
            )
        ],
    )
    return live


def _security_groups(report, clients, tg_arn: str | None, service_sgs: list[str], port: int) -> None:
    """Seeds A-C: the ALB's group admits 80 from anywhere; a service group admits the port from the ALB's."""
    elbv2, ec2 = clients("elbv2"), clients("ec2")
    alb_sgs: list[str] = []
    if tg_arn:
        tg = elbv2.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"][0]
        lb_arns = tg.get("LoadBalancerArns") or []
        if lb_arns:
            alb = elbv2.describe_load_balancers(LoadBalancerArns=lb_arns[:1])["LoadBalancers"][0]
            alb_sgs = alb.get("SecurityGroups") or []
    groups = (
        {
            g["GroupId"]: g
            for g in ec2.describe_security_groups(
                Filters=[{"Name": "group-id", "Values": sorted(set(alb_sgs) | set(service_sgs))}]
            )["SecurityGroups"]
        }
        if (alb_sgs or service_sgs)
        else {}
    )
    report.record(
        "sg.alb-inbound",
        f"ALB security group {', '.join(alb_sgs) or '(none)'}",
        []
        if any(admits_cidr(groups.get(g, {}), 80) for g in alb_sgs)
        else [
            NG(
                "IpPermissions",
                "the ALB does not admit HTTP 80 from 0.0.0.0/0: the DNS name times out",
                "allow tcp 80 (and 443) from 0.0.0.0/0 on the ALB SG (bin/aws/setup)",
                cause="sg.alb-inbound",
            )
        ],
    )
    report.record(
        "sg.service-from-alb",
        f"service security groups {', '.join(service_sgs)}",
        []
        if any(admits_group(groups.get(g, {}), port, a) for g in service_sgs for a in alb_sgs)
        else [
            NG(
                "IpPermissions",
                f"no service SG admits tcp {port} from the ALB SG: targets are unhealthy",
                f"allow tcp {port} from {', '.join(alb_sgs) or 'the ALB SG'} on the service SG (not from 0.0.0.0/0)",
                cause="sg.service-from-alb",
            )
        ],
    )


def _target_health(report, elbv2, tg_arns: list[str], s) -> None:
    """target.health: each unhealthy target (of either colour) with its reason code, said as a cause and a fix."""
    health = [
        h for arn in tg_arns for h in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    ]
    problems = []
    for h in health:
        th = h.get("TargetHealth") or {}
        if th.get("State") in ("healthy", None):
            continue
        cause, message, fix = TARGET_REASONS.get(
            th.get("Reason", ""),
            ("target.unhealthy", f"{th.get('State')}: {th.get('Description', '')}", "see the causes below"),
        )
        problems.append(
            NG(
                h["Target"]["Id"],
                f"{th.get('Reason', th.get('State'))}: {message}",
                fix.format(port=s.container_port, path=s.health_path),
                cause=cause,
            )
        )
    if not health:
        problems.append(
            WARN("", "no targets registered", "check that tasks reach RUNNING", cause="target.not-registered")
        )
    report.record("target.health", f"target group {s.target_group_name}", problems)


def _stopped_tasks(report, clients, cluster: str, service: str) -> None:
    """tasks.stopped: the stopped tasks' reasons and exit codes, grouped with counts, each fix narrowed."""
    ecs = clients("ecs")
    stopped = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED")["taskArns"][:100]
    grouped: dict[tuple, int] = {}
    images: dict[str, bool] = {}
    if stopped:
        for task in ecs.describe_tasks(cluster=cluster, tasks=stopped)["tasks"]:
            found = classify_stop(task)
            if found:
                cause, message, fix = found
                missing = _missing_images(clients("ecr"), task, images) if cause == "task.pull-image" else []
                # the revision says whether it is the one running now or one ECS already rolled back from
                revision = str(task.get("taskDefinitionArn", "")).rsplit("/", 1)[-1]
                key = (cause, f"{message} [{revision}]" if revision else message, narrow(report, cause, fix, missing))
                grouped[key] = grouped.get(key, 0) + 1
    report.record(
        "tasks.stopped",
        f"stopped tasks of {service} ({len(stopped)})",
        [NG("", f"{n} x {message}", fix, cause=cause) for (cause, message, fix), n in grouped.items()],
    )


def _network_path(report, ec2, vpc_cfg):
    """network.path: each subnet reaches ECR/SSM: public with a public IP, or private with NAT / VPC endpoints."""
    subnets = vpc_cfg.get("subnets") or []
    if not subnets:
        return
    public_ip = vpc_cfg.get("assignPublicIp") == "ENABLED"
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": subnets}])["RouteTables"]
    by_subnet = {a["SubnetId"]: t for t in tables for a in t.get("Associations", []) if a.get("SubnetId")}
    vpc = ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": subnets[:1]}])["Subnets"][0]["VpcId"]
    if len(by_subnet) < len(subnets):  # the others use the VPC's main route table
        main = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
        )["RouteTables"]
        for sn in subnets:
            if main:
                by_subnet.setdefault(sn, main[0])
    endpoints = {
        e["ServiceName"].rsplit(".", 1)[-1]
        for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    }
    problems = []
    for sn in subnets:
        routes = (by_subnet.get(sn) or {}).get("Routes", [])
        default = next((r for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"), {})
        via_igw = str(default.get("GatewayId", "")).startswith("igw-")
        via_nat = bool(default.get("NatGatewayId")) or str(default.get("InstanceId", "")).startswith("i-")
        has_endpoints = {"dkr", "api", "ssm", "logs"} <= {e.split(".")[-1] for e in endpoints} or {
            "ecr.dkr",
            "ecr.api",
            "ssm",
            "logs",
        } <= endpoints
        if via_igw and not public_ip:
            problems.append(
                NG(
                    sn,
                    "a public subnet but assignPublicIp is DISABLED: tasks cannot reach ECR/SSM "
                    "(ResourceInitializationError / CannotPullContainerError)",
                    "set ASSIGN_PUBLIC_IP=ENABLED, or use private subnets with a NAT gateway",
                    cause="network.no-route",
                )
            )
        elif not via_igw and not via_nat and not has_endpoints:
            problems.append(
                NG(
                    sn,
                    "no route to the internet (no NAT, no internet gateway) and no VPC endpoints "
                    "for ECR/SSM/Logs: tasks cannot start",
                    "add a NAT gateway route or the ecr.api, ecr.dkr, ssm, logs and s3 endpoints",
                    cause="network.no-route",
                )
            )
    report.record("network.path", f"subnets {', '.join(subnets)}", problems)


def _log_errors(report, logs, td, minutes):
    """logs.errors: error lines in the newest events of each container's own log streams (awslogs names them
    PREFIX/CONTAINER/TASK-ID) in the last `minutes`; says when it could not read them all."""
    since = int((time.time() - minutes * 60) * 1000)
    pages: dict[str, dict | None] = {}
    for c in td["containerDefinitions"]:
        opts = (c.get("logConfiguration") or {}).get("options") or {}
        group, prefix = opts.get("awslogs-group"), opts.get("awslogs-stream-prefix")
        if not group:
            continue
        if group not in pages:  # the group's most recently written streams, newest first (one call per group)
            try:
                pages[group] = logs.describe_log_streams(
                    logGroupName=group, orderBy="LastEventTime", descending=True, limit=50
                )
            except logs.exceptions.ResourceNotFoundException:
                pages[group] = None  # logs.group names the missing group: tasks cannot start
        page = pages[group]
        if page is None:
            continue
        mine = f"{prefix}/{c['name']}/"
        subject = f"logs {group} {mine}*"
        recent = [st for st in page["logStreams"] if st.get("lastEventTimestamp", 0) >= since]
        streams = [st for st in recent if st["logStreamName"].startswith(mine)]
        # more streams in the window than read, or a next page that may still hold some of the window
        partial = len(streams) > LOG_STREAMS or (bool(page.get("nextToken")) and len(recent) == len(page["logStreams"]))
        events = []
        for st in streams[:LOG_STREAMS]:  # the newest events first: ECS's newest task is the one that matters
            got = logs.get_log_events(
                logGroupName=group,
                logStreamName=st["logStreamName"],
                startTime=since,
                startFromHead=False,
                limit=LOG_EVENTS,
            )["events"]
            partial = partial or len(got) >= LOG_EVENTS
            events.extend(got)
        read = f"read the newest {len(events)} event(s) of {min(len(streams), LOG_STREAMS)} stream(s)" + (
            "; older ones not read: bin/ecs/logs reads them" if partial else ""
        )
        errors = sorted((e for e in events if LOG_ERROR.search(e.get("message", ""))), key=lambda e: e["timestamp"])
        report.record(
            "logs.errors",
            subject,
            [
                NG(
                    "",
                    f"{len(errors)} error line(s) in the last {minutes} min ({read}); newest: "
                    f"{errors[-1]['message'].strip()}",
                    "fix what the log says (bin/ecs/logs to read more)",
                    cause="logs.errors",
                )
            ]
            if errors
            else [],
            ok_message=read,
        )
