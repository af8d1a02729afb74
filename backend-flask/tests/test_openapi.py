"""/api/openapi.json documents every route the app serves, and the document is valid OpenAPI 3.1."""

import re

import jsonschema
import pytest
from openapi_spec_validator import validate

from cruddur.contract import contract


def test_document_is_valid_openapi(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    validate(r.get_json())


def test_every_route_is_documented_with_its_methods(app, client):
    doc = client.get("/api/openapi.json").get_json()
    served = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    documented = {path: set(ops) for path, ops in doc["paths"].items()}
    assert documented == served


def test_every_view_declares_a_contract(app):
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], "contract")
    ]
    assert missing == []


def _resolve(doc, schema):
    """The response schema with component refs made resolvable by jsonschema."""
    return {**schema, "components": doc["components"]}


def test_real_responses_match_the_documented_schemas(client, auth):
    doc = client.get("/api/openapi.json").get_json()
    checks = [
        ("/api/activities/home", "/api/activities/home", {}),
        ("/api/activities/@{handle}", "/api/activities/@andrewbrown", {}),
        ("/api/users/@{handle}/short", "/api/users/@londo/short", {}),
        ("/api/activities/notifications", "/api/activities/notifications", auth("andrewbrown")),
    ]
    for template, url, headers in checks:
        r = client.get(url, headers=headers)
        schema = doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema.validate(r.get_json(), _resolve(doc, schema))


def test_validation_errors_are_documented_as_arrays_of_codes(client):
    doc = client.get("/api/openapi.json").get_json()
    schema = doc["paths"]["/api/activities"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert schema == {"type": "array", "items": {"type": "string"}}
    assert doc["paths"]["/api/activities"]["post"]["security"] == [{"cognito": []}]


def test_what_the_server_answers_before_any_route_is_documented_on_every_operation(client):
    """400/408/414/431 come from the gunicorn worker to any request it cannot read; 413 to any body over the cap."""
    doc = client.get("/api/openapi.json").get_json()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert {"400", "408", "414", "431"} <= statuses, (method, path)
            assert ("413" in statuses) == ("requestBody" in operation), (method, path)
            for status in ("400", "413", "414", "431"):
                if status in statuses:
                    assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }


def test_a_same_for_every_caller_route_documents_401_but_no_403_and_needs_optional_auth(client):
    # Home verifies a sent token (401) but looks up no users row, so it never answers 403 user_not_registered.
    responses = client.get("/api/openapi.json").get_json()["paths"]["/api/activities/home"]["get"]["responses"]
    assert "401" in responses and "403" not in responses
    notifications = client.get("/api/openapi.json").get_json()["paths"]["/api/activities/notifications"]["get"]
    assert {"401", "403"} <= set(notifications["responses"])
    with pytest.raises(ValueError, match="same_for_every_caller needs auth='optional'"):
        contract("acts as the caller", auth="required", same_for_every_caller=True)


def test_a_view_that_reads_the_caller_in_its_statement_must_check_it(settings):
    """caller_in_statement: the wrapper only verifies the token; a view that never hands the row it read to
    identity.registered is a programming error (500), never an answer for an unchecked caller."""
    from flask import g

    from cruddur import create_app
    from cruddur.identity import registered

    with pytest.raises(ValueError, match="caller_in_statement needs auth='required'"):
        contract("reads the caller", auth="optional", caller_in_statement=True)

    app = create_app(settings)
    forgets = contract("forgets the caller", auth="required", caller_in_statement=True)(lambda: {"ok": True})
    checks = contract("checks the caller", auth="required", caller_in_statement=True)(
        lambda: registered({"uuid": "u-1", "handle": "h", "display_name": "d"}, g.user_sub) and {"ok": True}
    )
    with app.test_request_context(), pytest.MonkeyPatch.context() as mp:
        mp.setattr("cruddur.contract.caller_sub_required", lambda: "sub-1")
        with pytest.raises(RuntimeError, match="never checked the caller"):
            forgets()
        assert checks() == {"ok": True} and g.user.uuid == "u-1"
