"""Path parameters checked before they reach a store."""

from __future__ import annotations

import uuid

from .errors import ValidationFailed


def uuid_param(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationFailed([f"{name}_invalid"]) from None
