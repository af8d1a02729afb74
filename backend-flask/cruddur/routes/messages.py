"""Direct messages: my conversations, one conversation, sending."""

from __future__ import annotations

from flask import Blueprint, g

from ..contract import contract
from ..pagination import page_response
from ..params import uuid_param
from ..schemas import CreatedMessageGroup, CreateMessage, Message, MessageGroup
from ..services import messages as service

bp = Blueprint("messages", __name__)


@bp.get("/message_groups")
@contract(
    "My conversations (the other participant and the last message), most recent first.",
    auth="required",
    paginated=True,
    response=list[MessageGroup],
    errors=(503,),
)
def groups(page):
    return page_response(service.message_groups(g.user, page))


@bp.get("/messages/<message_group_uuid>")
@contract(
    "A conversation I take part in: pages go back in time, each page oldest first.",
    auth="required",
    paginated=True,
    response=list[Message],
    errors=(404, 422, 503),
)
def show(message_group_uuid, page):
    group_uuid = uuid_param(message_group_uuid, "message_group_uuid")
    return page_response(service.messages(g.user, group_uuid, page))


@bp.post("/messages")
@contract(
    "Send a message: {message, handle} starts (or reuses) the conversation with that user and returns "
    "{message_group_uuid}; {message, message_group_uuid} appends and returns the message.",
    auth="required",
    body=CreateMessage,
    response=CreatedMessageGroup | Message,
    errors=(404, 409, 422, 503),
)
def create(body):
    return service.create(g.user, body)
