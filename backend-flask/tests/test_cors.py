"""CORS: only the configured origins, Authorization allowed, Link exposed, preflight without auth."""


def test_preflight_from_the_frontend_is_answered_without_auth(client):
    r = client.options(
        "/api/activities",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_link_header_is_exposed_to_browsers(client):
    r = client.get("/api/activities/home", headers={"Origin": "http://localhost:3000"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "Link" in r.headers["Access-Control-Expose-Headers"]


def test_other_origins_get_no_cors_headers(client):
    r = client.get("/api/activities/home", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_a_wildcard_origin_setting_is_never_honoured(settings):
    from cruddur import create_app

    app = create_app(settings.with_overrides(frontend_url="*", backend_url="*"))
    try:
        r = app.test_client().get("/api/activities/home", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in r.headers
    finally:
        app.extensions["db_pool"].close()


def test_a_request_without_origin_gets_no_cors_headers(client):
    """curl, the ALB, the health check: not cross-origin, so no Access-Control-* (flask-cors's default
    would list every allowed origin in one Access-Control-Allow-Origin header)."""
    r = client.get("/api/activities/home")
    assert r.status_code == 200
    assert not [name for name in r.headers.keys() if name.lower().startswith("access-control-")]


def test_a_cross_origin_answer_varies_on_origin(client):
    r = client.get("/api/activities/home", headers={"Origin": "http://localhost:3000"})
    assert "Origin" in r.headers.get("Vary", "")


def test_an_error_answer_to_the_frontend_is_readable_by_it(client):
    """A 401 or 404 without CORS headers reaches the page as an opaque network error, not our JSON."""
    for path in ("/api/activities/notifications", "/api/users/@nobody-here/short"):
        r = client.get(path, headers={"Origin": "http://localhost:3000"})
        assert r.status_code in (401, 404) and r.is_json
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
