"""Users: the short profile card and profile updates."""

from __future__ import annotations

from flask import Blueprint, g

from ..contract import contract
from ..schemas import Profile, UpdateProfile, UserShort
from ..services import users as service

bp = Blueprint("users", __name__)


@bp.get("/users/@<handle>/short")
@contract("A user's uuid, handle and display name.", response=UserShort, errors=(404,))
def short(handle):
    return service.short(handle)


@bp.route("/profile/update", methods=["POST", "PUT"])  # the original frontend sends PUT; POST is kept
@contract("Update my display name and bio.", auth="required", body=UpdateProfile, response=Profile, errors=(422,))
def update_profile(body):
    return service.update_profile(g.user.uuid, body)
