"""Cross-cutting rules of the contract: error envelope, content types, OpenAPI, docs."""

from __future__ import annotations

from chalicelib.api.routing import ROUTES


def test_wrong_method_is_a_json_405(api):
    r = api.request("PATCH", "/health")
    assert r.status == 405 and set(r.body) == {"code", "message"}


def test_unsupported_content_type_is_a_json_415(api):
    _, token = api.register()
    r = api.request("POST", "/events", raw="<xml/>", token=token, headers={"Content-Type": "application/xml"})
    assert r.status == 415 and set(r.body) == {"code", "message"}


def test_json_body_labelled_as_form_still_works(api):
    # curl -d without -H sends application/x-www-form-urlencoded
    r = api.request(
        "POST",
        "/auth/register",
        raw='{"email": "c@example.com", "username": "curly", "name": "C", "password": "curl user passphrase"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status == 201, r.body


def test_huge_bodies_are_400(api):
    r = api.request("POST", "/auth/register", raw='{"name": "' + "x" * 70_000 + '"}')
    assert r.status == 400 and r.body["code"] == "BodyTooLarge"


def test_validation_errors_name_every_bad_field(api):
    r = api.post("/auth/register", {"email": 1, "username": "ok_name", "extra": True})
    assert r.status == 400
    fields = {d["field"] for d in r.body["details"]}
    assert fields == {"email", "name", "password", "extra"}


def test_openapi_lists_every_route(api):
    doc = api.get("/openapi.json").body
    assert doc["openapi"].startswith("3.")
    for r in ROUTES:
        assert r.method.lower() in doc["paths"][r.path], (r.method, r.path)
    assert "RegisterBody" in doc["components"]["schemas"]
    from app import app

    served = {(m, p) for p, methods in app.routes.items() for m in methods}
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented


def test_docs_page_serves_every_asset_itself(api):
    """The page works offline: it names no absolute URL, and each file it loads comes from us."""
    import re

    from chalicelib.api import docs

    r = api.get("/docs")
    assert r.status == 200 and "swagger-ui" in r.body and r.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?:|(src|href)=\"//", r.body)  # no absolute URL anywhere
    loaded = re.findall(r"(?:src|href)=\"([^\"]+)\"", r.body)
    files = sorted(u for u in loaded if not u.startswith("data:"))  # the icon is inline
    assert [f.split("?")[0] for f in files] == ["docs/swagger-ui-bundle.js", "docs/swagger-ui.css"]
    assert all(f.endswith("?v=" + docs.version()) for f in files)  # a new pin is a new URL
    assert 'fetch("openapi.json")' in r.body  # the document, relative to the page
    for path in files:
        asset = api.get(f"/{path}")
        assert asset.status == 200, path
        assert asset.headers["content-type"].split(";")[0] == ("text/css" if ".css" in path else "text/javascript")
        assert "max-age=31536000" in asset.headers["cache-control"] and len(asset.body) > 100_000
    assert api.get("/docs/../../app.py").status in (403, 404)
    assert api.get("/docs/index.css").status == 404  # only the files the page uses


def test_no_route_answers_5xx_to_junk(api):
    """Every route, with ids that name nothing, other people's things and junk bodies: 4xx, never 5xx."""
    import re

    _, owner = api.register()
    _, stranger = api.register()
    event = api.create_event(owner)
    hold = api.post(f"/events/{event['id']}/holds", {"seats": ["A-1-1"]}, token=owner).body
    order = api.post(f"/events/{event['id']}/orders", {"seats": ["A-2-1"]}, token=owner).body
    ids = {
        "event_id": [event["id"], "NOPE", "%00"],
        "hold_id": [hold["id"], "NOPE"],
        "order_id": [order["id"], "NOPE"],
        "ticket_id": [order["tickets"][0]["id"], "NOPE-1", "-", "x-99999"],
    }
    bodies = [None, {}, {"x": 1}, [], "not json", {"seats": ["A-1-1"], "hold_id": hold["id"]}]
    for r in ROUTES:
        names = re.findall(r"{(\w+)}", r.path)
        choices = [ids.get(n, ["NOPE"]) for n in names]
        for i in range(max((len(c) for c in choices), default=1)):
            path = r.path
            for name, values in zip(names, choices, strict=True):
                path = path.replace("{" + name + "}", values[i % len(values)])
            for body in bodies if r.method in ("POST", "PUT", "PATCH") else [None]:
                raw = body if isinstance(body, str) else None
                for token in (stranger, owner):
                    resp = api.request(r.method, path, None if raw else body, token=token, raw=raw)
                    assert resp.status < 500, (r.method, path, body, resp.status, resp.body)
