"""The activity domain: feeds, search, notifications, posting and replying."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .. import count_cache, feed_cache
from ..errors import NotFound
from ..pagination import Page, PageRequest
from ..schemas import TTL_INTERVALS, CreateActivity, CreateReply
from ..stores import activities as store
from ..stores import users as users_store
from ..stores.search_term import websearch_text

Rendered = TypeVar("Rendered")


def home(page: PageRequest) -> Page:
    return Page(*store.home(page.limit, page.cursor))


def home_rendered(page: PageRequest, render: Callable[[Page], Rendered]) -> Rendered:
    """The home feed page as `render` makes it; a first page comes from the short-lived cache when on
    (it is the same for every caller), a cursor page always from the database."""
    cache = feed_cache.home_feed()
    if cache is None or page.cursor is not None:
        return render(home(page))
    return cache.get(page.limit, lambda: render(home(page)))


def search(term: str, page: PageRequest) -> Page:
    """`term` was checked by schemas.SearchQuery (not blank, bounded, storable)."""
    return Page(*store.search(term, page.limit, page.cursor))


def search_rendered(term: str, page: PageRequest, render: Callable[[Page], Rendered]) -> Rendered:
    """The search page as `render` makes it; a first page comes from the short-lived cache when on (the same
    for every caller: search takes no token), keyed by the term as searched, a cursor page always from the
    database."""
    cache = feed_cache.search()
    if cache is None or page.cursor is not None:
        return render(search(term, page))
    # The same search, however spelled: websearch_text drops punctuation and spacing, and the english
    # configuration lowercases words (and reads `or` in any case).
    return cache.get((websearch_text(term).lower(), page.limit), lambda: render(search(term, page)))


def notifications(cognito_user_id: str, page: PageRequest) -> tuple[dict | None, Page]:
    """(the caller's users row, or None when it has none; its notifications)."""
    caller, items, next_cursor = store.notifications(cognito_user_id, page.limit, page.cursor)
    return caller, Page(items, next_cursor)


def create(user_uuid: str, body: CreateActivity) -> dict:
    created = store.create(user_uuid, body.message, TTL_INTERVALS[body.ttl])
    feed_cache.invalidate_after_write()  # the writer sees its crud on its next read (of this process)
    count_cache.forget(created["handle"])  # and its profile counts it
    return created


def reply(user_uuid: str, parent_uuid: str, body: CreateReply) -> dict:
    created = store.reply(user_uuid, parent_uuid, body.message)
    if created is None:
        raise NotFound("activity_not_found", message="the activity does not exist or has expired")
    feed_cache.invalidate_after_write()  # the reply is searchable, the parent's replies_count changed
    return created


def user_activities(handle: str, page: PageRequest) -> tuple[dict, Page]:
    """The profile (its cruds_count from the short-lived count cache when on and known) and a page of it."""
    counts, key = count_cache.profile_counts(), handle.lower()
    known = counts.get(key) if counts is not None else None
    generation = counts.generation if counts is not None else 0
    profile, items, next_cursor = users_store.profile_with_activities(
        handle, page.limit, page.cursor, count=known is None
    )
    if profile is None:
        raise NotFound("user_not_found")
    if known is not None:
        profile["cruds_count"] = known
    elif counts is not None:
        counts.put(key, profile["cruds_count"], generation)
    return profile, Page(items, next_cursor)


def show(handle: str, activity_uuid: str, page: PageRequest) -> tuple[dict, Page]:
    activity, replies, next_cursor = store.thread(activity_uuid, page.limit, page.cursor)
    if activity is None or activity["handle"].lower() != handle.lower():
        raise NotFound("activity_not_found")
    return activity, Page(replies, next_cursor)
