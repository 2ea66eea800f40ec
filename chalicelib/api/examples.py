"""Examples for the OpenAPI document, made from the schemas themselves.

One plausible value per field, chosen by the field's name and its schema (enums, formats,
bounds), so every operation shows a request and a response that look like the real thing and
stay in step with the models without a second copy to keep up to date.
"""

from __future__ import annotations

from typing import Any

# Values by field name, where the name says more than the type.
BY_NAME: dict[str, Any] = {
    "id": "01JBX9Q4Z8N6T2M5R7W3K1P0AB",
    "email": "ana@example.com",
    "username": "ana.r",
    "name": "Ana Rivera",
    "password": "tangerine lighthouse 42",
    "current_password": "tangerine lighthouse 42",
    "title": "Harbour Lights Festival",
    "description": "Three stages on the waterfront.",
    "category": "music",
    "address": "1 Circular Quay, Sydney NSW 2000",
    "lat": -33.8610,
    "lon": 151.2100,
    "code": "GA",
    "section": "GA",
    "currency": "AUD",
    "price_cents": 4500,
    "unit_price_cents": 4500,
    "total_cents": 9000,
    "revenue_cents": 9000,
    "quantity": 2,
    "capacity": 500,
    "rows": 10,
    "seats_per_row": 20,
    "seat": "A-3-14",
    "seats": ["A-3-14", "A-3-15"],
    "body": "See you at the front!",
    "rating": 4.5,
    "url": "https://example.com",
    "image_url": "https://example.com/poster.jpg",
    "q": "harb",
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMUpCWDkifQ.c2lnbmF0dXJl",
    "expires_in": 86400,
    "kid": "ev-01JBX9Q4Z8N6T2M5R7W3K1P0AB",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "next_cursor": None,
    "number": 1,
    "version": 1,
}
INSTANT = "2027-03-01T19:00:00.000Z"


def example(schema: dict[str, Any], defs: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A value that fits ``schema`` (``$ref``s resolved in ``defs``), named ``name`` in its parent."""
    if depth > 8:
        return None
    if "$ref" in schema:
        return example(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, name, depth + 1)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example(options[0], defs, name, depth + 1)
    if "allOf" in schema:
        return example(schema["allOf"][0], defs, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "examples" in schema:
        return schema["examples"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", props))
        return {k: example(v, defs, k, depth + 1) for k, v in props.items() if k in required or depth == 0}
    if kind == "array":
        items = schema.get("items", {})
        if name in BY_NAME and isinstance(BY_NAME[name], list) and items.get("type") == "string":
            return BY_NAME[name]
        return [example(items, defs, name.rstrip("s"), depth + 1)]
    return _scalar(schema, name)


def _scalar(schema: dict[str, Any], name: str) -> Any:
    kind = schema.get("type")
    if name in BY_NAME and not isinstance(BY_NAME[name], list):
        return BY_NAME[name]
    if kind == "string":
        if schema.get("format") == "date-time" or name.endswith("_at") or name in ("from", "to"):
            return INSTANT
        if schema.get("format") == "email":
            return BY_NAME["email"]
        if name.endswith("_id"):
            return BY_NAME["id"]
        return "text"[: schema.get("maxLength", 4)].ljust(schema.get("minLength", 0), "x")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return False
    return None
