"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import db
from ..contract import contract
from ..openapi import build_document
from ..schemas import Health, Ready

bp = Blueprint("general", __name__)


@bp.get("/health-check")
@contract(
    "Liveness: the process answers. No I/O; used by the container health check and the ALB.",
    response=Health,
    tags=("health",),
)
def health_check():
    return {"success": True, "ver": 1}


@bp.get("/ready")
@contract("Readiness: the database answers (503 when it does not).", response=Ready, errors=(503,), tags=("health",))
def ready():
    checks = {}
    try:
        db.ping()
        checks["database"] = "ok"
    except Exception as e:  # any failure means not ready; the type is enough for an operator
        checks["database"] = f"unavailable: {type(e).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"ready": ok, "checks": checks}), (200 if ok else 503)


@bp.get("/openapi.json")
@contract("This document.", tags=("meta",))
def openapi():
    return build_document(current_app)
