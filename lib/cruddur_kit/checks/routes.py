"""The routes an app serves, read from its own OpenAPI document, built offline (no database, no AWS).

Building the Flask app costs ~0.7 s of imports, so the path list is cached in .local/cache keyed by
the app's source files (size + mtime): lint stays well under a second once warm, and any change to
the app's code rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import re

from .. import BACKEND, LOCAL_DIR
from ..aws import DEFAULT_REGION

# service name -> the package whose OpenAPI document describes it
APPS = {"backend-flask": BACKEND / "cruddur"}


def _fingerprint(package) -> str:
    h = hashlib.sha256()
    for p in sorted(package.rglob("*.py")):
        st = p.stat()
        h.update(f"{p.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _build_paths() -> list[str]:
    """GET paths of the app's OpenAPI document, from an app made with dummy settings and no live pool."""
    from cruddur import create_app
    from cruddur.config import Settings
    from cruddur.openapi import build_document

    settings = Settings(
        connection_url="postgresql://lint@127.0.0.1:1/lint",
        aws_region=DEFAULT_REGION,
        cognito_user_pool_id=f"{DEFAULT_REGION}_lint",
        cognito_client_id="lint",
        db_pool_min=0,
    )
    app = create_app(settings)
    try:
        doc = build_document(app)
    finally:
        app.extensions["db_pool"].close()
    return sorted(p for p, ops in doc["paths"].items() if "get" in ops)


def app_routes(service: str) -> list[str] | None:
    package = APPS.get(service)
    if package is None or not package.exists():
        return None
    key = _fingerprint(package)
    cache = LOCAL_DIR / "cache" / f"openapi-get-paths-{service}.json"
    try:
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            return stored["paths"]
    except (OSError, ValueError):
        pass
    paths = _build_paths()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "paths": paths}))
    except OSError:
        pass  # a read-only checkout still lints, just slower
    return paths


def serves(paths: list[str], path: str) -> bool:
    path = path.split("?", 1)[0]
    for p in paths:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$"
        if re.match(pattern, path):
            return True
    return False
