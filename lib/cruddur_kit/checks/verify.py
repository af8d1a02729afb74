"""`bin/ecs/verify`: the live account agrees with aws/json — read-only, a bounded number of batched calls.

Roles exist and trust ecs-tasks; images are in ECR and a deployed service pins the digest its tag names now;
secrets exist (SSM parameters and Secrets Manager
secrets, metadata only) and the execution role may read them, and decrypt them when a customer-managed
KMS key encrypts them; log groups exist or may be created; cluster, subnets, security groups and target
groups exist and match the specs. A deployed service: the images of the revision it runs are in ECR, its
desired count is not below the spec's, its ports agree with each other and with the image's, and the ALB
forwards its paths to it. A fix that says "run bin/aws/setup" names the lint finding first when aws/json
fails lint (setup would apply it as it is).
"""

from __future__ import annotations

import json
import urllib.parse

from .. import images
from .. import kms as kmslib
from .. import spec as speclib
from ..ecs.watch import describe_service
from ..errors import KitError
from ..kit import Kit
from .groups import admits_cidr, admits_group
from .live import Lenient
from .model import NG, SKIP, WARN, Report
from .ports import image_ports, where
from .rules import tracing
from .rules.cross import allows
from .rules.iam import as_list

ECS_TASKS = "ecs-tasks.amazonaws.com"
EXEC_MANAGED = "AmazonECSTaskExecutionRolePolicy"


def _policy(doc):
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def _role_name(arn: str) -> str:
    return str(arn).rsplit("/", 1)[-1]


def verify(kit: Kit, root=None) -> Report:
    """Every service in aws/json (or kit.services), against the account kit's read-only clients see."""
    services, clients = kit.services, kit.clients
    variables = Lenient(kit.vars)
    report = Report("verify (read-only)")
    chosen = [s for s in (speclib.services(root) if root else speclib.services()) if not services or s.name in services]
    if services and not chosen:
        raise KitError(f"no service named {', '.join(services)} in aws/json/services")
    rendered = []
    for s in chosen:
        rendered.append(
            (
                s,
                speclib.task_definition(s, variables.for_service(s)),
                speclib.service_definition(s, variables.for_service(s)),
            )
        )

    roles(report, clients, rendered, secrets(report, clients, rendered))
    _images(report, clients, rendered, variables)
    log_groups(report, clients, rendered)
    _cluster_and_network(report, clients, rendered, variables)
    target_groups(report, clients, rendered)
    for s, _, sd in rendered:
        deployed(report, clients, s, sd)
    after_lint(report, root)
    report.stats = {
        "aws_calls": clients.total,
        "calls": dict(sorted(clients.calls.items())),
        "unset_variables": sorted(variables.missing),
    }
    return report


def roles(report, clients, rendered, secret_keys):
    """role.exists, role.trust, and for the execution role role.execution-policy and role.kms-decrypt
    (secret_keys: what `secrets` found encrypted under a customer-managed key)."""
    iam = clients("iam")
    roles = {}
    for _, td, _ in rendered:
        for key in ("executionRoleArn", "taskRoleArn"):
            if td.get(key):
                roles.setdefault(_role_name(td[key]), set()).add(key)
    secrets_of = [(c, s) for _, td, _ in rendered for c in td["containerDefinitions"] for s in c.get("secrets") or []]
    for name, uses in sorted(roles.items()):
        subject = f"iam role {name}"
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            report.record(
                "role.exists",
                subject,
                [NG("", "the role does not exist: tasks cannot start", "run bin/aws/setup", cause="role.missing")],
            )
            continue
        trust = _policy(role["AssumeRolePolicyDocument"])
        trusted = [
            svc
            for st in as_list(trust.get("Statement"))
            if st.get("Effect") == "Allow"
            for svc in as_list((st.get("Principal") or {}).get("Service"))
        ]
        report.record(
            "role.trust",
            subject,
            []
            if ECS_TASKS in trusted
            else [
                NG(
                    "AssumeRolePolicyDocument",
                    f"trusts {trusted or 'no service'}, not {ECS_TASKS}",
                    "run bin/aws/setup (policies/*-trust.json) to restore the trust policy",
                    cause="role.trust",
                )
            ],
        )
        if "taskRoleArn" in uses:
            report.record("role.task-policy-tracing", subject, _tracing_problems(iam, name, rendered))
        if "executionRoleArn" not in uses:
            continue
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
        inline = [
            _policy(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        ]
        doc = {"Statement": [st for d in inline for st in as_list(d.get("Statement"))]}
        problems = []
        if EXEC_MANAGED not in attached:
            for action, resource in _execution_needs(rendered):
                if not allows(doc, action, resource):
                    problems.append(
                        NG(
                            "policy",
                            f"the execution role cannot {action} on {resource}: tasks fail "
                            "to start (CannotPullContainerError / no logs)",
                            f"run bin/aws/setup or attach {EXEC_MANAGED}",
                            cause="role.execution-policy",
                        )
                    )
        for _, s in secrets_of:
            arn = s["valueFrom"]
            action = "secretsmanager:GetSecretValue" if ":secretsmanager:" in arn else "ssm:GetParameters"
            if not allows(doc, action, arn):
                problems.append(
                    NG(
                        "policy",
                        f"the execution role cannot {action} on {arn}: "
                        "ResourceInitializationError: unable to pull secrets",
                        "run bin/aws/setup (policies/execution-role-policy.json)",
                        cause="role.execution-policy",
                    )
                )
        report.record("role.execution-policy", subject, problems)
        report.record("role.kms-decrypt", subject, _decrypt_problems(clients, doc, secret_keys))


def _tracing_problems(iam, role: str, rendered) -> list:
    """The task role lets the tracing sidecar (ADOT collector or X-Ray daemon) send to X-Ray."""
    sidecars = [
        found[1]["name"]
        for _, td, _ in rendered
        if (found := tracing.sidecar(td)) and td.get("taskRoleArn", "").endswith(f"/{role}")
    ]
    if not sidecars:
        return []
    inline = [
        _policy(iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"])
        for p in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    doc = {"Statement": [st for d in inline for st in as_list(d.get("Statement"))]}
    missing = [a for a in tracing.XRAY_ACTIONS if not allows(doc, a, "*")]
    return (
        [
            NG(
                "policy",
                f"the task role cannot {', '.join(missing)}: the {sidecars[0]} sidecar's traces never reach "
                "X-Ray (AccessDeniedException in its log)",
                "run bin/aws/setup (policies/task-role-policy.json)",
                cause="role.task-policy-tracing",
            )
        ]
        if missing
        else []
    )


def _decrypt_problems(clients, doc, secret_keys):
    """The execution role may kms:Decrypt every customer-managed key that encrypts a task's secret."""
    problems, resolved = [], {}
    for secret, key_id in sorted(secret_keys.items()):
        if key_id not in resolved:
            resolved[key_id] = kmslib.customer_key_arn(clients("kms"), key_id)
        key_arn = resolved[key_id]
        if key_arn and not allows(doc, "kms:Decrypt", key_arn):
            problems.append(
                NG(
                    "policy",
                    f"the execution role cannot kms:Decrypt {key_arn}, which encrypts {secret}: "
                    "ResourceInitializationError: unable to pull secrets (AccessDeniedException)",
                    "run bin/aws/setup (it grants kms:Decrypt on the keys your secrets use: "
                    "policies/execution-role-kms-policy.json)",
                    cause="role.kms-decrypt",
                )
            )
    return problems


def _execution_needs(rendered):
    """(action, resource) pairs ECS needs from the execution role to pull the images and write the logs."""
    needs = {("ecr:GetAuthorizationToken", "*")}
    for _, td, _ in rendered:
        for c in td["containerDefinitions"]:
            ref = images.ecr_image(c["image"])
            if ref is not None:  # by tag or by digest
                account, region = ref.host.split(".")[0], ref.host.split(".")[3]
                needs.add(("ecr:BatchGetImage", f"arn:aws:ecr:{region}:{account}:repository/{ref.repository}"))
            opts = (c.get("logConfiguration") or {}).get("options") or {}
            if opts.get("awslogs-group"):
                arn = td["executionRoleArn"].split(":")
                needs.add(
                    (
                        "logs:PutLogEvents",
                        f"arn:aws:logs:{opts.get('awslogs-region')}:{arn[4]}:log-group:"
                        f"{opts['awslogs-group']}:log-stream:{opts.get('awslogs-stream-prefix')}/x",
                    )
                )
    return sorted(needs)


def _images(report, clients, rendered, variables):
    """image.exists for each ECR image (a tag or a digest), then image.deployed: what the live service pins."""
    ecr = clients("ecr")
    digests = {}  # (service, container) -> the digest the spec's image names in ECR now
    for s, td, _ in rendered:
        for c in td["containerDefinitions"]:
            ref = images.ecr_image(c["image"])
            if ref is None:
                continue
            subject = f"ecr image {ref}"
            if (ref.tag or "").startswith("<unset"):
                report.record("image.exists", subject, [SKIP("", "IMAGE_TAG is not set: pass --tag SHA")])
                continue
            ids = [{"imageDigest": ref.digest}] if ref.digest else [{"imageTag": ref.tag}]
            try:
                found = ecr.describe_images(repositoryName=ref.repository, imageIds=ids)["imageDetails"]
                digests[(s.name, c["name"])] = found[0]["imageDigest"]
                report.record("image.exists", subject, [])
            except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException) as e:
                report.record(
                    "image.exists",
                    subject,
                    [
                        NG(
                            "",
                            f"{e.response['Error']['Code']}: tasks stop with CannotPullContainerError",
                            "bin/backend/build && bin/backend/push",
                            cause="image.missing",
                        )
                    ],
                )
    _deployed_images(report, clients, rendered, digests)


def _deployed_images(report, clients, rendered, digests):
    """What each deployed service's live revision runs: image.deployed — it pins its ECR images by digest
    (bin/backend/deploy does), the digest the spec's tag names now (a re-pushed tag, or another build running,
    shows as drift); tracing.deployed — its tracing sidecar passes the tracing rules lint applies to the specs
    (a revision registered by hand or by an older kit is checked as it runs)."""
    ecs = clients("ecs")
    by_cluster: dict[str, list[str]] = {}
    for s, td, sd in rendered:
        if any(key[0] == s.name for key in digests) or tracing.sidecar(td):
            by_cluster.setdefault(sd["cluster"], []).append(s.name)
    for cluster, names in sorted(by_cluster.items()):
        live = []
        try:
            for i in range(0, len(names), 10):  # DescribeServices takes 10 names a call
                live += [
                    svc
                    for svc in ecs.describe_services(cluster=cluster, services=names[i : i + 10])["services"]
                    if svc.get("status") == "ACTIVE"
                ]
        except ecs.exceptions.ClusterNotFoundException:
            continue  # nothing deployed there: the cluster check names the missing cluster
        for svc in live:
            td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
            revision = svc["taskDefinition"].rsplit("/", 1)[-1]
            if tracing.sidecar(td):
                report.record(
                    "tracing.deployed",
                    f"task definition {revision} (service {svc['serviceName']})",
                    [p for check in tracing.TASKDEF_CHECKS for p in check(td)],
                )
            for c in td["containerDefinitions"]:
                wanted = digests.get((svc["serviceName"], c["name"]))
                ref = images.ecr_image(c.get("image", ""))
                if wanted is None or ref is None:
                    continue
                subject = f"service {cluster}/{svc['serviceName']} container {c['name']}"
                if not ref.digest:
                    problem = WARN(
                        "image",
                        f"{revision} runs {ref} by tag: a re-push of that tag changes what new tasks run",
                        "bin/backend/deploy (it registers the image pinned by digest)",
                        cause="image.unpinned",
                    )
                elif ref.digest != wanted and not _has_digest(clients("ecr"), ref):
                    problem = NG(
                        "image",
                        f"{revision} pins {ref.digest}, which ECR no longer holds (expired by the "
                        "lifecycle policy or deleted): new tasks stop with CannotPullContainerError",
                        "bin/backend/deploy --tag TAG (pins what the tag names now)",
                        cause="image.missing",
                    )
                elif ref.digest != wanted:
                    problem = WARN(
                        "image",
                        f"{revision} pins {ref.digest}, but the spec's image names {wanted} "
                        "now (its tag was re-pushed, or the service runs another build)",
                        "bin/ecs/diff shows it; bin/backend/deploy --tag TAG runs what the tag names now",
                        cause="image.drift",
                    )
                else:
                    problem = None
                report.record("image.deployed", subject, [problem] if problem else [])


def _has_digest(ecr, ref) -> bool:
    try:
        return bool(
            ecr.describe_images(repositoryName=ref.repository, imageIds=[{"imageDigest": ref.digest}])["imageDetails"]
        )
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return False


def secrets(report, clients, rendered) -> dict:
    """secret.exists for every secret the tasks read; {subject: KMS key id} of those under a named key."""
    return {**_parameters(report, clients, rendered), **_secrets_manager(report, clients, rendered)}


def _value_froms(rendered, secrets_manager: bool) -> list[str]:
    return sorted(
        {
            s["valueFrom"]
            for _, td, _ in rendered
            for c in td["containerDefinitions"]
            for s in c.get("secrets") or []
            if (":secretsmanager:" in s["valueFrom"]) == secrets_manager
        }
    )


def _parameters(report, clients, rendered) -> dict:
    """secret.exists for each SSM parameter the tasks read; {name: KeyId} of the SecureStrings found."""
    names = _value_froms(rendered, secrets_manager=False)
    if not names:
        return {}
    plain = {n: ("/" + n.split(":parameter/", 1)[1]) if n.startswith("arn:") else n for n in names}
    ssm = clients("ssm")
    found: dict[str, str | None] = {}
    values = sorted(set(plain.values()))
    for i in range(0, len(values), 50):  # one call per 50 names; names and key ids only, never values
        page = ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": values[i : i + 50]}], MaxResults=50
        )
        found.update({p["Name"]: p.get("KeyId") for p in page["Parameters"]})
    for name in values:
        report.record(
            "secret.exists",
            f"ssm parameter {name}",
            []
            if name in found
            else [
                NG(
                    "",
                    "the parameter does not exist: tasks stop with ResourceInitializationError",
                    f"bin/ssm/put-params (sets {name.rsplit('/', 1)[-1]})",
                    cause="secret.missing",
                )
            ],
        )
    return {f"ssm parameter {name}": key for name, key in found.items() if key}


def _secrets_manager(report, clients, rendered) -> dict:
    """secret.exists for each Secrets Manager secret the tasks read (DescribeSecret: metadata, never the
    value); {subject: KmsKeyId} of those under a key other than the default."""
    keys = {}
    sm = clients("secretsmanager")
    for arn in sorted({kmslib.secret_base_arn(v) for v in _value_froms(rendered, secrets_manager=True)}):
        subject = f"secret {arn}"
        try:
            key_id = kmslib.secret_key_id(sm, arn)
        except sm.exceptions.ResourceNotFoundException:
            report.record(
                "secret.exists",
                subject,
                [
                    NG(
                        "",
                        "the secret does not exist: tasks stop with ResourceInitializationError",
                        "run bin/aws/setup --with-database or set DB_SECRET_ARN to the secret's ARN",
                        cause="secret.missing",
                    )
                ],
            )
            continue
        report.record("secret.exists", subject, [])
        if key_id:
            keys[subject] = key_id
    return keys


def log_groups(report, clients, rendered):
    logs = clients("logs")
    groups = {}
    for _, td, _ in rendered:
        for c in td["containerDefinitions"]:
            lc = c.get("logConfiguration") or {}
            if lc.get("logDriver") == "awslogs":
                opts = lc.get("options") or {}
                groups[opts["awslogs-group"]] = (
                    groups.get(opts["awslogs-group"]) or str(opts.get("awslogs-create-group", "")).lower() == "true"
                )
    for group, may_create in sorted(groups.items()):
        have = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        exists = any(g["logGroupName"] == group for g in have)
        report.record(
            "logs.group",
            f"log group {group}",
            []
            if exists or may_create
            else [
                NG(
                    "",
                    "the log group does not exist and awslogs-create-group is off: tasks fail to start",
                    "run bin/aws/setup",
                    cause="logs.group-missing",
                )
            ],
        )


def _cluster_and_network(report, clients, rendered, variables):
    ecs, ec2 = clients("ecs"), clients("ec2")
    clusters = sorted({sd.get("cluster") for _, _, sd in rendered})
    found = {c["clusterName"]: c for c in ecs.describe_clusters(clusters=clusters)["clusters"]}
    for name in clusters:
        c = found.get(name)
        report.record(
            "cluster.active",
            f"ecs cluster {name}",
            []
            if c and c["status"] == "ACTIVE"
            else [NG("", "the cluster does not exist or is not ACTIVE", "run bin/aws/setup", cause="cluster.missing")],
        )
    subnets = sorted(
        {sn for _, _, sd in rendered for sn in sd["networkConfiguration"]["awsvpcConfiguration"]["subnets"]}
    )
    have = (
        {sn["SubnetId"] for sn in ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": subnets}])["Subnets"]}
        if subnets
        else set()
    )
    report.record(
        "network.subnets",
        "subnets " + ", ".join(subnets),
        [
            NG("", f"{sn} does not exist", "set SUBNET_IDS to existing subnets", cause="subnet.missing")
            for sn in subnets
            if sn not in have
        ],
    )
    alb_sg = variables["ALB_SG_ID"]
    sg_ids = sorted(
        {g for _, _, sd in rendered for g in sd["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]}
        | {alb_sg}
    )
    groups = {
        g["GroupId"]: g
        for g in ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": sg_ids}])["SecurityGroups"]
    }
    alb = groups.get(alb_sg)
    report.record(
        "network.alb-sg",
        f"security group {alb_sg} (ALB)",
        []
        if alb and admits_cidr(alb, 80)
        else [
            NG(
                "IpPermissions",
                "the ALB group does not admit 80 from 0.0.0.0/0: the ALB DNS name times out",
                "run bin/aws/setup (network/security-groups.json)",
                cause="sg.alb-inbound",
            )
        ],
    )
    for s, _, sd in rendered:
        for gid in sd["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]:
            g = groups.get(gid)
            ok = g is not None and admits_group(g, s.container_port, alb_sg)
            report.record(
                "network.service-sg",
                f"security group {gid} ({s.name})",
                []
                if ok
                else [
                    NG(
                        "IpPermissions",
                        f"does not admit {s.container_port} from the ALB group {alb_sg}: targets stay unhealthy",
                        f"allow tcp {s.container_port} from {alb_sg} (bin/aws/setup)",
                        cause="sg.service-from-alb",
                    )
                ],
            )


DRIFT_EFFECT = {
    "HealthCheckPath": ": the ALB checks a path the spec did not choose; where the app does not answer "
    "it with 200, every target fails and ECS replaces the tasks",
    "Port": ": the ALB sends traffic to a port the service did not choose",
}


def target_groups(report, clients, rendered):
    elbv2 = clients("elbv2")
    wanted = {s.target_group_name: s for s, _, _ in rendered}
    have = {}
    for name in wanted:  # DescribeTargetGroups fails whole when one name is missing: one call per name
        try:
            have.update({t["TargetGroupName"]: t for t in elbv2.describe_target_groups(Names=[name])["TargetGroups"]})
        except elbv2.exceptions.TargetGroupNotFoundException:
            pass
    for name, s in sorted(wanted.items()):
        tg = have.get(name)
        spec = json.loads(s.targets_path.read_text())["targetGroup"]
        if tg is None:
            report.record(
                "target-group.matches",
                f"target group {name}",
                [NG("", "does not exist", "run bin/aws/setup", cause="target-group.missing")],
            )
            continue
        problems = [
            NG(
                key,
                f"{key} is {tg.get(key)!r}, the spec says {spec[key]!r}{DRIFT_EFFECT.get(key, '')}",
                "run bin/aws/setup to converge it",
                cause="target-group.drift",
            )
            for key in ("Port", "Protocol", "TargetType", "HealthCheckPath")
            if tg.get(key) != spec.get(key)
        ]
        report.record("target-group.matches", f"target group {name}", problems)


def deployed(report, clients, s, sd, live=None) -> dict | None:
    """What the deployed service runs, against ECR, the spec and the ALB: service.image, service.desired-count,
    service.ports, listener.rule. The live task definition, or None when the service is not deployed (a SKIP:
    verify also runs before the first deploy)."""
    ecs = clients("ecs")
    if live is None:
        try:
            live = describe_service(ecs, sd["cluster"], s.name)
        except KitError:
            live = None  # no cluster: cluster.active names it
        if live is None:
            report.record("service.deployed", f"service {s.name}", [SKIP("", "not deployed (bin/backend/deploy)")])
            return None
    td = ecs.describe_task_definition(taskDefinition=live["taskDefinition"])["taskDefinition"]
    label = f"{td['family']}:{td['revision']}"
    service_images(report, clients, td, label)
    desired_count(report, clients, s, sd, live)
    service_ports(report, clients, s, live, td, label)
    listener_rule(report, clients, s, live)
    return td


def service_images(report, clients, td, label: str) -> None:
    """service.image: every ECR image of the task definition the service runs is in ECR (it may have been
    pointed by hand at a tag that was never pushed, or the tag was deleted since)."""
    ecr = clients("ecr")
    for c in td["containerDefinitions"]:
        image = c["image"]
        if ".dkr.ecr." not in image:
            continue
        ref = image.split("/", 1)[1]
        if "@" in ref:
            repo, digest = ref.split("@", 1)
            ids, version = {"imageDigest": digest}, digest
        else:
            repo, _, tag = ref.partition(":")
            ids, version = {"imageTag": tag or "latest"}, tag or "latest"
        problems = []
        try:
            ecr.describe_images(repositoryName=repo, imageIds=[ids])
        except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException) as e:
            problems.append(
                NG(
                    "",
                    f"{e.response['Error']['Code']}: {c['name']} of {label}, which the service runs, "
                    f"is not in ECR: its tasks stop with CannotPullContainerError",
                    f"push {repo}:{version} (bin/backend/build && bin/backend/push), or deploy a tag "
                    "that is in ECR (bin/backend/deploy --tag SHA)",
                    cause="image.missing",
                )
            )
        report.record("service.image", f"ecr image {ref} (service runs {label})", problems)


def desired_count(report, clients, s, sd, live) -> None:
    """service.desired-count: not below the spec's desiredCount, or the autoscaling minimum when one is set."""
    cluster = sd["cluster"]
    want = int(sd.get("desiredCount") or 0)
    floor, why = want, f"the spec's desiredCount ({want})"
    targets = clients("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs",
        ResourceIds=[f"service/{cluster}/{s.name}"],
        ScalableDimension="ecs:service:DesiredCount",
    )["ScalableTargets"]
    if targets:
        floor, why = targets[0]["MinCapacity"], f"the autoscaling minimum ({targets[0]['MinCapacity']})"
    have = live.get("desiredCount", 0)
    problems = []
    if have < floor or (have == 0 and want > 0):
        effect = "no task runs: the ALB answers 503" if have == 0 else "fewer tasks serve than planned"
        problems.append(
            NG(
                "desiredCount",
                f"desiredCount is {have}, below {why}: {effect}",
                f"bin/ecs/scale --service {s.name} --count {max(floor, want, 1)}",
                cause="service.scaled-down",
            )
        )
    report.record("service.desired-count", f"service {s.name}", problems)


def service_ports(report, clients, s, live, td, label: str) -> None:
    """service.ports: the container's port, the service's containerPort and the target group's Port are one,
    and it is the port the image listens on (its Dockerfile's EXPOSE)."""
    lb = next(iter(live.get("loadBalancers") or []), None)
    if not lb:
        return
    name, port = lb.get("containerName"), lb.get("containerPort")
    container = next((c for c in td["containerDefinitions"] if c["name"] == name), {})
    mapped = [pm.get("containerPort") for pm in container.get("portMappings") or []]
    elbv2 = clients("elbv2")
    tg_port = None
    if lb.get("targetGroupArn"):
        try:
            tg_port = elbv2.describe_target_groups(TargetGroupArns=[lb["targetGroupArn"]])["TargetGroups"][0]["Port"]
        except elbv2.exceptions.TargetGroupNotFoundException:
            pass  # target-group.matches names it
    listens = image_ports(s.name)
    right = listens[0] if listens else None
    fix = (
        f"use {right}, the port the image listens on ({where(s.name)}), for the task definition's "
        "containerPort, the service's loadBalancers containerPort and the target group Port in aws/json; "
        "then bin/aws/setup and bin/backend/deploy"
        if right
        else "make the task definition's containerPort, the service's containerPort and the target group Port the "
        "port the app listens on"
    )
    problems = []
    if port not in mapped:
        problems.append(
            NG(
                "loadBalancers[0].containerPort",
                f"the service sends {port} to {name}, which {label} maps to {mapped or 'no port'}",
                fix,
                cause="port.mismatch",
            )
        )
    if tg_port is not None and tg_port != port:
        problems.append(
            NG(
                "loadBalancers[0].containerPort",
                f"the target group's Port is {tg_port}, the service sends {port}",
                fix,
                cause="port.mismatch",
            )
        )
    if right is not None and port != right:
        problems.append(
            NG(
                "loadBalancers[0].containerPort",
                f"the image listens on {right} ({where(s.name)}), not {port}: targets stay unhealthy",
                fix,
                cause="port.mismatch",
            )
        )
    report.record("service.ports", f"service {s.name} ({label})", problems)


def _alb_spec() -> dict:
    return json.loads((speclib.AWS_JSON / "load-balancer" / "alb.json").read_text())


def _forwards_to(actions, tg_arn: str) -> bool:
    for a in actions or []:
        if a.get("Type") != "forward":
            continue
        if a.get("TargetGroupArn") == tg_arn:
            return True
        if any(
            g.get("TargetGroupArn") == tg_arn and g.get("Weight", 1) > 0
            for g in (a.get("ForwardConfig") or {}).get("TargetGroups") or []
        ):
            return True
    return False


def _rule_paths(rule) -> set[str]:
    return {
        v
        for c in rule.get("Conditions") or []
        if c.get("Field") == "path-pattern"
        for v in (c.get("PathPatternConfig") or {}).get("Values") or c.get("Values") or []
    }


def listener_rule(report, clients, s, live) -> None:
    """listener.rule: the ALB's listener forwards the service's paths (or, for the default route, everything)
    to the service's target group."""
    lb = next(iter(live.get("loadBalancers") or []), {})
    tg_arn = lb.get("targetGroupArn")
    if not tg_arn:
        return
    # blue/green, canary and linear: after a deployment the rule weights the alternate group, not this one
    colours = [a for a in (tg_arn, (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")) if a]
    spec = _alb_spec()
    alb_name, port = spec["loadBalancer"]["Name"], spec["listener"]["Port"]
    elbv2 = clients("elbv2")
    subject = f"listener {alb_name}:{port} -> {s.name}"
    what = "the default action" if s.is_default_route else f"a rule for {' '.join(s.path_patterns)}"
    missing = NG(
        "",
        f"no listener rule forwards to {s.target_group_name}: requests never reach the service (the "
        f"ALB answers 404 or another service)",
        f"run bin/aws/setup: it creates {what} -> {s.name}",
        cause="listener-rule.missing",
    )
    try:
        alb = elbv2.describe_load_balancers(Names=[alb_name])["LoadBalancers"][0]
    except elbv2.exceptions.LoadBalancerNotFoundException:
        report.record("listener.rule", subject, [missing])
        return
    listener = next(
        (
            li
            for li in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
            if li["Port"] == port
        ),
        None,
    )
    if listener is None:
        report.record("listener.rule", subject, [missing])
        return
    rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    if s.is_default_route:
        ok = any(_forwards_to(listener.get("DefaultActions"), arn) for arn in colours)
    else:
        ok = any(
            not r.get("IsDefault")
            and any(_forwards_to(r.get("Actions"), arn) for arn in colours)
            and set(s.path_patterns) <= _rule_paths(r)
            for r in rules
        )
    report.record("listener.rule", subject, [] if ok else [missing])


# Where a fix "run bin/aws/setup" comes from in aws/json, by cause: setup applies these files as they are.
SETUP_SPECS = {
    "role.": ("policies/", "task-definitions/"),
    "logs.": ("task-definitions/",),
    "sg.": ("network/",),
    "network.": ("network/",),
    "target-group.": ("load-balancer/",),
    "listener-rule.": ("load-balancer/",),
    "secret.": ("db-credentials/", "database/"),
}


def after_lint(report, root=None) -> None:
    """Say "run bin/aws/setup" only when aws/json passes lint: setup would re-apply a broken file, so a fix
    then names the lint finding to correct first (in the files that cause's resources come from, if any)."""
    from dataclasses import replace

    from .lint import lint
    from .model import Status

    pointing = [
        i for i, f in enumerate(report.findings) if f.status in (Status.NG, Status.WARN) and "bin/aws/setup" in f.fix
    ]
    if not pointing:
        return
    failing = [f for f in lint(root).findings if f.status == Status.NG]
    if not failing:
        return
    for i in pointing:
        f = report.findings[i]
        folders = next((v for k, v in SETUP_SPECS.items() if f.cause.startswith(k)), ())
        first = next((n for n in failing if any(folder in n.subject for folder in folders)), failing[0])
        where_ = f"{first.subject} {first.path}".strip()
        report.findings[i] = replace(
            f,
            fix=f"first fix {where_} (bin/ecs/lint: {first.check}: {first.message}; "
            f"{first.fix}) — bin/aws/setup applies aws/json as it is — then run bin/aws/setup",
        )
