"""The user domain: short profiles and profile updates."""

from __future__ import annotations

from ..errors import NotFound
from ..schemas import UpdateProfile
from ..stores import users as store


def short(handle: str) -> dict:
    user = store.short_by_handle(handle)
    if user is None:
        raise NotFound("user_not_found")
    return user


def update_profile(user_uuid: str, body: UpdateProfile) -> dict:
    profile = store.update_profile(user_uuid, body.display_name, body.bio)
    if profile is None:
        raise NotFound("user_not_found")
    return profile
