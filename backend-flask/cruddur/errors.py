"""One place turns every failure into JSON: 4xx with a stable code, 503 for a dependency, 500 with an id."""

from __future__ import annotations

import logging
import uuid

import psycopg
import psycopg_pool
from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("cruddur.errors")


class ApiError(Exception):
    """An error with an HTTP status and a stable machine-readable code."""

    status = 400

    def __init__(self, code: str, status: int | None = None, message: str | None = None):
        super().__init__(code)
        self.code = code
        if status is not None:
            self.status = status
        self.message = message

    def body(self) -> dict:
        body = {"error": self.code}
        if self.message:
            body["message"] = self.message
        return body


class ValidationFailed(ApiError):
    """422 with Cruddur's body: a JSON array of every failing field's code."""

    status = 422

    def __init__(self, codes: list[str]):
        super().__init__("validation_failed")
        self.codes = list(dict.fromkeys(codes))  # ordered, no repeats

    def body(self) -> list[str]:
        return self.codes


class NotFound(ApiError):
    status = 404


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class Conflict(ApiError):
    status = 409


class Unavailable(ApiError):
    """A dependency (database, DynamoDB) cannot answer right now."""

    status = 503


RETRY_AFTER_SECONDS = "2"  # a dependency outage: when a client may try again


def _json(body, status: int, headers: dict | None = None):
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def error_response(e: ApiError):
    """The JSON answer for an ApiError, with the headers its status calls for (401: how to sign in; 503: when
    to come back). Every 503 of the API is made here."""
    if e.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="cruddur"'}
    elif e.status == 503:
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    else:
        headers = None
    return _json(e.body(), e.status, headers)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, error_response)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        code = (e.name or "error").lower().replace(" ", "_").replace("'", "")
        headers = {k: v for k, v in e.get_headers() if k.lower() == "allow"}
        return _json({"error": code}, e.code or 500, headers)

    @app.errorhandler(psycopg_pool.PoolTimeout)
    @app.errorhandler(psycopg.OperationalError)
    def database_unavailable(e):
        if isinstance(e, psycopg.errors.QueryCanceled):
            log.warning("statement timeout", extra={"error_type": type(e).__name__})
        else:
            log.warning("database unavailable", extra={"error_type": type(e).__name__})
        return error_response(Unavailable("database_unavailable"))

    @app.errorhandler(psycopg.errors.UniqueViolation)
    def unique_violation(e):
        return _json({"error": "conflict"}, 409)

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        error_id = getattr(g, "trace_id", None) or uuid.uuid4().hex
        log.error(
            "unhandled error",
            extra={"error_type": type(e).__name__, "error_id": error_id},
            exc_info=app.config.get("LOG_TRACEBACKS", True),
        )
        return _json({"error": "internal_error", "error_id": error_id}, 500)
