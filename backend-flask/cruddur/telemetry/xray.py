"""AWS X-Ray: a segment per request, subsegments for PostgreSQL, AWS calls and outgoing HTTP.

The SDK's recorder is process-global; init_app configures it (never at import) and is safe to call
once per app: the latest app's settings win. Sampling is decided locally from Cruddur's rules, so
nothing polls a daemon for rules and nothing is logged when no daemon answers.

The SDK is imported only when X-Ray is enabled: importing it costs ~0.3 s of start-up per worker and
builds the global recorder, whose UDP socket would otherwise be left open at interpreter exit.
"""

from __future__ import annotations

import atexit
import json
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask.templating
import psycopg
from flask import Flask

from ..config import Settings

# The deploy kit applies each file in aws/json/xray/ as one of the account's centralized rules (`aws xray
# create-sampling-rule --cli-input-json`); the SDK reads the same files as its local rules. The image
# carries only the package, so RULES are the same rules in code; a test keeps the two equal.
RULES_DIR = Path(__file__).resolve().parents[3] / "aws" / "json" / "xray"
RULES = [
    # ALB and ECS health checks hit this every few seconds: never traced
    {
        "RuleName": "CruddurHealthCheck",
        "ResourceARN": "*",
        "Priority": 100,
        "FixedRate": 0,
        "ReservoirSize": 0,
        "ServiceName": "backend-flask",
        "ServiceType": "*",
        "Host": "*",
        "HTTPMethod": "GET",
        "URLPath": "/api/health-check",
        "Version": 1,
    },
    {
        "RuleName": "Cruddur",
        "ResourceARN": "*",
        "Priority": 9000,
        "FixedRate": 0.1,
        "ReservoirSize": 5,
        "ServiceName": "backend-flask",
        "ServiceType": "*",
        "Host": "*",
        "HTTPMethod": "*",
        "URLPath": "*",
        "Version": 1,
    },
]

_state = {"enabled": False, "recorder": None}  # the SDK's global recorder, once X-Ray was enabled here


def sampling_rules() -> list[dict]:
    """Cruddur's sampling rules in the X-Ray API's shape, by priority: from aws/json when present, else RULES."""
    files = sorted(RULES_DIR.glob("*.json")) if RULES_DIR.is_dir() else []
    rules = [json.loads(path.read_text())["SamplingRule"] for path in files] or RULES
    return sorted(rules, key=lambda rule: rule["Priority"])


def local_rules(rules: list[dict]) -> dict:
    """The API-shaped rules as the SDK's local rules (version 2), in priority order: reservoir per second +
    fixed rate. The catch-all (largest Priority) is also the default."""

    def target(rule: dict) -> dict:
        return {"fixed_target": rule["ReservoirSize"], "rate": rule["FixedRate"]}

    ordered = sorted(rules, key=lambda rule: rule["Priority"])
    return {
        "version": 2,
        "rules": [
            {
                "description": r["RuleName"],
                "host": r["Host"],
                "http_method": r["HTTPMethod"],
                "url_path": r["URLPath"],
                **target(r),
            }
            for r in ordered
        ],
        "default": target(ordered[-1]),
    }


def init_app(app: Flask, settings: Settings) -> None:
    _state["enabled"] = settings.xray_enabled
    if not settings.xray_enabled:
        return
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import patch, xray_recorder
    from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
    from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
    from aws_xray_sdk.ext.httplib import add_ignored

    if _state["recorder"] is None:
        _state["recorder"] = xray_recorder
        atexit.register(_close_emitter)
    global_sdk_config.set_sdk_enabled(True)  # AWS_XRAY_SDK_ENABLED, when set, still overrides this
    xray_recorder.configure(
        service=settings.service_name,
        sampling=True,
        sampler=LocalSampler(local_rules(sampling_rules())),
        daemon_address=settings.xray_daemon_address,
        # Calls outside a request (start-up, pool threads, scripts) are simply not traced.
        context_missing="IGNORE_ERROR",
        plugins=(),
    )
    # The SDK warns "No segment found" for every AWS or HTTP call made outside a request.
    logging.getLogger("aws_xray_sdk").setLevel(logging.ERROR)
    # botocore gets its own "aws" subsegments; its HTTP connections are not traced twice by httplib.
    add_ignored(subclass="botocore.awsrequest.AWSHTTPConnection")
    add_ignored(subclass="botocore.awsrequest.AWSHTTPSConnection")
    patch(("botocore", "httplib"))  # the SDK skips modules it already patched: safe per app
    render = flask.templating._render
    XRayMiddleware(app, xray_recorder)
    flask.templating._render = render  # a JSON API renders no templates; don't stack a wrapper per app


def _close_emitter() -> None:
    """Close the recorder's UDP socket at exit (the SDK never does: a ResourceWarning otherwise)."""
    sock = getattr(_state["recorder"].emitter, "_socket", None)
    if sock is not None:
        sock.close()


def trace_id() -> str | None:
    """The X-Ray trace id of the current request: the sampled segment's, else the caller's Root."""
    if not _state["enabled"]:
        return None
    from aws_xray_sdk.core.models.dummy_entities import DummySegment

    segment = _state["recorder"].current_segment()
    if segment is None:
        return None
    if not isinstance(segment, DummySegment):
        return segment.trace_id
    origin = segment.get_origin_trace_header()
    return origin.root if origin is not None and origin.root else None


def record_exception(exc: BaseException) -> None:
    """Fault the current segment with the exception and its stack (an error handler swallowed it)."""
    if not _state["enabled"]:
        return
    recorder = _state["recorder"]
    segment = recorder.current_segment()
    if segment is not None:
        segment.add_exception(exc, traceback.extract_tb(exc.__traceback__, limit=recorder.max_trace_back))


@contextmanager
def sql_subsegment(cursor: psycopg.Cursor, query) -> Iterator[None]:
    """A "remote" subsegment named database@host around one statement: SQL text, never parameters."""
    # An empty query is the pool's liveness check on checkout, not the application's work.
    recorder = _state["recorder"]
    if not _state["enabled"] or not query or recorder.current_segment() is None:
        yield
        return
    info = cursor.connection.info
    with recorder.in_subsegment(f"{info.dbname}@{info.host}", namespace="remote") as sub:
        if sub is not None:
            sql = {
                "url": f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}",
                "database_type": "PostgreSQL",
                "database_version": str(info.server_version),
                "driver_version": f"psycopg {psycopg.__version__}",
                "user": info.user,
            }
            if isinstance(query, str):  # parameters are bound separately and never recorded
                sql["sanitized_query"] = query[:2000]
            sub.set_sql(sql)
        yield


class TracedCursor(psycopg.Cursor):
    """The pool's cursor class: every execute gets an X-Ray subsegment while a request is traced.

    The SDK's own psycopg patch wraps only conn.cursor(), so conn.execute() (what the stores use)
    would go untraced; a cursor_factory sees both, and OTel's psycopg instrumentation subclasses it.
    """

    def execute(self, query, params=None, **kwargs):
        if not _state["enabled"]:  # tracing off: no context manager per statement (~3 µs each)
            return super().execute(query, params, **kwargs)
        with sql_subsegment(self, query):
            return super().execute(query, params, **kwargs)

    def executemany(self, query, params_seq, **kwargs):
        with sql_subsegment(self, query):
            return super().executemany(query, params_seq, **kwargs)
