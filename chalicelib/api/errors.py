"""The one place where errors become HTTP responses."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from chalice import Response
from pynamodb.exceptions import PynamoDBException

from chalicelib.domain import errors as e

if TYPE_CHECKING:
    from pydantic import ValidationError  # not at import: pydantic is loaded with the first request body

log = logging.getLogger("boxoffice")

STATUS: list[tuple[type[e.DomainError], int]] = [
    (e.Invalid, 400),
    (e.Unauthorized, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.TooManyAttempts, 429),
    (e.Busy, 503),
    (e.Unavailable, 503),
]


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="boxoffice"'
    retry_after = extra.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(body=body, status_code=status, headers=headers)


def from_domain(err: e.DomainError) -> Response:
    status = next((code for cls, code in STATUS if isinstance(err, cls)), 400)
    extra = dict(err.extra)
    if isinstance(err, e.Invalid) and err.details:
        extra["details"] = err.details
    return error_response(status, err.code, err.message, **extra)


def from_validation(err: ValidationError) -> Response:
    details = [_detail(item) for item in err.errors(include_url=False, include_input=False)]
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(400, "MalformedJSON", "The body is not valid JSON.")
    return error_response(400, "ValidationError", "The request is not valid.", details=details)


def _detail(item: Any) -> dict[str, str]:
    field = ".".join(str(p) for p in item["loc"]) or "body"
    message = item["msg"]
    if item["type"] == "extra_forbidden":
        message = "unknown field"
    return {"field": field, "message": message, "type": item["type"]}


THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    # A single-item write to an item a transaction holds; botocore does not retry it.
    "TransactionConflictException",
}


def from_store(err: PynamoDBException) -> Response:
    """DynamoDB said "not now": the client may retry (503); anything else is our bug (500)."""
    if err.cause_response_code in THROTTLED:
        log.warning("DynamoDB busy: %s", err.cause_response_code)
        return error_response(503, "Busy", "The service is busy; please retry.", retry_after=1)
    return internal(err)


def internal(exc: BaseException) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "InternalError", "Something went wrong on our side.")
