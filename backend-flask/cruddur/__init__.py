"""The Cruddur API: `create_app()` builds everything; nothing is live at import."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import FunctionType

import orjson
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import NullSession, SessionInterface
from flask_cors import CORS

from . import aws, body_limit, count_cache, db, errors, feed_cache, headers, identity, telemetry
from .config import Settings


class JSONProvider(DefaultJSONProvider):
    """ISO-8601 timestamps and string uuids, as Cruddur clients expect.

    Response bodies are encoded by orjson: a 20-row page took ~350 µs through the standard library's
    encoder (a Python `default` call for every timestamp and uuid), ~20 µs through orjson, with the same
    JSON (timestamps as datetime.isoformat() writes them, keys in their order). Non-ASCII text is sent as
    UTF-8 rather than \\u escapes: the same strings to any JSON parser."""

    sort_keys = False

    def encode(self, obj) -> bytes:
        """The response body for `obj`, as `response` sends it (for bodies built without a Response)."""
        return orjson.dumps(obj, default=self.default) + b"\n"

    def response(self, *args, **kwargs):
        return self._app.response_class(self.encode(self._prepare_response_obj(args, kwargs)), mimetype=self.mimetype)

    @staticmethod
    def default(o):
        if isinstance(o, datetime):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        return DefaultJSONProvider.default(o)


class NoSessions(SessionInterface):
    """This API keeps no cookie sessions (callers send a bearer token), so no request opens one.

    Flask's default looks for a secret key and builds a fresh NullSession for every request (~2.5 µs,
    4% of a cached home request). One shared NullSession does the same job: it reads as empty and
    refuses every write, so there is nothing for threads to share, and Flask never saves a null session."""

    _null = NullSession()

    def open_session(self, app, request):
        return self._null

    def save_session(self, app, session, response):
        pass


class CruddurFlask(Flask):
    """Flask, minus one per-request cost: Flask asks `inspect.iscoroutinefunction` about every hook and the
    view on every request (6 calls, ~4% of an uncached request's CPU), and a function's answer never
    changes. Plain functions are remembered (the registered hooks, views and handlers: a fixed set), at
    most ENSURED of them: a function made per request (`after_this_request`) is asked every time once the
    memo is full, never kept. Anything else (a bound method, a partial) is asked every time, as Flask does."""

    ENSURED = 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ensured: dict = {}

    def ensure_sync(self, func):
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        ensured = self._ensured.get(func)
        if ensured is None:
            ensured = super().ensure_sync(func)
            if len(self._ensured) < self.ENSURED:
                self._ensured[func] = ensured
        return ensured


def create_app(settings: Settings | None = None, **flask_config) -> Flask:
    settings = settings or Settings.from_env()
    app = CruddurFlask(__name__)
    app.json = JSONProvider(app)
    app.session_interface = NoSessions()
    app.config.update(flask_config)
    app.config["SETTINGS"] = settings

    errors.init_app(app)
    telemetry.init_app(app, settings)
    body_limit.init_app(app, settings)
    db.init_app(app, settings)
    feed_cache.init_app(app, settings)
    count_cache.init_app(app, settings)
    identity.init_app(app, settings)
    aws.init_app(app, settings)
    headers.init_app(app)
    _init_cors(app, settings)
    _register_blueprints(app)
    return app


def _init_cors(app: Flask, settings: Settings) -> None:
    # Only the named origins, never "*": the frontend sends credentials (the bearer token).
    # always_send=False: CORS headers answer a browser's cross-origin request (it always carries Origin).
    # flask-cors's default also sends them without one, listing every allowed origin in a header that may
    # hold only one, and costs every curl, ALB and health-check request the work.
    CORS(
        app,
        resources={r"/api/*": {"origins": settings.cors_origins}},
        allow_headers=["Authorization", "Content-Type", "X-Amzn-Trace-Id", "traceparent"],
        expose_headers=["Link", "X-Amzn-Trace-Id"],
        methods=["GET", "HEAD", "POST", "PUT", "OPTIONS"],
        max_age=600,
        always_send=False,
    )
    # With always_send=False a request without Origin gets nothing from flask-cors, yet its after_request
    # hook still matches the path and builds empty header sets for it: ~7% of a cached home request's
    # CPU. Browsers send Origin on every cross-origin request and preflight, so run the hook for those only.
    hooks = app.after_request_funcs[None]
    cors_hook = hooks.pop()  # the hook CORS() just registered
    if getattr(cors_hook, "__name__", "") != "cors_after_request":
        raise RuntimeError(f"flask-cors registered {cors_hook!r}, not its cors_after_request: check the pin")

    @app.after_request
    def _cors_for_cross_origin(response):
        return cors_hook(response) if "HTTP_ORIGIN" in request.environ else response


def _register_blueprints(app: Flask) -> None:
    from .routes import activities, general, messages, users

    app.register_blueprint(general.bp, url_prefix="/api")
    app.register_blueprint(activities.bp, url_prefix="/api/activities")
    app.register_blueprint(users.bp, url_prefix="/api")
    app.register_blueprint(messages.bp, url_prefix="/api")
