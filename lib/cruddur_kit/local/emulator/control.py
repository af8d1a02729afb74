"""The emulator's own control API, and the middleware that keeps ECS deployments in step with the clock.

Endpoints (JSON in, JSON out; 400 with {"error": ...} on bad input):

  GET  /moto-api/cruddur/clock                     {"mode", "minuteSeconds", "now"}
  POST /moto-api/cruddur/clock                     {"mode": "manual"|"real", "minuteSeconds": 0.5,
                                                    "advanceMinutes": 3, "advanceSeconds": 20}
  GET|POST|DELETE /moto-api/cruddur/ecs/task-behaviours
        POST {"behaviour": "crash"|"unhealthy"|"pull-error"|"hang", "image": "<glob>",
              "taskDefinition": "family:rev|ARN glob", "exitCode": 1, "reason": "...", "afterSeconds": 10}
  GET|POST|DELETE /moto-api/cruddur/ecs/lambda-hook-outcomes
        POST {"function": "<ARN or name>", "hookStatus": "SUCCEEDED"|"FAILED"|"IN_PROGRESS", "callBackDelay": 30}
  GET  /moto-api/cruddur/ecs/lambda-hook-invocations

POST /moto-api/reset also resets the clock and these registries.

Every AWS request signed for ECS, EC2, ELB, CloudWatch or Lambda runs under one lock after every service's
deployments have been advanced to the clock's now (ecs_deployments.sync_all): what a task did by now (its
target registered, its network interface deleted, an alarm noticed) is visible whatever is asked first.
"""

from __future__ import annotations

import json
import os
import re
import threading

from . import default_vpc, ecs_deployments, iam_managed
from .clock import CLOCK
from .ecs_hooks import LAMBDA_OUTCOMES
from .ecs_tasks import BEHAVIOURS, BEHAVIOURS_REGISTRY, Behaviour

PREFIX = "/moto-api/cruddur/"
SYNCED = {"ecs", "ec2", "elasticloadbalancing", "monitoring", "lambda"}
LOCK = threading.RLock()
CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


class BadRequest(Exception):
    pass


def signing_service(environ) -> str | None:
    match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def _number(body: dict, key: str, low: float | None = None) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{key} must be a number")
    if low is not None and value <= low:
        raise BadRequest(f"{key} must be above {low:g}")
    return float(value)


def clock(method: str, body: dict) -> dict:
    if method == "POST":
        mode = body.get("mode")
        if mode not in (None, "manual", "real"):
            raise BadRequest("mode must be 'manual' or 'real'")
        minute = _number(body, "minuteSeconds", 0)
        advance = (_number(body, "advanceMinutes") or 0) * 60 + (_number(body, "advanceSeconds") or 0)
        if advance < 0:
            raise BadRequest("the clock only moves forward")
        ecs_deployments.sync_all()
        CLOCK.configure(mode=mode, minute_seconds=minute)
        if advance:
            CLOCK.advance(advance)
        ecs_deployments.sync_all()
    return CLOCK.describe()


def task_behaviours(method: str, body: dict) -> object:
    if method == "POST":
        kind = body.get("behaviour")
        if kind not in BEHAVIOURS:
            raise BadRequest(f"behaviour must be one of {', '.join(BEHAVIOURS)}")
        if not body.get("image") and not body.get("taskDefinition"):
            raise BadRequest("name the tasks it applies to: image (a glob) and/or taskDefinition")
        exit_code = body.get("exitCode", 1)
        if isinstance(exit_code, bool) or not isinstance(exit_code, int):
            raise BadRequest("exitCode must be an integer")
        BEHAVIOURS_REGISTRY.add(
            Behaviour(
                kind,
                body.get("image"),
                body.get("taskDefinition"),
                exit_code,
                body.get("reason"),
                _number(body, "afterSeconds", 0) or 10,
            )
        )
    elif method == "DELETE":
        BEHAVIOURS_REGISTRY.clear()
    return [rule.as_dict() for rule in BEHAVIOURS_REGISTRY.rules]


def lambda_hook_outcomes(method: str, body: dict) -> object:
    if method == "POST":
        if not body.get("function"):
            raise BadRequest("function (a Lambda ARN or name) is required")
        if body.get("hookStatus") not in ("SUCCEEDED", "FAILED", "IN_PROGRESS"):
            raise BadRequest("hookStatus must be SUCCEEDED, FAILED or IN_PROGRESS")
        delay = _number(body, "callBackDelay", 0)
        LAMBDA_OUTCOMES.set(body["function"], body["hookStatus"], int(delay) if delay else None)
    elif method == "DELETE":
        LAMBDA_OUTCOMES.clear()
    return dict(LAMBDA_OUTCOMES.outcomes)


ROUTES = {
    "clock": (clock, ("GET", "POST")),
    "ecs/task-behaviours": (task_behaviours, ("GET", "POST", "DELETE")),
    "ecs/lambda-hook-outcomes": (lambda_hook_outcomes, ("GET", "POST", "DELETE")),
    "ecs/lambda-hook-invocations": (lambda method, body: LAMBDA_OUTCOMES.listing(), ("GET",)),
}


def reset_extensions() -> None:
    ecs_deployments.reset()
    CLOCK.reset()
    BEHAVIOURS_REGISTRY.clear()
    LAMBDA_OUTCOMES.clear()


class EmulatorControl:
    """WSGI middleware: the control API above; AWS requests that a deployment touches, in step and one at a time."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            return self.control(path[len(PREFIX) :].strip("/"), environ, start_response)
        if path.rstrip("/") == "/moto-api/reset":
            with LOCK:
                out = self._whole(environ, start_response)
                if environ.get("REQUEST_METHOD") == "POST":
                    reset_extensions()
                return out
        if signing_service(environ) in SYNCED:
            with LOCK:
                ecs_deployments.sync_all()
                return self._whole(environ, start_response)
        return self.app(environ, start_response)

    def _whole(self, environ, start_response):
        result = self.app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    def control(self, route: str, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        found = ROUTES.get(route)
        if found is None:
            return _answer(
                start_response, 404, {"error": f"no such control: {PREFIX}{route} (known: {', '.join(sorted(ROUTES))})"}
            )
        handler, methods = found
        if method not in methods:
            return _answer(start_response, 405, {"error": f"{PREFIX}{route} takes {', '.join(methods)}"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            with LOCK:
                return _answer(start_response, 200, handler(method, body))
        except (BadRequest, ValueError) as e:
            return _answer(start_response, 400, {"error": str(e)})


def _answer(start_response, status: int, doc) -> list[bytes]:
    body = json.dumps(doc, default=str).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def install(app):
    """Patch moto (ECS deployments, the default VPC) and wrap its WSGI app; returns the app to serve."""
    CLOCK.load_env(os.environ)
    ecs_deployments.install()
    default_vpc.install()
    iam_managed.install()
    return EmulatorControl(app)
