"""Every file under aws/json, loaded once and rendered with stand-in variables for offline checks.

Lint needs no account: each ${VAR} gets a stand-in of the right kind (a list for *_IDS, an ARN for
*_ARN, ...), so the rendered document has the shape the API will see. Rules read `docs` by kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import AWS_JSON, templates
from ..aws import DEFAULT_REGION
from ..config import (
    ADOT_COLLECTOR_CONFIG,
    CLUSTER,
    EXECUTION_ROLE,
    INFRASTRUCTURE_ROLE,
    TASK_ROLE,
    adot_collector_config,
)
from ..ddb import DEFAULT_TABLE

ACCOUNT = "123456789012"


def _standins(region: str) -> dict:
    elb = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}"
    return {
        "AWS_ACCOUNT_ID": ACCOUNT,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "IMAGE_TAG": "0123abc",
        "CLUSTER_NAME": CLUSTER,
        "ASSIGN_PUBLIC_IP": "ENABLED",
        "VPC_ID": "vpc-0lint",
        "EXECUTION_ROLE_NAME": EXECUTION_ROLE,
        "TASK_ROLE_NAME": TASK_ROLE,
        "DDB_MESSAGE_TABLE": DEFAULT_TABLE,
        "DB_SECRET_ARN": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:rds!db-lint-0123-AbCdEf",
        "DB_PORT": "5432",
        "DB_NAME": "cruddur",
        "KMS_KEY_ARNS": [f"arn:aws:kms:{region}:{ACCOUNT}:key/0123abcd-0123-4567-89ab-0123456789ab"],
        "TARGET_GROUP_ARN": f"{elb}:targetgroup/cruddur-lint/0123456789abcdef",
        "ALTERNATE_TARGET_GROUP_ARN": f"{elb}:targetgroup/cruddur-lint-alt/0123456789abcdef",
        "PRODUCTION_LISTENER_RULE_ARN": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:listener-rule/app/"
        "cruddur-alb/0123456789abcdef/0123456789abcdef/0123456789abcde0",
        "TEST_LISTENER_RULE_ARN": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:listener-rule/app/"
        "cruddur-alb/0123456789abcdef/0123456789abcdee/0123456789abcde1",
        "ECS_INFRASTRUCTURE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/{INFRASTRUCTURE_ROLE}",
        "TARGET_GROUP_DIMENSION": "targetgroup/cruddur-lint/0123456789abcdef",
        "ALTERNATE_TARGET_GROUP_DIMENSION": "targetgroup/cruddur-lint-alt/0123456789abcdef",
        "LOAD_BALANCER_DIMENSION": "app/cruddur-alb/0123456789abcdef",
    }


class StandIns(dict):
    """Variables for offline rendering: a plausible value of the right type for any name."""

    def __init__(self, region: str = DEFAULT_REGION):
        super().__init__(_standins(region))
        self.region = region

    def __missing__(self, name: str):
        region = self.region
        if name.endswith("_IDS"):
            return [f"{name.lower()}-a", f"{name.lower()}-b"]
        if name.endswith("_ARNS"):
            return [f"arn:aws:lint:{region}:{ACCOUNT}:{name.lower()}/*"]
        if name.endswith("_ARN"):
            return f"arn:aws:lint:{region}:{ACCOUNT}:{name.lower()}"
        if name.endswith("_URL") or name.endswith("_ENDPOINT"):
            return f"https://{name.lower().replace('_', '-')}.example.invalid"
        return f"lint-{name.lower().replace('_', '-')}"


@dataclass
class SpecFile:
    path: Path
    rel: str  # "aws/json/task-definitions/backend-flask.json"
    kind: str  # task-definition, service, policy, target, alb, network, scaling, capacity, other
    raw: Any = None  # as written, placeholders untouched
    doc: Any = None  # rendered with stand-ins
    error: str = ""


_KINDS = {
    "task-definitions": "task-definition",
    "services": "service",
    "policies": "policy",
    "targets": "target",
    "network": "network",
    "scaling": "scaling",
    "capacity-providers": "capacity",
    "load-balancer": "alb",
    "database": "database",
    "ecr": "ecr-lifecycle",
    "xray": "xray-sampling",
    "db-credentials": "db-credentials",
    "alarms": "alarm",
    "cognito": "cognito",
    "tracing": "tracing-sidecar",
}


def _kind(rel_parts: tuple[str, ...]) -> str:
    for part in reversed(rel_parts[:-1]):
        if part in _KINDS:
            return _KINDS[part]
    return "other"


def strip_comments(node):
    """Drop the kit's "_comment"-style keys (leading underscore): they never reach AWS."""
    if isinstance(node, dict):
        return {k: strip_comments(v) for k, v in node.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(node, list):
        return [strip_comments(v) for v in node]
    return node


@dataclass
class SpecSet:
    root: Path
    files: list[SpecFile] = field(default_factory=list)
    variables: dict = field(default_factory=StandIns)

    @classmethod
    def load(cls, root: Path | None = None, variables: dict | None = None, region: str = DEFAULT_REGION) -> SpecSet:
        root = Path(root or AWS_JSON)
        specs = cls(root=root, variables=variables if variables is not None else StandIns(region))
        for path in sorted(root.rglob("*.json")):
            rel_parts = path.relative_to(root).parts
            spec = SpecFile(path, "aws/json/" + "/".join(rel_parts), _kind(rel_parts))
            try:
                spec.raw = json.loads(path.read_text())
            except json.JSONDecodeError as e:
                spec.error = f"not valid JSON: line {e.lineno} column {e.colno}: {e.msg}"
            specs.files.append(spec)
        if isinstance(specs.variables, StandIns):
            specs._derive_standins()
        for spec in specs.files:
            if spec.error:
                continue
            try:
                spec.doc = strip_comments(templates.render(spec.raw, specs.variables, source=spec.path))
            except Exception as e:  # a template that cannot render is a finding, not a crash
                spec.error = str(e)
        return specs

    def _derive_standins(self) -> None:
        """The list variables bin/aws/setup derives from the task definitions (config.Variables does the same)."""
        repos, groups = set(), set()
        for f in self.files:
            if f.kind != "task-definition" or not isinstance(f.raw, dict):
                continue
            for c in f.raw.get("containerDefinitions") or []:
                image = str(c.get("image", ""))
                if ".dkr.ecr." in image:
                    repos.add(image.split("/", 1)[1].split(":")[0].split("@")[0])
                group = ((c.get("logConfiguration") or {}).get("options") or {}).get("awslogs-group")
                if group:
                    groups.add(group)
        region = self.variables.region
        beside = self.root.parent / "otel" / ADOT_COLLECTOR_CONFIG.name  # a tree's own collector config, if it has one
        self.variables["ADOT_COLLECTOR_CONFIG"] = adot_collector_config(
            self.variables, beside if beside.exists() else ADOT_COLLECTOR_CONFIG
        )
        self.variables["SSM_PARAMETER_ARNS"] = self.ssm_parameter_arns()
        self.variables["ECR_REPOSITORY_ARNS"] = [
            f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{r}" for r in sorted(repos)
        ]
        self.variables["LOG_STREAM_ARNS"] = [
            f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{g}:log-stream:*" for g in sorted(groups)
        ]

    def ssm_parameter_arns(self) -> list[str]:
        """The SSM parameters the task definitions (as written: the default sidecar) name, as ARNs."""
        found = set()
        for f in self.files:
            if f.kind != "task-definition" or not isinstance(f.raw, dict):
                continue
            for c in f.raw.get("containerDefinitions") or []:
                for secret in c.get("secrets") or []:
                    value = str(templates.render({"v": secret.get("valueFrom", "")}, self.variables)["v"])
                    if ":secretsmanager:" in value:
                        continue
                    found.add(
                        value
                        if value.startswith("arn:")
                        else f"arn:aws:ssm:{self.variables.region}:{ACCOUNT}:parameter/{value.lstrip('/')}"
                    )
        return sorted(found)

    def of(self, kind: str) -> list[SpecFile]:
        return [f for f in self.files if f.kind == kind and not f.error]

    def unparsed(self, kind: str, name: str | None = None) -> SpecFile | None:
        """A file of this kind (and file name) that does not parse or render: rules that would look in it say
        SKIP, not a second NG, since its own file.parse NG already names the problem."""
        return next((f for f in self.files if f.kind == kind and f.error and name in (None, f.path.name)), None)

    def task_definition(self, family: str) -> SpecFile | None:
        return next(
            (f for f in self.of("task-definition") if isinstance(f.doc, dict) and f.doc.get("family") == family), None
        )

    def target_for(self, service: SpecFile) -> SpecFile | None:
        """The target group spec of a service: load-balancer/targets/<serviceName>.json."""
        name = service.doc.get("serviceName") if isinstance(service.doc, dict) else None
        return next((f for f in self.of("target") if f.path.stem == name), None)
