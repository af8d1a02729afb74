"""The Cruddur API: `create_app()` builds everything; nothing is live at import."""
from __future__ import annotations

import uuid
from datetime import datetime

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS

from . import aws, db, errors, feed_cache, identity, telemetry
from .config import Settings


class JSONProvider(DefaultJSONProvider):
    """ISO-8601 timestamps and string uuids, as Cruddur clients expect."""

    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, datetime):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        return DefaultJSONProvider.default(o)


def create_app(settings: Settings | None = None, **flask_config) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.update(flask_config)
    app.config["SETTINGS"] = settings

    errors.init_app(app)
    telemetry.init_app(app, settings)
    db.init_app(app, settings)
    feed_cache.init_app(app, settings)
    identity.init_app(app, settings)
    aws.init_app(app, settings)
    _init_cors(app, settings)
    _register_blueprints(app)
    return app


def _init_cors(app: Flask, settings: Settings) -> None:
    # Only the named origins, never "*": the frontend sends credentials (the bearer token).
    # always_send=False: CORS headers answer a browser's cross-origin request (it always carries Origin).
    # flask-cors's default also sends them without one, listing every allowed origin in a header that may
    # hold only one, and costs every curl, ALB and health-check request the work.
    CORS(app, resources={r"/api/*": {"origins": settings.cors_origins}},
         allow_headers=["Authorization", "Content-Type", "X-Amzn-Trace-Id", "traceparent"],
         expose_headers=["Link", "X-Amzn-Trace-Id"], methods=["GET", "HEAD", "POST", "OPTIONS"],
         max_age=600, always_send=False)


def _register_blueprints(app: Flask) -> None:
    from .routes import activities, general, messages, users

    app.register_blueprint(general.bp, url_prefix="/api")
    app.register_blueprint(activities.bp, url_prefix="/api/activities")
    app.register_blueprint(users.bp, url_prefix="/api")
    app.register_blueprint(messages.bp, url_prefix="/api")

