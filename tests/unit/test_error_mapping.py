"""Store failures that mean "not now" become 503 Busy; anything else stays a 500."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from pynamodb.exceptions import QueryError

from chalicelib.api.errors import from_store


def _error(code: str) -> QueryError:
    return QueryError("Failed to query items", cause=ClientError({"Error": {"Code": code, "Message": "x"}}, "Query"))


def test_throttling_is_503_with_retry_after():
    r = from_store(_error("ProvisionedThroughputExceededException"))
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert r.body["code"] == "Busy"


def test_other_store_errors_are_500_without_detail():
    r = from_store(_error("ValidationException"))
    assert r.status_code == 500 and r.body == {"code": "InternalError", "message": "Something went wrong on our side."}
    assert "ValidationException" not in json.dumps(r.body)
