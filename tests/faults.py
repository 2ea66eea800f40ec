"""DynamoDB faults injected under botocore, in process, on moto.

- :func:`lost_answer`: the request is applied, but its answer is a 500
  InternalServerError, so botocore's standard retry mode sends the very same
  request again. A ``before-send`` handler does it: botocore calls every
  handler of that event, the most specific first, and uses the first answer;
  moto's stubber (a plain ``before-send`` handler) applies the write anyway.
- :func:`refused`: the call is answered with an error and sends nothing (a
  ``before-call`` answer skips the request and botocore's retries): what
  the caller sees when botocore does not retry the error, or gave up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from chalicelib.store.table import Item

_PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass
class Fault:
    code: str
    status: int
    times: int  # how many calls get the fault
    sent: int = 0

    def due(self) -> bool:
        if self.sent >= self.times:
            return False
        self.sent += 1
        return True

    def body(self) -> dict[str, Any]:
        return {"__type": _PREFIX + self.code, "message": "injected"}

    def on_send(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        if not self.due():
            return None
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
        return AWSResponse(request.url, self.status, headers, MockRawResponse(json.dumps(self.body())))  # type: ignore[arg-type]

    def on_call(self, **kwargs: Any) -> tuple[Any, dict[str, Any]] | None:
        if not self.due():
            return None
        http = AWSResponse("http://fault", self.status, {}, MockRawResponse(b""))  # type: ignore[arg-type]
        error = {"Code": self.code, "Message": "injected"}
        return http, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": self.status}}


def _clients() -> list[Any]:
    discriminator = Item._get_discriminator_attribute()
    assert discriminator is not None
    models = [Item, *discriminator.get_registered_subclasses(Item)]
    clients = {id(c): c for c in (m._get_connection().connection.client for m in models)}
    return list(clients.values())


@contextmanager
def _injected(event: str, handler: Any, injected: Fault) -> Iterator[Fault]:
    clients = _clients()
    for client in clients:
        client.meta.events.register_first(event, handler)
    try:
        yield injected
    finally:
        for client in clients:
            client.meta.events.unregister(event, handler)


def lost_answer(operation: str, times: int = 1) -> Any:
    """The next ``times`` calls of ``operation`` (e.g. "PutItem") are applied, then answered 500."""
    injected = Fault("InternalServerError", 500, times)
    return _injected(f"before-send.dynamodb.{operation}", injected.on_send, injected)


def refused(operation: str, code: str, status: int = 400, times: int = 1) -> Any:
    """The next ``times`` calls of ``operation`` are answered ``code`` without being sent."""
    injected = Fault(code, status, times)
    return _injected(f"before-call.dynamodb.{operation}", injected.on_call, injected)


def interleaved(operation: str, meanwhile: Callable[[], Any]) -> Any:
    """A race, made deterministic: just before the next call of ``operation`` is sent, ``meanwhile()``
    runs to the end (another request getting there first), then the call goes on as it was."""
    injected = Fault("none", 0, 1)

    def on_call(**kwargs: Any) -> None:
        if injected.due():  # counted first: meanwhile's own calls of ``operation`` pass untouched
            meanwhile()

    return _injected(f"before-call.dynamodb.{operation}", on_call, injected)
