"""Render the aws/json templates: ${VAR} placeholders filled from a variables mapping.

A placeholder inside a longer string is replaced by the value's text. A string that is exactly one
placeholder ("${SUBNET_IDS}") takes the value as it is, so a variable can supply a list, a number or
an object. Keys named "_comment" are dropped. A missing variable stops rendering with one line naming the
file and every variable missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import REPO_ROOT
from .errors import KitError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# How a user sets a variable when it has a flag as well as an environment name.
HOW_TO_SET = {
    "IMAGE_TAG": "set it in the environment or pass --tag",
    "CLUSTER_NAME": "set it in the environment or pass --cluster",
    **dict.fromkeys(
        ("DB_SECRET_ARN", "DB_HOST", "DB_PORT", "DB_NAME"),
        "run bin/aws/setup --with-database (or set it in the environment)",
    ),
    **dict.fromkeys(
        ("AWS_COGNITO_USER_POOL_ID", "AWS_COGNITO_USER_POOL_CLIENT_ID"),
        "run bin/aws/setup (it creates the Cognito user pool and app client) or export the ids",
    ),
}


def _label(path: Path | None) -> str:
    if path is None:
        return "the template"
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def load(path: str | Path) -> Any:
    """The parsed JSON of a template file, placeholders untouched."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(f"{_label(path)} is missing: restore it from git or create it") from None
    except json.JSONDecodeError as e:
        raise KitError(f"{_label(path)} is not valid JSON: line {e.lineno} column {e.colno}: {e.msg}") from None


def placeholders(doc: Any) -> set[str]:
    """Every variable name a document (or JSON file) refers to."""
    if isinstance(doc, (str, Path)) and not isinstance(doc, str):
        doc = load(doc)
    found: set[str] = set()

    def walk(node):
        if isinstance(node, str):
            found.update(PLACEHOLDER.findall(node))
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(k)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return found


def _lookup(variables: Mapping, name: str, missing: list[str]):
    try:
        value = variables[name]
    except KeyError:
        value = None
    if value is None:
        if name not in missing:
            missing.append(name)
        return None
    return value


def _render_node(node, variables: Mapping, missing: list[str]):
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:
            return _lookup(variables, whole.group(1), missing)

        def text(m: re.Match) -> str:
            value = _lookup(variables, m.group(1), missing)
            if value is None:
                return m.group(0)
            return value if isinstance(value, str) else json.dumps(value)

        return PLACEHOLDER.sub(text, node)
    if isinstance(node, dict):  # "_comment" keys document a file and never reach AWS
        return {
            _render_node(k, variables, missing): _render_node(v, variables, missing)
            for k, v in node.items()
            if k != "_comment"
        }
    if isinstance(node, list):
        return [_render_node(v, variables, missing) for v in node]
    return node


def render(path_or_dict: str | Path | Mapping | list, variables: Mapping, *, source: str | Path | None = None) -> Any:
    """The template with every ${VAR} filled from `variables`; KitError naming what is missing."""
    if isinstance(path_or_dict, (str, Path)):
        source = source or path_or_dict
        doc = load(path_or_dict)
    else:
        doc = path_or_dict
    missing: list[str] = []
    result = _render_node(doc, variables, missing)
    if missing:
        names = ", ".join(f"${{{m}}}" for m in missing)
        hows = {HOW_TO_SET.get(m, "set it in the environment") for m in missing}
        how = hows.pop() if len(hows) == 1 else "set them in the environment (or by their flags)"
        if len(missing) > 1 and how == "set it in the environment":
            how = "set them in the environment"
        raise KitError(f"{_label(Path(source) if source else None)} needs {names}: {how}")
    return result


def json_text(doc) -> str:
    """Compact, stable JSON for AWS parameters that take a document as a string."""
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)
