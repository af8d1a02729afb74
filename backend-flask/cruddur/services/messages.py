"""Direct messages: my conversations, one conversation, sending. Only the two participants see a conversation."""

from __future__ import annotations

from ..errors import NotFound, ValidationFailed
from ..pagination import Page, PageRequest
from ..schemas import CreateMessage
from ..stores import messages as store
from ..stores import users as users_store
from ..stores.messages import User

NOT_FOUND = "message_group_not_found"


def _with_current_names(items: list[dict]) -> list[dict]:
    """Names as they are now (one PostgreSQL query per page), the stored copy when a user is gone."""
    current = users_store.short_by_uuids(sorted({i["user_uuid"] for i in items}))
    for item in items:
        user = current.get(item["user_uuid"])
        if user:
            item["handle"], item["display_name"] = user["handle"], user["display_name"]
    return items


def _public(item: dict) -> dict:
    return {k: item[k] for k in ("uuid", "display_name", "handle", "message", "created_at")}


def message_groups(me, page: PageRequest) -> Page:
    items, cursor = store.store().list_conversations(me.uuid, page.limit, page.cursor)
    return Page([_public(i) for i in _with_current_names(items)], cursor)


def _membership(me, group_uuid: str) -> dict:
    """My conversation row: one GetItem. Anyone else gets the same 404 as for a conversation that does not exist."""
    mine = store.store().conversation(me.uuid, group_uuid)
    if mine is None:
        raise NotFound(NOT_FOUND)
    return mine


def messages(me, group_uuid: str, page: PageRequest) -> Page:
    _membership(me, group_uuid)
    items, cursor = store.store().list_messages(group_uuid, page.limit, page.cursor)
    return Page([_public(i) for i in _with_current_names(items)], cursor)


def create(me, body: CreateMessage) -> dict:
    """Start (or reuse) a conversation with body.handle -> {message_group_uuid}; or append to
    body.message_group_uuid -> the message. Either way the message is stored."""
    if body.handle is None and body.message_group_uuid is None:
        raise ValidationFailed(["handle_blank"])
    if body.handle is not None and body.message_group_uuid is not None:
        raise ValidationFailed(["handle_and_message_group_uuid_both_given"])
    sender = User(me.uuid, me.handle, me.display_name)
    if body.handle is not None:
        row = users_store.short_by_handle(body.handle)
        if row is None:
            raise ValidationFailed(["handle_not_found"])
        receiver = User.of(row)
        if receiver.uuid == sender.uuid:
            raise ValidationFailed(["handle_is_self"])
        group_uuid, _, _ = store.store().start(sender, receiver, body.message)
        return {"message_group_uuid": group_uuid}
    group_uuid = str(body.message_group_uuid)
    mine = _membership(me, group_uuid)
    message = store.store().append(group_uuid, sender, mine["user_uuid"], body.message, mine=mine)
    return _public(message)
