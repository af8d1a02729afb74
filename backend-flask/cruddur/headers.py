"""Headers every answer carries: `nosniff` always, `Cache-Control: no-store` on answers about a signed-in caller."""

from __future__ import annotations

from flask import Flask, g


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"  # JSON is never to be sniffed into HTML or script
        if g.get("private"):  # set by identity when the request carried a token (g.get: no AttributeError miss)
            headers["Cache-Control"] = "no-store"
        return response
