"""Opaque, tamper-proof cursors and one page of a PynamoDB query.

A cursor is the query's LastEvaluatedKey (plus any extra position, such as the
month being read), JSON-encoded and signed with a key derived from the token
secret: a client cannot craft one that reads another partition.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pynamodb.pagination import ResultIterator

from chalicelib.domain.errors import Invalid
from chalicelib.settings import get_settings
from chalicelib.store.table import Item

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _key() -> bytes:
    return hmac.new(get_settings().jwt_secret.encode(), b"boxoffice-cursor", hashlib.sha256).digest()


def encode_cursor(position: dict[str, Any] | None, scope: str) -> str | None:
    """Sign ``position`` for one query (``scope``): a cursor never resumes another query."""
    if not position:
        return None
    data = {"s": scope, "p": position}
    payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=")
    sig = hmac.new(_key(), payload, hashlib.sha256).hexdigest()[:32]
    return f"{payload.decode()}.{sig}"


def decode_cursor(cursor: str | None, scope: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    bad = Invalid("The cursor is not valid.", code="InvalidCursor", details=[{"field": "cursor", "message": "invalid"}])
    payload, _, sig = cursor.partition(".")
    expected = hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()[:32]
    if not sig or not hmac.compare_digest(sig.encode(), expected.encode()):
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError as e:
        raise bad from e
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("p"), dict):
        raise bad
    position: dict[str, Any] = data["p"]
    return position


def one_page(results: ResultIterator[Any], kind: type[T], scope: str) -> Page[T]:
    """The items of the query's first DynamoDB page only (for filtered queries)."""
    raw = next(iter(results.page_iter), None) or {}
    items: list[T] = []
    for data in raw.get("Items", []):
        item: Any = Item.from_raw_data(data)
        if isinstance(item, kind):
            items.append(item)
    return Page(items, encode_cursor(raw.get("LastEvaluatedKey"), scope))


def page(results: ResultIterator[Any], limit: int, kind: type[T], scope: str) -> Page[T]:
    """Up to ``limit`` items of ``kind`` from a query, and the cursor to resume after the last."""
    items = [item for item in results if isinstance(item, kind)][:limit]
    return Page(items, encode_cursor(results.last_evaluated_key, scope))
