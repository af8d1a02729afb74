"""The tracing sidecar: the ADOT collector (the default) or the X-Ray daemon (TRACING_SIDECAR=xray-daemon, the
overlay aws/json/tracing/xray-daemon.json), and how the app's containers reach it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import yaml

from ... import spec as speclib
from ..model import NG, SKIP, WARN
from ..registry import rule
from .cross import allows, policy_file
from .iam import as_list

KIND = "task-definition"
SEED = "issue 14: the X-Ray daemon's end of support (2027-02-25); ADOT as the sidecar"
ADOT_IMAGES = ("aws-otel-collector",)
XRAY_DAEMON_IMAGES = ("aws-xray-daemon",)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
HEALTH_CHECK_PORT = 13133  # where the ADOT image's /healthcheck binary asks the health_check extension
# What the awsxray exporter and the sampling proxy call with the task role (AWSXrayWriteOnlyAccess's actions).
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets")
HONEYCOMB_SECRETS = ("HONEYCOMB_API_KEY", "OTEL_EXPORTER_OTLP_HEADERS")
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def _image_name(c) -> str:
    return str(c.get("image", "")).rsplit("/", 1)[-1].split("@")[0].split(":")[0]


def sidecar(doc) -> tuple[int, dict, str] | None:
    """(index, container, 'adot' | 'xray-daemon') of the task's tracing sidecar, if it has one."""
    for i, c in enumerate(doc.get("containerDefinitions") or []):
        if isinstance(c, dict) and _image_name(c) in ADOT_IMAGES:
            return i, c, "adot"
        if isinstance(c, dict) and _image_name(c) in XRAY_DAEMON_IMAGES:
            return i, c, "xray-daemon"
    return None


def _env(c) -> dict[str, str]:
    return {e.get("name"): str(e.get("value", "")) for e in c.get("environment") or [] if isinstance(e, dict)}


def collector_config(c) -> tuple[dict | None, str]:
    """(parsed AOT_CONFIG_CONTENT, problem) of an ADOT container."""
    text = _env(c).get("AOT_CONFIG_CONTENT")
    if not text:
        return None, "has no AOT_CONFIG_CONTENT: the image would run its built-in ECS configuration"
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return None, f"AOT_CONFIG_CONTENT is not valid YAML: {str(e).splitlines()[0]}"
    if not isinstance(doc, dict):
        return None, "AOT_CONFIG_CONTENT is not a collector configuration (a YAML mapping)"
    return doc, ""


def _port(endpoint) -> int | None:
    m = re.search(r":(\d+)$", str(endpoint or ""))
    return int(m.group(1)) if m else None


def receiving_ports(config: dict) -> dict[str, int | None]:
    """{'xray': udp port, 'otlp-grpc': port, 'otlp-http': port} of the receivers the pipelines use."""
    used = {
        r
        for p in ((config.get("service") or {}).get("pipelines") or {}).values()
        for r in (p or {}).get("receivers") or []
    }
    receivers = config.get("receivers") or {}
    ports: dict[str, int | None] = {"xray": None, "otlp-grpc": None, "otlp-http": None}
    for name, settings in receivers.items():
        if name not in used:
            continue
        settings = settings or {}
        kind = name.split("/")[0]
        if kind == "awsxray":
            ports["xray"] = _port(settings.get("endpoint") or "0.0.0.0:2000")
        elif kind == "otlp":
            protocols = settings.get("protocols") or {}
            if "grpc" in protocols:
                ports["otlp-grpc"] = _port((protocols["grpc"] or {}).get("endpoint") or "0.0.0.0:4317")
            if "http" in protocols:
                ports["otlp-http"] = _port((protocols["http"] or {}).get("endpoint") or "0.0.0.0:4318")
    return ports


def _dependents(doc, name: str):
    return [
        (i, c)
        for i, c in enumerate(doc.get("containerDefinitions") or [])
        if any(d.get("containerName") == name for d in c.get("dependsOn") or [])
    ]


def _address(value: str) -> tuple[str | None, int | None, str]:
    """(host, port, scheme) of a URL or host:port setting."""
    if "://" in value:
        parts = urlsplit(value)
        return parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme), parts.scheme
    host, _, port = value.rpartition(":")
    return host.strip("[]") or None, int(port) if port.isdigit() else None, ""


def check_app_addresses(doc):
    """The dependents' AWS_XRAY_DAEMON_ADDRESS / OTEL_EXPORTER_OTLP_ENDPOINT name the sidecar's ports."""
    found = sidecar(doc)
    if found is None:
        return
    i, side, flavour = found
    if flavour == "adot":
        config, _ = collector_config(side)
        ports = receiving_ports(config) if config else {"xray": None, "otlp-grpc": None, "otlp-http": None}
    else:
        ports = {"xray": 2000, "otlp-grpc": None, "otlp-http": None}
    for j, c in _dependents(doc, side["name"]):
        env = _env(c)
        daemon = env.get("AWS_XRAY_DAEMON_ADDRESS")
        if daemon is not None:
            host, port, _ = _address(daemon)
            if host not in LOOPBACK or port != ports["xray"]:
                yield NG(
                    f"$.containerDefinitions[{j}].environment",
                    f"AWS_XRAY_DAEMON_ADDRESS={daemon} is not the "
                    f"sidecar's X-Ray port ({side['name']} receives segments on "
                    f"{ports['xray'] or 'no port'}/udp): the SDK's segments are lost",
                    f"set AWS_XRAY_DAEMON_ADDRESS to 127.0.0.1:{ports['xray'] or 2000}",
                )
        endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if endpoint is None:
            continue
        host, port, scheme = _address(endpoint)
        if flavour == "adot":
            wanted = ports["otlp-http"] if scheme in ("http", "https") else ports["otlp-grpc"]
            if host not in LOOPBACK or port != wanted:
                yield NG(
                    f"$.containerDefinitions[{j}].environment",
                    f"OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} "
                    f"bypasses the collector sidecar {side['name']} (OTLP/HTTP on {ports['otlp-http']}): the "
                    "app would need the Honeycomb key itself",
                    f"set OTEL_EXPORTER_OTLP_ENDPOINT to http://127.0.0.1:{ports['otlp-http'] or 4318}",
                )
        elif host in LOOPBACK:
            yield NG(
                f"$.containerDefinitions[{j}].environment",
                f"OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} names the "
                "task's loopback, but the X-Ray daemon does not take OTLP: the spans are lost",
                "point it at Honeycomb (https://api.honeycomb.io), or use the ADOT sidecar (TRACING_SIDECAR=adot)",
            )


def check_essential(doc):
    """The sidecar is not essential (a collector crash must not stop the API) and its dependents are, with a
    START dependency (HEALTHY would hold the API back on a telemetry failure)."""
    found = sidecar(doc)
    if found is None:
        return
    i, side, _ = found
    if side.get("essential", True):
        yield WARN(
            f"$.containerDefinitions[{i}].essential",
            f"the tracing sidecar {side['name']} is essential: when "
            "it exits, ECS stops the whole task and the API with it",
            '"essential": false',
        )
    for j, c in _dependents(doc, side["name"]):
        if not c.get("essential", True):
            yield NG(
                f"$.containerDefinitions[{j}].essential",
                f"{c['name']} depends on the sidecar but is not "
                "essential: a crashed app would leave a task that only traces",
                '"essential": true',
            )
        for d in c.get("dependsOn") or []:
            if d.get("containerName") == side["name"] and d.get("condition") != "START":
                yield WARN(
                    f"$.containerDefinitions[{j}].dependsOn",
                    f"{c['name']} waits for {side['name']} to be "
                    f"{d.get('condition')}: a collector that cannot start keeps the API from starting",
                    f'{{"containerName": "{side["name"]}", "condition": "START"}}',
                )


def check_health(doc):
    """The ADOT sidecar has a container health check running the image's /healthcheck, and its configuration
    enables the health_check extension where that binary asks (port 13133)."""
    found = sidecar(doc)
    if found is None or found[2] != "adot":
        return
    i, side, _ = found
    command = (side.get("healthCheck") or {}).get("command") or []
    if not any(str(part).startswith("/healthcheck") for part in command):
        yield NG(
            f"$.containerDefinitions[{i}].healthCheck",
            f"{side['name']} has no health check running "
            "/healthcheck: ECS cannot tell a stuck collector from a working one",
            '"healthCheck": {"command": ["CMD", "/healthcheck"], "interval": 15, "timeout": 5, "retries": 3}',
        )
    config, problem = collector_config(side)
    if config is None:
        return
    extensions = config.get("extensions") or {}
    enabled = (config.get("service") or {}).get("extensions") or []
    name = next((e for e in enabled if e.split("/")[0] == "health_check"), None)
    port = _port((extensions.get(name) or {}).get("endpoint") or f"0.0.0.0:{HEALTH_CHECK_PORT}") if name else None
    if port != HEALTH_CHECK_PORT:
        yield NG(
            f"$.containerDefinitions[{i}].environment",
            "the collector configuration does not serve the "
            f"health_check extension on {HEALTH_CHECK_PORT} (service.extensions): /healthcheck fails and the "
            "container turns UNHEALTHY",
            f"add health_check (endpoint 127.0.0.1:{HEALTH_CHECK_PORT}) to "
            "extensions and service.extensions in aws/otel/adot-collector.yaml",
        )


def check_config(doc):
    """AOT_CONFIG_CONTENT parses; every pipeline names receivers, processors and exporters that are defined; the
    X-Ray SDK's segments (awsxray receiver on 2000/udp) are exported to X-Ray; every ${env:NAME} it reads is in
    the sidecar's environment or secrets."""
    found = sidecar(doc)
    if found is None or found[2] != "adot":
        return
    i, side, _ = found
    path = f"$.containerDefinitions[{i}].environment"
    config, problem = collector_config(side)
    if config is None:
        yield NG(
            path,
            f"{side['name']} {problem}",
            "set AOT_CONFIG_CONTENT to ${ADOT_COLLECTOR_CONFIG} (aws/otel/adot-collector.yaml)",
        )
        return
    pipelines = (config.get("service") or {}).get("pipelines") or {}
    for pname, pipeline in pipelines.items():
        for part in ("receivers", "processors", "exporters"):
            for component in (pipeline or {}).get(part) or []:
                if component not in (config.get(part) or {}):
                    yield NG(
                        path,
                        f"pipeline {pname} names {part[:-1]} {component}, which the configuration does "
                        "not define: the collector refuses to start",
                        f"define {component} under {part}",
                    )
    xray_out = any(
        "awsxray" in [r.split("/")[0] for r in (p or {}).get("receivers") or []]
        and "awsxray" in [e.split("/")[0] for e in (p or {}).get("exporters") or []]
        for p in pipelines.values()
    )
    if not xray_out:
        yield NG(
            path,
            "no pipeline takes the awsxray receiver to the awsxray exporter: the X-Ray SDK's segments "
            "do not reach X-Ray",
            "a traces pipeline with receivers [awsxray] and exporters [awsxray]",
        )
    receiver = (config.get("receivers") or {}).get("awsxray") or {}
    if "awsxray" in (config.get("receivers") or {}) and (
        str(receiver.get("transport", "udp")) != "udp" or _port(receiver.get("endpoint") or ":2000") != 2000
    ):
        yield NG(
            path,
            "the awsxray receiver does not listen on 2000/udp, where the X-Ray SDK sends",
            "endpoint: 0.0.0.0:2000, transport: udp",
        )
    given = set(_env(side)) | {s.get("name") for s in side.get("secrets") or []}
    for name in sorted(set(ENV_REFERENCE.findall(_env(side).get("AOT_CONFIG_CONTENT", ""))) - given):
        yield NG(
            path,
            f"the collector configuration reads ${{env:{name}}}, which {side['name']} is not given",
            f"add {name} to the sidecar's secrets (SSM) or environment",
        )


def check_key_placement(doc):
    """With the ADOT sidecar the Honeycomb key is in the sidecar's secrets only: no other container holds it
    (as a secret or in its environment)."""
    found = sidecar(doc)
    if found is None or found[2] != "adot":
        return
    i, side, _ = found
    for j, c in enumerate(doc.get("containerDefinitions") or []):
        if c is side:
            continue
        for k, s in enumerate(c.get("secrets") or []):
            if s.get("name") in HONEYCOMB_SECRETS:
                yield NG(
                    f"$.containerDefinitions[{j}].secrets[{k}]",
                    f"{c['name']} reads the Honeycomb key "
                    f"({s['name']}): with the collector sidecar only {side['name']} needs it",
                    f"remove it from {c['name']}; {side['name']} has HONEYCOMB_API_KEY",
                )
        for name, value in _env(c).items():
            if "x-honeycomb-team" in value.lower() or name in HONEYCOMB_SECRETS:
                yield NG(
                    f"$.containerDefinitions[{j}].environment",
                    f"{c['name']} has the Honeycomb key in its "
                    f"environment ({name}): a key in plain text in the task definition",
                    "keep the key in SSM, in the sidecar's secrets",
                )


TASKDEF_CHECKS = (check_app_addresses, check_essential, check_health, check_config, check_key_placement)


@rule("tracing.app-reaches-sidecar", KIND, seed=SEED)
def app_reaches_sidecar(spec, specs):
    """The containers that depend on the tracing sidecar send to its ports: AWS_XRAY_DAEMON_ADDRESS is
    127.0.0.1 and its X-Ray UDP port; with ADOT, OTEL_EXPORTER_OTLP_ENDPOINT is 127.0.0.1 and its OTLP port.

    Fix: AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000; OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (the ports of
    aws/otel/adot-collector.yaml's receivers).
    """
    yield from check_app_addresses(spec.doc)


@rule("tracing.sidecar-not-essential", KIND, seed=SEED)
def sidecar_not_essential(spec, specs):
    """The tracing sidecar is not essential, its dependents are, and they depend on it with START.

    Fix: "essential": false on the sidecar; dependsOn {"containerName": SIDECAR, "condition": "START"}.
    """
    yield from check_essential(spec.doc)


@rule("tracing.collector-health-check", KIND, seed=SEED)
def collector_health_check(spec, specs):
    """The ADOT collector has a container health check (/healthcheck) and serves the health_check extension
    on 13133, where that binary asks.

    Fix: healthCheck {"command": ["CMD", "/healthcheck"]}; health_check in the configuration's extensions.
    """
    yield from check_health(spec.doc)


@rule("tracing.collector-config", KIND, seed=SEED)
def collector_config_rule(spec, specs):
    """The ADOT collector's AOT_CONFIG_CONTENT is valid: pipelines name defined components, the awsxray receiver
    (2000/udp) feeds the awsxray exporter, and every ${env:NAME} it reads is given to the sidecar.

    Fix: Correct aws/otel/adot-collector.yaml (or the sidecar's secrets) as the finding says.
    """
    yield from check_config(spec.doc)


@rule("tracing.honeycomb-key-in-sidecar", KIND, seed=SEED)
def honeycomb_key_in_sidecar(spec, specs):
    """With the ADOT collector, only the sidecar holds the Honeycomb key (HONEYCOMB_API_KEY from SSM); no other
    container has it as a secret or in its environment.

    Fix: Remove the key from the app container; the sidecar's secrets hold HONEYCOMB_API_KEY.
    """
    yield from check_key_placement(spec.doc)


@rule("tracing.task-role-writes-xray", KIND, seed=SEED)
def task_role_writes_xray(spec, specs):
    """With a tracing sidecar, the task role allows what it calls X-Ray with: PutTraceSegments,
    PutTelemetryRecords, GetSamplingRules, GetSamplingTargets (on "*": these actions take no resource).

    Fix: Add those actions on "*" to policies/task-role-policy.json.
    """
    found = sidecar(spec.doc)
    if found is None:
        return
    policy = policy_file(specs, "task")
    if policy is None and (broken := specs.unparsed("policy", "task-role-policy.json")):
        yield SKIP("$.taskRoleArn", f"{broken.rel} does not parse: checked once it does")
        return
    missing = [a for a in XRAY_ACTIONS if policy is None or not allows(policy.doc, a, "*")]
    if missing:
        yield NG(
            "$.taskRoleArn",
            f"the task role cannot {', '.join(missing)}: the sidecar {found[1]['name']} "
            "cannot send traces to X-Ray (AccessDeniedException in its log)",
            f'allow {", ".join(missing)} on "*" in policies/task-role-policy.json',
        )


@rule("tracing.execution-role-reads-only-named-parameters", "policy", seed=SEED)
def reads_only_named(spec, specs):
    """The execution role reads only the SSM parameters the task definitions name (no wildcard, no
    parameter nobody reads).

    Fix: Resource "${SSM_PARAMETER_ARNS}" (the parameters the task definitions name, filled by the kit).
    """
    if spec.path.name != "execution-role-policy.json":
        return
    named = set(specs.variables.get("SSM_PARAMETER_ARNS") or [])
    for k, st in enumerate(as_list((spec.doc or {}).get("Statement"))):
        if st.get("Effect") != "Allow" or not any(
            str(a).lower() in ("ssm:getparameters", "ssm:getparameter", "ssm:*") for a in as_list(st.get("Action"))
        ):
            continue
        for r in as_list(st.get("Resource")):
            if "*" in str(r):
                yield WARN(
                    f"$.Statement[{k}].Resource",
                    f"{r} lets the execution role read parameters no task definition names",
                    'Resource "${SSM_PARAMETER_ARNS}"',
                )
            elif named and r not in named:
                yield WARN(
                    f"$.Statement[{k}].Resource",
                    f"{r} is named by no task definition",
                    "remove it (or name it in a task definition's secrets)",
                )


@rule("tracing.xray-daemon-overlay", "tracing-sidecar", seed=SEED)
def xray_daemon_overlay(spec, specs):
    """TRACING_SIDECAR=xray-daemon: each task definition with the overlay's replaced container, overlaid, still
    meets the tracing rules (the daemon on 2000/udp, not essential, the app's OTLP straight to Honeycomb).

    Fix: Correct aws/json/tracing/xray-daemon.json as the finding says.
    """
    overlay = spec.doc or {}
    for key in ("replacesContainer", "sidecar"):
        if key not in overlay:
            yield NG(f"$.{key}", f"the overlay has no {key}", f"add {key} (see aws/json/tracing/xray-daemon.json)")
            return
    for td in specs.of("task-definition"):
        names = [c.get("name") for c in td.doc.get("containerDefinitions") or []]
        if overlay["replacesContainer"] not in names:
            continue
        overlaid = speclib.with_tracing_sidecar(td.doc, overlay)
        for check in (check_app_addresses, check_essential):
            for status, path, message, fix, cause in check(overlaid):
                yield status, path, f"{td.rel} overlaid: {message}", fix, cause
