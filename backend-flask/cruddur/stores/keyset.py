"""Keyset positions for (created_at, uuid) orderings, checked before they reach SQL."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ..errors import ValidationFailed


def position(row: dict) -> list[str]:
    return [row["created_at"].isoformat(), str(row["uuid"])]


def parse(cursor: Any) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        created_at, row_uuid = cursor
        ts = datetime.fromisoformat(created_at)
        if ts.tzinfo is None:
            raise ValueError("naive timestamp")
        return ts, uuid.UUID(row_uuid)
    except (TypeError, ValueError):
        raise ValidationFailed(["cursor_invalid"]) from None


def split(rows: list[dict], limit: int) -> tuple[list[dict], list[str] | None]:
    """Rows were fetched with limit + 1: the extra row only proves that a next page exists."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, position(rows[-1])
    return rows, None
