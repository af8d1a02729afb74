"""bin/ddb/patterns/*: the table's access patterns, read through the API's own message store."""

from __future__ import annotations

import click

from ....errors import KitError
from .. import table_option


def paging_options(what: str):
    """--table, --limit (of `what` per page) and --cursor, the options every pattern pages with."""

    def decorate(fn):
        fn = click.option("--cursor", help="continue from the cursor a previous run printed")(fn)
        fn = click.option(
            "--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help=f"{what} per page"
        )(fn)
        return table_option(fn)

    return decorate


def page(fn, key, limit, position):
    """One page of a store listing; a cursor from another listing is the user's mistake, said in one line."""
    from cruddur.errors import ValidationFailed

    try:
        return fn(key, limit, position)
    except ValidationFailed:
        raise KitError("--cursor belongs to another conversation or listing") from None
