"""DynamoDB TransactWriteItems with a ClientRequestToken is idempotent, as DynamoDB documents it (moto ignores
the token, so a retried transaction whose first answer was lost failed its conditions, or wrote twice):

- the same token and the same request within 10 minutes of the first success succeed again without writing
  (the answer is the first one's);
- the same token with a different request in that window is IdempotentParameterMismatchException;
- a token whose request failed was not used: a retry is applied afresh;
- after the window the token is new again.

The window is CRUDDUR_EMULATOR_IDEMPOTENCY_SECONDS (default 600, DynamoDB's). This middleware must sit inside
SerializedDynamoDB (one DynamoDB request at a time): the check and the write it guards are then one step.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .wsgi import call, is_reset, json_error, read_body

TARGET = "DynamoDB_20120810.TransactWriteItems"
WINDOW_SECONDS = 600.0
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")


@dataclass(frozen=True)
class Used:
    digest: str  # of the request without its token
    until: float  # monotonic
    status: str
    headers: list
    body: bytes


class IdempotentTransactions:
    def __init__(self, app, window: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.app = app
        self.window = (
            window
            if window is not None
            else float(os.environ.get("CRUDDUR_EMULATOR_IDEMPOTENCY_SECONDS", WINDOW_SECONDS))
        )
        self.clock = clock
        self.used: dict[tuple[str, str], Used] = {}  # (region, token) -> the first successful use

    def __call__(self, environ, start_response):
        if is_reset(environ):
            self.used.clear()
        if environ.get("HTTP_X_AMZ_TARGET") != TARGET:
            return self.app(environ, start_response)
        try:
            request = json.loads(read_body(environ) or b"{}")
        except ValueError:
            return self.app(environ, start_response)  # moto answers a malformed body
        token = request.pop("ClientRequestToken", None) if isinstance(request, dict) else None
        if not isinstance(token, str) or not token:
            return self.app(environ, start_response)
        region = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
        key = (region.group(1) if region else "", token)
        digest = hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        now = self.clock()
        for stale in [k for k, used in self.used.items() if used.until <= now]:
            del self.used[stale]
        first = self.used.get(key)
        if first is not None:
            if first.digest != digest:
                return json_error(
                    start_response,
                    "400 Bad Request",
                    "IdempotentParameterMismatchException",
                    "The request uses the same client token as a previous, but non-identical request.",
                    prefix="com.amazonaws.dynamodb.v20120810#",
                )
            headers = [(k, str(uuid.uuid4()) if k.lower() == "x-amzn-requestid" else v) for k, v in first.headers]
            start_response(first.status, headers)
            return [first.body]  # applied once already: nothing is written again
        status, headers, body = call(self.app, environ)
        if status.startswith("200"):
            self.used[key] = Used(digest, self.clock() + self.window, status, headers, body)
        start_response(status, headers)
        return [body]


def wrap(app):
    return IdempotentTransactions(app)
