"""Request bodies are capped (MAX_REQUEST_BODY_BYTES, default 64 KiB; the largest valid body is a few KiB): a
larger one is a 413 JSON answer, decided from its Content-Length before a byte of it is read, or from the
first byte past the cap of a chunked one (werkzeug reads no further: Flask's MAX_CONTENT_LENGTH is one past
the cap). The gunicorn worker reads bodies up to the same cap before a thread runs the request
(gunicorn_worker.py reads it from MAX_CONTENT_LENGTH)."""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .config import Settings
from .errors import ApiError, error_response


def _too_large(cap: int) -> ApiError:
    return ApiError("body_too_large", 413, f"a request body may be at most {cap} bytes")


def init_app(app: Flask, settings: Settings) -> None:
    cap = settings.max_body_bytes
    app.config["MAX_CONTENT_LENGTH"] = cap + 1  # read_body sees that one byte too many, and says 413

    @app.before_request
    def _declared_size():
        length = request.environ.get("CONTENT_LENGTH")  # gunicorn checked it is digits
        if length and length.isdigit() and int(length) > cap:
            raise _too_large(cap)

    app.register_error_handler(RequestEntityTooLarge, lambda e: error_response(_too_large(cap)))


def read_body() -> bytes:
    """The request body, read up to one byte past the cap at most; 413 past the cap."""
    cap = current_app.config["SETTINGS"].max_body_bytes
    data = request.get_data(cache=True)
    if len(data) > cap:
        raise _too_large(cap)
    return data
