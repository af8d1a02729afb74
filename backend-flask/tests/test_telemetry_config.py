"""Telemetry switches: what turns each tracer on or off, the sampling rule, and tracing that is off
(or pointed at nothing) staying out of the way."""

from __future__ import annotations

import json
import re
import socket

import pytest

from cruddur import create_app
from cruddur.config import ConfigError, Settings
from cruddur.telemetry import xray

BASE = {
    "CONNECTION_URL": "postgresql://u@127.0.0.1/db",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_COGNITO_USER_POOL_ID": "us-east-1_x",
    "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
}


@pytest.mark.parametrize(
    "env, xray_on, otel_on",
    [
        ({}, False, False),
        ({"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}, True, False),
        ({"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "AWS_XRAY_SDK_ENABLED": "false"}, False, False),
        ({"AWS_XRAY_SDK_ENABLED": "true"}, True, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io"}, False, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, False, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io", "OTEL_SDK_DISABLED": "true"}, False, False),
    ],
)
def test_what_turns_tracing_on(env, xray_on, otel_on):
    settings = Settings.from_env({**BASE, **env})
    assert (settings.xray_enabled, settings.otel_enabled) == (xray_on, otel_on)
    assert settings.xray_daemon_address == env.get("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000")


def test_a_bad_switch_names_itself():
    with pytest.raises(ConfigError, match="AWS_XRAY_SDK_ENABLED must be true or false"):
        Settings.from_env({**BASE, "AWS_XRAY_SDK_ENABLED": "maybe"})


def test_the_sampling_rule_files_are_the_rules_the_image_carries():
    files = sorted(xray.RULES_DIR.glob("*.json"))
    from_files = [json.loads(p.read_text())["SamplingRule"] for p in files]
    by_priority = sorted(from_files, key=lambda r: r["Priority"])
    assert by_priority == xray.RULES and xray.sampling_rules() == xray.RULES
    rules = xray.local_rules(xray.sampling_rules())
    assert rules["version"] == 2
    assert rules["default"] == {"fixed_target": 5, "rate": 0.1}
    assert [(r["url_path"], r["http_method"], r["fixed_target"], r["rate"]) for r in rules["rules"]] == [
        ("/api/health-check", "GET", 0, 0),
        ("*", "*", 5, 0.1),
    ]


def test_health_checks_are_never_sampled_and_other_requests_are():
    from aws_xray_sdk.core.sampling.local.sampler import LocalSampler

    sampler = LocalSampler(xray.local_rules(xray.sampling_rules()))
    health = {"host": "backend", "method": "GET", "path": "/api/health-check"}
    assert not any(sampler.should_trace(health) for _ in range(50))
    assert sampler.should_trace({"host": "backend", "method": "GET", "path": "/api/activities/home"})


@pytest.fixture
def udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    yield sock
    sock.close()


def received(sock) -> bytes | None:
    try:
        return sock.recv(65535)
    except TimeoutError:
        return None


def test_sdk_disabled_sends_nothing_even_with_a_daemon_named(settings, udp, monkeypatch, capfd):
    address = f"127.0.0.1:{udp.getsockname()[1]}"
    env = {**BASE, "AWS_XRAY_DAEMON_ADDRESS": address, "AWS_XRAY_SDK_ENABLED": "false"}
    assert Settings.from_env(env).xray_enabled is False
    app = create_app(
        settings.with_overrides(xray_enabled=Settings.from_env(env).xray_enabled, xray_daemon_address=address)
    )
    try:
        r = app.test_client().get(
            "/api/users/@andrewbrown/short",
            headers={"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
        )
    finally:
        app.extensions["db_pool"].close()
    assert r.status_code == 200 and "X-Amzn-Trace-Id" not in r.headers
    assert received(udp) is None
    out, err = capfd.readouterr()
    line = json.loads(out.strip().splitlines()[-1])
    assert line["route"] == "/api/users/@<handle>/short" and line["status"] == 200
    assert line["xray_trace_id"] is None and line["otel_trace_id"] is None
    assert err == ""


def test_tracing_off_still_gives_the_client_an_error_id(app, capfd):
    @app.get("/api/test-boom")
    def boom():
        raise ValueError("nope")

    r = app.test_client().get("/api/test-boom")
    assert r.status_code == 500
    error_id = r.get_json()["error_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", error_id)
    out, _ = capfd.readouterr()
    errors = [json.loads(x) for x in out.splitlines() if '"cruddur.errors"' in x]
    assert [(e["error_type"], e["error_id"]) for e in errors] == [("ValueError", error_id)]


def test_the_request_line_obeys_its_loggers_level(app, capfd):
    """The request line skips the logging machinery for speed, but not its configuration."""
    import logging

    @app.get("/api/test-boom")
    def boom():
        raise ValueError("nope")

    request_logger = logging.getLogger("cruddur.request")
    request_logger.setLevel(logging.WARNING)  # keep only the 5xx lines
    try:
        client = app.test_client()
        assert client.get("/api/health-check").status_code == 200
        assert client.get("/api/test-boom").status_code == 500
    finally:
        request_logger.setLevel(logging.NOTSET)
    out, _ = capfd.readouterr()
    lines = [json.loads(x) for x in out.splitlines() if '"cruddur.request"' in x]
    assert [(x["level"], x["route"], x["status"]) for x in lines] == [("ERROR", "/api/test-boom", 500)]


def test_no_daemon_listening_is_silent(settings, udp, capfd):
    """Nothing answers on the named port (the sidecar is down): requests work and nothing is logged but the request."""
    port = udp.getsockname()[1]
    udp.close()  # the port is now closed
    app = create_app(settings.with_overrides(xray_enabled=True, xray_daemon_address=f"127.0.0.1:{port}"))
    try:
        client = app.test_client()
        statuses = [client.get("/api/activities/home").status_code for _ in range(3)]
    finally:
        app.extensions["db_pool"].close()
    assert statuses == [200, 200, 200]
    out, err = capfd.readouterr()
    logged = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert [x["logger"] for x in logged if x["logger"] != "cruddur"] == ["cruddur.request"] * 3
    assert all(x["xray_trace_id"].startswith("1-") for x in logged if x["logger"] == "cruddur.request")
    assert err == ""
