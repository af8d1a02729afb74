"""The OpenAPI 3.1 document, built from the contracts the views enforce."""

from __future__ import annotations

import re
import types
import typing

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .pagination import DEFAULT_LIMIT, MAX_LIMIT

REF = "#/components/schemas/{model}"
VALIDATION = {
    "description": "Validation failed: every failing field's code",
    "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}},
}
STATUS_TEXT = {
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "Not registered",
    404: "Not found",
    408: "The request did not arrive in time",
    409: "Conflict",
    413: "Request body over the limit (MAX_REQUEST_BODY_BYTES)",
    414: "Request line too long",
    431: "Request headers too large",
    503: "A dependency is unavailable",
}
# What the server itself answers, before any route runs, to a request it cannot read (gunicorn_worker.py):
# a client can meet these on every operation.
ANY_REQUEST = {400, 408, 414, 431}


def _models(annotation) -> list[type[BaseModel]]:
    if annotation is None:
        return []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _schema(annotation) -> dict:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"$ref": REF.format(model=annotation.__name__)}
    if typing.get_origin(annotation) is list:
        return {"type": "array", "items": _schema(typing.get_args(annotation)[0])}
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # e.g. Model | OtherModel
        return {"oneOf": [_schema(arg) for arg in typing.get_args(annotation)]}
    return {}


def _error(status: int) -> dict:
    if status == 422:
        return VALIDATION
    return {
        "description": STATUS_TEXT.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
    }


def build_document(app: Flask) -> dict:
    from .schemas import ErrorBody

    paths: dict = {}
    models: set[type[BaseModel]] = {ErrorBody}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "contract", None)
        if spec is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"}
                if name.endswith("uuid")
                else {"type": "string", "pattern": "^[A-Za-z0-9_]{1,32}$"},
            }
            for name in rule.arguments
        ]
        params += [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                **({"description": text} if isinstance(text, str) else text),
            }  # str, or the parameter's fields
            for name, text in spec.query.items()
        ]
        if spec.paginated:
            params += [
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "description": "opaque; copy it from the Link header",
                    "schema": {"type": "string"},
                },
            ]
        responses: dict = {str(spec.status): {"description": "OK"}}
        if spec.response is not None:
            responses[str(spec.status)]["content"] = {"application/json": {"schema": _schema(spec.response)}}
            models.update(_models(spec.response))
        if spec.paginated:
            responses[str(spec.status)]["headers"] = {
                "Link": {"description": 'the next page: <url>; rel="next"', "schema": {"type": "string"}}
            }
        statuses = set(spec.errors) | ANY_REQUEST | ({422} if spec.body or spec.paginated else set())
        if spec.body:
            statuses.add(413)
        if spec.auth != "none":
            # 403 user_not_registered comes from the users-row lookup, which a same-for-every-caller view skips
            statuses |= {401} if spec.same_for_every_caller else {401, 403}
        if spec.auth != "none" or spec.body or spec.paginated:
            statuses.add(503)
        for status in sorted(statuses):
            responses[str(status)] = _error(status)
        operation = {
            "summary": spec.summary,
            "operationId": rule.endpoint.replace(".", "_"),
            "parameters": params,
            "responses": responses,
        }
        if spec.tags:
            operation["tags"] = list(spec.tags)
        if spec.auth == "required":
            operation["security"] = [{"cognito": []}]
        elif spec.auth == "optional":
            operation["security"] = [{"cognito": []}, {}]
        if spec.body is not None:
            models.add(spec.body)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=spec.body.__name__)}}},
            }
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method in methods:  # operation ids are unique per document: one per method when a rule has several
            paths.setdefault(path, {})[method.lower()] = (
                operation
                if len(methods) == 1
                else {**operation, "operationId": f"{operation['operationId']}_{method.lower()}"}
            )
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cruddur API",
            "version": "1.0.0",
            "description": "The Cruddur backend. Lists are keyset-paginated: follow the Link header.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "cognito": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "a Cognito access token",
                }
            },
        },
    }
