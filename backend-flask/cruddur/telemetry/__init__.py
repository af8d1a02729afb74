"""Telemetry attached by the app factory: X-Ray, OpenTelemetry and the JSON request log.

X-Ray and OTel run side by side without sharing anything: each has its own trace id, its own
request hook and its own spans; on outgoing AWS calls the X-Ray SDK's trace header wins (OTel's
botocore instrumentation only fills the header when X-Ray left it empty).
"""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from . import logs, otel, xray


def init_app(app: Flask, settings: Settings) -> None:
    # OTel's process-wide wrappers come off first, so X-Ray's (permanent) botocore wrapper is always
    # the inner one and OTel's can be removed and re-applied per app without unwrapping X-Ray's.
    logs.configure()  # first: before anything touches app.logger and Flask adds its stderr handler
    otel.reset()
    xray.init_app(app, settings)
    otel.init_app(app, settings)
    logs.init_app(app)  # hooks last: its before_request reads the ids the two tracers just set up


def shutdown() -> None:
    """Flush buffered spans, then queued log lines (gunicorn's worker_exit hook and atexit call this)."""
    otel.shutdown()
    logs.LINES.stop()
