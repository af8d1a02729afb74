"""Structured logs: one JSON line per request on stdout (the access log), JSON lines for app errors.

The request line is the hottest code in the app (once per request, on every cache hit too), so it
skips the logging machinery (LogRecord, caller lookup, python-json-logger's field merging: ~16 µs) and
writes its dict with json.dumps (~4 µs). It still obeys the `cruddur.request` logger's level (set it
to WARNING to keep only 5xx lines).

Every line, request or error, goes out through one `LINES` writer, so lines never interleave. Under
gunicorn (gunicorn.conf.py's post_worker_init) the writer works in the background: request threads
queue their line and a writer thread sends what gathered every ~20 ms in one write. Writing each line
from its request thread meant a syscall and a contended lock per request, with 8 threads waiting on
each other's GIL hand-offs: 45% of a cached home request. The worker flushes on exit (worker_exit);
only a SIGKILL can lose the last ~20 ms of lines. Elsewhere (tests, scripts) lines are written at once.

A line carries what an operator needs to find a request (method, route template, status,
duration, both trace ids, the user's uuid) and nothing a client sent: no tokens, query strings,
bodies or SQL parameters, and no multi-line tracebacks (the traceback goes to the trace).
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
import traceback
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

from . import otel, xray

LOGGER = "cruddur"  # every cruddur.* logger (cruddur.errors, cruddur.request) writes through here
request_log = logging.getLogger("cruddur.request")


class LineWriter:
    """Whole lines to whatever sys.stdout is at the time (gunicorn's, a test's capture), never a stale one:
    at once by default, or queued and written in batches by a background thread once start() is called."""

    BATCH_SECONDS = 0.02  # how long the writer lets lines gather after the first one arrives
    MAX_QUEUED = 10_000  # past this (stdout not keeping up), request threads write themselves: backpressure

    def __init__(self):
        self._lock = threading.Lock()  # held around every write to stdout
        self._queue: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None

    def write(self, line: str) -> None:
        """`line` (ending in a newline) to stdout, whole."""
        q = self._queue
        if q is not None and q.qsize() < self.MAX_QUEUED:
            q.put(line)
            return
        with self._lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    def start(self) -> None:
        """Write in the background from now on (one gunicorn worker: after the fork, never before)."""
        if self._thread is None:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._run, args=(self._queue,), name="log-lines", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued and go back to writing at once."""
        q, thread = self._queue, self._thread
        if thread is None:
            return
        self._queue = None  # new lines are written at once from here on
        q.put(None)
        thread.join(timeout)
        self._thread = None
        while True:  # a line a request thread queued just as the writer took its last batch
            try:
                line = q.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.write(line)

    def _run(self, q: queue.SimpleQueue) -> None:
        while True:
            batch = [q.get()]
            if batch[0] is not None:
                time.sleep(self.BATCH_SECONDS)
            while True:
                try:
                    batch.append(q.get_nowait())
                except queue.Empty:
                    break
            text = "".join(line for line in batch if line is not None)
            if text:
                try:
                    with self._lock:
                        sys.stdout.write(text)
                        sys.stdout.flush()
                except (OSError, ValueError):
                    pass  # stdout is gone (closed pipe): nothing useful can be done with a log line
            if None in batch:  # stop() asked
                return


LINES = LineWriter()


class StdoutHandler(logging.Handler):
    """The logging side of LINES: a formatted record becomes one line."""

    def emit(self, record):
        try:
            LINES.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


class Formatter(JsonFormatter):
    """python-json-logger with Cruddur's field names; an exception becomes its type and where it was raised."""

    def __init__(self):
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            timestamp="time",
            rename_fields={"levelname": "level", "name": "logger"},
        )

    def add_fields(self, log_data, record, message_dict):
        super().add_fields(log_data, record, message_dict)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            log_data.setdefault("error_type", type(exc).__name__)
            frames = traceback.extract_tb(exc.__traceback__)
            if frames:
                last = frames[-1]
                log_data["error_at"] = f"{last.filename.rsplit('/', 2)[-1]}:{last.lineno} in {last.name}"

    def process_log_record(self, log_data):
        # The traceback (formatted by us or cached on the record by another handler) stays off stdout.
        log_data.pop("exc_info", None)
        log_data.pop("stack_info", None)
        return log_data


class RequestContext(logging.Filter):
    """Stamps any line logged during a request with its route and trace ids."""

    def filter(self, record):
        if has_request_context():
            for key in ("xray_trace_id", "otel_trace_id"):
                if not hasattr(record, key):
                    setattr(record, key, g.get(key))
            if not hasattr(record, "route"):
                record.route = request.url_rule.rule if request.url_rule else None
        return True


class ExceptionsToTraces(logging.Handler):
    """An error logged with its exception during a request (errors.py's 500 handler) marks both
    traces as faulted and records the exception there: the stack lives in the trace, not in the log."""

    def __init__(self):
        super().__init__(logging.ERROR)

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None and has_request_context():
            xray.record_exception(record.exc_info[1])
            otel.record_exception(record.exc_info[1])


def configure() -> None:
    """One JSON handler on the cruddur logger (which is also app.logger); replaces an earlier app's.

    Flask's own text handler on stderr (with multi-line tracebacks) is taken off the same logger.
    """
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if getattr(h, "cruddur_json", False) or h is default_handler]:
        logger.removeHandler(handler)
    handler = StdoutHandler()
    handler.cruddur_json = True
    handler.setFormatter(Formatter())
    handler.addFilter(RequestContext())
    logger.addHandler(handler)
    to_traces = ExceptionsToTraces()
    to_traces.cruddur_json = True
    logger.addHandler(to_traces)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def init_app(app: Flask) -> None:
    """Register after the tracers, so the segment and the span exist when the ids are read."""

    @app.before_request
    def _start():
        ctx = g._get_current_object()
        ctx.request_started = time.perf_counter()
        ctx.xray_trace_id = xray.trace_id()
        ctx.otel_trace_id = otel.trace_id()
        # errors.py makes this the error_id the client sees: one id finds the line and the trace
        # (untraced, it makes a fresh id itself: no random id for every request that never fails).
        ctx.trace_id = ctx.xray_trace_id or ctx.otel_trace_id

    @app.after_request
    def _access_log(response):
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        if not request_log.isEnabledFor(level):
            return response
        ctx = g._get_current_object()  # one proxy lookup, not one per field
        req = request._get_current_object()
        started = ctx.get("request_started")
        write_line(
            {
                "time": _now_iso(),
                "level": logging.getLevelName(level),
                "logger": request_log.name,
                "message": "request",
                "method": req.method,
                "route": req.url_rule.rule if req.url_rule else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                "xray_trace_id": ctx.xray_trace_id if hasattr(ctx, "xray_trace_id") else xray.trace_id(),
                "otel_trace_id": ctx.otel_trace_id if hasattr(ctx, "otel_trace_id") else otel.trace_id(),
                "user_uuid": ctx.get("user_uuid"),  # g.get: getattr's miss raises and catches an AttributeError
                "user_sub": ctx.get("user_sub"),  # the verified token's sub: set where no users row is looked up too
            }
        )
        return response


# One encoder for every line: json.dumps(default=...) builds a new JSONEncoder on each call.
_encode = json.JSONEncoder(default=str).encode


def write_line(fields: dict) -> None:
    """One JSON object as one whole line on stdout."""
    LINES.write(_encode(fields) + "\n")


def _now_iso() -> str:
    """The same UTC ISO-8601 timestamp python-json-logger writes on the other lines."""
    return datetime.now(UTC).isoformat()
