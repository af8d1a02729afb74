"""SecureString parameters under /cruddur/<service>/: written idempotently, never printed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import KitError

DEFAULT_PREFIX = "/cruddur/backend-flask"
# The secrets the backend task definition reads (aws/json/task-definitions/backend-flask.json): the ADOT sidecar
# reads HONEYCOMB_API_KEY; with TRACING_SIDECAR=xray-daemon the app reads OTEL_EXPORTER_OTLP_HEADERS instead.
BACKEND_SECRETS = ("CONNECTION_URL", "HONEYCOMB_API_KEY", "OTEL_EXPORTER_OTLP_HEADERS")
HONEYCOMB_HEADER = "x-honeycomb-team"


def with_honeycomb_pair(values: Mapping[str, str]) -> dict[str, str]:
    """The values with both forms of the Honeycomb key when either is given: HONEYCOMB_API_KEY (the collector
    sidecar's) and OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY (the app's, with the X-Ray daemon), so
    switching the sidecar needs no new parameter."""
    out = {k: v for k, v in values.items() if v}
    key, headers = out.get("HONEYCOMB_API_KEY"), out.get("OTEL_EXPORTER_OTLP_HEADERS")
    if key and not headers:
        out["OTEL_EXPORTER_OTLP_HEADERS"] = f"{HONEYCOMB_HEADER}={key}"
    elif headers and not key:
        pairs = dict(p.split("=", 1) for p in headers.split(",") if "=" in p)
        found = {k.strip().lower(): v.strip() for k, v in pairs.items()}.get(HONEYCOMB_HEADER)
        if found:
            out["HONEYCOMB_API_KEY"] = found
    return out


def parameter_name(prefix: str, key: str) -> str:
    return f"{prefix.rstrip('/')}/{key}"


def _stored(client, name: str) -> str | None:
    try:
        return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except client.exceptions.ParameterNotFound:
        return None


AWS_MANAGED_KEY = "alias/aws/ssm"


def _stored_key(client, name: str) -> str | None:
    found = client.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])
    return next((p.get("KeyId") for p in found["Parameters"]), None)


def put_parameters(
    client, prefix: str, values: Mapping[str, str], *, dry_run: bool = False, key_id: str | None = None
) -> list[tuple[str, str]]:
    """Write each value as a SecureString under prefix, encrypted with key_id (default: the AWS-managed
    aws/ssm key); [(name, created|updated|unchanged)]. A parameter under another key is rewritten.

    The comparison reads the stored value with decryption; values never leave this function.
    """
    if not prefix.startswith("/"):
        raise KitError(f"parameter prefix {prefix!r} must start with '/': e.g. {DEFAULT_PREFIX}")
    results = []
    for key in sorted(values):
        value = values[key]
        if value is None or value == "":
            raise KitError(f"{key} is empty: set it in the environment or the env file")
        name = parameter_name(prefix, key)
        current = _stored(client, name)
        if current == value and _stored_key(client, name) == (key_id or AWS_MANAGED_KEY):
            results.append((name, "unchanged"))
            continue
        status = "created" if current is None else "updated"
        if not dry_run:
            # The key always named: an overwrite without one may keep the parameter's old key.
            client.put_parameter(
                Name=name, Value=value, Type="SecureString", Overwrite=True, KeyId=key_id or AWS_MANAGED_KEY
            )
        results.append((name, status))
    return results


def existing(client, prefix: str) -> list[str]:
    """Names of the parameters under prefix (recursive)."""
    names = []
    for page in client.get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=True):
        names.extend(p["Name"] for p in page["Parameters"])
    return names


def delete(client, names: Iterable[str]) -> None:
    names = list(names)
    for i in range(0, len(names), 10):
        client.delete_parameters(Names=names[i : i + 10])
