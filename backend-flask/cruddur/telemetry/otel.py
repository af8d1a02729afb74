"""OpenTelemetry: spans for Flask, psycopg and botocore, exported over OTLP/HTTP (Honeycomb, a collector).

The exporter reads the standard variables itself (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _TIMEOUT,
_COMPRESSION ...), so the Honeycomb key never passes through Settings. psycopg and botocore are
instrumented process-wide; init_app re-points them at the newest app's provider and shuts the
previous provider down (flushing it), so repeated init in one process is safe.

OpenTelemetry is imported only when it is enabled (~0.3 s of start-up per worker otherwise).
"""

from __future__ import annotations

import atexit

from flask import Flask

from ..config import Settings

_state: dict = {"provider": None, "atexit": False, "loaded": False}  # loaded: OTel was enabled in this process


def _global_instrumentors() -> tuple:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    return PsycopgInstrumentor, BotocoreInstrumentor


def reset() -> None:
    """Undo the process-wide instrumentation and flush the current provider (before any re-init)."""
    if not _state["loaded"]:  # nothing was instrumented in this process
        return
    for instrumentor in _global_instrumentors():
        if instrumentor().is_instrumented_by_opentelemetry:
            instrumentor().uninstrument()
    shutdown()


def init_app(app: Flask, settings: Settings) -> None:
    if not settings.otel_enabled:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    _state["loaded"] = True
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.service_name}), shutdown_on_exit=False
    )  # one atexit hook for whichever provider is current
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for instrumentor in _global_instrumentors():
        instrumentor().instrument(tracer_provider=provider)
    # OTEL_PYTHON_FLASK_EXCLUDED_URLS (e.g. "api/health-check") keeps probes out of the traces.
    FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    _state["provider"] = provider
    if not _state["atexit"]:
        atexit.register(shutdown)
        _state["atexit"] = True


def shutdown() -> None:
    """Export what is buffered and stop the exporter: at exit and in gunicorn's worker_exit."""
    provider, _state["provider"] = _state["provider"], None
    if provider is not None:
        provider.shutdown()


def record_exception(exc: BaseException) -> None:
    """Record the exception on the current span and mark it as an error."""
    if not _state["loaded"]:
        return
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    span = trace.get_current_span()
    if span.is_recording():
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))


def trace_id() -> str | None:
    """The current OTel trace id as 32 hex digits (what Honeycomb shows), None outside a span."""
    if not _state["loaded"]:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
