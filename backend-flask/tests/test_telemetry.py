"""Tracing and request logs end to end: a real UDP socket stands in for the X-Ray daemon, a real
OTLP/HTTP server (protobuf, gzip) for Honeycomb, real PostgreSQL and the DynamoDB emulator behind."""

from __future__ import annotations

import gzip
import json
import secrets
import socket

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from cruddur import telemetry
from cruddur.telemetry import otel
from testkit import serve

HONEYCOMB_KEY = "hcaik_" + "0" * 8 + "notarealkey" + "1" * 8  # a stand-in secret for OTEL_EXPORTER_OTLP_HEADERS


class XRayDaemon:
    """A UDP socket where the X-Ray daemon would be: each datagram is a header line, then one document."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"

    def documents(self, wait: float = 2.0) -> list[dict]:
        docs = []
        self.sock.settimeout(wait)
        while True:
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                return docs
            header, _, body = data.decode().partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            docs.append(json.loads(body))
            self.sock.settimeout(0.3)  # the rest of a burst arrives at once


class OTLPReceiver:
    """An OTLP/HTTP traces endpoint on loopback: decodes protobuf (gzip or not), keeps spans and headers."""

    def __init__(self):
        self.spans: list[Span] = []
        self.headers: list[dict] = []
        self.server = serve(self._answer)
        self.endpoint = self.server.url

    def _answer(self, request):
        body = gzip.decompress(request.body) if request.headers.get("Content-Encoding") == "gzip" else request.body
        self.headers.append({"path": request.path, **{k.lower(): v for k, v in request.headers.items()}})
        for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        return 200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf"

    def close(self):
        self.server.close()


@pytest.fixture
def xray_daemon():
    daemon = XRayDaemon()
    yield daemon
    daemon.sock.close()


@pytest.fixture
def otlp():
    receiver = OTLPReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def settings(settings, xray_daemon, otlp, monkeypatch):
    """Both tracers on, pointed at this test's daemon socket and receiver through the real variables."""
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    monkeypatch.delenv("AWS_XRAY_SDK_ENABLED", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"x-honeycomb-team={HONEYCOMB_KEY}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    yield settings.with_overrides(xray_enabled=True, xray_daemon_address=xray_daemon.address, otel_enabled=True)
    otel.reset()  # flush to this receiver before it closes; later apps start clean


def lines(out: str) -> list[dict]:
    """Every stdout line must be one JSON object."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def walk(entity: dict):
    for sub in entity.get("subsegments", []):
        yield sub
        yield from walk(sub)


def test_one_request_traced_in_xray_and_otel_and_logged_once(client, auth, messages_table, xray_daemon, otlp, capfd):
    headers = auth("andrewbrown")
    token = headers["Authorization"].split()[1]
    root, xparent = f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}", secrets.token_hex(8)
    otel_trace, otel_parent = secrets.token_hex(16), secrets.token_hex(8)
    capfd.readouterr()

    r = client.get(
        "/api/message_groups",
        headers={
            **headers,
            "X-Amzn-Trace-Id": f"Root={root};Parent={xparent};Sampled=1",
            "traceparent": f"00-{otel_trace}-{otel_parent}-01",
        },
    )
    assert r.status_code == 200, r.get_json()
    assert r.headers["X-Amzn-Trace-Id"].startswith(f"Root={root}")

    # X-Ray: one segment, continuing the caller's trace, with PostgreSQL, DynamoDB and JWKS subsegments.
    segments = [d for d in xray_daemon.documents() if d.get("trace_id") == root]
    assert len(segments) == 1, segments
    segment = segments[0]
    assert segment["name"] == "backend-flask" and segment["parent_id"] == xparent
    assert segment["http"]["response"]["status"] == 200
    subs = list(walk(segment))
    sql = [s for s in subs if "sql" in s]
    assert sql and all(s["namespace"] == "remote" for s in sql)
    assert sql[0]["name"].endswith("@127.0.0.1") and sql[0]["sql"]["database_type"] == "PostgreSQL"
    assert "%s" in sql[0]["sql"]["sanitized_query"]  # the statement, never its parameters
    dynamo = [s for s in subs if s["name"] == "dynamodb"]
    assert len(dynamo) == 1 and dynamo[0]["namespace"] == "aws" and dynamo[0]["aws"]["operation"] == "Query"
    http = [s for s in subs if s["namespace"] == "remote" and "sql" not in s]
    # The SDK's httplib patch records the JWKS fetch (send, response, read); botocore's HTTP is not doubled.
    assert http and {s["http"]["request"]["url"].rsplit("/", 1)[-1] for s in http} == {"jwks.json"}
    assert token not in json.dumps(segment)

    # OTel: the server span continues the caller's traceparent; DB and DynamoDB spans are its children.
    telemetry.shutdown()
    spans = [s for s in otlp.spans if s.trace_id.hex() == otel_trace]
    server = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert len(server) == 1 and server[0].parent_span_id.hex() == otel_parent
    assert server[0].name == "GET /api/message_groups"
    children = [s for s in spans if s.parent_span_id == server[0].span_id]
    db_spans = [s for s in children if any(a.key == "db.system" or a.key == "db.system.name" for a in s.attributes)]
    aws_spans = [s for s in children if s.kind == Span.SPAN_KIND_CLIENT and s.name.startswith("DynamoDB.")]
    assert db_spans and [s.name for s in aws_spans] == ["DynamoDB.Query"]
    assert len(spans) == 1 + len(children)  # nothing orphaned, nothing doubled
    assert all(h["path"] == "/v1/traces" and h["x-honeycomb-team"] == HONEYCOMB_KEY for h in otlp.headers)

    # The log: exactly one JSON line for the request, with both trace ids, the user, no secret.
    out, err = capfd.readouterr()
    requests = [line for line in lines(out) if line["logger"] == "cruddur.request"]
    assert len(requests) == 1, out
    line = requests[0]
    assert line["method"] == "GET" and line["route"] == "/api/message_groups" and line["status"] == 200
    assert line["xray_trace_id"] == root and line["otel_trace_id"] == otel_trace
    assert line["level"] == "INFO" and isinstance(line["duration_ms"], float) and line["time"]
    assert len(line["user_uuid"]) == 36
    for secret in (token, HONEYCOMB_KEY):
        assert secret not in out and secret not in err


def test_token_body_and_query_never_reach_stdout_or_stderr(client, auth, capfd):
    headers = auth("andrewbrown")
    token = headers["Authorization"].split()[1]
    body = f"my private crud {secrets.token_hex(8)}"
    query = f"term{secrets.token_hex(6)}"
    capfd.readouterr()

    r = client.post(f"/api/activities?debug={query}", json={"message": body, "ttl": "7-days"}, headers=headers)
    assert r.status_code in (200, 201), r.get_json()
    bad = client.post("/api/activities", json={"message": body, "ttl": "never"}, headers=headers)
    assert bad.status_code == 422
    denied = client.post(
        "/api/activities", json={"message": body, "ttl": "7-days"}, headers={"Authorization": f"Bearer {token}x"}
    )
    assert denied.status_code == 401
    telemetry.shutdown()

    out, err = capfd.readouterr()
    logged = lines(out)
    assert [(x["route"], x["status"]) for x in logged] == [
        ("/api/activities", r.status_code),
        ("/api/activities", 422),
        ("/api/activities", 401),
    ]
    for secret in (token, body, query, HONEYCOMB_KEY):
        assert secret not in out and secret not in err


def test_unexpected_error_is_one_json_line_and_the_client_gets_the_trace_id(app, xray_daemon, otlp, capfd):
    @app.get("/api/test-boom")
    def boom():
        raise RuntimeError(f"password={HONEYCOMB_KEY}")  # an exception message can carry anything

    root = f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"
    capfd.readouterr()
    r = app.test_client().get("/api/test-boom", headers={"X-Amzn-Trace-Id": f"Root={root};Sampled=1"})
    assert r.status_code == 500
    assert r.get_json() == {"error": "internal_error", "error_id": root}

    out, err = capfd.readouterr()
    logged = lines(out)  # every line is JSON: no multi-line traceback
    errors = [x for x in logged if x["logger"] == "cruddur.errors"]
    assert len(errors) == 1
    assert errors[0]["level"] == "ERROR" and errors[0]["error_type"] == "RuntimeError"
    assert errors[0]["error_id"] == root == errors[0]["xray_trace_id"]
    assert errors[0]["route"] == "/api/test-boom" and "test_telemetry.py" in errors[0]["error_at"]
    assert [x["status"] for x in logged if x["logger"] == "cruddur.request"] == [500]
    assert "Traceback" not in out + err and HONEYCOMB_KEY not in out + err
    segment = next(d for d in xray_daemon.documents() if d.get("trace_id") == root)
    assert segment["fault"] is True and segment["cause"]["exceptions"][0]["type"] == "RuntimeError"
    telemetry.shutdown()
    server = [s for s in otlp.spans if s.name == "GET /api/test-boom"]
    assert len(server) == 1 and server[0].status.code == server[0].status.STATUS_CODE_ERROR
    assert [e.name for e in server[0].events] == ["exception"]
