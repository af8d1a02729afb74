"""Cross-file rules: what one spec needs from another (policies, security groups, target groups)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..model import NG, SKIP, WARN
from ..registry import rule
from .iam import as_list, statements

SEED_PULL = "seed 001 troubleshooting: 'unable to pull secrets or registry auth'; seed 000 §7 problem 2"
SEED_SG = "seed 000 §6 'If ALB DNS times out' steps B-C; §7 problems 1 and 3"


def policy_file(specs, role: str):
    """policies/<role>-role-policy.json: role is "execution" or "task"."""
    return next((f for f in specs.of("policy") if f.path.name == f"{role}-role-policy.json"), None)


def allows(doc, action: str, resource: str) -> bool:
    """True when an Allow statement covers action on resource (globs; conditions are not evaluated)."""
    for s in statements(doc):
        if s.get("Effect") != "Allow":
            continue
        if not any(fnmatchcase(action.lower(), str(a).lower()) for a in as_list(s.get("Action"))):
            continue
        if any(fnmatchcase(resource, str(r)) for r in as_list(s.get("Resource"))):
            return True
    return False


def lacking(doc, actions: tuple[str, ...], resource: str) -> list[str]:
    """The actions the policy does not allow on resource, in the order asked."""
    return [a for a in actions if not allows(doc, a, resource)]


def _containers(doc):
    return [(i, c) for i, c in enumerate(doc.get("containerDefinitions") or []) if isinstance(c, dict)]


def _arn_of_secret(ref: str, region: str, account: str) -> str:
    if ref.startswith("arn:"):
        return ref
    return f"arn:aws:ssm:{region}:{account}:parameter/{ref.lstrip('/')}"


@rule("cross.execution-role-reads-secrets", "task-definition", seed=SEED_PULL)
def secrets_readable(spec, specs):
    """The execution role's policy lets ECS read every secret the containers name.

    Fix: Allow ssm:GetParameters (or secretsmanager:GetSecretValue) on the secrets in
    policies/execution-role-policy.json.
    """
    refs = [
        (i, j, s.get("valueFrom", "")) for i, c in _containers(spec.doc) for j, s in enumerate(c.get("secrets") or [])
    ]
    if not refs:
        return
    policy = policy_file(specs, "execution")
    if policy is None and (broken := specs.unparsed("policy", "execution-role-policy.json")):
        yield SKIP("$.executionRoleArn", f"{broken.rel} does not parse: checked once it does")
        return
    if policy is None:
        yield NG(
            "$.executionRoleArn",
            "secrets are read by the execution role, and policies/execution-role-policy.json is missing",
            "add the execution role policy with ssm:GetParameters on the parameters",
        )
        return
    v = specs.variables
    for i, j, ref in refs:
        arn = _arn_of_secret(ref, v["AWS_DEFAULT_REGION"], v["AWS_ACCOUNT_ID"])
        if ":secretsmanager:" in arn:
            base = ":".join(arn.split(":")[:7])
            ok = allows(policy.doc, "secretsmanager:GetSecretValue", base) or allows(
                policy.doc, "secretsmanager:GetSecretValue", base + "-AbCdEf"
            )
            need = "secretsmanager:GetSecretValue"
        else:
            ok = allows(policy.doc, "ssm:GetParameters", arn)
            need = "ssm:GetParameters"
        if not ok:
            yield NG(
                f"$.containerDefinitions[{i}].secrets[{j}].valueFrom",
                f"{policy.rel} does not allow {need} on {arn}: tasks stop with "
                "ResourceInitializationError: unable to pull secrets",
                f"allow {need} on {arn.rsplit('/', 1)[0]}/* in {policy.rel}",
            )


@rule(
    "cross.execution-role-pull-and-logs",
    "task-definition",
    seed="seed 000 §7 problem 2: AmazonECSTaskExecutionRolePolicy (ECR pull, logs)",
)
def execution_basics(spec, specs):
    """The execution role can pull private ECR images and write (and, if asked, create) the log groups.

    Fix: Allow ecr:GetAuthorizationToken on *, the ECR pull actions on the repository and the logs actions on the
    group in the execution role policy.
    """
    doc = spec.doc
    policy = policy_file(specs, "execution")
    if policy is None or not doc.get("executionRoleArn"):
        return
    v = specs.variables
    region, account = v["AWS_DEFAULT_REGION"], v["AWS_ACCOUNT_ID"]
    for i, c in _containers(doc):
        image = str(c.get("image", ""))
        if ".dkr.ecr." in image:
            repo = image.split("/", 1)[1].split(":")[0].split("@")[0]
            arn = f"arn:aws:ecr:{region}:{account}:repository/{repo}"
            if not allows(policy.doc, "ecr:GetAuthorizationToken", "*"):
                yield NG(
                    f"$.containerDefinitions[{i}].image",
                    "the execution role cannot get an ECR token: CannotPullContainerError",
                    f"allow ecr:GetAuthorizationToken on * in {policy.rel}",
                )
            missing = lacking(policy.doc, ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"), arn)
            if missing:
                yield NG(
                    f"$.containerDefinitions[{i}].image",
                    f"the execution role cannot {', '.join(missing)} on {arn}: CannotPullContainerError",
                    f"allow them on {arn} in {policy.rel}",
                )
        opts = (c.get("logConfiguration") or {}).get("options") or {}
        group = opts.get("awslogs-group")
        if (c.get("logConfiguration") or {}).get("logDriver") == "awslogs" and group:
            prefix = opts.get("awslogs-stream-prefix", "x")
            stream = f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{prefix}/x"
            missing = lacking(policy.doc, ("logs:CreateLogStream", "logs:PutLogEvents"), stream)
            if missing:
                yield NG(
                    f"$.containerDefinitions[{i}].logConfiguration",
                    f"the execution role cannot {', '.join(missing)} in {group}: the task fails to start",
                    f"allow them on arn:aws:logs:...:log-group:{group}:log-stream:* in {policy.rel}",
                )
            if str(opts.get("awslogs-create-group", "")).lower() == "true" and not allows(
                policy.doc, "logs:CreateLogGroup", f"arn:aws:logs:{region}:{account}:log-group:{group}"
            ):
                yield NG(
                    f"$.containerDefinitions[{i}].logConfiguration.options.awslogs-create-group",
                    "awslogs-create-group needs logs:CreateLogGroup, which the execution role lacks",
                    f"allow logs:CreateLogGroup on the group in {policy.rel}, or create the group in setup",
                )


@rule("cross.task-role-covers-table", "task-definition", seed="issue 5: the task role grants what the app needs")
def task_table(spec, specs):
    """The task role's policy covers the DynamoDB table the containers' environment names.

    Fix: Allow the app's dynamodb actions on the table (and its indexes) in policies/task-role-policy.json.
    """
    tables = [
        (i, j, e.get("value"))
        for i, c in _containers(spec.doc)
        for j, e in enumerate(c.get("environment") or [])
        if e.get("name") == "DDB_MESSAGE_TABLE"
    ]
    if not tables:
        return
    policy = policy_file(specs, "task")
    if policy is None and (broken := specs.unparsed("policy", "task-role-policy.json")):
        yield SKIP("$.taskRoleArn", f"{broken.rel} does not parse: checked once it does")
        return
    if not spec.doc.get("taskRoleArn") or policy is None:
        yield NG(
            "$.taskRoleArn",
            "the app uses DynamoDB but the task has no task role policy",
            "set taskRoleArn and add policies/task-role-policy.json",
        )
        return
    v = specs.variables
    for i, j, table in tables:
        arn = f"arn:aws:dynamodb:{v['AWS_DEFAULT_REGION']}:{v['AWS_ACCOUNT_ID']}:table/{table}"
        missing = lacking(policy.doc, ("dynamodb:Query", "dynamodb:PutItem"), arn)
        if missing:
            yield NG(
                f"$.containerDefinitions[{i}].environment[{j}]",
                f"{policy.rel} does not allow {', '.join(missing)} on {arn}: the app gets AccessDenied",
                f"allow the app's dynamodb actions on {arn} (and its indexes) in {policy.rel}",
            )


def _group_names():
    from ...config import ALB_SG, DB_SG, SERVICE_SG

    return {"ALB_SG_ID": ALB_SG, "SERVICE_SG_ID": SERVICE_SG, "DB_SG_ID": DB_SG}


def _admits(
    group: dict, port: int, source: str | None = None, cidr: str | None = None, service_ports: set | None = None
) -> bool:
    for rule_ in group.get("ingress") or []:
        p = rule_.get("port")
        port_ok = p == port or (p == "service-ports" and port in (service_ports or set()))
        if port_ok and ((source and rule_.get("from") == source) or (cidr and rule_.get("cidr") == cidr)):
            return True
    return False


@rule("network.sg-chain", "network", seed=SEED_SG)
def sg_chain(spec, specs):
    """The internet reaches the ALB, the ALB reaches each container port, the services reach the database.

    Fix: Admit tcp 80/443 from 0.0.0.0/0 on the ALB group, the container ports from the ALB group on the service
    group, and 5432 from the service group on the database group.
    """
    groups = {g.get("GroupName"): g for g in spec.doc.get("groups") or [] if isinstance(g, dict)}
    index = {g.get("GroupName"): i for i, g in enumerate(spec.doc.get("groups") or []) if isinstance(g, dict)}
    names = _group_names()
    alb_name, srv_name, db_name = names["ALB_SG_ID"], names["SERVICE_SG_ID"], names["DB_SG_ID"]
    for name, g in groups.items():
        for k, r in enumerate(g.get("ingress") or []):
            if r.get("from") and r["from"] not in groups:
                yield NG(
                    f"$.groups[{index[name]}].ingress[{k}].from",
                    f"{r['from']!r} is not a group of this file",
                    f"use one of {', '.join(groups)}",
                )
    alb = groups.get(alb_name)
    listener_ports = [(a.doc.get("listener") or {}).get("Port", 80) for a in specs.of("alb")] or [80]
    if alb is None:
        yield NG("$.groups", f"no ALB group {alb_name!r}", f"add {alb_name} with 80/443 from 0.0.0.0/0")
    else:
        for port in listener_ports:
            if not _admits(alb, port, cidr="0.0.0.0/0"):
                yield NG(
                    f"$.groups[{index[alb_name]}].ingress",
                    f"{alb_name} does not admit {port} from 0.0.0.0/0: the ALB DNS name times out",
                    f'add {{"port": {port}, "cidr": "0.0.0.0/0"}}',
                    cause="sg.alb-inbound",
                )
    srv = groups.get(srv_name)
    service_ports = {lb.get("containerPort") for s in specs.of("service") for lb in s.doc.get("loadBalancers") or []}
    if srv is None:
        yield NG(
            "$.groups", f"no service group {srv_name!r}", f"add {srv_name} admitting container ports from {alb_name}"
        )
    else:
        for port in sorted(p for p in service_ports if isinstance(p, int)):
            if not _admits(srv, port, source=alb_name, service_ports=service_ports):
                yield NG(
                    f"$.groups[{index[srv_name]}].ingress",
                    f"{srv_name} does not admit {port} from {alb_name}: targets stay unhealthy",
                    f'add {{"port": {port}, "from": "{alb_name}"}}',
                    cause="sg.service-from-alb",
                )
        if any(r.get("cidr") == "0.0.0.0/0" for r in srv.get("ingress") or []):
            yield WARN(
                f"$.groups[{index[srv_name]}].ingress",
                f"{srv_name} is open to 0.0.0.0/0",
                f"admit the container port from {alb_name} only",
            )
    db = groups.get(db_name)
    if db is not None:
        if not _admits(db, 5432, source=srv_name):
            yield NG(
                f"$.groups[{index[db_name]}].ingress",
                f"{db_name} does not admit 5432 from {srv_name}",
                f'add {{"port": 5432, "from": "{srv_name}"}}',
            )
        if any(r.get("cidr") for r in db.get("ingress") or []):
            yield NG(
                f"$.groups[{index[db_name]}].ingress",
                f"{db_name} admits a CIDR: the database is exposed",
                f"admit 5432 from {srv_name} only",
            )
