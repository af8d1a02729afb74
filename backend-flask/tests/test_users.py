"""Users: the short card and profile updates."""

import pytest


def test_short_returns_uuid_handle_display_name(client):
    r = client.get("/api/users/@londo/short")
    assert r.status_code == 200
    assert set(r.get_json()) == {"uuid", "handle", "display_name"}
    assert r.get_json()["display_name"] == "Londo Mollari"


def test_short_unknown_is_404_json(client):
    r = client.get("/api/users/@ghost/short")
    assert r.status_code == 404 and r.get_json() == {"error": "user_not_found"}


def test_update_profile_returns_the_updated_profile(client, auth):
    r = client.post(
        "/api/profile/update", json={"display_name": "Andrew B.", "bio": "Hi!"}, headers=auth("andrewbrown")
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["handle"] == "andrewbrown" and body["display_name"] == "Andrew B." and body["bio"] == "Hi!"
    assert client.get("/api/activities/@andrewbrown").get_json()["profile"]["display_name"] == "Andrew B."


def test_update_profile_bio_is_optional(client, auth):
    r = client.post("/api/profile/update", json={"display_name": "Alt"}, headers=auth("altbrown"))
    assert r.status_code == 200 and r.get_json()["bio"] == ""


def test_update_profile_requires_a_token(client):
    assert client.post("/api/profile/update", json={"display_name": "x"}).status_code == 401


@pytest.mark.parametrize(
    "body, codes",
    [
        ({}, ["display_name_blank"]),
        ({"display_name": " "}, ["display_name_blank"]),
        ({"display_name": "x" * 65, "bio": "y" * 281}, ["display_name_exceed_max_chars", "bio_exceed_max_chars"]),
        ({"display_name": "ok", "bio": 5}, ["bio_invalid"]),
    ],
)
def test_update_profile_validation(client, auth, body, codes):
    r = client.post("/api/profile/update", json=body, headers=auth("bayko"))
    assert r.status_code == 422 and r.get_json() == codes


def test_signed_in_cognito_user_without_a_row_is_403(client, auth, database_url):
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE users SET cognito_user_id = NULL WHERE handle = 'bayko'")
    r = client.post("/api/profile/update", json={"display_name": "x"}, headers=auth("bayko"))
    assert r.status_code == 403 and r.get_json()["error"] == "user_not_registered"
