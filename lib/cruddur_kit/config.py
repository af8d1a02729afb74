"""The variables every template and script shares, gathered in one place: flag > environment > default.

`Variables` is a lazy mapping: a value found in AWS (the account id, the default VPC's subnets, a
security group or target group id) is looked up only when a template asks for it, then cached.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from . import AWS_JSON, aws, kms, templates
from . import spec as speclib
from .ddb import DEFAULT_TABLE
from .errors import KitError

CLUSTER = "cruddur"
DEFAULT_SERVICE = "backend-flask"
NAMESPACE = "cruddur"
ALB_NAME = "cruddur-alb"
ALB_SG = "cruddur-alb-sg"
SERVICE_SG = "cruddur-srv-sg"
DB_SG = "cruddur-db-sg"
DB_INSTANCE = "cruddur-db"  # aws/json/database/rds.json
EXECUTION_ROLE = "CruddurServiceExecutionRole"
TASK_ROLE = "CruddurTaskRole"
INFRASTRUCTURE_ROLE = "CruddurECSInfrastructureRole"  # ECS assumes it to shift load-balancer traffic
LOG_RETENTION_DAYS = 14

DEFAULTS = {
    "AWS_DEFAULT_REGION": aws.DEFAULT_REGION,
    "CLUSTER_NAME": CLUSTER,
    "SERVICE_CONNECT_NAMESPACE": NAMESPACE,
    "EXECUTION_ROLE_NAME": EXECUTION_ROLE,
    "TASK_ROLE_NAME": TASK_ROLE,
    "ECS_INFRASTRUCTURE_ROLE_NAME": INFRASTRUCTURE_ROLE,
    "DDB_MESSAGE_TABLE": DEFAULT_TABLE,
    "ASSIGN_PUBLIC_IP": "ENABLED",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io",
    "CAPACITY_PROVIDERS": "fargate",
    "LOG_RETENTION_DAYS": str(LOG_RETENTION_DAYS),
    "DB_CREDENTIALS": "ssm",  # or "rds": the database login from the RDS-managed secret (aws/json/db-credentials)
    "TRACING_SIDECAR": "adot",  # or "xray-daemon" (aws/json/tracing/xray-daemon.json) until 2027-02-25
}
ADOT_COLLECTOR_CONFIG = AWS_JSON.parent / "otel" / "adot-collector.yaml"


def _split(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [v.strip() for v in str(value).split(",") if v.strip()]


class Variables(Mapping):
    """Template variables. Sources, first wins: flags, environment, AWS look-ups, defaults."""

    def __init__(
        self,
        flags: Mapping | None = None,
        env: Mapping | None = None,
        *,
        client_factory: Callable | None = None,
        service: speclib.ServiceSpec | None = None,
        _cache: dict | None = None,
    ):
        self.flags = {k: v for k, v in (flags or {}).items() if v not in (None, "")}
        self.env = os.environ if env is None else env
        self.client = client_factory or aws.Clients(self.region)  # the AWS look-ups' clients
        self.service = service
        self._cache = {} if _cache is None else _cache

    # -- the mapping -------------------------------------------------------------------------
    def __getitem__(self, name: str):
        if name in self.flags:
            return self.flags[name]
        if self.service is not None:
            scoped = self._service_value(name)
            if scoped is not None:
                return scoped
        value = self.env.get(name)
        if value not in (None, ""):
            return _split(value) if name in ("SUBNET_IDS", "KMS_KEY_ARNS") else value
        if name == "AWS_DEFAULT_REGION" and self.env.get("AWS_REGION"):
            return self.env["AWS_REGION"]
        if name in self._cache:
            return self._cache[name]
        finder = getattr(self, f"_find_{name.lower()}", None)
        if finder is not None:
            value = finder()
            if value is not None:
                self._cache[name] = value
                return value
        if name in DEFAULTS:
            return DEFAULTS[name]
        raise KeyError(name)

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(DEFAULTS) | set(self.flags)))

    def __len__(self) -> int:
        return len(set(DEFAULTS) | set(self.flags))

    def remember(self, name: str, value) -> None:
        """Record a value found or created during a run (e.g. a new security group's id)."""
        self._cache[name] = value

    def for_service(self, service: speclib.ServiceSpec | str) -> Variables:
        """The same sources plus the service's own variables (TARGET_GROUP_ARN, CONTAINER_PORT, ...)."""
        if isinstance(service, str):
            service = speclib.get(service)
        return Variables(self.flags, self.env, client_factory=self.client, service=service, _cache=self._cache)

    @property
    def region(self) -> str:
        return self.flags.get("AWS_DEFAULT_REGION") or aws.default_region(self.env)

    # -- service-scoped ------------------------------------------------------------------------
    def _service_value(self, name: str):
        s = self.service
        if name == "SERVICE_NAME":
            return s.name
        if name == "CONTAINER_NAME":
            return s.container_name
        if name == "CONTAINER_PORT":
            return s.container_port
        if name == "ECR_REPOSITORY":
            return s.repository
        if name == "TARGET_GROUP_ARN":
            return self._service_lookup(name, lambda: target_group_arn(self.client("elbv2"), s.target_group_name))
        if name == "ALTERNATE_TARGET_GROUP_ARN":
            return self._service_lookup(
                name, lambda: target_group_arn(self.client("elbv2"), s.alternate_target_group_name)
            )
        if name in ("TARGET_GROUP_DIMENSION", "ALTERNATE_TARGET_GROUP_DIMENSION"):
            arn = self[name.replace("_DIMENSION", "_ARN")]
            return arn.split(":", 5)[-1]  # CloudWatch's TargetGroup dimension: targetgroup/NAME/ID
        if name in ("PRODUCTION_LISTENER_RULE_ARN", "TEST_LISTENER_RULE_ARN"):
            part = "listener" if name.startswith("PRODUCTION") else "testListener"
            port = int(templates.load(AWS_JSON / "load-balancer" / "alb.json")[part]["Port"])  # a literal
            groups = {self["TARGET_GROUP_ARN"], self["ALTERNATE_TARGET_GROUP_ARN"]}
            found = self._service_lookup(
                name,
                lambda: next(
                    (
                        r["RuleArn"]
                        for r in self._rules_on(port)
                        if not r["IsDefault"] and forwarded_groups(r["Actions"]) & groups
                    ),
                    None,
                ),
            )
            if found is None:
                raise KitError(f"no listener rule on port {port} forwards to {s.target_group_name}: run bin/aws/setup")
            return found
        return None

    def _rules_on(self, port: int) -> list[dict]:
        """The rules of the ALB's listener on `port` (looked up once per run; [] while there is none)."""
        key = f"_rules:{port}"
        if key not in self._cache:
            elbv2 = self.client("elbv2")
            if "_listeners" not in self._cache:
                alb = load_balancer(elbv2, ALB_NAME)
                if alb is None:
                    return []
                self._cache["_listeners"] = elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])[
                    "Listeners"
                ]
            listener = next((li for li in self._cache["_listeners"] if li["Port"] == port), None)
            if listener is None:
                return []
            self._cache[key] = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        return self._cache[key]

    def _service_lookup(self, name: str, find: Callable):
        """A service's own resource, found in AWS once per run (None, uncached, while it does not exist)."""
        key = f"{name}:{self.service.name}"
        if key not in self._cache:
            value = find()
            if value is None:
                return None
            self._cache[key] = value
        return self._cache[key]

    # -- discovered ----------------------------------------------------------------------------
    def _find_aws_account_id(self):
        return self.client("sts").get_caller_identity()["Account"]

    def _find_vpc_id(self):
        vpcs = self.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise KitError("no default VPC in this region: set VPC_ID and SUBNET_IDS (comma-separated)")
        return vpcs[0]["VpcId"]

    def _find_subnet_ids(self):
        """Subnets tagged project=cruddur when there are any, else the VPC's default (public) subnets."""
        ec2 = self.client("ec2")
        vpc = self["VPC_ID"]
        tagged = ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "tag:project", "Values": ["cruddur"]}]
        )["Subnets"]
        subnets = (
            tagged
            or ec2.describe_subnets(
                Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default-for-az", "Values": ["true"]}]
            )["Subnets"]
        )
        # one subnet per availability zone, so the tasks spread across zones
        by_az: dict[str, str] = {}
        for sn in sorted(subnets, key=lambda s: (s["AvailabilityZone"], s["SubnetId"])):
            by_az.setdefault(sn["AvailabilityZone"], sn["SubnetId"])
        if len(by_az) < 2:
            raise KitError(f"VPC {vpc} needs subnets in two availability zones: set SUBNET_IDS (comma-separated)")
        return list(by_az.values())

    def _group(self, name: str, var: str):
        ec2 = self.client("ec2")
        groups = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [self["VPC_ID"]]}, {"Name": "group-name", "Values": [name]}]
        )["SecurityGroups"]
        if not groups:
            raise KitError(f"security group {name} does not exist: run bin/aws/setup (or set {var})")
        return groups[0]["GroupId"]

    def _find_alb_sg_id(self):
        return self._group(ALB_SG, "ALB_SG_ID")

    def _find_service_sg_id(self):
        return self._group(SERVICE_SG, "SERVICE_SG_ID")

    def _find_db_sg_id(self):
        return self._group(DB_SG, "DB_SG_ID")

    def _find_alb_dns_name(self):
        alb = load_balancer(self.client("elbv2"), ALB_NAME)
        if alb is None:
            raise KitError(f"load balancer {ALB_NAME} does not exist: run bin/aws/setup (or set BACKEND_URL)")
        return alb["DNSName"]

    def _find_load_balancer_dimension(self):
        alb = load_balancer(self.client("elbv2"), ALB_NAME)
        if alb is None:
            raise KitError(f"load balancer {ALB_NAME} does not exist: run bin/aws/setup")
        return alb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]  # CloudWatch's LoadBalancer: app/NAME/ID

    def _find_ecs_infrastructure_role_arn(self):
        return f"arn:aws:iam::{self['AWS_ACCOUNT_ID']}:role/{self['ECS_INFRASTRUCTURE_ROLE_NAME']}"

    def _find_backend_url(self):
        return f"http://{self['ALB_DNS_NAME']}"

    def _find_frontend_url(self):
        return f"http://{self['ALB_DNS_NAME']}"

    def _find_aws_cognito_user_pool_id(self):
        from . import cognito

        pool = cognito.find_pool(self.client("cognito-idp"))
        return pool.pool_id if pool else None

    def _find_aws_cognito_user_pool_client_id(self):
        from . import cognito

        pool = cognito.find_pool(self.client("cognito-idp"))
        return pool.client_id if pool else None

    # -- the RDS instance of `bin/aws/setup --with-database` (DB_CREDENTIALS=rds reads these) ----------
    def _db_instance(self) -> dict | None:
        if "_db_instance" not in self._cache:
            rds = self.client("rds")
            try:
                found = rds.describe_db_instances(DBInstanceIdentifier=DB_INSTANCE)["DBInstances"]
            except rds.exceptions.DBInstanceNotFoundFault:
                found = []
            if not found:
                return None  # not cached: setup may create it later in the same run
            self._cache["_db_instance"] = found[0]
        return self._cache["_db_instance"]

    def _find_db_secret_arn(self):
        inst = self._db_instance()
        return ((inst or {}).get("MasterUserSecret") or {}).get("SecretArn")

    def _find_db_host(self):
        return ((self._db_instance() or {}).get("Endpoint") or {}).get("Address")

    def _find_db_port(self):
        port = ((self._db_instance() or {}).get("Endpoint") or {}).get("Port")
        return str(port) if port else None

    def _find_db_name(self):
        return (self._db_instance() or {}).get("DBName")

    def _find_ecr_repository_arns(self):
        prefix = f"arn:aws:ecr:{self.region}:{self['AWS_ACCOUNT_ID']}:repository/"
        return sorted({prefix + s.repository for s in speclib.services()})

    def _find_log_stream_arns(self):
        prefix = f"arn:aws:logs:{self.region}:{self['AWS_ACCOUNT_ID']}:log-group:"
        return sorted({f"{prefix}{g}:log-stream:*" for s in speclib.services() for g in s.log_groups})

    def _find_adot_collector_config(self):
        """The ADOT collector's configuration (aws/otel/adot-collector.yaml) with the kit's ${VAR}s filled: the
        sidecar's AOT_CONFIG_CONTENT, so the configuration travels with the task definition revision."""
        return adot_collector_config(self)

    def _find_ssm_parameter_arns(self):
        """Every SSM parameter the task definitions read (with TRACING_SIDECAR and DB_CREDENTIALS applied): the
        execution role's ssm:GetParameters resources, one ARN each."""
        return sorted({arn for s in speclib.services() for arn in speclib.ssm_parameter_arns(s, self.for_service(s))})

    # -- customer-managed KMS keys of the secrets tasks read (kms.py; the execution role needs kms:Decrypt) --
    def _find_kms_key_arns(self):
        policy = templates.render(AWS_JSON / "policies" / "execution-role-policy.json", self)
        patterns = [
            r
            for st in policy["Statement"]
            if "ssm:GetParameters" in _split(st["Action"])
            for r in _split(st["Resource"])
        ]
        key_ids = set(kms.parameter_key_ids(self.client("ssm"), patterns).values())
        if str(self["DB_CREDENTIALS"]).lower() == "rds" and self.get("DB_SECRET_ARN"):
            key_ids.add(kms.secret_key_id(self.client("secretsmanager"), self["DB_SECRET_ARN"]))
        client = self.client("kms")
        return sorted({arn for arn in (kms.customer_key_arn(client, k) for k in key_ids) if arn})


def target_group_arn(elbv2, name: str) -> str | None:
    try:
        groups = elbv2.describe_target_groups(Names=[name])["TargetGroups"]
    except elbv2.exceptions.TargetGroupNotFoundException:
        return None
    return groups[0]["TargetGroupArn"] if groups else None


def forwarded_groups(actions: list[dict]) -> set:
    """Every target group a listener rule's forward actions name, weighted or not."""
    found = set()
    for a in actions:
        if a.get("Type") == "forward":
            if a.get("TargetGroupArn"):
                found.add(a["TargetGroupArn"])
            found |= {g["TargetGroupArn"] for g in (a.get("ForwardConfig") or {}).get("TargetGroups", [])}
    return found


def load_balancer(elbv2, name: str) -> dict | None:
    try:
        lbs = elbv2.describe_load_balancers(Names=[name])["LoadBalancers"]
    except elbv2.exceptions.LoadBalancerNotFoundException:
        return None
    return lbs[0] if lbs else None


def adot_collector_config(variables, path: Path = ADOT_COLLECTOR_CONFIG) -> str:
    """The collector configuration text with the kit's ${VAR} placeholders filled (the collector's own
    ${env:NAME} references are left for it)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KitError(f"{path.relative_to(AWS_JSON.parents[1])} is missing: restore it from git") from None
    return templates.render({"config": text}, variables, source=path)["config"]
