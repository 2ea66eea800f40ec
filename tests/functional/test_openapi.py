"""The served OpenAPI document: valid OpenAPI 3.1, every route in it and nothing else, request and
response schemas from the code's own models, every error with its codes, the auth requirement,
and a working example for each operation."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate
from pydantic import TypeAdapter

from chalicelib.api.routing import ROUTES

NOT_JSON = {
    ("GET", "/docs"),
    ("GET", "/docs/{asset}"),
    ("GET", "/tickets/{ticket_id}/qr.svg"),
    ("GET", "/openapi.json"),
}


def test_the_document_is_valid_openapi_3_1(api):
    doc = api.get("/openapi.json").body
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_route_is_documented_and_every_documented_route_exists(api):
    from app import app

    doc = api.get("/openapi.json").body
    served = {(m, p) for p, methods in app.routes.items() for m in methods}
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented
    assert {(r.method, r.path) for r in ROUTES} == served


def test_each_operation_has_its_schemas_errors_auth_and_examples(api):
    doc = api.get("/openapi.json").body
    schemas = doc["components"]["schemas"]
    for r in ROUTES:
        op = doc["paths"][r.path][r.method.lower()]
        where = f"{r.method} {r.path}"
        success = op["responses"][str(r.status)]
        if r.status != 204 and (r.method, r.path) not in NOT_JSON:
            body = success["content"]["application/json"]
            assert body["schema"]["$ref"].split("/")[-1] in schemas, where
            TypeAdapter(r.response).validate_python(body["example"])  # the example is a real response
        if r.body is not None:
            request = op["requestBody"]["content"]["application/json"]
            r.body.model_validate_json(json.dumps(request["example"]))  # the example is a valid request
        errors = {int(s): v for s, v in op["responses"].items() if s[0] in "45"}
        for _status, response in errors.items():
            codes = list(response["content"]["application/json"]["examples"])
            assert codes and all(re.fullmatch(r"[A-Z][A-Za-z]+", c) for c in codes), where
        assert 503 in errors, where
        if r.auth == "required":
            assert op["security"] == [{"bearer": []}] and "MissingToken" in str(errors[401]), where
        elif r.auth == "none":
            assert (op["security"] == [] and 401 not in errors) or r.path in ("/auth/login", "/auth/google"), where
        if "{" in r.path:
            assert 404 in errors, where


def test_declared_error_codes_are_ones_the_api_gives(api):
    """Every code the document names is a code some part of the code raises (or the contract's)."""
    import pathlib

    source = "\n".join(p.read_text() for p in pathlib.Path("chalicelib").rglob("*.py"))
    doc = api.get("/openapi.json").body
    named = {c for path in doc["paths"].values() for op in path.values() for c in _codes(op)}
    missing = {c for c in named if f'"{c}"' not in source and f"class {c}(" not in source}
    assert missing == set()


def _codes(op: dict) -> set[str]:
    return {
        code
        for status, response in op["responses"].items()
        if status[0] in "45"
        for code in response["content"]["application/json"]["examples"]
    }


def test_a_success_body_that_drifts_from_its_schema_is_caught(api):
    """The tests run with VALIDATE_RESPONSES=1: every success body is checked against its route's
    model, and one that does not match (a missing, mistyped or undocumented field) is a 500, not a
    silent pass, so the document cannot drift from the code."""
    from chalicelib.api import responses, routing
    from chalicelib.settings import get_settings

    assert get_settings().validate_responses
    _me, token = api.register()
    body = api.get("/me", token=token).body
    checker = TypeAdapter(responses.RESPONSES[("GET", "/me")])
    served = routing._checker("GET", "/me")  # what the route checks its answers with
    assert served is not None and served.json_schema() == checker.json_schema()
    routing._conforms(checker, body)  # what /me answered is what the document says
    for drifted in ({**body, "password_hash": "x"}, {k: v for k, v in body.items() if k != "username"}):
        with pytest.raises(RuntimeError, match="does not match its documented schema"):
            routing._conforms(checker, drifted)
