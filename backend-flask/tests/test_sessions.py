"""The API is stateless: callers send a bearer token, and no request opens a cookie session."""

import pytest
from flask import session


def test_no_answer_sets_a_cookie_even_when_the_caller_sends_one(client):
    r = client.get("/api/activities/home", headers={"Cookie": "session=eyJ1c2VyIjoiYW5kcmV3In0"})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers


def test_a_session_write_fails_loudly_and_leaves_every_session_empty(app):
    with app.test_request_context("/api/activities/home"):
        with pytest.raises(RuntimeError, match="session is unavailable"):
            session["user"] = "andrewbrown"
    with app.test_request_context("/api/activities/home"):  # the next request sees nothing of it
        assert dict(session) == {}
