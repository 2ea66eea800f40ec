"""The OpenAPI 3.1 document, built from the route registry and the pydantic schemas."""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.api.examples import example
from chalicelib.api.routing import ROUTES, RouteDoc

ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "a machine-readable code (see each response's list)"},
        "message": {"type": "string", "description": "for people"},
        "details": {
            "type": "array",
            "description": "validation errors: one per bad field",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "type": {"type": "string"}},
            },
        },
        "field": {"type": "string", "description": "403: the field the caller may not change"},
    },
}
AUTH_CODES = ["MissingToken", "InvalidToken", "TokenExpired", "TokenRevoked"]
INPUT_CODES = ["ValidationError", "MalformedJSON", "MissingBody", "BodyTooLarge", "InvalidCursor"]
IDEMPOTENCY = ["IdempotencyKeyReused", "IdempotencyKeyInProgress"]
SUPPORT_EDIT = ["StaleVersion", "InvalidTransition", "ReopenWindowPassed", "TicketClosed"]
# Codes a route may answer beyond those every route of its kind may (docs/API.md, "Error codes").
CODES: dict[tuple[str, str], dict[int, list[str]]] = {
    ("POST", "/auth/register"): {400: ["WeakPassword"], 409: ["EmailTaken", "UsernameTaken"]},
    ("POST", "/auth/register/admin"): {400: ["WeakPassword"], 409: ["EmailTaken", "UsernameTaken"]},
    ("POST", "/auth/login"): {401: ["InvalidCredentials"], 429: ["TooManyAttempts"]},
    ("POST", "/auth/google"): {
        401: ["InvalidGoogleToken"],
        409: ["GoogleAccountConflict"],
        503: ["GoogleSignInOff", "GoogleKeysUnavailable"],
    },
    ("PATCH", "/users/{user_id}"): {
        400: ["WeakPassword"],
        403: ["WrongPassword"],
        409: ["EmailTaken", "UsernameTaken", "StaleVersion"],
    },
    ("PUT", "/users/{user_id}"): {
        400: ["WeakPassword"],
        403: ["WrongPassword"],
        409: ["EmailTaken", "UsernameTaken", "StaleVersion"],
    },
    ("PATCH", "/events/{event_id}"): {409: ["CapacityBelowSold", "StaleVersion", "EventCancelled"]},
    ("PUT", "/events/{event_id}"): {409: ["CapacityBelowSold", "StaleVersion", "EventCancelled"]},
    ("DELETE", "/events/{event_id}"): {409: ["AlreadyCancelled", "EventStarted"]},
    ("GET", "/events/{event_id}/seats"): {400: ["NoSeatMap"]},
    ("POST", "/events/{event_id}/holds"): {
        400: ["TooManyTickets", "GroupTooLarge", "NoSeatMap"],
        409: ["SoldOut", "SeatTaken", "NoAdjacentSeats", "HoldExists", "EventCancelled", "SalesClosed", *IDEMPOTENCY],
    },
    ("POST", "/holds/{hold_id}/assign"): {409: ["HoldExpired", "HoldCompleted", "SeatAlreadyPaid"]},
    ("POST", "/events/{event_id}/orders"): {
        400: ["TooManyTickets", "SeatsRequired", "NoSeatMap", "GroupTooLarge"],
        409: [
            *("SoldOut", "SeatTaken", "HoldExpired", "HoldCompleted", "SeatAlreadyPaid", "NothingToPay"),
            *IDEMPOTENCY,
            "EventCancelled",
            "SalesClosed",
        ],
    },
    ("POST", "/orders/{order_id}/cancel"): {409: ["AlreadyCancelled", "EventStarted"]},
    ("POST", "/tickets/{ticket_id}/check-in"): {409: ["AlreadyCheckedIn", "TicketCancelled"]},
    ("POST", "/events/{event_id}/check-ins"): {
        400: ["InvalidTicketCode"],
        409: ["AlreadyCheckedIn", "TicketCancelled"],
    },
    ("POST", "/events/{event_id}/waitlist"): {409: ["NotSoldOut", "AlreadyWaiting"]},
    ("POST", "/friends/requests"): {400: ["CannotBefriendSelf"], 409: ["AlreadyFriends", "RequestPending"]},
    ("POST", "/friends/requests/{request_id}/accept"): {403: ["NotAddressee"], 409: ["RequestNotPending"]},
    ("POST", "/friends/requests/{request_id}/decline"): {403: ["NotAddressee"], 409: ["RequestNotPending"]},
    ("DELETE", "/friends/requests/{request_id}"): {403: ["NotSender"], 409: ["RequestNotPending"]},
    ("POST", "/messages"): {400: ["CannotMessageSelf"], 403: ["NotFriends"], 409: IDEMPOTENCY},
    ("PATCH", "/posts/{post_id}"): {400: ["EmptyPost"], 409: ["StaleVersion"]},
    ("PUT", "/posts/{post_id}"): {400: ["EmptyPost"], 409: ["StaleVersion"]},
    ("PATCH", "/comments/{comment_id}"): {409: ["StaleVersion"]},
    ("PUT", "/comments/{comment_id}"): {409: ["StaleVersion"]},
    ("GET", "/search"): {400: ["QueryTooShort"]},
    ("GET", "/users"): {400: ["QueryTooShort"]},
    ("GET", "/events"): {400: ["QueryTooShort"]},
    ("POST", "/support/tickets"): {409: IDEMPOTENCY},
    ("PATCH", "/support/tickets/{ticket_id}"): {400: ["NotStaff"], 409: SUPPORT_EDIT},
    ("PUT", "/support/tickets/{ticket_id}"): {400: ["NotStaff"], 409: SUPPORT_EDIT},
    ("POST", "/support/tickets/{ticket_id}/comments"): {409: ["TicketClosed", *IDEMPOTENCY]},
    ("PATCH", "/support/comments/{comment_id}"): {409: ["StaleVersion"]},
    ("PUT", "/support/comments/{comment_id}"): {409: ["StaleVersion"]},
}
STATUS_TEXT = {400: "bad request", 401: "not signed in", 403: "not allowed", 404: "not found", 409: "conflict"}
STATUS_TEXT.update({429: "too many attempts", 503: "busy or unavailable: retry (Retry-After)"})


def error_codes(r: RouteDoc) -> dict[int, list[str]]:
    """Every error a route may answer, by status: what any route of its kind may, plus its own."""
    params = re.findall(r"{(\w+)}", r.path)
    codes: dict[int, list[str]] = {}
    if r.body is not None or r.query:
        codes[400] = list(INPUT_CODES if r.body is not None else ["ValidationError", "InvalidCursor"])
    if r.auth != "none":
        codes[401] = list(AUTH_CODES)
    if r.auth == "required":
        codes[403] = ["Forbidden"]
    if params:
        codes[404] = ["NotFound"]
    codes[503] = ["Busy", "Unavailable"]
    for status, extra in CODES.get((r.method, r.path), {}).items():
        codes[status] = list(dict.fromkeys([*codes.get(status, []), *extra]))
    return dict(sorted(codes.items()))


def _error_response(status: int, codes: list[str]) -> dict[str, Any]:
    examples = {c: {"value": {"code": c, "message": "…"}} for c in codes}
    return {
        "description": f"{STATUS_TEXT.get(status, 'error')}: {', '.join(codes)}",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}, "examples": examples}},
    }


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route: parameters, request and response schemas (the
    pydantic models the code validates bodies with, and api/responses.py), every error response
    with its codes, the auth requirement, and an example of each request and response."""
    wanted: set[tuple[Any, JsonSchemaMode]] = {(r.body, "validation") for r in ROUTES if r.body is not None}
    wanted |= {(r.response, "serialization") for r in ROUTES if r.response is not None}
    refs, top = models_json_schema(sorted(wanted, key=lambda m: (m[0].__name__, m[1])), ref_template=REF)
    schemas: dict[str, Any] = {**top.get("$defs", {}), "Error": ERROR}
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Boxoffice API",
            "version": "1.0.0",
            "description": "Event ticketing: accounts, events and seats, holds and orders, tickets and invoices, "
            "social, support desk. Errors are JSON `{code, message}`; lists are `{items, next_cursor}`.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


REF = "#/components/schemas/{model}"
# Routes whose success is not JSON, and what they answer instead.
NOT_JSON = {
    "/tickets/{ticket_id}/qr.svg": ["image/svg+xml"],
    "/docs": ["text/html"],
    "/docs/{asset}": ["text/css", "text/javascript"],
}


def _operation(r: RouteDoc, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {str(r.status): _success(r, refs, schemas)}
    for status, codes in error_codes(r).items():
        responses[str(status)] = _error_response(status, codes)
    op: dict[str, Any] = {
        "summary": r.summary,
        "tags": [r.tag],
        "operationId": f"{r.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', r.path.lower()).strip('_')}",
        "responses": responses,
    }
    params = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 100}}
        for p in re.findall(r"{(\w+)}", r.path)
    ]
    params += [{"name": q, "in": "query", "description": d, "schema": {"type": "string"}} for q, d in r.query.items()]
    params += [
        {"name": h, "in": "header", "description": d, "schema": {"type": "string"}} for h, d in r.headers.items()
    ]
    if params:
        op["parameters"] = params
    if r.auth == "required":
        op["security"] = [{"bearer": []}]
    elif r.auth == "optional":
        op["security"] = [{}, {"bearer": []}]
    else:
        op["security"] = []
    if r.body is not None:
        ref = refs[(r.body, "validation")]
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref, "example": example(ref, schemas)}},
        }
    return op


def _success(r: RouteDoc, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    if r.status == 204:
        return {"description": "done: no body"}
    if r.response is None:
        if r.path not in NOT_JSON:  # /openapi.json: this document
            return {"description": "success", "content": {"application/json": {"schema": {"type": "object"}}}}
        return {
            "description": "success",
            "content": {kind: {"schema": {"type": "string"}} for kind in NOT_JSON[r.path]},
        }
    ref = refs[(r.response, "serialization")]
    return {
        "description": "success",
        "content": {"application/json": {"schema": ref, "example": example(ref, schemas)}},
    }
