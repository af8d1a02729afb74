"""Short-lived in-process caches of public first pages (the same for every caller): the home feed's and
search's.

Home's key is the page size; search's the term as searched (search_term.websearch_text) and the page size.
Cursor pages are never cached. What is stored is the rendered page (the response body and the next
cursor), so a hit costs no query and no JSON encoding. Entries live HOME_FEED_CACHE_SECONDS and
SEARCH_CACHE_SECONDS (0 turns a cache off). Posting or replying in this process empties both at once;
other workers and tasks see a new crud within the TTL (journal/2026-11-24-api.md). Each cache holds at
most MAX_ENTRIES pages (~5 KB each at the default page size): expired ones are dropped first, then the
oldest, so a client searching random terms costs misses (each the uncached price), never memory.

Thread-safe, with a stampede guard: one thread per key rebuilds an expired page while the others
for that key wait for it and share its result (or its error), so a burst after expiry runs one query,
not one per thread, and a database outage makes them all wait one pool timeout, not one each in turn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flask import Flask, current_app

from .cache_bounds import make_room
from .config import Settings

T = TypeVar("T")
EXTENSION = "home_feed_cache"
SEARCH_EXTENSION = "search_cache"
MAX_ENTRIES = 1024


class _Build:
    """One build in flight: its waiters block on `done`, then share its value or its exception."""

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class TTLCache(Generic[T]):
    """Values built on demand and kept `ttl` seconds; invalidate() drops them all, including a build
    that started before the invalidation (it is returned to its callers but not stored).

    While a key is being built, other callers for it wait for that build and share its outcome: a value,
    or the same exception (a database outage costs the waiters one timeout, not one each, in turn)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES):
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, T]] = {}  # key -> (expires at, value)
        self._building: dict[Hashable, _Build] = {}
        self._lock = threading.Lock()  # guards the two dicts and the generation
        self._generation = 0  # bumped by invalidate()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        entry = self._entries.get(key)  # a dict read is atomic: the hit path takes no lock
        if entry is not None and entry[0] > self.clock():
            return entry[1]
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self.clock():
                return entry[1]
            flight = self._building.get(key)
            leader = flight is None
            if leader:
                flight = self._building[key] = _Build()
                generation = self._generation
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            flight.value = build()
        except BaseException as e:
            flight.error = e
            raise
        finally:
            with self._lock:
                del self._building[key]
                if flight.error is None and generation == self._generation:  # no write here since it began
                    self._store(key, flight.value)
            flight.done.set()
        return flight.value

    def _store(self, key: Hashable, value: T) -> None:
        """Under the lock: keep at most max_entries, dropping expired entries first, then the oldest."""
        now = self.clock()
        self._entries.pop(key, None)
        make_room(self._entries, self.max_entries, now)
        self._entries[key] = (now + self.ttl, value)

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask, settings: Settings) -> None:
    for extension, seconds in (
        (EXTENSION, settings.home_feed_cache_seconds),
        (SEARCH_EXTENSION, settings.search_cache_seconds),
    ):
        app.extensions[extension] = TTLCache(seconds) if seconds > 0 else None


def home_feed() -> TTLCache | None:
    """This app's home feed cache, None when it is off."""
    return current_app.extensions.get(EXTENSION)


def search() -> TTLCache | None:
    """This app's search cache, None when it is off."""
    return current_app.extensions.get(SEARCH_EXTENSION)


def invalidate_after_write() -> None:
    """A crud was posted or replied to here: no public page of this process may miss it (or its count)."""
    for cache in (home_feed(), search()):
        if cache is not None:
            cache.invalidate()
