"""The user domain: short profiles, profile updates, and Cognito users becoming `users` rows."""
from __future__ import annotations

from ..errors import NotFound
from ..schemas import UpdateProfile
from ..stores import cognito_users
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


def register_cognito_user(attributes: dict, relink: bool = False) -> tuple[str, dict]:
    """Create or link the users row for a Cognito user from its attributes (sub, preferred_username, name, email)."""
    return store.upsert_cognito_user(*cognito_users.fields(attributes), relink=relink)
