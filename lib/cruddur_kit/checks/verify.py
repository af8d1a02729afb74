"""`bin/ecs/verify`: the live account agrees with aws/json — read-only, a bounded number of batched calls.

Roles exist and trust ecs-tasks; images are in ECR and a deployed service pins the digest its tag names now;
secrets exist (SSM parameters and Secrets Manager
secrets, metadata only) and the execution role may read them, and decrypt them when a customer-managed
KMS key encrypts them; log groups exist or may be created; cluster, subnets, security groups and target
groups exist and match the specs.
"""
from __future__ import annotations

import json
import urllib.parse

from .. import images
from .. import kms as kmslib
from .. import spec as speclib
from ..errors import KitError
from ..kit import Kit
from .groups import admits_cidr, admits_group
from .live import Lenient
from .model import NG, SKIP, WARN, Report
from .rules.cross import allows
from .rules import tracing
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
    chosen = [s for s in (speclib.services(root) if root else speclib.services())
              if not services or s.name in services]
    if services and not chosen:
        raise KitError(f"no service named {', '.join(services)} in aws/json/services")
    rendered = []
    for s in chosen:
        rendered.append((s, speclib.task_definition(s, variables.for_service(s)),
                         speclib.service_definition(s, variables.for_service(s))))

    roles(report, clients, rendered, secrets(report, clients, rendered))
    _images(report, clients, rendered, variables)
    _log_groups(report, clients, rendered)
    _cluster_and_network(report, clients, rendered, variables)
    _target_groups(report, clients, rendered)
    report.stats = {"aws_calls": clients.total, "calls": dict(sorted(clients.calls.items())),
                    "unset_variables": sorted(variables.missing)}
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
            report.record("role.exists", subject, [NG("", "the role does not exist: tasks cannot start",
                                                      "run bin/aws/setup", cause="role.missing")])
            continue
        trust = _policy(role["AssumeRolePolicyDocument"])
        trusted = [svc for st in as_list(trust.get("Statement")) if st.get("Effect") == "Allow"
                   for svc in as_list((st.get("Principal") or {}).get("Service"))]
        report.record("role.trust", subject, [] if ECS_TASKS in trusted else [
            NG("AssumeRolePolicyDocument", f"trusts {trusted or 'no service'}, not {ECS_TASKS}",
               "run bin/aws/setup (policies/*-trust.json) to restore the trust policy", cause="role.trust")])
        if "taskRoleArn" in uses:
            report.record("role.task-policy-tracing", subject, _tracing_problems(iam, name, rendered))
        if "executionRoleArn" not in uses:
            continue
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
        inline = [_policy(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
                  for p in iam.list_role_policies(RoleName=name)["PolicyNames"]]
        doc = {"Statement": [st for d in inline for st in as_list(d.get("Statement"))]}
        problems = []
        if EXEC_MANAGED not in attached:
            for action, resource in _execution_needs(rendered):
                if not allows(doc, action, resource):
                    problems.append(NG("policy", f"the execution role cannot {action} on {resource}: tasks fail "
                                       "to start (CannotPullContainerError / no logs)",
                                       f"run bin/aws/setup or attach {EXEC_MANAGED}", cause="role.execution-policy"))
        for _, s in secrets_of:
            arn = s["valueFrom"]
            action = "secretsmanager:GetSecretValue" if ":secretsmanager:" in arn else "ssm:GetParameters"
            if not allows(doc, action, arn):
                problems.append(NG("policy", f"the execution role cannot {action} on {arn}: "
                                   "ResourceInitializationError: unable to pull secrets",
                                   "run bin/aws/setup (policies/execution-role-policy.json)",
                                   cause="role.execution-policy"))
        report.record("role.execution-policy", subject, problems)
        report.record("role.kms-decrypt", subject, _decrypt_problems(clients, doc, secret_keys))


def _tracing_problems(iam, role: str, rendered) -> list:
    """The task role lets the tracing sidecar (ADOT collector or X-Ray daemon) send to X-Ray."""
    sidecars = [found[1]["name"] for _, td, _ in rendered if (found := tracing.sidecar(td))
                and td.get("taskRoleArn", "").endswith(f"/{role}")]
    if not sidecars:
        return []
    inline = [_policy(iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"])
              for p in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    doc = {"Statement": [st for d in inline for st in as_list(d.get("Statement"))]}
    missing = [a for a in tracing.XRAY_ACTIONS if not allows(doc, a, "*")]
    return [NG("policy", f"the task role cannot {', '.join(missing)}: the {sidecars[0]} sidecar's traces never reach "
               "X-Ray (AccessDeniedException in its log)", "run bin/aws/setup (policies/task-role-policy.json)",
               cause="role.task-policy-tracing")] if missing else []


def _decrypt_problems(clients, doc, secret_keys):
    """The execution role may kms:Decrypt every customer-managed key that encrypts a task's secret."""
    problems, resolved = [], {}
    for secret, key_id in sorted(secret_keys.items()):
        if key_id not in resolved:
            resolved[key_id] = kmslib.customer_key_arn(clients("kms"), key_id)
        key_arn = resolved[key_id]
        if key_arn and not allows(doc, "kms:Decrypt", key_arn):
            problems.append(NG("policy", f"the execution role cannot kms:Decrypt {key_arn}, which encrypts {secret}: "
                               "ResourceInitializationError: unable to pull secrets (AccessDeniedException)",
                               "run bin/aws/setup (it grants kms:Decrypt on the keys your secrets use: "
                               "policies/execution-role-kms-policy.json)", cause="role.kms-decrypt"))
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
                needs.add(("logs:PutLogEvents", f"arn:aws:logs:{opts.get('awslogs-region')}:{arn[4]}:log-group:"
                           f"{opts['awslogs-group']}:log-stream:{opts.get('awslogs-stream-prefix')}/x"))
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
                report.record("image.exists", subject, [NG("", f"{e.response['Error']['Code']}: "
                              "tasks stop with CannotPullContainerError", "bin/backend/build && bin/backend/push",
                              cause="image.missing")])
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
        for i in range(0, len(names), 10):  # DescribeServices takes 10 names a call
            live += [svc for svc in ecs.describe_services(cluster=cluster, services=names[i:i + 10])["services"]
                     if svc.get("status") == "ACTIVE"]
        for svc in live:
            td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
            revision = svc["taskDefinition"].rsplit("/", 1)[-1]
            if tracing.sidecar(td):
                report.record("tracing.deployed", f"task definition {revision} (service {svc['serviceName']})",
                              [p for check in tracing.TASKDEF_CHECKS for p in check(td)])
            for c in td["containerDefinitions"]:
                wanted = digests.get((svc["serviceName"], c["name"]))
                ref = images.ecr_image(c.get("image", ""))
                if wanted is None or ref is None:
                    continue
                subject = f"service {cluster}/{svc['serviceName']} container {c['name']}"
                if not ref.digest:
                    problem = WARN("image", f"{revision} runs {ref} by tag: a re-push of that tag changes what new "
                                   "tasks run", "bin/backend/deploy (it registers the image pinned by digest)",
                                   cause="image.unpinned")
                elif ref.digest != wanted and not _has_digest(clients("ecr"), ref):
                    problem = NG("image", f"{revision} pins {ref.digest}, which ECR no longer holds (expired by the "
                                 "lifecycle policy or deleted): new tasks stop with CannotPullContainerError",
                                 "bin/backend/deploy --tag TAG (pins what the tag names now)", cause="image.missing")
                elif ref.digest != wanted:
                    problem = WARN("image", f"{revision} pins {ref.digest}, but the spec's image names {wanted} "
                                   "now (its tag was re-pushed, or the service runs another build)",
                                   "bin/ecs/diff shows it; bin/backend/deploy --tag TAG runs what the tag names now",
                                   cause="image.drift")
                else:
                    problem = None
                report.record("image.deployed", subject, [problem] if problem else [])


def _has_digest(ecr, ref) -> bool:
    try:
        return bool(ecr.describe_images(repositoryName=ref.repository,
                                        imageIds=[{"imageDigest": ref.digest}])["imageDetails"])
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return False


def secrets(report, clients, rendered) -> dict:
    """secret.exists for every secret the tasks read; {subject: KMS key id} of those under a named key."""
    return {**_parameters(report, clients, rendered), **_secrets_manager(report, clients, rendered)}


def _value_froms(rendered, secrets_manager: bool) -> list[str]:
    return sorted({s["valueFrom"] for _, td, _ in rendered for c in td["containerDefinitions"]
                   for s in c.get("secrets") or [] if (":secretsmanager:" in s["valueFrom"]) == secrets_manager})


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
        page = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Equals",
                                                          "Values": values[i:i + 50]}], MaxResults=50)
        found.update({p["Name"]: p.get("KeyId") for p in page["Parameters"]})
    for name in values:
        report.record("secret.exists", f"ssm parameter {name}", [] if name in found else [
            NG("", "the parameter does not exist: tasks stop with ResourceInitializationError",
               f"bin/ssm/put-params (sets {name.rsplit('/', 1)[-1]})", cause="secret.missing")])
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
            report.record("secret.exists", subject, [
                NG("", "the secret does not exist: tasks stop with ResourceInitializationError",
                   "run bin/aws/setup --with-database or set DB_SECRET_ARN to the secret's ARN",
                   cause="secret.missing")])
            continue
        report.record("secret.exists", subject, [])
        if key_id:
            keys[subject] = key_id
    return keys


def _log_groups(report, clients, rendered):
    logs = clients("logs")
    groups = {}
    for _, td, _ in rendered:
        for c in td["containerDefinitions"]:
            lc = c.get("logConfiguration") or {}
            if lc.get("logDriver") == "awslogs":
                opts = lc.get("options") or {}
                groups[opts["awslogs-group"]] = groups.get(opts["awslogs-group"]) or \
                    str(opts.get("awslogs-create-group", "")).lower() == "true"
    for group, may_create in sorted(groups.items()):
        have = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        exists = any(g["logGroupName"] == group for g in have)
        report.record("logs.group", f"log group {group}", [] if exists or may_create else [
            NG("", "the log group does not exist and awslogs-create-group is off: tasks fail to start",
               "run bin/aws/setup", cause="logs.group-missing")])


def _cluster_and_network(report, clients, rendered, variables):
    ecs, ec2 = clients("ecs"), clients("ec2")
    clusters = sorted({sd.get("cluster") for _, _, sd in rendered})
    found = {c["clusterName"]: c for c in ecs.describe_clusters(clusters=clusters)["clusters"]}
    for name in clusters:
        c = found.get(name)
        report.record("cluster.active", f"ecs cluster {name}", [] if c and c["status"] == "ACTIVE" else [
            NG("", "the cluster does not exist or is not ACTIVE", "run bin/aws/setup", cause="cluster.missing")])
    subnets = sorted({sn for _, _, sd in rendered
                      for sn in sd["networkConfiguration"]["awsvpcConfiguration"]["subnets"]})
    have = {sn["SubnetId"] for sn in ec2.describe_subnets(
        Filters=[{"Name": "subnet-id", "Values": subnets}])["Subnets"]} if subnets else set()
    report.record("network.subnets", "subnets " + ", ".join(subnets),
                  [NG("", f"{sn} does not exist", "set SUBNET_IDS to existing subnets", cause="subnet.missing")
                   for sn in subnets if sn not in have])
    alb_sg = variables["ALB_SG_ID"]
    sg_ids = sorted({g for _, _, sd in rendered for g in sd["networkConfiguration"]["awsvpcConfiguration"]
                     ["securityGroups"]} | {alb_sg})
    groups = {g["GroupId"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "group-id", "Values": sg_ids}])["SecurityGroups"]}
    alb = groups.get(alb_sg)
    report.record("network.alb-sg", f"security group {alb_sg} (ALB)", [] if alb and admits_cidr(alb, 80) else [
        NG("IpPermissions", "the ALB group does not admit 80 from 0.0.0.0/0: the ALB DNS name times out",
           "run bin/aws/setup (network/security-groups.json)", cause="sg.alb-inbound")])
    for s, _, sd in rendered:
        for gid in sd["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]:
            g = groups.get(gid)
            ok = g is not None and admits_group(g, s.container_port, alb_sg)
            report.record("network.service-sg", f"security group {gid} ({s.name})", [] if ok else [
                NG("IpPermissions", f"does not admit {s.container_port} from the ALB group {alb_sg}: targets "
                   "stay unhealthy", f"allow tcp {s.container_port} from {alb_sg} (bin/aws/setup)",
                   cause="sg.service-from-alb")])


def _target_groups(report, clients, rendered):
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
            report.record("target-group.matches", f"target group {name}", [NG("", "does not exist",
                          "run bin/aws/setup", cause="target-group.missing")])
            continue
        problems = [NG(key, f"{key} is {tg.get(key)!r}, the spec says {spec[key]!r}",
                       "run bin/aws/setup to converge it", cause="target-group.drift")
                    for key in ("Port", "Protocol", "TargetType", "HealthCheckPath") if tg.get(key) != spec.get(key)]
        report.record("target-group.matches", f"target group {name}", problems)
