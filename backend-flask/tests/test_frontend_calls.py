"""The original Cruddur frontend's calls, as it makes them (frontend-react-js, week-x: lib/Requests.js):

- every request says `Authorization: Bearer ${localStorage.getItem("access_token")}`: `Bearer null` when nobody
  is signed in (and `Bearer undefined` after a sign-out cleared the key in some builds);
- every request is JSON (`Accept` and `Content-Type: application/json`), so even a GET is preflighted;
- the profile form saves with `PUT /api/profile/update`.

And the headers every answer carries (nosniff; no-store when it is about a signed-in caller), and Link URLs
that never come from the Host header. The same calls from a real browser: test_browser.py.
"""

from __future__ import annotations

import pytest

FRONTEND = "http://localhost:3000"
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


@pytest.mark.parametrize("value", ["Bearer null", "Bearer undefined", "Bearer ", "Bearer", "bearer null"])
def test_signed_out_frontend_gets_the_public_home_feed(client, value):
    anonymous = client.get("/api/activities/home")
    r = client.get("/api/activities/home", headers={"Authorization": value, **JSON_HEADERS})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == anonymous.get_json() != []


def test_a_real_but_invalid_token_on_the_home_feed_is_still_401(client, tokens):
    header, payload, signature = tokens["londo"].split(".")
    tampered = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    for token in (tampered, "not-a-jwt", "null.null.null"):
        r = client.get("/api/activities/home", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.get_json()["error"] == "token_invalid", token


@pytest.mark.parametrize("value", ["Bearer null", "Bearer undefined", "Bearer "])
def test_private_routes_still_answer_401_to_no_token(client, value):
    for path in ("/api/activities/notifications", "/api/message_groups"):
        r = client.get(path, headers={"Authorization": value})
        assert r.status_code == 401 and r.get_json() == {"error": "authorization_required"}
    r = client.put("/api/profile/update", json={"display_name": "x"}, headers={"Authorization": value})
    assert r.status_code == 401


def test_other_schemes_and_broken_bearers_stay_401_even_where_auth_is_optional(client):
    for value in ("Basic YTpi", "Bearer a b", "Token abc"):
        r = client.get("/api/activities/home", headers={"Authorization": value})
        assert r.status_code == 401 and r.get_json() == {"error": "authorization_header_invalid"}, value


def test_the_profile_form_saves_with_put_and_post_still_works(client, auth):
    r = client.put(
        "/api/profile/update",
        json={"display_name": "Londo", "bio": "Emperor"},
        headers={**auth("londo"), **JSON_HEADERS},
    )
    assert r.status_code == 200 and r.get_json()["bio"] == "Emperor"
    r = client.post("/api/profile/update", json={"display_name": "Londo Mollari", "bio": ""}, headers=auth("londo"))
    assert r.status_code == 200 and r.get_json()["display_name"] == "Londo Mollari"
    assert client.get("/api/activities/@londo").get_json()["profile"]["display_name"] == "Londo Mollari"


@pytest.mark.parametrize(
    "method, path", [("PUT", "/api/profile/update"), ("POST", "/api/activities"), ("GET", "/api/activities/home")]
)
def test_preflights_allow_what_the_frontend_sends(client, method, path):
    r = client.options(
        path,
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,accept",
        },
    )
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert method in r.headers["Access-Control-Allow-Methods"].split(", ")
    assert {"authorization", "content-type"} <= {
        h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")
    }


def test_put_is_in_the_document_beside_post_with_its_own_operation_id(client):
    path = client.get("/api/openapi.json").get_json()["paths"]["/api/profile/update"]
    assert set(path) == {"post", "put"}
    assert path["put"]["operationId"] != path["post"]["operationId"]
    assert path["put"]["requestBody"] == path["post"]["requestBody"]


# --- headers on every answer ------------------------------------------------------------------------------


def test_every_answer_says_nosniff(app, client, auth):
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("boom")

    answers = [
        client.get("/api/activities/home"),
        client.get("/api/nope"),
        client.get("/api/boom"),
        client.delete("/api/activities/home"),
        client.get("/api/activities/notifications"),
        client.post("/api/activities", json={}, headers=auth("bayko")),
        client.options("/api/activities", headers={"Origin": FRONTEND, "Access-Control-Request-Method": "POST"}),
        client.get("/api/activities/notifications", headers=auth("bayko")),
    ]
    assert [r.status_code for r in answers] == [200, 404, 500, 405, 401, 422, 200, 200]
    assert all(r.headers["X-Content-Type-Options"] == "nosniff" for r in answers)


def test_answers_about_a_signed_in_caller_are_never_stored(client, auth):
    assert client.get("/api/activities/notifications", headers=auth("bayko")).headers["Cache-Control"] == "no-store"
    assert client.get("/api/activities/home", headers=auth("bayko")).headers["Cache-Control"] == "no-store"
    assert (
        client.get("/api/activities/home", headers={"Authorization": "Bearer x.y.z"}).headers["Cache-Control"]
        == "no-store"
    )  # a 401 to a token is about that token
    assert "Cache-Control" not in client.get("/api/activities/home").headers
    assert "Cache-Control" not in client.get("/api/activities/home", headers={"Authorization": "Bearer null"}).headers


# --- Link: BACKEND_URL or relative, never the Host header ---------------------------------------------------


def test_link_is_built_from_backend_url_not_the_host_header(client):
    r = client.get("/api/activities/home?limit=1", headers={"Host": "attacker.example"})
    assert r.headers["Link"].startswith("<http://localhost:4567/api/activities/home?limit=1&cursor=")
    r = client.get(
        "/api/activities/@andrewbrown?limit=1",
        headers={"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"},
    )
    assert "attacker" not in r.headers.get("Link", "")


def test_without_backend_url_the_link_is_relative(settings):
    from cruddur import create_app

    app = create_app(settings.with_overrides(backend_url=None, home_feed_cache_seconds=0))
    try:
        r = app.test_client().get("/api/activities/home?limit=1", headers={"Host": "attacker.example"})
        assert r.headers["Link"].startswith("</api/activities/home?limit=1&cursor=")
    finally:
        app.extensions["db_pool"].close()


def test_frontend_url_may_name_several_origins(settings):
    from cruddur import create_app

    app = create_app(settings.with_overrides(frontend_url="https://a.example, https://b.example/"))
    try:
        for origin in ("https://a.example", "https://b.example"):
            r = app.test_client().get("/api/activities/home", headers={"Origin": origin})
            assert r.headers["Access-Control-Allow-Origin"] == origin
        assert (
            "Access-Control-Allow-Origin"
            not in app.test_client().get("/api/activities/home", headers={"Origin": "https://c.example"}).headers
        )
    finally:
        app.extensions["db_pool"].close()
