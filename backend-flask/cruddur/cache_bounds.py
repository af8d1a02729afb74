"""The one rule every in-process cache here uses to stay bounded."""

from __future__ import annotations


def make_room(entries: dict, max_entries: int, now: float) -> None:
    """Before storing one more in `entries` ({key: (expires at, value)}, oldest first): drop the expired
    entries, then the oldest, until there is room. Call it holding the cache's lock."""
    if len(entries) < max_entries:
        return
    for stale in [key for key, (expires, _) in entries.items() if expires <= now]:
        del entries[stale]
    while len(entries) >= max_entries:
        del entries[next(iter(entries))]
