"""Every answer checked against botocore's output shape, on the raw JSON the emulator sent.

boto3's parser keeps only modelled members, so checking the parsed dict would prove nothing. `checked(client)`
registers an after-call hook that validates the HTTP body itself: no member the model does not have,
every value of its shape's type, enum values in the enum, required members present. A violation fails the
call with ShapeError naming the path.
"""

from __future__ import annotations

import json

from botocore.model import Shape


class ShapeError(AssertionError):
    pass


def violations(value, shape: Shape, path: str = "$") -> list[str]:
    kind = shape.type_name
    problems: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object for {shape.name}, got {type(value).__name__}"]
        if shape.metadata.get("document"):
            return []
        for key, member in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                problems += violations(member, shape.members[key], f"{path}.{key}")
        for key in shape.required_members:
            if key not in value:
                problems.append(f"{path}: required member {key} of {shape.name} is missing")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list for {shape.name}"]
        for i, item in enumerate(value):
            problems += violations(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map for {shape.name}"]
        for k, v in value.items():
            problems += violations(v, shape.value, f"{path}[{k!r}]")
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string for {shape.name}, got {value!r}")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.name}'s values {shape.enum}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer for {shape.name}, got {value!r}")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number for {shape.name}, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean for {shape.name}, got {value!r}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            problems.append(f"{path}: expected a timestamp for {shape.name}, got {value!r}")
    return problems


def checked(client, log: list | None = None):
    """The client, with every successful answer checked against its operation's output shape (JSON protocols;
    a client of an XML service is returned as it is)."""
    if client.meta.service_model.protocol not in ("json", "rest-json"):
        return client

    def check(http_response, model, **_):
        if http_response.status_code >= 300 or model.output_shape is None:
            return
        body = json.loads(http_response.content or b"{}")
        problems = violations(body, model.output_shape)
        if log is not None:
            log.append(model.name)
        if problems:
            raise ShapeError(f"{model.name} answered outside its shape:\n  " + "\n  ".join(problems))

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"after-call.{service}", check)
    return client
