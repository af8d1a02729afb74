"""The tracing sidecar as the task definition is rendered: the ADOT collector by default, the X-Ray daemon with
TRACING_SIDECAR=xray-daemon; the parameters the execution role may read; the Honeycomb key's two forms."""

from __future__ import annotations

import re

import pytest
import yaml

from cruddur_kit import config, ssm, templates
from cruddur_kit import spec as speclib
from cruddur_kit.checks.rules import tracing
from cruddur_kit.errors import KitError

REGION, ACCOUNT = "us-east-1", "123456789012"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/cruddur/backend-flask/"


def variables(**choices) -> dict:
    s = speclib.get("backend-flask")
    names = templates.placeholders(templates.load(s.task_definition_path)) | templates.placeholders(
        templates.load(speclib.tracing_overlay_path())
    )
    values = {
        **dict.fromkeys(names, "x"),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID": ACCOUNT,
        "SERVICE_NAME": "backend-flask",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io",
        **choices,
    }
    values["ADOT_COLLECTOR_CONFIG"] = config.adot_collector_config(values)
    return values


def rendered(**choices) -> dict:
    return speclib.task_definition(speclib.get("backend-flask"), variables(**choices))


def containers(td) -> dict:
    return {c["name"]: c for c in td["containerDefinitions"]}


def test_the_default_sidecar_is_the_adot_collector_holding_the_honeycomb_key():
    td = rendered()
    app, collector = containers(td)["backend-flask"], containers(td)["otel-collector"]
    assert collector["image"].startswith("public.ecr.aws/aws-observability/aws-otel-collector:v")
    assert not collector["essential"] and app["dependsOn"] == [
        {"containerName": "otel-collector", "condition": "START"}
    ]
    env = {e["name"]: e["value"] for e in app["environment"]}
    assert (env["OTEL_EXPORTER_OTLP_ENDPOINT"], env["AWS_XRAY_DAEMON_ADDRESS"]) == (
        "http://127.0.0.1:4318",
        "127.0.0.1:2000",
    )
    assert [s["name"] for s in app["secrets"]] == ["CONNECTION_URL"]  # no Honeycomb key in the app
    assert collector["secrets"] == [{"name": "HONEYCOMB_API_KEY", "valueFrom": PARAMETER + "HONEYCOMB_API_KEY"}]
    text = next(e["value"] for e in collector["environment"] if e["name"] == "AOT_CONFIG_CONTENT")
    # run-local relays every loopback address a setting names: the configuration names none (not even in comments)
    assert not re.search(r"(127\.0\.0\.1|localhost|\[::1\]):\d", text)
    conf = yaml.safe_load(text)
    assert conf["exporters"]["awsxray"]["region"] == REGION  # Fargate has no instance metadata to ask
    assert conf["exporters"]["otlphttp/honeycomb"]["endpoint"] == "https://api.honeycomb.io"  # ${VAR} filled
    assert conf["exporters"]["otlphttp/honeycomb"]["headers"] == {"x-honeycomb-team": "${env:HONEYCOMB_API_KEY}"}
    assert tracing.receiving_ports(conf) == {"xray": 2000, "otlp-grpc": 4317, "otlp-http": 4318}
    for check in tracing.TASKDEF_CHECKS:
        assert list(check(td)) == [], check.__name__


def test_xray_daemon_stays_selectable_and_the_app_then_holds_the_header():
    td = rendered(TRACING_SIDECAR="xray-daemon")
    assert sorted(containers(td)) == ["backend-flask", "xray"]
    app, daemon = containers(td)["backend-flask"], containers(td)["xray"]
    assert daemon["image"] == "public.ecr.aws/xray/aws-xray-daemon:3.3.13" and not daemon["essential"]
    assert app["dependsOn"] == [{"containerName": "xray", "condition": "START"}]
    env = {e["name"]: e["value"] for e in app["environment"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://api.honeycomb.io"
    assert {s["name"]: s["valueFrom"] for s in app["secrets"]} == {
        "CONNECTION_URL": PARAMETER + "CONNECTION_URL",
        "OTEL_EXPORTER_OTLP_HEADERS": PARAMETER + "OTEL_EXPORTER_OTLP_HEADERS",
    }
    for check in (tracing.check_app_addresses, tracing.check_essential):
        assert list(check(td)) == [], check.__name__


def test_an_unknown_sidecar_is_one_line_naming_both():
    with pytest.raises(KitError, match=r"TRACING_SIDECAR='jaeger' is not known: use 'adot' .* or 'xray-daemon'"):
        rendered(TRACING_SIDECAR="jaeger")


@pytest.mark.parametrize(
    "choices, names",
    [
        ({}, ["CONNECTION_URL", "HONEYCOMB_API_KEY"]),
        ({"TRACING_SIDECAR": "xray-daemon"}, ["CONNECTION_URL", "OTEL_EXPORTER_OTLP_HEADERS"]),
        ({"DB_CREDENTIALS": "rds"}, ["HONEYCOMB_API_KEY"]),  # the database login then comes from Secrets Manager
    ],
)
def test_the_execution_role_reads_exactly_the_parameters_the_task_names(choices, names):
    arns = speclib.ssm_parameter_arns(speclib.get("backend-flask"), variables(**choices))
    assert arns == [PARAMETER + n for n in names]


def test_either_form_of_the_honeycomb_key_gives_both():
    assert ssm.with_honeycomb_pair({"HONEYCOMB_API_KEY": "k1"}) == {
        "HONEYCOMB_API_KEY": "k1",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=k1",
    }
    assert ssm.with_honeycomb_pair({"OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-dataset=d, X-Honeycomb-Team=k2"}) == {
        "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-dataset=d, X-Honeycomb-Team=k2",
        "HONEYCOMB_API_KEY": "k2",
    }
    assert ssm.with_honeycomb_pair({"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer x"}) == {
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer x"
    }  # not a Honeycomb header: nothing derived
