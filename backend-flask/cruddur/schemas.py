"""Request and response shapes. Requests are validated with these models; responses are documented
with them (and checked against the OpenAPI document by the tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

TTL_INTERVALS = {
    "30-days": "30 days",
    "7-days": "7 days",
    "3-days": "3 days",
    "1-day": "1 day",
    "12-hours": "12 hours",
    "3-hours": "3 hours",
    "1-hour": "1 hour",
}
Ttl = Literal["30-days", "7-days", "3-days", "1-day", "12-hours", "3-hours", "1-hour"]
MAX_SEARCH_TERM = 256


class Request(BaseModel):
    """What a client sends (a body, or query arguments): every text field must be storable."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value):
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold NUL: 422, not a 500
            raise ValueError("NUL character")
        return value


class SearchQuery(Request):
    term: str = Field(
        min_length=1,
        max_length=MAX_SEARCH_TERM,
        json_schema_extra={
            "codes": {
                "blank": "search_term_blank",
                "too_long": "search_term_exceed_max_chars",
                "invalid": "search_term_invalid",
            }
        },
    )


class CreateActivity(Request):
    message: str = Field(min_length=1, max_length=280)
    ttl: Ttl = Field(json_schema_extra={"codes": {"invalid": "ttl_invalid"}})


class CreateReply(Request):
    message: str = Field(
        min_length=1, max_length=1024, json_schema_extra={"codes": {"too_long": "message_exceed_max_chars_1024"}}
    )


class UpdateProfile(Request):
    display_name: str = Field(min_length=1, max_length=64)
    bio: str = Field(default="", max_length=280)


class CreateMessage(Request):
    """Start a conversation with `handle`, or append to `message_group_uuid`: exactly one of them."""

    message: str = Field(
        min_length=1, max_length=1024, json_schema_extra={"codes": {"too_long": "message_exceed_max_chars_1024"}}
    )
    handle: str | None = Field(default=None, min_length=1, max_length=32)
    message_group_uuid: UUID | None = Field(
        default=None, json_schema_extra={"codes": {"invalid": "message_group_uuid_invalid"}}
    )


class Activity(BaseModel):
    uuid: UUID
    handle: str
    display_name: str
    message: str
    replies_count: int
    reposts_count: int
    likes_count: int
    reply_to_activity_uuid: UUID | None
    expires_at: datetime
    created_at: datetime


class Notification(Activity):
    notification_kind: Literal["reply", "mention"]


class Profile(BaseModel):
    uuid: UUID
    handle: str
    display_name: str
    bio: str
    cruds_count: int


class UserActivities(BaseModel):
    profile: Profile
    activities: list[Activity]


class ActivityWithReplies(BaseModel):
    activity: Activity
    replies: list[Activity]


class UserShort(BaseModel):
    uuid: UUID
    handle: str
    display_name: str


class Health(BaseModel):
    success: bool
    ver: int


class Ready(BaseModel):
    ready: bool
    checks: dict[str, str]


class MessageGroup(BaseModel):
    uuid: UUID
    display_name: str
    handle: str
    message: str
    created_at: datetime


class Message(BaseModel):
    uuid: UUID
    display_name: str
    handle: str
    message: str
    created_at: datetime


class CreatedMessageGroup(BaseModel):
    message_group_uuid: UUID


class ErrorBody(BaseModel):
    error: str
    message: str | None = None
    error_id: str | None = None
