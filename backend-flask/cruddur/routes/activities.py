"""Cruds: the home feed, notifications, search, posting, replying, profiles and one crud's thread."""

from __future__ import annotations

from flask import Blueprint, g

from .. import identity
from ..contract import contract, parse_query
from ..pagination import page_response, render_page, rendered_response
from ..params import uuid_param
from ..schemas import (
    MAX_SEARCH_TERM,
    Activity,
    ActivityWithReplies,
    CreateActivity,
    CreateReply,
    Notification,
    SearchQuery,
    UserActivities,
)
from ..services import activities as service

bp = Blueprint("activities", __name__)


@bp.get("/home")
@contract(
    "Top-level unexpired activities, newest first.",
    auth="optional",
    same_for_every_caller=True,
    paginated=True,
    response=list[Activity],
)
def home(page):
    return rendered_response(service.home_rendered(page, render_page))


@bp.get("/notifications")
@contract(
    "Replies to my activities and mentions of my @handle, newest first.",
    auth="required",
    caller_in_statement=True,
    paginated=True,
    response=list[Notification],
)
def notifications(page):
    caller, items = service.notifications(g.user_sub, page)
    identity.registered(caller, g.user_sub)
    return page_response(items)


@bp.get("/search")
@contract(
    "Full-text search over unexpired messages, newest first.",
    paginated=True,
    query={
        "term": {
            "description": "words to search for (web-search syntax)",
            "required": True,
            "schema": {"type": "string", "pattern": r"\S", "maxLength": MAX_SEARCH_TERM},
        }
    },
    response=list[Activity],
    errors=(422,),
)
def search(page):
    return rendered_response(service.search_rendered(parse_query(SearchQuery).term, page, render_page))


@bp.post("")
@contract("Post a crud.", auth="required", body=CreateActivity, response=Activity, status=200, errors=(422,))
def create(body):
    return service.create(g.user.uuid, body)


@bp.post("/<activity_uuid>/reply")
@contract("Reply to an unexpired activity.", auth="required", body=CreateReply, response=Activity, errors=(404, 422))
def reply(activity_uuid, body):
    return service.reply(g.user.uuid, uuid_param(activity_uuid, "activity_uuid"), body)


@bp.get("/@<handle>")
@contract(
    "A user's profile and unexpired activities, newest first.", paginated=True, response=UserActivities, errors=(404,)
)
def user_activities(handle, page):
    profile, activities = service.user_activities(handle, page)
    return page_response(activities, {"profile": profile, "activities": activities.items})


@bp.get("/@<handle>/status/<activity_uuid>")
@contract(
    "One activity and its replies, oldest first.", paginated=True, response=ActivityWithReplies, errors=(404, 422)
)
def show(handle, activity_uuid, page):
    activity, replies = service.show(handle, uuid_param(activity_uuid, "activity_uuid"), page)
    return page_response(replies, {"activity": activity, "replies": replies.items})
