"""What the extension middlewares share: reading a request's body and keeping it readable, calling the app
behind and holding its answer, and answering an error as AWS's JSON protocol does."""

from __future__ import annotations

import io

RESET_PATH = "/moto-api/reset"


def is_reset(environ) -> bool:
    return environ.get("PATH_INFO") == RESET_PATH and environ.get("REQUEST_METHOD") == "POST"


def read_body(environ) -> bytes:
    """The request body, put back so the app behind can read it too."""
    length = environ.get("CONTENT_LENGTH") or "0"
    body = environ["wsgi.input"].read(int(length)) if length.isdigit() and int(length) else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def call(app, environ) -> tuple[str, list, bytes]:
    """(status, headers, body) of the app's answer."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, list(headers)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], body


def json_error(start_response, status: str, error_type: str, message: str, prefix: str = "") -> list[bytes]:
    """An AWS JSON-protocol error (the __type botocore reads the code from)."""
    import json
    import uuid

    body = json.dumps({"__type": f"{prefix}{error_type}", "message": message}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [body]
