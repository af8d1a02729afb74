"""The deployable services: every aws/json/services/<name>.json with its task definition and routing.

Nothing here names a particular service: add services/<name>.json, task-definitions/<name>.json and
load-balancer/targets/<name>.json (and optionally scaling/<name>.json) and every script picks it up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import AWS_JSON, templates
from .errors import KitError

TRAFFIC_SHIFTING = ("BLUE_GREEN", "CANARY", "LINEAR")


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    service_path: Path
    task_definition_path: Path
    targets_path: Path
    scaling_path: Path | None
    container_name: str
    container_port: int
    port_name: str | None
    target_group_name: str
    health_path: str
    path_patterns: tuple[str, ...]  # empty: the listener's default action ("/")
    priority: int | None
    log_groups: tuple[str, ...]
    repository: str  # ECR repository the app container's image comes from
    strategy: str = "ROLLING"  # deploymentConfiguration.strategy
    alarms_path: Path | None = None  # alarms/<name>.json: the CloudWatch alarms its deployments watch

    @property
    def is_default_route(self) -> bool:
        return not self.path_patterns

    @property
    def shifts_traffic(self) -> bool:
        """BLUE_GREEN, CANARY and LINEAR move traffic between two target groups with listener rules."""
        return self.strategy in TRAFFIC_SHIFTING

    @property
    def alternate_target_group_name(self) -> str:
        """The second target group of a traffic-shifting service (ECS alternates between the two)."""
        return f"{self.target_group_name[:28]}-alt"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(AWS_JSON.parents[1]))
    except ValueError:
        return str(path)


def load_service(service_path: Path, root: Path = AWS_JSON) -> ServiceSpec:
    name = service_path.stem
    service = templates.load(service_path)
    td_path = root / "task-definitions" / f"{name}.json"
    targets_path = root / "load-balancer" / "targets" / f"{name}.json"
    for needed in (td_path, targets_path):
        if not needed.exists():
            raise KitError(f"{_rel(service_path)} has no {_rel(needed)}: create it (see backend-flask's)")
    td = templates.load(td_path)
    targets = templates.load(targets_path)
    lbs = service.get("loadBalancers") or []
    if not lbs:
        raise KitError(f"{_rel(service_path)} needs a loadBalancers entry (containerName, containerPort)")
    container_name, container_port = lbs[0]["containerName"], int(lbs[0]["containerPort"])
    containers = {c["name"]: c for c in td.get("containerDefinitions", [])}
    if container_name not in containers:
        raise KitError(
            f"{_rel(service_path)} routes to container {container_name!r}, which {_rel(td_path)} does not define"
        )
    port_name = next(
        (
            p.get("name")
            for p in containers[container_name].get("portMappings", [])
            if p.get("containerPort") == container_port
        ),
        None,
    )
    log_groups = tuple(
        sorted(
            {
                c["logConfiguration"]["options"]["awslogs-group"]
                for c in containers.values()
                if c.get("logConfiguration", {}).get("logDriver") == "awslogs"
            }
        )
    )
    image = containers[container_name].get("image", "")
    repository = image.split("/", 1)[1].split(":", 1)[0] if ".dkr.ecr." in image else name
    tg = targets["targetGroup"]
    rule = targets.get("listenerRule")
    patterns: tuple[str, ...] = ()
    if rule:
        for cond in rule.get("Conditions", []):
            if cond.get("Field") == "path-pattern":
                patterns += tuple(cond.get("PathPatternConfig", {}).get("Values") or cond.get("Values", []))
    scaling = root / "scaling" / f"{name}.json"
    alarms = root / "alarms" / f"{name}.json"
    return ServiceSpec(
        name=name,
        service_path=service_path,
        task_definition_path=td_path,
        targets_path=targets_path,
        scaling_path=scaling if scaling.exists() else None,
        container_name=container_name,
        container_port=container_port,
        port_name=port_name,
        target_group_name=tg["Name"],
        health_path=tg.get("HealthCheckPath", "/"),
        path_patterns=patterns,
        priority=rule.get("Priority") if rule else None,
        log_groups=log_groups,
        repository=repository,
        strategy=str((service.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING"),
        alarms_path=alarms if alarms.exists() else None,
    )


def services(root: Path = AWS_JSON) -> list[ServiceSpec]:
    """Every deployable service, sorted by name."""
    found = [load_service(p, root) for p in sorted((root / "services").glob("*.json"))]
    defaults = [s.name for s in found if s.is_default_route]
    if len(defaults) > 1:
        raise KitError(f"services {', '.join(defaults)} all lack a listenerRule: only one can be the default route")
    return found


def get(name: str, root: Path = AWS_JSON) -> ServiceSpec:
    for s in services(root):
        if s.name == name:
            return s
    known = ", ".join(s.name for s in services(root)) or "none"
    raise KitError(f"no service {name!r} in aws/json/services (known: {known})")


TRACING_SIDECARS = ("adot", "xray-daemon")  # TRACING_SIDECAR: the first is what the task definitions say


def tracing_sidecar(variables) -> str:
    """TRACING_SIDECAR: 'adot' (the task definitions as written) or 'xray-daemon' (tracing/xray-daemon.json)."""
    choice = str(variables.get("TRACING_SIDECAR") or TRACING_SIDECARS[0]).lower()
    if choice not in TRACING_SIDECARS:
        raise KitError(
            f"TRACING_SIDECAR={choice!r} is not known: use 'adot' (the AWS Distro for OpenTelemetry "
            "collector) or 'xray-daemon' (the X-Ray daemon, until its end of support on 2027-02-25)"
        )
    return choice


def tracing_overlay_path(root: Path = AWS_JSON) -> Path:
    """tracing/xray-daemon.json beside the task definitions (this repo's for a task definition file elsewhere)."""
    path = root / "tracing" / "xray-daemon.json"
    return path if path.exists() else AWS_JSON / "tracing" / "xray-daemon.json"


def task_definition(s: ServiceSpec, variables) -> dict:
    """The register_task_definition input for a service, rendered; TRACING_SIDECAR=xray-daemon swaps the ADOT
    collector sidecar for the X-Ray daemon (tracing/xray-daemon.json); DB_CREDENTIALS=rds swaps the database
    secret for the RDS-managed one (db-credentials/<service>.json)."""
    scoped = _scoped(s, variables)
    doc = templates.render(s.task_definition_path, scoped)
    if tracing_sidecar(scoped) == "xray-daemon":
        doc = with_tracing_sidecar(
            doc, templates.render(tracing_overlay_path(s.task_definition_path.parents[1]), scoped)
        )
    choice = str(scoped.get("DB_CREDENTIALS") or "ssm").lower()
    if choice == "rds":
        overlay = s.task_definition_path.parents[1] / "db-credentials" / f"{s.name}.json"
        if overlay.exists():
            doc = with_db_credentials(doc, templates.render(overlay, scoped))
    elif choice != "ssm":
        raise KitError(
            f"DB_CREDENTIALS={choice!r} is not known: use 'ssm' (CONNECTION_URL in Parameter Store) "
            "or 'rds' (the RDS-managed secret in Secrets Manager)"
        )
    return doc


def with_db_credentials(td: dict, overlay: dict) -> dict:
    """The task definition with one container's secrets/environment changed as a db-credentials file says."""
    td = json.loads(json.dumps(td))
    container = next((c for c in td.get("containerDefinitions", []) if c.get("name") == overlay["containerName"]), None)
    if container is None:
        raise KitError(
            f"db-credentials names container {overlay['containerName']!r}, which the task definition "
            f"{td.get('family')} does not define"
        )
    replaced = set(overlay.get("replacesSecrets", []))
    container["secrets"] = [x for x in container.get("secrets", []) if x["name"] not in replaced] + overlay["secrets"]
    added = {e["name"] for e in overlay.get("environment", [])}
    container["environment"] = [e for e in container.get("environment", []) if e["name"] not in added] + overlay.get(
        "environment", []
    )
    return td


def with_tracing_sidecar(td: dict, overlay: dict) -> dict:
    """The task definition with the overlay's sidecar in place of `replacesContainer` (when it has that
    container): dependsOn entries follow the new name, and the containers that depended on the old sidecar get
    the overlay's environment values and secrets (same-named ones replaced)."""
    td = json.loads(json.dumps(td))
    old = overlay["replacesContainer"]
    containers = td.get("containerDefinitions", [])
    if not any(c.get("name") == old for c in containers):
        return td
    sidecar = overlay["sidecar"]
    out = []
    for c in containers:
        if c.get("name") == old:
            out.append(json.loads(json.dumps(sidecar)))
            continue
        if any(d.get("containerName") == old for d in c.get("dependsOn", [])):
            c["dependsOn"] = [
                {**d, "containerName": sidecar["name"]} if d.get("containerName") == old else d for d in c["dependsOn"]
            ]
            for key, given in (
                ("environment", overlay.get("dependentsEnvironment", [])),
                ("secrets", overlay.get("dependentsSecrets", [])),
            ):
                names = {e["name"] for e in given}
                c[key] = [e for e in c.get(key, []) if e["name"] not in names] + given
        out.append(c)
    td["containerDefinitions"] = out
    return td


def ssm_parameter_arns(s: ServiceSpec, variables) -> list[str]:
    """The SSM parameters a service's task definition will read (its `secrets`, with TRACING_SIDECAR and
    DB_CREDENTIALS applied), as ARNs: what the execution role may read, and nothing more. Only the secrets
    are rendered, so this needs no more than the region, the account and the service's name."""
    scoped = _scoped(s, variables)
    raw = templates.load(s.task_definition_path)
    keep = ("name", "secrets", "dependsOn")
    doc = {"containerDefinitions": [{k: c[k] for k in keep if k in c} for c in raw.get("containerDefinitions", [])]}
    if tracing_sidecar(scoped) == "xray-daemon":
        overlay = templates.load(tracing_overlay_path(s.task_definition_path.parents[1]))
        overlay["sidecar"] = {k: overlay["sidecar"][k] for k in keep if k in overlay["sidecar"]}
        overlay.pop("dependentsEnvironment", None)
        doc = with_tracing_sidecar(doc, overlay)
    dropped = set()
    if str(scoped.get("DB_CREDENTIALS") or "ssm").lower() == "rds":
        overlay_path = s.task_definition_path.parents[1] / "db-credentials" / f"{s.name}.json"
        if overlay_path.exists():
            dropped = set(templates.load(overlay_path).get("replacesSecrets", []))
    value_froms = [
        x["valueFrom"] for c in doc["containerDefinitions"] for x in c.get("secrets", []) if x["name"] not in dropped
    ]
    rendered = templates.render({"v": value_froms}, scoped, source=s.task_definition_path)["v"]
    region, account = scoped["AWS_DEFAULT_REGION"], scoped["AWS_ACCOUNT_ID"]
    arns = set()
    for v in rendered:
        if ":secretsmanager:" in v:
            continue
        arns.add(v if v.startswith("arn:") else f"arn:aws:ssm:{region}:{account}:parameter/{v.lstrip('/')}")
    return sorted(arns)


def service_definition(s: ServiceSpec, variables) -> dict:
    """The create_service input for a service, rendered; CAPACITY_PROVIDERS=spot swaps launchType for
    the strategy in capacity-providers/fargate-spot.json."""
    scoped = _scoped(s, variables)
    doc = templates.render(s.service_path, scoped)
    choice = str(scoped.get("CAPACITY_PROVIDERS") or "fargate").lower()
    if choice == "spot":
        doc.pop("launchType", None)
        doc.update(templates.render(s.service_path.parents[1] / "capacity-providers" / "fargate-spot.json", scoped))
    elif choice != "fargate":
        raise KitError(f"CAPACITY_PROVIDERS={choice!r} is not known: use 'fargate' or 'spot'")
    return doc


def _scoped(s: ServiceSpec, variables):
    return variables.for_service(s) if hasattr(variables, "for_service") else variables
