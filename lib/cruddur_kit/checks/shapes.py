"""Validate a JSON document against the input shape of an AWS API call, from botocore's service models.

Catches what the API would refuse (unknown keys, wrong types, missing required members, values
outside an enum) without calling AWS; the local emulator accepts most of these silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache

import botocore.session

from .model import NG

_TYPES = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "timestamp": (str, int),
    "blob": (str, bytes),
}
_JSON_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    float: "a number",
    dict: "an object",
    list: "an array",
    bytes: "bytes",
}


@cache
def _session():
    return botocore.session.get_session()


@cache
def service_model(service: str):
    return _session().get_service_model(service)


@cache
def input_shape(service: str, operation: str):
    return service_model(service).operation_model(operation).input_shape


def _child(path: str, key) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def validate(doc, service: str, operation: str, filled: tuple[str, ...] = ()) -> Iterator[tuple]:
    """Problems of `doc` as the input of service.operation; `filled` names required members the kit adds."""
    yield from _walk(doc, input_shape(service, operation), "$", f"{operation} ({service})", filled)


def validate_parts(doc, parts) -> Iterator[tuple]:
    """Validate each top-level part of a kit spec against its call: parts are (key, service, operation, filled)."""
    for key, service, operation, filled in parts:
        if key not in doc:
            continue
        for status, path, message, fix, cause in validate(doc[key], service, operation, filled):
            yield status, path.replace("$", f"$.{key}", 1), message, fix, cause


def _walk(value, shape, path: str, call: str, filled=()) -> Iterator[tuple]:
    expected = _TYPES.get(shape.type_name, (object,))
    if value is None or isinstance(value, bool) and bool not in expected or not isinstance(value, expected):
        want = _JSON_NAMES.get(expected[0], shape.type_name)
        yield NG(
            path,
            f"{shape.type_name} expected, got {type(value).__name__} {value!r:.40}",
            f"make {path} {want} as {call} requires",
        )
        return
    if shape.type_name == "structure":
        members = shape.members
        for key, sub in value.items():
            if key not in members:
                close = difflib.get_close_matches(key, members, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"remove it; {call} has no such member"
                yield NG(_child(path, key), f"unknown key {key!r}", hint)
                continue
            yield from _walk(sub, members[key], _child(path, key), call)
        for req in shape.required_members:
            if req not in value and req not in filled:
                yield NG(_child(path, req), f"required member {req!r} is missing", f"add {req!r} ({call})")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            yield from _walk(item, shape.member, _child(path, i), call)
    elif shape.type_name == "map":
        for k, v in value.items():
            yield from _walk(v, shape.value, _child(path, k), call)
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        close = difflib.get_close_matches(value, shape.enum, n=1)
        yield NG(
            path,
            f"{value!r} is not one of {', '.join(shape.enum)}",
            f"use {close[0]!r}" if close else f"use one of {', '.join(shape.enum)}",
        )
