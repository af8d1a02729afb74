"""Every view declares its contract the same way: route → auth → request schema → response schema.

The decorator enforces it and records it; openapi.py builds the document from the same records,
so the document says what the code enforces.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import g, request
from pydantic import BaseModel, ValidationError

from .body_limit import read_body
from .errors import ApiError, ValidationFailed
from .identity import caller_sub_required, current_user_optional, current_user_required, token_checked
from .pagination import parse_page_request

AuthMode = Literal["none", "optional", "required"]


@dataclass
class Contract:
    summary: str
    auth: AuthMode = "none"
    # With auth="optional": the answer is the same public page for every caller. A sent token is still verified
    # in full (401 when bad, the answer private), but no users row is looked up and the view gets no g.user.
    same_for_every_caller: bool = False
    # With auth="required": the view reads the caller's users row in its own statement, by the verified sub
    # in g.user_sub, and hands it to identity.registered (403 when there is none). One round trip, not two.
    caller_in_statement: bool = False
    body: type[BaseModel] | None = None
    response: Any = None  # a pydantic model, or list[Model]
    status: int = 200
    paginated: bool = False
    query: dict[str, str | dict] = field(default_factory=dict)  # name -> description, or OpenAPI parameter fields
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self):
        if self.same_for_every_caller and self.auth != "optional":
            raise ValueError("same_for_every_caller needs auth='optional' (a required caller is always looked up)")
        if self.caller_in_statement and self.auth != "required":
            raise ValueError("caller_in_statement needs auth='required'")


def _codes_for(model: type[BaseModel], error: dict) -> str:
    name = str(error["loc"][0]) if error["loc"] else "body"
    kind = error["type"]
    extra = (model.model_fields[name].json_schema_extra or {}) if name in model.model_fields else {}
    codes = extra.get("codes", {}) if isinstance(extra, dict) else {}
    if kind in ("missing", "string_too_short"):
        return codes.get("blank", f"{name}_blank")
    if kind == "string_too_long":
        return codes.get("too_long", f"{name}_exceed_max_chars")
    if kind == "extra_forbidden":
        return f"{name}_unknown"
    return codes.get("invalid", f"{name}_invalid")


def _validated(model: type[BaseModel], payload: dict) -> BaseModel:
    try:
        return model.model_validate(payload)
    except ValidationError as e:
        raise ValidationFailed([_codes_for(model, err) for err in e.errors()]) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The request's JSON body validated by `model`; 400 for non-JSON, 422 listing every bad field."""
    payload = None
    if request.is_json:
        try:
            payload = json.loads(read_body())
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            payload = None
    if payload is None:
        raise ApiError("body_invalid_json", 400, "send a JSON object with Content-Type: application/json")
    if not isinstance(payload, dict):
        raise ApiError("body_not_an_object", 400, "the JSON body must be an object")
    return _validated(model, payload)


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query arguments validated by `model` (the first value of each); 422 listing every bad one."""
    return _validated(model, request.args.to_dict(flat=True))


def contract(summary: str, **options) -> Callable:
    spec = Contract(summary=summary, **options)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if spec.caller_in_statement:
                g.user_sub = caller_sub_required()
            elif spec.auth == "required":
                g.user = current_user_required()
            elif spec.same_for_every_caller:
                token_checked()
            elif spec.auth == "optional":
                g.user = current_user_optional()
            if spec.body is not None:
                kwargs["body"] = parse_body(spec.body)
            if spec.paginated:
                # No query string (the usual feed request): skip request.args, which werkzeug builds even then.
                kwargs["page"] = parse_page_request(request.args if request.environ.get("QUERY_STRING") else {})
            answer = view(*args, **kwargs)
            if spec.caller_in_statement and "user" not in g:  # the view forgot identity.registered
                raise RuntimeError(f"{view.__name__} declares caller_in_statement but never checked the caller")
            return answer

        wrapper.contract = spec
        return wrapper

    return decorate
