"""bin/ddb/patterns/*: the table's access patterns, read through the API's own message store."""
from __future__ import annotations

from ....errors import KitError


def page(fn, key, limit, position):
    """One page of a store listing; a cursor from another listing is the user's mistake, said in one line."""
    from cruddur.errors import ValidationFailed

    try:
        return fn(key, limit, position)
    except ValidationFailed:
        raise KitError("--cursor belongs to another conversation or listing") from None
